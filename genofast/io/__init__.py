"""Reading and writing genomic data as packed matrices.

Formats: Yelmen ``.hapt`` (:func:`read_hapt`, :func:`write_hapt`), VCF/BCF
(:func:`read_vcf`, :func:`write_vcf`, and :func:`write_imputed_vcf` for imputed
dosages), PLINK 1 bed/bim/fam
(:func:`read_plink`, :func:`write_plink`), EIGENSTRAT geno/snp/ind (:func:`read_eigenstrat`, read
only), and genofast's own ``.npz`` store
(:func:`save`, :func:`load`). Every write is atomic: a failed write leaves
an existing file untouched.
"""

from .hapt import read_hapt, write_hapt
from ._files import FormatError
from .eigenstrat import SUFFIXES as EIGENSTRAT_SUFFIXES
from .eigenstrat import read_eigenstrat
from .plink import Fam, read_fam, read_plink, write_plink
from .store import load, save
from .vcf import contig_lengths, read_vcf, write_imputed_vcf, write_vcf
from .zarr import ZarrCohort, read_zarr, write_zarr

__all__ = ["Fam", "FormatError", "contig_lengths", "load", "read", "read_eigenstrat", "read_fam", "read_hapt",
           "read_plink", "read_vcf",
           "read_zarr", "ZarrCohort", "save", "write", "write_hapt", "write_imputed_vcf", "write_plink", "write_vcf",
           "write_zarr"]


def _kind(path, writing: bool = False) -> str:
    """The format a file name asks for; ``writing``: refuse, naming the path, one genofast only reads."""
    name = str(path).lower()
    for suffix, kind in ((".hapt", "hapt"), (".hapt.gz", "hapt"), (".vcf", "vcf"), (".vcf.gz", "vcf"), (".bcf", "vcf"),
                         (".bed", "plink"), (".npz", "store"), (".zarr", "zarr"), (".vcz", "zarr"),
                         *((suffix, "eigenstrat") for suffix in EIGENSTRAT_SUFFIXES)):
        if name.endswith(suffix):
            if writing and kind == "eigenstrat":
                raise ValueError(f"{path}: genofast reads EIGENSTRAT but does not write it; write .bed (PLINK) "
                                 "and convert it with convertf")
            return kind
    raise ValueError(f"{path}: unknown file type (expected .hapt[.gz], .vcf[.gz], .bcf, .bed, .npz, .zarr/.vcz or, "
                     "to read, EIGENSTRAT .geno[.gz]/.eigenstratgeno[.gz])")


def read(path, **options):
    """Read any supported file, choosing the reader by its name."""
    kind = _kind(path)
    readers = {"hapt": read_hapt, "vcf": read_vcf, "plink": read_plink, "store": load, "zarr": read_zarr,
               "eigenstrat": read_eigenstrat}
    return readers[kind](path, **options)


def write(path, matrix) -> None:
    """Write a matrix in the format its name asks for (.hapt[.gz], .vcf[.gz], .bed, .npz, .zarr), atomically."""
    kind = _kind(path, writing=True)
    if kind == "vcf" and str(path).lower().endswith(".bcf"):
        raise ValueError(f"{path}: writing BCF is not supported; write .vcf.gz")
    {"hapt": write_hapt, "vcf": write_vcf, "plink": write_plink, "store": save, "zarr": write_zarr}[kind](path, matrix)
