"""The public kernel API: validate inputs, pick the CPU or CUDA path, call ``_core``.

The device follows the input: numpy arrays run on the CPU (C++, OpenMP, SIMD
chosen at run time); torch tensors on a CUDA device run the CUDA kernels on
that tensor's current stream and return CUDA tensors. Packed words cross as
``uint64`` numpy arrays or ``int64``/``uint64`` torch tensors (same bits).
This is the only module that imports ``genofast._core``.
"""

from __future__ import annotations

import os
import warnings
from typing import NamedTuple

import numpy as np

from . import _core

SIMD_LEVELS = ("scalar", "avx2", "avx512")


class CudaInfo(NamedTuple):
    """Whether CUDA kernels were compiled in and how many devices can run them."""

    compiled: bool
    device_count: int

    @property
    def available(self) -> bool:
        return self.compiled and self.device_count > 0


def has_cuda() -> CudaInfo:
    """Report CUDA support: compiled-in and device-present, separately."""
    if not _core.cuda_compiled:
        return CudaInfo(False, 0)
    return CudaInfo(True, int(_core.cuda_device_count()))


def simd_supported() -> str:
    """Best SIMD level of this CPU for the popcount kernels."""
    return SIMD_LEVELS[_core.simd_supported()]


def simd_level() -> str:
    """SIMD level the CPU kernels use now."""
    return SIMD_LEVELS[_core.simd_active()]


def set_simd(level: str) -> None:
    """Force a SIMD level (``scalar``, ``avx2``, ``avx512``), at most the supported one."""
    if level not in SIMD_LEVELS:
        raise ValueError(f"SIMD level must be one of {SIMD_LEVELS}, got {level!r}")
    if SIMD_LEVELS.index(level) > _core.simd_supported():
        raise ValueError(f"this CPU supports SIMD up to {simd_supported()!r}, not {level!r}")
    _core.set_simd(SIMD_LEVELS.index(level))


def set_threads(n: int) -> None:
    """Number of CPU threads for genofast's kernels (OpenMP)."""
    if n < 1:
        raise ValueError(f"threads must be at least 1, got {n}")
    _core.set_threads(int(n))


def threads() -> int:
    return int(_core.max_threads())


if os.environ.get("GENOFAST_SIMD"):
    set_simd(os.environ["GENOFAST_SIMD"])


def haplotype_words(n_snps: int) -> int:
    return (n_snps + 63) // 64


def genotype_words(n_snps: int) -> int:
    return (n_snps + 31) // 32


def philox(seed: int, stream: int, counter: int) -> tuple[int, int, int, int]:
    """The 128 random bits (four uint32) every kernel draws for (seed, stream, counter)."""
    return _core.philox(seed, stream, counter)


# --- device plumbing -------------------------------------------------------


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


def _check_words(words, name: str, n_snps: int | None = None, per_word: int = 64):
    if is_cuda(words):
        torch = _torch()
        if words.dtype not in (torch.int64, torch.uint64) or words.dim() != 2:
            raise ValueError(f"{name}: expected a 2-D int64/uint64 CUDA tensor of packed words")
        _check_word_count(words, name, n_snps, per_word)
        return words.contiguous()
    if hasattr(words, "numpy") and not isinstance(words, np.ndarray):  # CPU torch tensor
        words = words.numpy()
    words = np.asarray(words)
    if words.ndim != 2:
        raise ValueError(f"{name}: packed words must be 2-D (rows x words), got shape {words.shape}")
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


# --- bit packing -------------------------------------------------------------


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


