"""Reading and writing genomic data as packed matrices.

Formats: Yelmen ``.hapt`` (:func:`read_hapt`, :func:`write_hapt`), VCF/BCF via
cyvcf2 (:func:`read_vcf`, :func:`write_vcf`), PLINK 1 bed/bim/fam via
bed-reader (:func:`read_plink`), and genofast's own ``.npz`` store
(:func:`save`, :func:`load`). Every write is atomic: a failed write leaves
an existing file untouched.
"""

from .hapt import read_hapt, write_hapt
from .plink import read_plink
from .store import load, save
from .vcf import read_vcf, write_vcf

__all__ = ["load", "read", "read_hapt", "read_plink", "read_vcf", "save", "write", "write_hapt", "write_vcf"]


def _kind(path) -> str:
    name = str(path).lower()
    for suffix, kind in ((".hapt", "hapt"), (".hapt.gz", "hapt"), (".vcf", "vcf"), (".vcf.gz", "vcf"), (".bcf", "vcf"),
                         (".bed", "plink"), (".npz", "store")):
        if name.endswith(suffix):
            return kind
    raise ValueError(f"{path}: unknown file type (expected .hapt[.gz], .vcf[.gz], .bcf, .bed or .npz)")


def read(path, **options):
    """Read any supported file, choosing the reader by its name."""
    kind = _kind(path)
    return {"hapt": read_hapt, "vcf": read_vcf, "plink": read_plink, "store": load}[kind](path, **options)


def write(path, matrix) -> None:
    """Write a matrix in the format its name asks for (.hapt[.gz], .vcf[.gz], .npz), atomically."""
    kind = _kind(path)
    if kind == "plink":
        raise ValueError(f"{path}: writing PLINK filesets is not supported; write .vcf.gz or .npz")
    {"hapt": write_hapt, "vcf": write_vcf, "store": save}[kind](path, matrix)
