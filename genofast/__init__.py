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

# Submodules load on first use (``genofast.io.read_hapt`` after a plain
# ``import genofast``), so the import itself stays fast: models pull in torch.
_SUBMODULES = ("align", "impute", "io", "metrics", "models", "phasing", "report", "simulate")


def __getattr__(name):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'genofast' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_SUBMODULES])