def pack_haplotypes(alleles):
    """Pack a rows x SNPs array of alleles in {0,1} into uint64 words (1 bit each)."""
    alleles = _as_2d(alleles, "haplotypes")
    n, s = alleles.shape
    if is_cuda(alleles):
        _require_cuda()
        torch = _torch()
        if alleles.dtype != torch.uint8:
            alleles = alleles.to(torch.uint8)
        if bool(((alleles > 1)).any()):
            raise ValueError("haplotype allele not in {0,1}")
        out = torch.empty((n, haplotype_words(s)), dtype=torch.int64, device=alleles.device)
        _core.pack_haplotypes_cuda(_ptr(alleles), n, s, _ptr(out), _stream(alleles))
        return out
    if alleles.dtype != np.uint8:
        if alleles.dtype != np.bool_:
            _check_values(alleles, 0, 1, "haplotype allele not in {0,1}")
        alleles = alleles.astype(np.uint8)
    return _core.pack_haplotypes(np.ascontiguousarray(alleles))


def unpack_haplotypes(words, n_snps: int):
    """Unpack haplotype words to a rows x n_snps uint8 array of alleles."""
    words = _check_words(words, "haplotypes", n_snps)
    if is_cuda(words):
        _require_cuda()
        out = _empty_like_words(words, (words.shape[0], n_snps), np.uint8, "uint8")
        _core.unpack_haplotypes_cuda(_ptr(words), words.shape[0], n_snps, _ptr(out), _stream(words))
        return out
    return _core.unpack_haplotypes(words, n_snps)


def pack_genotypes(dosages):
    """Pack a rows x SNPs array of dosages {0,1,2}, -1 = missing, into 2-bit codes."""
    dosages = _as_2d(dosages, "genotypes")
    n, s = dosages.shape
    if is_cuda(dosages):
        _require_cuda()
        torch = _torch()
        if bool(((dosages < -1) | (dosages > 2)).any()):
            raise ValueError("genotype dosage not in {-1,0,1,2}")
        dosages = dosages.to(torch.int8).contiguous()
        out = torch.empty((n, genotype_words(s)), dtype=torch.int64, device=dosages.device)
        _core.pack_genotypes_cuda(_ptr(dosages), n, s, _ptr(out), _stream(dosages))
        return out
    if dosages.dtype != np.int8:
        _check_values(dosages, -1, 2, "genotype dosage not in {-1,0,1,2}")
        dosages = dosages.astype(np.int8)
    return _core.pack_genotypes(np.ascontiguousarray(dosages))


def unpack_genotypes(words, n_snps: int):
    """Unpack genotype words to a rows x n_snps int8 array (-1 = missing)."""
    words = _check_words(words, "genotypes", n_snps, per_word=32)
    if is_cuda(words):
        _require_cuda()
        out = _empty_like_words(words, (words.shape[0], n_snps), np.int8, "int8")
        _core.unpack_genotypes_cuda(_ptr(words), words.shape[0], n_snps, _ptr(out), _stream(words))
        return out
    return _core.unpack_genotypes(words, n_snps)


def haplotypes_to_genotypes(words, n_snps: int, missing=None):
    """Genotype words of individuals formed by haplotype rows (2i, 2i+1)."""
    words = _check_words(words, "haplotypes", n_snps)
    if words.shape[0] % 2:
        raise ValueError(f"an even number of haplotypes is needed to form individuals, got {words.shape[0]}")
    if missing is not None:
        missing = _check_words(missing, "missing", n_snps)
        if missing.shape != words.shape:
            raise ValueError("missing mask and haplotypes differ in shape")
    if is_cuda(words):
        _require_cuda()
        out = _empty_like_words(words, (words.shape[0] // 2, genotype_words(n_snps)), np.uint64, "int64")
        _core.haplotypes_to_genotypes_cuda(_ptr(words), _ptr(missing), words.shape[0] // 2, n_snps, _ptr(out),
                                           _stream(words))
        return out
    return _core.haplotypes_to_genotypes(words, missing, n_snps)


# --- Hamming nearest neighbours ----------------------------------------------


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
    from .models._base import check_memory

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


# --- phasing ---------------------------------------------------------------


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


# --- RBM units -----------------------------------------------------------------

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
