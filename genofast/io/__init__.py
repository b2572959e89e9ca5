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

__all__ = ["load", "read_hapt", "read_plink", "read_vcf", "save", "write_hapt", "write_vcf"]
