"""genofast: fast artificial genomes and the privacy and quality metrics that judge them."""

from . import kernels
from .kernels import has_cuda
from .matrix import GenotypeMatrix, HaplotypeMatrix, Variants


def evaluate(*args, **kwargs):
    """Real vs synthetic statistics and an HTML report; see :func:`genofast.report.evaluate`."""
    from .report import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


__version__ = "0.1.0"
__all__ = ["GenotypeMatrix", "HaplotypeMatrix", "Variants", "evaluate", "has_cuda", "kernels"]
