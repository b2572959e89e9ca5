"""Generative models of haplotypes, each with fit / sample / save / load."""

from ._gate import CopiesError, copied_rows, fingerprints
from .baselines import Bernoulli, MarkovChain
from .crbm import ConditionalRBMChain
from .gan import GAN
from .gmmn import GMMN
from .rbm import RBM
from .vae import VAE
from .wgan import WGAN

__all__ = ["GAN", "GMMN", "RBM", "VAE", "WGAN", "Bernoulli", "ConditionalRBMChain", "CopiesError", "MarkovChain",
           "copied_rows", "fingerprints", "load"]

_KINDS = {cls.kind: cls for cls in (RBM, ConditionalRBMChain, Bernoulli, MarkovChain, GAN, WGAN, VAE, GMMN)}


def load(path, device: str = "cpu"):
    """Load any genofast model checkpoint, whatever its kind."""
    from safetensors import safe_open

    from ..io._files import FormatError, existing

    try:
        with safe_open(str(existing(path)), framework="numpy") as f:
            kind = (f.metadata() or {}).get("genofast_model")
    except FileNotFoundError:
        raise
    except Exception as e:
        raise FormatError(path, f"not a safetensors checkpoint: {e}") from None
    if kind not in _KINDS:
        raise FormatError(path, f"not a genofast model checkpoint (kind {kind!r})")
    cls = _KINDS[kind]
    return cls.load(path) if cls in (Bernoulli, MarkovChain) else cls.load(path, device=device)
