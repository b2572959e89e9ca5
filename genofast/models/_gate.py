"""The privacy gate: find synthetic haplotypes that copy (or nearly copy) a training haplotype.

A model keeps, by default, a *fingerprint* of each training haplotype: the
first 8 bytes of BLAKE2b over its packed words. Fingerprints let ``sample``
and ``genofast generate`` refuse exact copies when the training data are no
longer at hand.

What fingerprints reveal: anyone holding the checkpoint and a *known*
haplotype can test whether that exact haplotype was in the training set
(hash it and look it up). That is exactly the information an exact-copy
check needs, so it cannot be avoided while keeping the check; a salt would
not help, because the salt must be stored beside the hashes. Fingerprints do
not let one reconstruct a haplotype (a 64-bit digest of thousands of alleles
has no inverse), nor test near-matches. Train with ``fingerprint=False``
(``genofast train --no-fingerprints``) to share a checkpoint that carries no
membership information beyond the model itself.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .. import kernels
from ..matrix import HaplotypeMatrix

_PERSON = b"genofast-hap-v1"  # BLAKE2b personalisation: these digests differ from any other use of BLAKE2b


def _words(haplotypes) -> np.ndarray:
    if isinstance(haplotypes, HaplotypeMatrix):
        return np.ascontiguousarray(haplotypes.to("cpu").words)
    return kernels.pack_haplotypes(np.ascontiguousarray(np.asarray(haplotypes, dtype=np.uint8)))


def fingerprints(haplotypes) -> np.ndarray:
    """One uint64 digest per haplotype (row) of packed words; equal haplotypes, equal digests."""
    w = _words(haplotypes).astype("<u8", copy=False)
    out = np.empty(w.shape[0], dtype=np.uint64)
    for i, row in enumerate(w):
        out[i] = int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8, person=_PERSON).digest(), "little")
    return out


def copied_rows(synthetic, training=None, stored: np.ndarray | None = None, max_distance: int = 0) -> np.ndarray:
    """Indices of synthetic haplotypes within Hamming ``max_distance`` of a training haplotype.

    With the training haplotypes at hand any distance works (one nearest-
    neighbour pass); with only ``stored`` fingerprints, exact copies alone
    (``max_distance`` 0) can be found.
    """
    if training is not None:
        t = training if isinstance(training, HaplotypeMatrix) else HaplotypeMatrix.from_numpy(np.asarray(training))
        s = synthetic if isinstance(synthetic, HaplotypeMatrix) else HaplotypeMatrix.from_numpy(np.asarray(synthetic))
        if t.n_snps != s.n_snps:
            raise ValueError(f"training data have {t.n_snps} SNPs, the synthetic haplotypes {s.n_snps}")
        if s.n_haplotypes == 0 or t.n_haplotypes == 0:
            return np.zeros(0, dtype=np.int64)
        d, _ = kernels.nearest_neighbors(s.to("cpu"), t.to("cpu"), k=1)
        return np.flatnonzero(d[:, 0] <= max_distance)
    if stored is None:
        raise ValueError("no training data and no stored fingerprints: copies cannot be checked")
    if max_distance:
        raise ValueError("fingerprints find exact copies only; give the training data to check a Hamming distance")
    return np.flatnonzero(np.isin(fingerprints(synthetic), stored))


class CopiesError(ValueError):
    """Synthetic haplotypes copy training haplotypes and copies were not allowed."""


def refuse_copies(rows: np.ndarray, n: int, what: str, max_distance: int = 0) -> None:
    if len(rows):
        near = "exact copies of" if max_distance == 0 else f"within Hamming distance {max_distance} of"
        raise CopiesError(f"{what}: {len(rows)} of {n} synthetic haplotypes are {near} training haplotypes "
                          f"(first at row {int(rows[0])}); refusing to release them (pass allow_copies=True, "
                          "or --allow-copies on the command line, to keep them)")


def fingerprints_from_checkpoint(path, arrays: dict) -> np.ndarray | None:
    """The stored fingerprints of a checkpoint, checked (None when the model was trained without them)."""
    from ..io._files import FormatError

    if "fingerprints" not in arrays:
        return None
    f = arrays["fingerprints"]
    if f.ndim != 1 or f.dtype != np.uint64:
        raise FormatError(path, f"tensor 'fingerprints' must be 1-D uint64, got {f.dtype} {f.shape}")
    return f
