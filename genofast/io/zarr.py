"""VCF Zarr stores (the layout bio2zarr writes and sgkit reads), streamed chunk by chunk.

A store is a Zarr group with ``call_genotype`` (variants x samples x ploidy,
int8, -1 = missing), ``call_genotype_phased`` (variants x samples),
``call_genotype_mask``, ``variant_position``, ``variant_contig`` (index into
``contig_id``), ``variant_allele`` (REF, ALT...), ``variant_id`` and
``sample_id`` (VCF Zarr specification 0.5). The same conventions as
:func:`genofast.io.read_vcf` apply: phased stores become a
:class:`HaplotypeMatrix` (rows 2i, 2i+1 = sample i, ids ``<sample>_A/_B``),
unphased ones a :class:`GenotypeMatrix`; allele 1 is the ALT allele.

Genotype calls are read and written one block of variants at a time, so no
more than one block is ever held unpacked; only the packed matrix (1 bit per
allele) grows with the cohort.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .. import kernels
from ..matrix import GenotypeMatrix, HaplotypeMatrix, Variants
from ._files import FormatError

# A multiple of 64 variants per block: then each block packs to whole uint64
# words (haplotypes 64 per word, genotypes 32) and blocks join by concatenation.
_WORD_ALIGN = 64
DEFAULT_CHUNK_VARIANTS = 10_000
_REQUIRED = ("call_genotype", "variant_position", "variant_allele", "sample_id")


def _open(path):
    import zarr

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such Zarr store: {p}")
    try:
        group = zarr.open_group(str(p), mode="r")
    except Exception as e:  # zarr raises several unrelated types for "not a group"
        raise FormatError(p, f"not a Zarr group: {e}") from e
    absent = [name for name in _REQUIRED if name not in group]
    if absent:
        raise FormatError(p, f"not a VCF Zarr store: missing array(s) {', '.join(absent)}")
    return group


def _strings(array) -> np.ndarray:
    # Through object: numpy cannot cast its variable-width StringDType (zarr 3's strings) to str directly.
    return np.asarray(array[...]).astype(object).astype(str)


def _variants(path, group) -> Variants:
    n = group["call_genotype"].shape[0]
    alleles = _strings(group["variant_allele"])
    if alleles.ndim != 2 or alleles.shape[0] != n:
        raise FormatError(path, f"variant_allele has shape {alleles.shape}, expected ({n}, alleles)")
    n_alleles = (alleles != "").sum(axis=1)
    if (n_alleles > 2).any():
        v = int(np.argmax(n_alleles > 2))
        raise FormatError(path, f"variant {v} (position {group['variant_position'][v]}) has "
                                f"{n_alleles[v] - 1} ALT alleles; genofast reads biallelic sites")
    alt = alleles[:, 1] if alleles.shape[1] > 1 else np.full(n, "", dtype=str)
    alt = np.where(alt == "", ".", alt)  # a monomorphic site's ALT reads as "." in VCF
    if "variant_contig" in group and "contig_id" in group:
        chrom = _strings(group["contig_id"])[np.asarray(group["variant_contig"][...], dtype=np.int64)]
    else:
        chrom = np.full(n, ".", dtype=str)
    ids = _strings(group["variant_id"]) if "variant_id" in group else np.full(n, ".", dtype=str)
    ids = np.where(ids == "", ".", ids)
    position = np.asarray(group["variant_position"][...], dtype=np.int64)
    return Variants(chrom, position, ids, alleles[:, 0], alt)


def _blocks(n: int, chunk_variants: int):
    step = max(_WORD_ALIGN, -(-int(chunk_variants) // _WORD_ALIGN) * _WORD_ALIGN)
    return [(v0, min(v0 + step, n)) for v0 in range(0, n, step)]


def read_zarr(path, *, phased: bool | None = None, chunk_variants: int = DEFAULT_CHUNK_VARIANTS):
    """Read the biallelic diploid calls of a VCF Zarr store, one block of variants at a time.

    ``phased`` as in :func:`genofast.io.read_vcf`: None gives haplotypes when
    no heterozygous call is unphased and genotypes otherwise; True requires
    phased calls (error naming the first unphased heterozygote); False
    always gives genotypes. ``chunk_variants`` bounds the variants held
    unpacked at once (rounded up to a multiple of 64). Errors name the store,
    the variant and the sample.
    """
    path = Path(path)
    group = _open(path)
    calls = group["call_genotype"]
    if calls.ndim != 3 or calls.shape[2] != 2:
        raise FormatError(path, f"call_genotype has shape {calls.shape}; genofast reads diploid calls "
                                "(variants x samples x 2)")
    n_variants, n_samples, _ = calls.shape
    if n_variants == 0:
        raise FormatError(path, "no variants in store")
    samples = _strings(group["sample_id"])
    if samples.shape != (n_samples,):
        raise FormatError(path, f"sample_id has {samples.size} entries but call_genotype {n_samples} samples")
    variants = _variants(path, group)
    phase = group.get("call_genotype_phased")
    words, missing, all_phased = [], [], True
    for v0, v1 in _blocks(n_variants, chunk_variants):
        gt = np.asarray(calls[v0:v1])
        bad = (gt < -1) | (gt > 1)
        if bad.any():
            v, s, _ = (int(x) for x in np.argwhere(bad)[0])
            what = "a haploid or mixed-ploidy call" if gt[v, s].min() < -1 else f"allele {gt[v, s].max()}"
            raise FormatError(path, f"variant {v0 + v} (position {variants.position[v0 + v]}), sample "
                                    f"{samples[s]}: {what}; genofast reads biallelic diploid calls")
        heterozygous = (gt[:, :, 0] != gt[:, :, 1]) & (gt >= 0).all(axis=2)
        unphased = heterozygous & ~np.asarray(phase[v0:v1], dtype=bool) if phase is not None else heterozygous
        if unphased.any():
            if phased is True:
                v, s = (int(x) for x in np.argwhere(unphased)[0])
                raise FormatError(path, f"variant {v0 + v} (position {variants.position[v0 + v]}), sample "
                                        f"{samples[s]}: unphased heterozygous call, but phased=True")
            all_phased = False
        # variants x samples x 2 -> haplotype rows (sample i: rows 2i, 2i+1) x variants
        alleles = gt.transpose(1, 2, 0).reshape(2 * n_samples, v1 - v0)
        is_missing = alleles < 0
        words.append(kernels.pack_haplotypes(np.where(is_missing, 0, alleles).astype(np.uint8)))
        missing.append(kernels.pack_haplotypes(is_missing))
    words, missing = np.concatenate(words, axis=1), np.concatenate(missing, axis=1)
    has_missing = bool(missing.any())
    if phased is not False and all_phased:
        hap_ids = np.array([f"{s}_{h}" for s in samples for h in "AB"])
        return HaplotypeMatrix(words, n_variants, missing if has_missing else None, hap_ids, variants)
    haplotypes = HaplotypeMatrix(words, n_variants, missing if has_missing else None, None, variants)
    genotypes = haplotypes.to_genotypes()
    return GenotypeMatrix(genotypes.words, n_variants, samples, variants)


def _calls(matrix, v0: int, v1: int):
    """Calls (variants x samples x 2, int8) and phase flags for variants v0..v1 of a matrix."""
    block = matrix[:, v0:v1].to_numpy().astype(np.int8)
    if isinstance(matrix, HaplotypeMatrix):
        gt = block.reshape(-1, 2, v1 - v0).transpose(2, 0, 1)
        return np.ascontiguousarray(gt), True
    # Unphased dosages: 0 -> 0/0, 1 -> 0/1, 2 -> 1/1, missing -> ./.
    first = np.where(block < 0, -1, (block == 2).astype(np.int8))
    second = np.where(block < 0, -1, (block >= 1).astype(np.int8))
    return np.ascontiguousarray(np.stack([first, second], axis=2).transpose(1, 0, 2)), False


def write_zarr(path, matrix: HaplotypeMatrix | GenotypeMatrix, *, chunk_variants: int = 1_000,
               chunk_samples: int = 10_000) -> None:
    """Write a matrix as a VCF Zarr store (the bio2zarr layout, Zarr format 2), atomically.

    The store is built in a temporary directory beside ``path`` and renamed
    into place; a failed write leaves an existing store as it was. Calls are
    unpacked one block of ``chunk_variants`` variants at a time. The chunk
    sizes are bio2zarr's defaults: a chunk of calls is 20 MB unpacked, which
    is what a reader holds per chunk it touches.
    """
    import zarr

    if not isinstance(matrix, (HaplotypeMatrix, GenotypeMatrix)):
        raise TypeError(f"expected a HaplotypeMatrix or GenotypeMatrix, got {type(matrix).__name__}")
    matrix = matrix.to("cpu")
    is_phased = isinstance(matrix, HaplotypeMatrix)
    if is_phased and matrix.shape[0] % 2:
        raise ValueError(f"{path}: a phased store needs an even number of haplotypes (two per sample)")
    samples = [str(i).rsplit("_", 1)[0] for i in matrix.ids[::2]] if is_phased else [str(i) for i in matrix.ids]
    n_variants, n_samples = matrix.n_snps, len(samples)
    v = matrix.variants
    contigs, contig_index = np.unique(np.asarray(v.chrom).astype(str), return_inverse=True)
    alt = np.asarray(v.alt).astype(str)
    alleles = np.stack([np.asarray(v.ref).astype(str), np.where(alt == ".", "", alt)], axis=1)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        group = zarr.open_group(str(tmp), mode="w", zarr_format=2)
        group.attrs.update({"vcf_zarr_version": "0.5", "source": "genofast"})
        cv, cs = max(1, min(chunk_variants, n_variants)), max(1, min(chunk_samples, n_samples))

        def array(name, data, dims, chunks=None):
            data = np.asarray(data)
            a = group.create_array(name, shape=data.shape, dtype=str if data.dtype.kind == "U" else data.dtype,
                                   chunks=chunks or data.shape or (1,))
            a[...] = data
            a.attrs["_ARRAY_DIMENSIONS"] = list(dims)  # xarray/sgkit read dimension names from here
            return a

        array("sample_id", np.array(samples, dtype=str), ["samples"])
        array("contig_id", contigs, ["contigs"])
        array("variant_contig", contig_index.astype(np.int32), ["variants"])
        array("variant_position", np.asarray(v.position, dtype=np.int32), ["variants"])
        array("variant_id", np.asarray(v.id).astype(str), ["variants"])
        array("variant_allele", alleles, ["variants", "alleles"])
        dims3 = ["variants", "samples", "ploidy"]
        gt = group.create_array("call_genotype", shape=(n_variants, n_samples, 2), dtype=np.int8,
                                chunks=(cv, cs, 2), fill_value=-1)
        mask = group.create_array("call_genotype_mask", shape=(n_variants, n_samples, 2), dtype=bool,
                                  chunks=(cv, cs, 2), fill_value=False)
        phase = group.create_array("call_genotype_phased", shape=(n_variants, n_samples), dtype=bool,
                                   chunks=(cv, cs), fill_value=False)
        for a, dims in ((gt, dims3), (mask, dims3), (phase, dims3[:2])):
            a.attrs["_ARRAY_DIMENSIONS"] = dims
        # Blocks aligned to the store's chunks, so each chunk is written once.
        for v0 in range(0, n_variants, cv):
            v1 = min(v0 + cv, n_variants)
            calls, block_phased = _calls(matrix, v0, v1)
            gt[v0:v1] = calls
            mask[v0:v1] = calls < 0
            phase[v0:v1] = np.full((v1 - v0, n_samples), block_phased)
        _replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace(tmp: Path, path: Path) -> None:
    """Move the finished store into place; an old store is set aside first and removed only after."""
    if not path.exists():
        os.rename(tmp, path)
        return
    if not path.is_dir():
        raise FileExistsError(f"{path}: exists and is not a Zarr directory store; not replacing it")
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    os.rename(path, old / "store")
    try:
        os.rename(tmp, path)
    except OSError:
        os.rename(old / "store", path)  # put the old store back
        raise
    shutil.rmtree(old, ignore_errors=True)


class ZarrCohort:
    """The haplotypes of a phased VCF Zarr store, read a block of rows at a time and never whole.

    For computations over cohorts larger than memory (:mod:`genofast.distributed`
    reads one block per task on the workers). Rows are haplotypes as
    :func:`read_zarr` orders them (sample i: rows 2i, 2i+1). ``fill``: per
    variant, the allele that replaces a missing call (the privacy metrics'
    rule is the set's major allele; see :meth:`with_fill`); without it a
    missing call is an error. ``index`` restricts the cohort to those rows.
    ``chunk_variants``: variants read at once (default: the store's chunk).
    Cheap to pickle: it holds the path and small per-variant arrays.
    """

    def __init__(self, path, *, chunk_variants: int | None = None, fill=None, index=None):
        self.path = Path(path)
        calls = self._group()["call_genotype"]
        if calls.ndim != 3 or calls.shape[2] != 2:
            raise FormatError(self.path, f"call_genotype has shape {calls.shape}; genofast reads diploid calls")
        self.n_snps, self.n_samples = int(calls.shape[0]), int(calls.shape[1])
        if self.n_snps == 0:
            raise FormatError(self.path, "no variants in store")
        # by default the store's own chunks of variants: a block then decompresses few chunks at a time
        self.chunk_variants = int(chunk_variants or calls.chunks[0])
        self.fill = None if fill is None else np.asarray(fill, dtype=np.int8)
        self.index = None if index is None else np.asarray(index, dtype=np.int64)

    # What a task pickles: the path, sizes and per-variant fill; the open group and metadata are re-read there.
    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __dask_tokenize__(self):
        return (str(self.path), self.n_snps, self.n_samples, self.chunk_variants,
                None if self.fill is None else self.fill.tobytes(),
                None if self.index is None else self.index.tobytes())

    def _group(self):
        if getattr(self, "_open_group", None) is None:
            self._open_group = _open(self.path)
        return self._open_group

    @property
    def variants(self) -> Variants:
        if getattr(self, "_variants", None) is None:
            self._variants = _variants(self.path, self._group())
        return self._variants

    @property
    def samples(self) -> np.ndarray:
        if getattr(self, "_samples", None) is None:
            self._samples = _strings(self._group()["sample_id"])
        return self._samples

    @property
    def n_haplotypes(self) -> int:
        return 2 * self.n_samples if self.index is None else int(self.index.size)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, packed words per row), as for packed words."""
        return self.n_haplotypes, kernels.haplotype_words(self.n_snps)

    # The row-block interface of the statistics (genofast.metrics reads len(m) and m[r0:r1].to_numpy() chunk
    # by chunk), so allele frequencies, LD, k-mers, 3-point correlations and the PCA stream from the store.
    has_missing = True  # unknown without reading everything: the statistics then take their general path

    def __len__(self) -> int:
        return self.n_haplotypes

    def __getitem__(self, rows) -> HaplotypeMatrix:
        """Rows ``r0:r1`` (a slice with step 1) or the listed rows, as a HaplotypeMatrix, missing calls kept."""
        if not isinstance(rows, slice):
            index = np.asarray(rows)
            if index.ndim != 1 or index.dtype.kind not in "iu":
                raise TypeError("a ZarrCohort is read by contiguous row slices (cohort[r0:r1]) or a list of rows")
            return self.take(index)[0:index.size]
        if rows.step not in (None, 1):
            raise TypeError("a ZarrCohort is read by contiguous row slices (cohort[r0:r1]) or a list of rows")
        r0, r1, _ = rows.indices(self.n_haplotypes)
        r1 = max(r0, r1)
        if r1 == r0:
            return HaplotypeMatrix.from_numpy(np.zeros((0, self.n_snps), np.int8))
        parts = [self._calls(r0, r1, v0, v1) for v0, v1 in _blocks(self.n_snps, self.chunk_variants)]
        return HaplotypeMatrix.from_numpy(np.concatenate(parts, axis=1), variants=self.variants)

    def take(self, rows) -> "ZarrCohort":
        """The cohort restricted to ``rows`` (indices into this cohort's rows)."""
        rows = np.asarray(rows, dtype=np.int64)
        base = np.arange(self.n_haplotypes) if self.index is None else self.index
        return ZarrCohort(self.path, chunk_variants=self.chunk_variants, fill=self.fill, index=base[rows])

    def with_fill(self, fill) -> "ZarrCohort":
        """The same rows, with ``fill`` (per variant) replacing missing calls."""
        return ZarrCohort(self.path, chunk_variants=self.chunk_variants, fill=fill, index=self.index)

    def _calls(self, r0: int, r1: int, v0: int, v1: int):
        """Alleles of rows r0..r1 at variants v0..v1 (rows x variants, int8, -1 missing), checked."""
        group = self._group()
        calls, phase = group["call_genotype"], group.get("call_genotype_phased")
        if self.index is None:
            samples = np.arange(r0 // 2, (r1 + 1) // 2)
            rows = np.arange(r0, r1) - 2 * samples[0]
            gt = np.asarray(calls[v0:v1, samples[0]:samples[-1] + 1])
            flags = None if phase is None else np.asarray(phase[v0:v1, samples[0]:samples[-1] + 1], dtype=bool)
        else:  # a subset: read only its samples (orthogonal selection), not the span between them
            wanted = self.index[r0:r1]
            samples = np.unique(wanted // 2)
            rows = 2 * np.searchsorted(samples, wanted // 2) + wanted % 2
            gt = np.asarray(calls.oindex[v0:v1, samples])
            flags = None if phase is None else np.asarray(phase.oindex[v0:v1, samples], dtype=bool)
        bad = (gt < -1) | (gt > 1)
        heterozygous = (gt[:, :, 0] != gt[:, :, 1]) & (gt >= 0).all(axis=2)
        unphased = heterozygous if flags is None else heterozygous & ~flags
        for problem, what in ((bad.any(axis=2), "a call that is not a biallelic diploid allele"),
                              (unphased, "an unphased heterozygous call; nearest-neighbour metrics compare "
                                         "haplotypes")):
            if problem.any():
                v, s = (int(x) for x in np.argwhere(problem)[0])
                raise FormatError(self.path, f"variant {v0 + v} (position {self.variants.position[v0 + v]}), "
                                             f"sample {self.samples[samples[s]]}: {what}")
        return gt.transpose(1, 2, 0).reshape(2 * samples.size, v1 - v0)[rows]

    def raw_block(self, r0: int, r1: int):
        """One read of rows r0..r1: (packed alleles with 0 where missing, packed missing mask or None when all
        are called, per-variant (ALT alleles, called alleles) counts 2 x variants)."""
        words, missing, counts = [], [], np.zeros((2, self.n_snps), np.int64)
        for v0, v1 in _blocks(self.n_snps, self.chunk_variants):
            a = self._calls(r0, r1, v0, v1)
            absent = a < 0
            counts[0, v0:v1] = (a == 1).sum(axis=0)
            counts[1, v0:v1] = (~absent).sum(axis=0)
            words.append(kernels.pack_haplotypes(np.where(absent, 0, a).astype(np.uint8)))
            missing.append(kernels.pack_haplotypes(absent))
        missing = np.concatenate(missing, axis=1)
        return np.concatenate(words, axis=1), (missing if missing.any() else None), counts

    def filled(self, raw) -> np.ndarray:
        """Packed words of a :meth:`raw_block` with missing alleles replaced by ``fill``."""
        words, missing, _ = raw
        if missing is None:
            return words
        if self.fill is None:
            r, w = (int(x) for x in np.argwhere(missing)[0])
            raise FormatError(self.path, f"haplotype row {r} of a block, variants {64 * w}..{64 * w + 63}: "
                                         "missing call and no fill allele given")
        fill = kernels.pack_haplotypes(self.fill[None, :].astype(np.uint8))
        return (words & ~missing) | (missing & fill)
