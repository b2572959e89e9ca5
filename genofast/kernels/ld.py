"""Linkage kernels: SNP-major bit planes of a packed matrix (``snp_planes``) and their pair counts
(``pair_counts``), the popcounts behind r²."""

from __future__ import annotations

import numpy as np

from .. import _core
from ._common import _check_words, _ptr, _require_cuda, _stream, _torch, is_cuda

MAX_PLANES = 4


def snp_planes(words, n_snps: int, *, genotypes: bool = False, missing=None):
    """The bit transpose of packed rows: one bit vector over the rows per SNP and plane.

    Haplotype words (1 bit a call; ``missing``, the optional mask of the same
    shape) give two planes, the allele and the called bit; genotype words (2
    bits a call) three: dosage >= 1, dosage 2 and called. Returns uint64
    planes x n_snps x ceil(rows / 64), bits past the last row 0, as a numpy
    array or, for CUDA words, a CUDA tensor.
    """
    per_word = 32 if genotypes else 64
    words = _check_words(words, "words", n_snps, per_word)
    if missing is not None:
        if genotypes:
            raise ValueError("genotype words carry their missing calls (code 3): pass no missing mask")
        missing = _check_words(missing, "missing", n_snps, per_word)
        if tuple(missing.shape) != tuple(words.shape):
            raise ValueError(f"missing mask has shape {tuple(missing.shape)}, words {tuple(words.shape)}")
    if is_cuda(words):
        _require_cuda()
        torch = _torch()
        if missing is not None and not is_cuda(missing):
            raise ValueError("words and missing mask must be on the same device")
        out = torch.empty((3 if genotypes else 2, n_snps, -(-words.shape[0] // 64)), dtype=torch.int64,
                          device=words.device)
        _core.snp_planes_cuda(_ptr(words), _ptr(missing), words.shape[0], n_snps, genotypes, _ptr(out),
                              _stream(words))
        return out
    return _core.snp_planes(words, missing, n_snps, genotypes)


def pair_counts(planes, pairs):
    """``counts[k, a, b]`` = popcount(plane ``a`` of SNP ``pairs[k, 0]`` AND plane ``b`` of SNP ``pairs[k, 1]``).

    ``planes``: n_planes (1 to 4) x n_snps x words, uint64 (or int64): SNP-major
    bit vectors over the rows (haplotypes or samples), e.g. an allele and a
    called plane; ``pairs``: k x 2 SNP indices. Returns int64 k x n_planes x
    n_planes, as a numpy array or, for a CUDA tensor of planes, a CUDA tensor.
    """
    planes = _check_words(planes, "planes", ndim=3)
    if not 1 <= planes.shape[0] <= MAX_PLANES:
        raise ValueError(f"planes: 1 to {MAX_PLANES} bit planes, got {planes.shape[0]}")
    if is_cuda(planes):
        _require_cuda()
        torch = _torch()
        pairs = torch.as_tensor(np.asarray(pairs) if not torch.is_tensor(pairs) else pairs, device=planes.device)
        pairs = _check_pairs(pairs.to(torch.int64).reshape(-1, 2), planes.shape[1]).contiguous()
        p = planes.shape[0]
        out = torch.empty((len(pairs), p, p), dtype=torch.int64, device=planes.device)
        _core.pair_counts_cuda(_ptr(planes), p, planes.shape[1], planes.shape[2], _ptr(pairs), len(pairs), _ptr(out),
                               _stream(planes))
        return out
    pairs = _check_pairs(np.asarray(pairs).astype(np.int64, copy=False).reshape(-1, 2), planes.shape[1])
    return _core.pair_counts(planes, np.ascontiguousarray(pairs))


def _check_pairs(pairs, n_snps: int):
    if len(pairs) and (int(pairs.min()) < 0 or int(pairs.max()) >= n_snps):
        raise ValueError(f"pairs must hold SNP indices from 0 to {n_snps - 1}")
    return pairs
