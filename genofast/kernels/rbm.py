"""Fused RBM unit sampling after a GEMM; csrc/rbm."""

from __future__ import annotations

import numpy as np

from .. import _core
from ._common import _ptr, _require_cuda, _stream, _torch, haplotype_words, is_cuda

UNIT_KINDS = ("bernoulli", "relu")


def rbm_units(pre, bias, kind: str, seed: int, step: int, *, mean: bool = False, pack: bool = False,
              first_row: int = 0):
    """Fused bias + activation + Philox sampling of RBM units after a GEMM.

    ``pre`` (n x m float32 pre-activations, numpy or torch CPU/CUDA), ``bias``
    (m,). ``kind``: ``bernoulli`` (p = sigmoid) or ``relu`` (rectified
    Gaussian N(x, 1) truncated at 0). Returns ``sample`` and, when asked, the
    conditional ``mean`` and the bit-packed sample (Bernoulli units), in a
    tuple ``(sample, mean or None, packed or None)`` on the input's device.
    Random numbers are keyed by (seed, step, element index). ``first_row``:
    ``pre`` holds rows ``first_row...`` of a larger matrix, whose numbers they
    draw (so shards of a batch on several processes sample as one would).
    """
    if not isinstance(first_row, (int, np.integer)) or first_row < 0:
        raise ValueError(f"first_row must be a non-negative integer, got {first_row!r}")
    if kind not in UNIT_KINDS:
        raise ValueError(f"unit kind must be one of {UNIT_KINDS}, got {kind!r}")
    if pack and kind != "bernoulli":
        raise ValueError("only binary (bernoulli) units can be bit-packed")
    code = UNIT_KINDS.index(kind)
    n, m = pre.shape
    if tuple(bias.shape) != (m,):
        raise ValueError(f"bias has shape {tuple(bias.shape)}, expected ({m},)")
    if is_cuda(pre):
        _require_cuda()
        torch = _torch()
        pre = pre.to(torch.float32).contiguous()
        bias = bias.to(device=pre.device, dtype=torch.float32).contiguous()
        sample = torch.empty_like(pre)
        mu = torch.empty_like(pre) if mean else None
        packed = torch.empty((n, haplotype_words(m)), dtype=torch.int64, device=pre.device) if pack else None
        _core.rbm_units_cuda(_ptr(pre), _ptr(bias), n, m, code, seed, step, int(first_row), _ptr(sample), _ptr(mu),
                             _ptr(packed), _stream(pre))
        return sample, mu, packed
    torch_in = hasattr(pre, "numpy") and not isinstance(pre, np.ndarray)
    p = np.ascontiguousarray(pre.detach().numpy() if torch_in else pre, dtype=np.float32)
    b = np.ascontiguousarray(bias.detach().numpy() if hasattr(bias, "detach") else bias, dtype=np.float32)
    sample = np.empty_like(p)
    mu = np.empty_like(p) if mean else None
    packed = np.empty((n, haplotype_words(m)), dtype=np.uint64) if pack else None
    _core.rbm_units(p, b, code, seed, step, int(first_row), sample, mu, packed)
    if torch_in:
        torch = _torch()
        sample = torch.from_numpy(sample)
        mu = None if mu is None else torch.from_numpy(mu)
    return sample, mu, packed
