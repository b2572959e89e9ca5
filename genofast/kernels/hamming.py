"""Hamming nearest neighbours, distance matrices and histograms; csrc/hamming."""

from __future__ import annotations

import warnings

import numpy as np

from .. import _core
from ._common import _check_words, _ptr, _require_cuda, _stream, _torch, _words_of, is_cuda
from .bitpack import pack_haplotypes


def _pair(a, b):
    """Words of a and b (b None = self mode), checked to be comparable."""
    if getattr(a, "has_missing", False) or getattr(b, "has_missing", False):
        raise ValueError("Hamming distances need fully observed haplotypes; impute or drop missing calls first")
    wa = _check_words(_words_of(a), "a")
    wb = None if b is None else _check_words(_words_of(b), "b")
    if wb is not None:
        if wa.shape[1] != wb.shape[1]:
            raise ValueError(f"a and b have different SNP counts ({wa.shape[1]} vs {wb.shape[1]} words)")
        if is_cuda(wa) != is_cuda(wb):
            raise ValueError("a and b must be on the same device")
    sa, sb = getattr(a, "n_snps", None), getattr(b, "n_snps", None)
    if sa is not None and sb is not None and sa != sb:
        raise ValueError(f"a has {sa} SNPs but b has {sb}")
    return wa, wb


def check_neighbor_request(wa, wb, k, return_column_min: bool) -> None:
    """Validate k and column minima for a query set ``wa`` against ``wb`` (None = itself)."""
    self_mode = wb is None
    n = wa.shape[0] - 1 if self_mode else wb.shape[0]
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if k > n:
        raise ValueError(f"k={k} but only {n} reference haplotypes" + (" (self excluded)" if self_mode else ""))
    if return_column_min and self_mode:
        raise ValueError("column minima are only defined for a query set against another reference set")


METHODS = ("auto", "popcount", "mma")

# Devices on which the tensor-core path has matched the popcount path, by index.
_MMA_CHECKED: dict[int, bool] = {}


def _mma_verified(device) -> bool:
    """Whether this GPU may run the tensor-core kernels: sm_80 or newer, and
    a small problem with ties (k = 1 and 5, self and cross, the histogram)
    came out identical to the popcount kernels. Checked once per device; on
    a mismatch genofast warns and keeps to the popcount path."""
    torch = _torch()
    index = device.index if device.index is not None else torch.cuda.current_device()
    if index not in _MMA_CHECKED:
        ok = torch.cuda.get_device_capability(index) >= (8, 0)
        if ok:
            try:
                ok, why = _mma_matches_popcount(torch, index), "disagreed with the popcount kernels"
            except RuntimeError as e:  # e.g. a launch the device refuses
                ok, why = False, f"failed ({e})"
            if not ok:
                warnings.warn(f"the tensor-core Hamming kernels {why} on cuda:{index}; using the popcount kernels",
                              RuntimeWarning, stacklevel=3)
        _MMA_CHECKED[index] = ok
    return _MMA_CHECKED[index]


def _mma_matches_popcount(torch, index: int) -> bool:
    gen = torch.Generator(device="cpu").manual_seed(0)
    bits = torch.randint(0, 2, (300, 1000), generator=gen, dtype=torch.uint8)
    bits[10:20] = bits[0]
    words = pack_haplotypes(bits.to(f"cuda:{index}"))
    a, b = words[:170], words[170:]
    for args, k in (((words, None), 1), ((a, b), 1), ((words, None), 5), ((a, b), 5)):
        fast = nearest_neighbors(*args, k, return_column_min=args[1] is not None, method="mma")
        slow = nearest_neighbors(*args, k, return_column_min=args[1] is not None, method="popcount")
        if not all(bool(torch.equal(x, y)) for x, y in zip(fast, slow)):
            return False
    return all(bool(torch.equal(hamming_histogram(*args, method="mma"), hamming_histogram(*args, method="popcount")))
               for args in ((words, None), (a, b)))


