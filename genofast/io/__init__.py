"""Reading and writing genomic data as packed matrices.

Formats: Yelmen ``.hapt`` (:func:`read_hapt`, :func:`write_hapt`), VCF/BCF
(:func:`read_vcf`, :func:`write_vcf`, and :func:`write_imputed_vcf` for imputed
dosages), PLINK 1 bed/bim/fam
(:func:`read_plink`, :func:`write_plink`), and genofast's own ``.npz`` store
(:func:`save`, :func:`load`). Every write is atomic: a failed write leaves
an existing file untouched.
"""

from .hapt import read_hapt, write_hapt
from ._files import FormatError
from .plink import Fam, read_fam, read_plink, write_plink
from .store import load, save
from .vcf import contig_lengths, read_vcf, write_imputed_vcf, write_vcf
from .zarr import ZarrCohort, read_zarr, write_zarr

__all__ = ["Fam", "FormatError", "contig_lengths", "load", "read", "read_fam", "read_hapt", "read_plink", "read_vcf",
           "read_zarr", "ZarrCohort", "save", "write", "write_hapt", "write_imputed_vcf", "write_plink", "write_vcf",
           "write_zarr"]


def _kind(path) -> str:
    name = str(path).lower()
    for suffix, kind in ((".hapt", "hapt"), (".hapt.gz", "hapt"), (".vcf", "vcf"), (".vcf.gz", "vcf"), (".bcf", "vcf"),
                         (".bed", "plink"), (".npz", "store"), (".zarr", "zarr"), (".vcz", "zarr")):
        if name.endswith(suffix):
            return kind
    raise ValueError(f"{path}: unknown file type (expected .hapt[.gz], .vcf[.gz], .bcf, .bed, .npz or .zarr/.vcz)")


def read(path, **options):
    """Read any supported file, choosing the reader by its name."""
    kind = _kind(path)
    readers = {"hapt": read_hapt, "vcf": read_vcf, "plink": read_plink, "store": load, "zarr": read_zarr}
    return readers[kind](path, **options)


def write(path, matrix) -> None:
    """Write a matrix in the format its name asks for (.hapt[.gz], .vcf[.gz], .bed, .npz, .zarr), atomically."""
    kind = _kind(path)
    if kind == "vcf" and str(path).lower().endswith(".bcf"):
        raise ValueError(f"{path}: writing BCF is not supported; write .vcf.gz")
    {"hapt": write_hapt, "vcf": write_vcf, "plink": write_plink, "store": save, "zarr": write_zarr}[kind](path, matrix)
