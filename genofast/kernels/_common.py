"""Device plumbing and input checks shared by the kernel families."""

from __future__ import annotations

import numpy as np

from .. import _core


def haplotype_words(n_snps: int) -> int:
    return (n_snps + 63) // 64


def genotype_words(n_snps: int) -> int:
    return (n_snps + 31) // 32


def is_cuda(x) -> bool:
    """True for a torch tensor on a CUDA device."""
    return bool(getattr(x, "is_cuda", False))


def _torch():
    import torch

    return torch


def _ptr(t) -> int:
    return 0 if t is None else int(t.data_ptr())


def _stream(t) -> int:
    torch = _torch()
    return int(torch.cuda.current_stream(t.device).cuda_stream)


def _require_cuda() -> None:
    if not _core.cuda_compiled:
        raise RuntimeError("genofast was built without CUDA; install with nvcc present to use CUDA tensors")


def _words_of(x):
    """Packed words of a matrix object or a words array."""
    return getattr(x, "words", x)


def _check_words(words, name: str, n_snps: int | None = None, per_word: int = 64, ndim: int = 2):
    """Packed words as the kernels take them: uint64 (or int64, the same bits), C-contiguous, ``ndim``-D (rows x
    words; 3-D for stacked planes), on the CPU as numpy or on a CUDA device as torch."""
    shape = "rows x words" if ndim == 2 else "planes x SNPs x words"
    if is_cuda(words):
        torch = _torch()
        if words.dtype not in (torch.int64, torch.uint64) or words.dim() != ndim:
            raise ValueError(f"{name}: expected a {ndim}-D int64/uint64 CUDA tensor of packed words ({shape})")
        _check_word_count(words, name, n_snps, per_word)
        return words.contiguous()
    if hasattr(words, "numpy") and not isinstance(words, np.ndarray):  # CPU torch tensor
        words = words.numpy()
    words = np.asarray(words)
    if words.ndim != ndim:
        raise ValueError(f"{name}: packed words must be {ndim}-D ({shape}), got shape {words.shape}")
    if words.dtype == np.int64:
        words = words.view(np.uint64)
    if words.dtype != np.uint64:
        raise ValueError(f"{name}: packed words must be uint64, got {words.dtype}")
    _check_word_count(words, name, n_snps, per_word)
    return np.ascontiguousarray(words)


def _check_word_count(words, name: str, n_snps: int | None, per_word: int) -> None:
    # the kernels read n_snps / per_word words per row: a mismatch would read past the rows
    if n_snps is not None and words.shape[1] != -(-n_snps // per_word):
        raise ValueError(f"{name}: {words.shape[1]} words per row do not hold {n_snps} SNPs")


def _empty_like_words(words, shape, dtype_np, dtype_torch_name):
    if is_cuda(words):
        torch = _torch()
        return torch.empty(shape, dtype=getattr(torch, dtype_torch_name), device=words.device)
    return np.empty(shape, dtype=dtype_np)



def _check_values(x, lo: int, hi: int, what: str) -> None:
    """Raise naming the first row and SNP whose value is outside [lo, hi]."""
    bad = (x < lo) | (x > hi)
    if x.dtype.kind == "f":  # 0.5 must not become 0 by truncation
        bad |= x != np.round(x)
    if bad.any():
        r, j = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"{what} at row {r}, SNP {j}: got {x[r, j]}")


def _as_2d(x, name: str):
    if is_cuda(x):
        if x.dim() != 2:
            raise ValueError(f"{name}: expected a 2-D tensor, got shape {tuple(x.shape)}")
        if x.is_floating_point() and bool(x.isnan().any()):
            raise ValueError(f"{name}: NaN in input")
        return x.contiguous()
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (rows x SNPs), got shape {x.shape}")
    if x.dtype.kind == "f" and np.isnan(x).any():
        r, j = (int(v) for v in np.argwhere(np.isnan(x))[0])
        raise ValueError(f"{name}: NaN at row {r}, SNP {j}")
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected numbers, got dtype {x.dtype}")
    return x
