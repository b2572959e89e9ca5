"""Bit-packed haplotype and genotype matrices with their sample and variant metadata.

A :class:`HaplotypeMatrix` holds ``n_haplotypes x n_snps`` alleles in {0,1}, one
bit each: SNP ``j`` of a row sits at word ``j >> 6``, bit ``j & 63`` (LSB
first), and the tail bits of the last word are zero. A :class:`GenotypeMatrix`
holds unphased diploid calls as 2-bit codes, 32 per word: SNP ``j`` at word
``j >> 5``, bits ``2*(j & 31)`` and ``2*(j & 31) + 1``; code 0/1/2 is the dosage
of allele 1 and code 3 means missing. Allele 1 is the ALT allele of the source
file unless the reader says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import kernels


@dataclass(frozen=True)
class Variants:
    """Per-SNP metadata: chromosome, position, id and the two alleles (allele 1 = ``alt``)."""

    chrom: np.ndarray
    position: np.ndarray
    id: np.ndarray
    ref: np.ndarray
    alt: np.ndarray

    def __post_init__(self):
        n = len(self.position)
        for name in ("chrom", "id", "ref", "alt"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"variant metadata: {name} has {len(getattr(self, name))} entries, expected {n}")

    @classmethod
    def numbered(cls, n: int) -> "Variants":
        """Placeholder metadata for data without any: positions 1..n on chromosome '1'."""
        pos = np.arange(1, n + 1, dtype=np.int64)
        return cls(np.full(n, "1"), pos, np.array([f"snp{i}" for i in pos]), np.full(n, "A"), np.full(n, "C"))

    def __len__(self) -> int:
        return len(self.position)

    def __getitem__(self, idx) -> "Variants":
        return Variants(*(np.asarray(getattr(self, f))[idx] for f in ("chrom", "position", "id", "ref", "alt")))


def _slice_bits(words: np.ndarray, start_bit: int, n_bits: int) -> np.ndarray:
    """Columns [start_bit, start_bit + n_bits) of packed rows, re-aligned to bit 0.

    Works for both layouts, since each packs its values LSB first without gaps.
    """
    out_words = -(-n_bits // 64)
    w0, off = divmod(start_bit, 64)
    src = np.zeros((words.shape[0], out_words + 1), dtype=np.uint64)
    avail = words[:, w0 : w0 + out_words + 1]
    src[:, : avail.shape[1]] = avail
    if off:
        out = (src[:, :out_words] >> np.uint64(off)) | (src[:, 1 : out_words + 1] << np.uint64(64 - off))
    else:
        out = src[:, :out_words].copy()
    if n_bits % 64 and out_words:
        out[:, -1] &= np.uint64((1 << (n_bits % 64)) - 1)
    return out


def _snp_range(key, n_snps: int) -> tuple[int, int] | None:
    """(start, stop) of a unit-step slice, or None when the key needs unpacking."""
    if isinstance(key, slice) and key.step in (None, 1):
        start, stop, _ = key.indices(n_snps)
        return start, max(start, stop)
    return None


class _PackedRows:
    """What both matrices share: packed words, rows with ids, SNPs with metadata."""

    bits_per_call = 1
    words: np.ndarray
    n_snps: int
    ids: np.ndarray
    variants: Variants

    def _post_init(self):
        if isinstance(self.n_snps, (bool, np.bool_)) or not isinstance(self.n_snps, (int, np.integer)) \
                or self.n_snps < 0:
            raise ValueError(f"n_snps must be a non-negative integer, got {self.n_snps!r}")
        object.__setattr__(self, "n_snps", int(self.n_snps))
        per_word = 64 // self.bits_per_call
        object.__setattr__(self, "words", _checked_words(self.words, "words", self.n_snps, self.bits_per_call))
        if self.words.shape[1] != -(-self.n_snps // per_word):
            raise ValueError(f"{self.words.shape[1]} words per row cannot hold {self.n_snps} SNPs")
        if self.ids is None:
            object.__setattr__(self, "ids", np.array([f"{self._id_prefix}{i}" for i in range(self.words.shape[0])]))
        object.__setattr__(self, "ids", np.asarray(self.ids).astype(str))
        if len(self.ids) != self.words.shape[0]:
            raise ValueError(f"{len(self.ids)} ids for {self.words.shape[0]} rows")
        if self.variants is None:
            object.__setattr__(self, "variants", Variants.numbered(self.n_snps))
        if len(self.variants) != self.n_snps:
            raise ValueError(f"variant metadata for {len(self.variants)} SNPs, matrix has {self.n_snps}")

    @property
    def shape(self) -> tuple[int, int]:
        return (self.words.shape[0], self.n_snps)

    @property
    def device(self) -> str:
        return str(self.words.device) if kernels.is_cuda(self.words) else "cpu"

    def _select(self, rows, snps):
        """Row and SNP selection shared by both matrices: words, ids, variants, extra masks."""
        if isinstance(rows, (int, np.integer)):
            rows = [rows]
        if snps is not None and kernels.is_cuda(self.words):  # SNP slicing works on the host copy
            words, n_snps, ids, variants, extra = self.to("cpu")._select(rows, snps)
            return (_to_device(words, self.device), n_snps, ids, variants,
                    {k: _to_device(v, self.device) for k, v in extra.items()})
        words = self.words[rows]
        ids = self.ids[rows]
        extra = {}
        if getattr(self, "missing", None) is not None:
            extra["missing"] = self.missing[rows]
        if snps is None:
            return words, self.n_snps, ids, self.variants, extra
        rng = _snp_range(snps, self.n_snps)
        if rng is not None:
            start, stop = rng
            b = self.bits_per_call
            words = _slice_bits(np.asarray(words), b * start, b * (stop - start))
            extra = {k: _slice_bits(np.asarray(v), start, stop - start) for k, v in extra.items()}
            return words, stop - start, ids, self.variants[start:stop], extra
        # Arbitrary SNP index lists go through an unpack / repack.
        idx = np.arange(self.n_snps)[snps]
        dense = self._unpack_rows(words, extra)[:, idx]
        packed = type(self).from_numpy(dense)
        extra = {"missing": packed.missing} if getattr(packed, "missing", None) is not None else {}
        return packed.words, len(idx), ids, self.variants[idx], extra

    def __len__(self) -> int:
        return self.words.shape[0]


@dataclass(frozen=True, eq=False)
class HaplotypeMatrix(_PackedRows):
    """Phased haplotypes, ``n_haplotypes x n_snps`` alleles in {0,1}, 1 bit each.

    ``missing`` (optional, same packed shape) has bit 1 where an allele is
    unknown; such bits read as allele 0 in ``words`` and -1 in ``to_numpy()``.
    Row ``2i`` and ``2i + 1`` of a diploid cohort are the two haplotypes of
    individual ``i``.
    """

    words: np.ndarray
    n_snps: int
    missing: np.ndarray | None = None
    ids: np.ndarray | None = None
    variants: Variants | None = None
    _id_prefix = "hap"

    def __post_init__(self):
        self._post_init()
        if self.missing is not None:
            missing = _checked_words(self.missing, "missing mask", self.n_snps, 1)
            if tuple(missing.shape) != tuple(self.words.shape):
                raise ValueError(f"missing mask has shape {tuple(missing.shape)}, words {tuple(self.words.shape)}")
            if not kernels.is_cuda(missing):
                # Alleles under the mask are 0 by definition: packed distances and
                # equality then never see a value that was not called.
                stray = self.words & missing
                if stray.any():
                    object.__setattr__(self, "words", self.words & ~missing)
            object.__setattr__(self, "missing", missing)

    @classmethod
    def from_numpy(cls, alleles, *, ids=None, variants: Variants | None = None) -> "HaplotypeMatrix":
        """Pack an ``n_haplotypes x n_snps`` array of {0,1} (or -1 for missing)."""
        alleles = np.asarray(alleles)
        if alleles.ndim != 2:
            raise ValueError(f"haplotypes must be 2-D (haplotypes x SNPs), got shape {alleles.shape}")
        missing = None
        if alleles.dtype.kind in "if" and alleles.size and (alleles < 0).any():
            is_missing = alleles == -1
            missing = kernels.pack_haplotypes(is_missing)
            alleles = np.where(is_missing, 0, alleles)
        return cls(kernels.pack_haplotypes(alleles), alleles.shape[1], missing, ids, variants)

    def to_numpy(self) -> np.ndarray:
        """Unpack to uint8 {0,1}; int8 with -1 at missing alleles when any are missing."""
        return self._unpack_rows(self.words, {"missing": self.missing})

    def _unpack_rows(self, words, extra):
        out = kernels.unpack_haplotypes(words, self.n_snps)
        missing = extra.get("missing")
        if missing is None or not missing.any():
            return out
        out = out.astype(np.int8)
        out[kernels.unpack_haplotypes(missing, self.n_snps).astype(bool)] = -1
        return out

    @property
    def n_haplotypes(self) -> int:
        return self.words.shape[0]

    @property
    def has_missing(self) -> bool:
        return self.missing is not None and bool(self.missing.any())

    @property
    def n_missing(self) -> int:
        """Number of missing alleles, counted on the packed mask."""
        if self.missing is None:
            return 0
        m = np.asarray(self.to("cpu").missing)
        return sum(int(_popcount(m[r0 : r0 + 4096]).sum()) for r0 in range(0, m.shape[0], 4096))

    def fill_missing(self, alleles) -> "HaplotypeMatrix":
        """The same haplotypes with every missing allele set to ``alleles[snp]`` (0 or 1), and no mask."""
        if self.missing is None:
            return self
        fill = np.asarray(alleles).reshape(1, -1)
        if fill.shape[1] != self.n_snps:
            raise ValueError(f"{fill.shape[1]} fill alleles for {self.n_snps} SNPs")
        row = kernels.pack_haplotypes(fill)
        h = self.to("cpu")
        return HaplotypeMatrix(h.words | (h.missing & row), self.n_snps, None, self.ids, self.variants)

    def __getitem__(self, key) -> "HaplotypeMatrix":
        """``m[rows]`` or ``m[rows, snps]``; unit-step SNP ranges are sliced packed."""
        rows, snps = key if isinstance(key, tuple) else (key, None)
        words, n_snps, ids, variants, extra = self._select(rows, snps)
        return HaplotypeMatrix(words, n_snps, extra.get("missing"), ids, variants)

    def to_genotypes(self) -> "GenotypeMatrix":
        """Unphased genotypes of individuals formed by rows (2i, 2i+1)."""
        g = kernels.haplotypes_to_genotypes(self.words, self.n_snps, self.missing)
        ids = np.array([str(i).rsplit("_", 1)[0] for i in self.ids[::2]])
        return GenotypeMatrix(g, self.n_snps, ids, self.variants)

    def to(self, device: str) -> "HaplotypeMatrix":
        """Copy words (and mask) to ``"cpu"`` (numpy) or a CUDA device (torch int64)."""
        return replace(self, words=_to_device(self.words, device),
                       missing=None if self.missing is None else _to_device(self.missing, device))

    def __repr__(self) -> str:
        return f"HaplotypeMatrix({self.n_haplotypes} haplotypes x {self.n_snps} SNPs, device={self.device})"


@dataclass(frozen=True, eq=False)
class GenotypeMatrix(_PackedRows):
    """Unphased diploid genotypes, ``n_samples x n_snps`` dosages {0,1,2} or missing, 2 bits each."""

    words: np.ndarray
    n_snps: int
    ids: np.ndarray | None = None
    variants: Variants | None = None
    bits_per_call = 2
    _id_prefix = "sample"

    def __post_init__(self):
        self._post_init()

    @classmethod
    def from_numpy(cls, dosages, *, ids=None, variants: Variants | None = None) -> "GenotypeMatrix":
        """Pack an ``n_samples x n_snps`` array of dosages (-1 = missing)."""
        dosages = np.asarray(dosages)
        if dosages.ndim != 2:
            raise ValueError(f"genotypes must be 2-D (samples x SNPs), got shape {dosages.shape}")
        return cls(kernels.pack_genotypes(dosages), dosages.shape[1], ids, variants)

    def to_numpy(self) -> np.ndarray:
        """Unpack to int8 dosages with -1 for missing."""
        return kernels.unpack_genotypes(self.words, self.n_snps)

    def _unpack_rows(self, words, extra):
        return kernels.unpack_genotypes(words, self.n_snps)

    @property
    def n_samples(self) -> int:
        return self.words.shape[0]

    @property
    def has_missing(self) -> bool:
        return self.n_missing > 0

    @property
    def n_missing(self) -> int:
        """Number of missing calls, counted on the packed words (code 3 = both bits set)."""
        w = np.asarray(self.to("cpu").words)
        total = 0
        for r0 in range(0, w.shape[0], 4096):
            block = w[r0 : r0 + 4096]
            total += int(_popcount(block & (block >> np.uint64(1)) & _LOW_BITS).sum())
        return total

    def __getitem__(self, key) -> "GenotypeMatrix":
        rows, snps = key if isinstance(key, tuple) else (key, None)
        words, n_snps, ids, variants, _ = self._select(rows, snps)
        return GenotypeMatrix(words, n_snps, ids, variants)

    def to(self, device: str) -> "GenotypeMatrix":
        return replace(self, words=_to_device(self.words, device))

    def __repr__(self) -> str:
        return f"GenotypeMatrix({self.n_samples} samples x {self.n_snps} SNPs, device={self.device})"


_LOW_BITS = np.uint64(0x5555555555555555)


def _popcount(words: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    return np.unpackbits(words.view(np.uint8), axis=-1).reshape(*words.shape, 64).sum(-1)


def _checked_words(words, name: str, n_snps: int, bits_per_call: int):
    """Packed words as a 2-D uint64 array, with every bit past the last SNP zero.

    Set tail bits would make identical rows differ in Hamming distance (and hide
    exact copies), so they are an error rather than something to mask later.
    """
    if kernels.is_cuda(words):
        return words
    if hasattr(words, "numpy") and not isinstance(words, np.ndarray):  # CPU torch tensor
        words = words.numpy()
    words = np.asarray(words)
    if words.dtype == np.int64:
        words = words.view(np.uint64)
    if words.ndim != 2 or words.dtype != np.uint64:
        raise ValueError(f"{name} must be a 2-D uint64 array of packed bits, got {words.dtype} "
                         f"with shape {words.shape}")
    tail = (bits_per_call * n_snps) % 64
    if tail and words.shape[0] and words.shape[1] == -(-bits_per_call * n_snps // 64):
        bad = (words[:, -1] >> np.uint64(tail)) != 0
        if bad.any():
            raise ValueError(f"{name}: row {int(np.argmax(bad))} has bits set beyond SNP {n_snps} "
                             "(the tail of the last word must be zero)")
    return words


def _to_device(words, device: str):
    if device == "cpu":
        if kernels.is_cuda(words):
            return words.cpu().numpy().view(np.uint64)
        return words
    import torch

    if kernels.is_cuda(words):
        return words.to(device)
    return torch.from_numpy(np.ascontiguousarray(words).view(np.int64)).to(device)
