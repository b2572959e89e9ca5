"""The public kernel API: validate inputs, pick the CPU or CUDA path, call ``_core``.

The device follows the input: numpy arrays run on the CPU (C++, OpenMP, SIMD
chosen at run time); torch tensors on a CUDA device run the CUDA kernels on
that tensor's current stream and return CUDA tensors. Packed words cross as
``uint64`` numpy arrays or ``int64``/``uint64`` torch tensors (same bits).
This package is the only place that imports ``genofast._core``; one module per
kernel family, as in csrc/.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from .. import _core
from ._common import _words_of as _words_of  # metrics.privacy and distributed check inputs as the kernels do
from ._common import genotype_words, haplotype_words, is_cuda
from .bitpack import haplotypes_to_genotypes, pack_genotypes, pack_haplotypes, unpack_genotypes, unpack_haplotypes
from .hamming import _pair as _pair  # (the same for pairs of sets)
from .hamming import METHODS, check_neighbor_request, hamming_histogram, nearest_neighbors, pairwise_hamming
from .ld import pair_counts, snp_planes
from .phasing import complement, merge, random_phase, reconcile
from .rbm import UNIT_KINDS, rbm_units

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


def philox(seed: int, stream: int, counter: int) -> tuple[int, int, int, int]:
    """The 128 random bits (four uint32) every kernel draws for (seed, stream, counter)."""
    return _core.philox(seed, stream, counter)


__all__ = ["SIMD_LEVELS", "METHODS", "UNIT_KINDS", "CudaInfo", "has_cuda", "simd_supported", "simd_level", "set_simd",
           "set_threads", "threads", "philox", "haplotype_words", "genotype_words", "is_cuda", "pack_haplotypes",
           "unpack_haplotypes", "pack_genotypes", "unpack_genotypes", "haplotypes_to_genotypes", "nearest_neighbors",
           "check_neighbor_request", "pairwise_hamming", "hamming_histogram", "random_phase", "complement",
           "reconcile", "merge", "rbm_units", "pair_counts", "snp_planes"]
