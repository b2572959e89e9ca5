"""Random phasing, complement reconstruction, reconciliation and genotype-probability merging; csrc/phasing."""

from __future__ import annotations

import numpy as np

from .. import _core
from ._common import _check_words, _empty_like_words, _ptr, _require_cuda, _stream, _torch, haplotype_words, is_cuda


def _phasing_inputs(genotypes, n_snps, *haplotypes):
    g = _check_words(genotypes, "genotypes", n_snps, per_word=32)
    hs = []
    for i, h in enumerate(haplotypes):
        if h is None:
            hs.append(None)
            continue
        h = _check_words(h, f"haplotypes[{i}]", n_snps)
        if h.shape[0] != g.shape[0]:
            raise ValueError(f"{g.shape[0]} individuals but {h.shape[0]} haplotype rows")
        if is_cuda(h) != is_cuda(g):
            raise ValueError("genotypes and haplotypes must be on the same device")
        hs.append(h)
    return g, hs


def random_phase(genotypes, n_snps: int, seed: int):
    """Packed (hap_a, hap_b, missing) from packed genotypes; see genofast.phasing."""
    g, _ = _phasing_inputs(genotypes, n_snps)
    shape = (g.shape[0], haplotype_words(n_snps))
    if is_cuda(g):
        _require_cuda()
        a, b, mis = (_empty_like_words(g, shape, np.uint64, "int64") for _ in range(3))
        _core.random_phase_cuda(_ptr(g), g.shape[0], n_snps, seed, _ptr(a), _ptr(b), _ptr(mis), _stream(g))
        return a, b, mis
    return _core.random_phase(g, n_snps, seed)


def complement(genotypes, hap, n_snps: int, hap_missing=None):
    """Packed (hap corrected, other, missing, n_corrected); see genofast.phasing."""
    g, (h, hm) = _phasing_inputs(genotypes, n_snps, hap, hap_missing)
    if is_cuda(g):
        _require_cuda()
        shape = tuple(h.shape)
        h2, o, mis = (_empty_like_words(g, shape, np.uint64, "int64") for _ in range(3))
        count = _core.complement_cuda(_ptr(g), _ptr(h), _ptr(hm), g.shape[0], n_snps, _ptr(h2), _ptr(o), _ptr(mis),
                                      _stream(g))
        return h2, o, mis, count
    return _core.complement(g, h, hm, n_snps)


def reconcile(genotypes, hap_a, hap_b, n_snps: int, seed: int):
    """Packed (hap_a, hap_b, n_conflicts); see genofast.phasing."""
    g, (a, b) = _phasing_inputs(genotypes, n_snps, hap_a, hap_b)
    if is_cuda(g):
        _require_cuda()
        a2, b2 = (_empty_like_words(g, tuple(a.shape), np.uint64, "int64") for _ in range(2))
        count = _core.reconcile_cuda(_ptr(g), _ptr(a), _ptr(b), g.shape[0], n_snps, seed, _ptr(a2), _ptr(b2),
                                     _stream(g))
        return a2, b2, count
    return _core.reconcile(g, a, b, n_snps, seed)


def merge(p_a, p_b, out=None):
    """Genotype probabilities [..., (dosage 0, 1, 2)] from two allele-1 probabilities.

    ``out`` (optional, float32, shape ``p_a.shape + (3,)``) is filled and
    returned, so iterative callers reuse one buffer instead of paging in a
    fresh one each time.
    """
    if is_cuda(p_a) or is_cuda(p_b):
        _require_cuda()
        torch = _torch()
        if not (is_cuda(p_a) and is_cuda(p_b)):
            raise ValueError("p_a and p_b must be on the same device")
        if p_a.shape != p_b.shape:
            raise ValueError(f"p_a and p_b differ in shape: {tuple(p_a.shape)} vs {tuple(p_b.shape)}")
        pa, pb = (p.to(torch.float32).contiguous() for p in (p_a, p_b))
        if bool(torch.isnan(pa).any() | torch.isnan(pb).any()):
            raise ValueError("probabilities contain NaN")
        if bool(((pa < 0) | (pa > 1) | (pb < 0) | (pb > 1)).any()):
            raise ValueError("probabilities must lie in [0, 1]")
        if out is None:
            out = torch.empty((*pa.shape, 3), dtype=torch.float32, device=pa.device)
        elif out.shape != (*pa.shape, 3) or out.dtype != torch.float32 or not out.is_contiguous():
            raise ValueError(f"out must be a contiguous float32 tensor of shape {(*pa.shape, 3)}")
        _core.merge_cuda(_ptr(pa), _ptr(pb), pa.numel(), _ptr(out), _stream(pa))
        return out
    pa = np.ascontiguousarray(p_a, dtype=np.float32)
    pb = np.ascontiguousarray(p_b, dtype=np.float32)
    if pa.shape != pb.shape:
        raise ValueError(f"p_a and p_b differ in shape: {pa.shape} vs {pb.shape}")
    if out is None:
        out = np.empty((*pa.shape, 3), dtype=np.float32)
    elif (not isinstance(out, np.ndarray) or out.shape != (*pa.shape, 3) or out.dtype != np.float32
          or not out.flags.c_contiguous):
        raise ValueError(f"out must be a C-contiguous float32 array of shape {(*pa.shape, 3)}")
    bad = _core.merge(pa, pb, out)
    if bad >= 0:
        where = tuple(int(v) for v in np.unravel_index(bad, pa.shape))
        raise ValueError(f"probabilities must lie in [0, 1] (NaN is not allowed): p_a={pa[where]}, p_b={pb[where]} "
                         f"at {where}")
    return out