def _use_mma(method: str, words, m: int, n: int) -> bool:
    """Resolve ``method`` for a CUDA call on m x n rows of ``words``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not is_cuda(words):
        if method == "mma":
            raise ValueError("method='mma' (tensor cores) needs CUDA tensors")
        return False
    if method != "auto":
        return method == "mma"
    # Tensor cores pay off once there are whole 128 x 128 tiles and 256-bit steps.
    return m >= 1024 and n >= 1024 and words.shape[1] >= 4 and _mma_verified(words.device)


def nearest_neighbors(a, b=None, k: int = 1, *, return_column_min: bool = False, method: str = "auto"):
    """The k nearest haplotypes of B for every haplotype of A, by Hamming distance.

    Parameters
    ----------
    a, b : HaplotypeMatrix or packed words (numpy, or torch CUDA tensor)
        Queries (m rows) and references (n rows). ``b=None`` compares A with
        itself, excluding each row's own diagonal.
    k : number of neighbours per query.
    return_column_min : also return, per reference row, the minimum distance
        over all queries (from the same pass; not in self mode).
    method : CUDA kernel: "popcount" (CUDA cores), "mma" (tensor cores, 1-bit
        AND MMA, sm_80+) or "auto" (tensor cores for large inputs on a GPU
        where they passed a self-check against the popcount kernel). Both give
        identical results; numpy inputs always run the CPU path.

    Returns
    -------
    distances (m x k, int32), indices (m x k, int64), ordered by distance and
    then index, so ties go to the lower index; and column minima (n, int32)
    when asked. Memory is O((m + n) * (words + k)): no m x n matrix is built.
    """
    wa, wb = _pair(a, b)
    self_mode = wb is None
    m = wa.shape[0]
    check_neighbor_request(wa, wb, k, return_column_min)
    if is_cuda(wa):
        _require_cuda()
        torch = _torch()
        dist = torch.empty((m, k), dtype=torch.int32, device=wa.device)
        idx = torch.empty((m, k), dtype=torch.int64, device=wa.device)
        cm = torch.empty((wb.shape[0],), dtype=torch.int32, device=wa.device) if return_column_min else None
        nref = m if self_mode else wb.shape[0]
        fn = _core.nearest_neighbors_mma_cuda if _use_mma(method, wa, m, nref) else _core.nearest_neighbors_cuda
        fn(_ptr(wa), m, _ptr(wa if self_mode else wb), nref, wa.shape[1], self_mode, k, _ptr(dist), _ptr(idx),
           _ptr(cm), _stream(wa))
    else:
        _use_mma(method, wa, 0, 0)
        dist, idx, cm = _core.nearest_neighbors(wa, wb, int(k), return_column_min)
    return (dist, idx, cm) if return_column_min else (dist, idx)


def pairwise_hamming(a, b=None):
    """Full m x n matrix of Hamming distances (int32), for small inputs (CPU).

    The matrix grows as m x n: sizes whose matrix would not fit in memory are
    refused (MemoryError with the estimate) before any allocation.
    """
    from ..models._base import check_memory

    wa, wb = _pair(a, b)
    if is_cuda(wa):
        raise ValueError("pairwise_hamming runs on the CPU; use nearest_neighbors or hamming_histogram on CUDA")
    m, n = wa.shape[0], (wa if wb is None else wb).shape[0]
    check_memory(4 * m * n, f"a {m} x {n} Hamming distance matrix",
                 "use nearest_neighbors (k nearest, O(m + n) memory) or hamming_histogram (all distances, counted)")
    return _core.pairwise_hamming(wa, wa if wb is None else wb)


def hamming_histogram(a, b=None, n_snps: int | None = None, *, method: str = "auto"):
    """Counts of all pairwise Hamming distances, without storing them.

    ``b=None`` counts each unordered pair of distinct rows of A once. Returns
    an int64 array ``h`` of length n_snps + 1 with ``h[d]`` = pairs at distance d.
    ``method`` chooses the CUDA kernel as in :func:`nearest_neighbors`; the
    tensor-core histogram keeps its bins in shared memory, so "auto" uses it
    only when they fit (about 48,000 SNPs on an H100).
    """
    wa, wb = _pair(a, b)
    n_snps = n_snps if n_snps is not None else getattr(a, "n_snps", wa.shape[1] * 64)
    bins = wa.shape[1] * 64 + 1
    if is_cuda(wa):
        _require_cuda()
        torch = _torch()
        hist = torch.empty((bins,), dtype=torch.int64, device=wa.device)
        nref = wa.shape[0] if wb is None else wb.shape[0]
        mma = _use_mma(method, wa, wa.shape[0], nref)
        if mma and method == "auto" and bins > _core.mma_histogram_max_bins():
            mma = False
        fn = _core.hamming_histogram_mma_cuda if mma else _core.hamming_histogram_cuda
        fn(_ptr(wa), wa.shape[0], _ptr(wa if wb is None else wb), nref, wa.shape[1], wb is None, _ptr(hist), bins,
           _stream(wa))
    else:
        _use_mma(method, wa, 0, 0)
        hist = _core.hamming_histogram(wa, wb)
    return hist[: n_snps + 1]
