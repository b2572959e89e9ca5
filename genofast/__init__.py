"""genofast: fast artificial genomes and the privacy and quality metrics that judge them."""

from . import kernels
from .kernels import has_cuda
from .matrix import GenotypeMatrix, HaplotypeMatrix, Variants

__version__ = "0.1.0"
__all__ = ["GenotypeMatrix", "HaplotypeMatrix", "Variants", "has_cuda", "kernels"]
