"""Linkage disequilibrium of real and synthetic sets: r² (pairwise complete), decay by distance, fidelity.

Split from :mod:`.quality`, which re-exports every public name here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import kernels
from ._dense import _check_same_snps, _chunks, _matrix, _pearson

_COUNT_BLOCK = 1 << 20  # pairs per kernel call: bounds the counts array (9 int64 a pair)
_PLANE_ROWS = 1 << 16  # rows per bit transpose (a multiple of 64): bounds what a VCF Zarr cohort reads at once


def _r2(n, sx, sy, sxx, syy, sxy) -> np.ndarray:
    """Squared Pearson r from sums over the rows called at both SNPs; 0 where either SNP does not vary there."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy / n - (sx / n) * (sy / n)
        vx = sxx / n - (sx / n) ** 2
        vy = syy / n - (sy / n) ** 2
        r2 = cov * cov / (vx * vy)
    # Variances below this are rounding noise of sums of small integers.
    ok = (n >= 2) & (vx > 1e-12) & (vy > 1e-12)
    return np.clip(np.where(ok, r2, 0.0), 0.0, 1.0)


def ld_matrix(data, snps=None) -> np.ndarray:
    """Pairwise r² between SNPs over the rows called at both (pairwise complete).

    Haplotypes give the phased r² (correlation of alleles); unphased genotypes
    the correlation of dosages, which is what PLINK's ``--r2`` reports. A SNP
    that does not vary among the rows called at both SNPs gives r² = 0.
    """
    from ..models._base import check_memory

    m = _matrix(data)
    columns = np.arange(m.n_snps)[snps] if snps is not None else None
    p = m.n_snps if columns is None else len(columns)
    # six float64 p x p arrays (counts, sums, products, r²); past 8 GiB refused even when it would fit,
    # since no report or statistic needs that many pairs at once
    need, advice = 6 * 8 * p * p, "pass snps= with fewer SNPs or use ld_decay, which samples pairs"
    if need > 8 << 30:
        raise MemoryError(f"an LD matrix of {p} SNPs needs {need / 2**30:.0f} GiB; {advice}")
    check_memory(need, f"an LD matrix of {p} SNPs", advice)
    n, sx, sxx, sxy = _moments(m, columns)
    return _r2(n, sx, sx.T, sxx, sxx.T, sxy)


def _moments(m, columns):
    """Sums over rows called at both SNPs, for all column pairs, by matrix products.

    ``sx[i, j]`` is the sum of x_i over rows where j is called (x is 0 where i
    is missing, so only rows called at both count). Chunks are multiplied in
    float32, exact for at most 2048 rows of values <= 2, and added in float64.
    """
    p = m.n_snps if columns is None else len(columns)
    n, sx, sxx, sxy = (np.zeros((p, p)) for _ in range(4))
    complete = not m.has_missing
    for values, called in _chunks(m, columns):
        x = values.astype(np.float32)
        xy = x.T @ x
        sxy += xy
        if complete:
            rows = len(x)
            n += rows
            sx += x.sum(0)[:, None]
            sxx += (x * x).sum(0)[:, None]
        else:
            c = called.astype(np.float32)
            n += c.T @ c
            sx += x.T @ c
            sxx += (x * x).T @ c
    return n, sx, sxx, sxy


@dataclass(frozen=True)
class LDDecay:
    bin_edges: np.ndarray  # distance bins in base pairs, each holding at least ``min_pairs`` pairs (see ld_decay)
    real: np.ndarray  # mean r² per bin
    synthetic: np.ndarray
    r: float  # Pearson r of the two curves over bins with data


def ld_decay(real, synthetic, positions=None, chrom=None, n_bins: int = 50, max_pairs: int = 500_000,
             seed: int = 0, pairs=None, min_pairs: int = 200) -> LDDecay:
    """Mean r² by distance between SNPs, on the same pairs for both sets.

    Pairs lie within chromosomes: all of them when there are at most
    ``max_pairs``, else about ``max_pairs`` drawn evenly on the log scale of
    the SNP distance (as Yelmen et al. 2023 did for 65,535 SNPs; drawn
    uniformly, nearly all would be far apart and the decay, which happens
    over the first few SNPs, would rest on a handful of pairs). ``pairs``
    (k x 2 column indices, e.g. those straddling a window boundary) replaces
    them. Pairs are binned by base-pair distance into ``n_bins`` log-spaced
    bins, and neighbouring bins are merged from the short end until each
    holds at least ``min_pairs`` pairs: the short bins hold the highest r²,
    so one or two pairs there would decide the curves' correlation ``r``
    (on a 1,000-SNP cohort r of one synthetic set ranged 0.87-0.996 over the
    pair sample's seed with single-pair bins). r² is pairwise complete, as in
    :func:`ld_matrix`.
    """
    real, synthetic = _matrix(real), _matrix(synthetic)
    _check_same_snps(real, synthetic)
    pos = np.asarray(positions if positions is not None else real.variants.position, dtype=np.int64)
    chrom = np.asarray(chrom if chrom is not None else real.variants.chrom)
    from ..models._base import check_int

    min_pairs = check_int(min_pairs, "min_pairs")
    if pairs is not None:
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if len(pairs) == 0 or pairs.min() < 0 or pairs.max() >= real.n_snps:
            raise ValueError(f"pairs must be a non-empty k x 2 array of SNP indices below {real.n_snps}")
        return _decay_curves(real, synthetic, pairs, pos, n_bins, min_pairs)
    rng = np.random.default_rng(seed)
    groups = [idx for c in np.unique(chrom) if (idx := np.flatnonzero(chrom == c)).size >= 2]
    if not groups:
        raise ValueError("LD decay needs at least two SNPs on one chromosome")
    n_all = sum(g.size * (g.size - 1) // 2 for g in groups)
    pairs = []
    for idx in groups:
        if n_all <= max_pairs:
            i, j = np.triu_indices(idx.size, 1)
        else:  # this chromosome's share of the pairs
            i, j = _log_distance_pairs(idx.size, max_pairs * (idx.size * (idx.size - 1) // 2) / n_all, rng)
        pairs.append(np.stack([idx[i], idx[j]], axis=1))
    return _decay_curves(real, synthetic, np.concatenate(pairs), pos, n_bins, min_pairs)


def _log_distance_pairs(m: int, budget: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """About ``budget`` pairs (i, i + d) of ``m`` SNPs with d spread evenly on a log scale: distance d gets
    min(m - d, s / d) pairs, s set so that they add up to the budget; a distance given at least half its pairs
    gets all of them, the others draw their start SNPs at random (duplicates dropped)."""
    d = np.arange(1, m, dtype=np.int64)
    avail = (m - d).astype(float)
    lo, hi = 0.0, float(budget) * m
    for _ in range(100):  # bisection on s
        s = (lo + hi) / 2
        lo, hi = (s, hi) if np.minimum(avail, s / d).sum() < budget else (lo, s)
    quota = np.minimum(avail, np.round(hi / d)).astype(np.int64)
    full = quota * 2 >= avail  # a few of the shortest distances: every pair at each
    starts = [np.arange(m - x) for x in d[full]]
    dd = np.repeat(d[full], m - d[full])
    ds = np.repeat(d[~full], quota[~full])
    si = (rng.random(ds.size) * (m - ds)).astype(np.int64)
    pairs = np.unique(np.stack([np.concatenate([*starts, si]), np.concatenate([dd, ds])], 1), axis=0)
    return pairs[:, 0], pairs[:, 0] + pairs[:, 1]


def _decay_curves(real, synthetic, pairs: np.ndarray, pos: np.ndarray, n_bins: int, min_pairs: int) -> LDDecay:
    dist = np.abs(pos[pairs[:, 1]] - pos[pairs[:, 0]])
    # Log-spaced bins: LD decays over the first tens of kb, so equal-width bins
    # would put the whole decay into the first bin and noise into the rest.
    d_min = max(1, int(dist[dist > 0].min())) if (dist > 0).any() else 1
    edges = np.concatenate([[0], np.geomspace(d_min, dist.max() + 1, n_bins)])
    fine = np.clip(np.digitize(dist, edges) - 1, 0, n_bins - 1)
    per_bin = np.bincount(fine, minlength=n_bins)
    starts, held = [0], 0  # merged bins: each starts where the one before reached min_pairs
    for k in range(n_bins - 1):
        held += per_bin[k]
        if held >= min_pairs:
            starts.append(k + 1)
            held = 0
    if len(starts) > 1 and per_bin[starts[-1]:].sum() < min_pairs:
        starts.pop()  # too few pairs beyond the last start: they join the bin before
    which = np.searchsorted(starts, fine, side="right") - 1  # each pair's merged bin
    count = np.bincount(which, minlength=len(starts))
    curves = []
    for h in (real, synthetic):
        total = np.bincount(which, weights=pair_r2(h, pairs), minlength=len(starts))
        with np.errstate(invalid="ignore"):
            curves.append(total / count)
    edges = np.concatenate([edges[starts], edges[-1:]])
    return LDDecay(edges, curves[0], curves[1], _pearson(curves[0], curves[1]))


def pair_r2(data, pairs: np.ndarray) -> np.ndarray:
    """r² of the given SNP pairs (``pairs``: k x 2 column indices), pairwise complete as in :func:`ld_matrix`.

    From popcounts of SNP-major bit planes (:func:`genofast.kernels.pair_counts`): a haplotype's allele is one bit,
    a dosage two (dosage >= 1, dosage 2: x = lo + hi, x² = lo + 3 hi), and where calls are missing a called plane
    restricts every sum to the rows called at both SNPs. Exact integer sums, as the dense sums were.
    """
    from ..matrix import GenotypeMatrix

    m = _matrix(data)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return np.zeros(0)
    lo, hi = int(pairs.min()), int(pairs.max()) + 1  # the SNP range the pairs span, sliced packed
    if lo < 0 or hi > m.n_snps:
        raise ValueError(f"pairs must hold SNP indices from 0 to {m.n_snps - 1}")
    index = pairs - lo
    geno = isinstance(m, GenotypeMatrix)
    planes, complete = _snp_planes(m, lo, hi, geno)
    out = np.empty(len(pairs))
    if complete:
        ones = np.bitwise_count(planes).sum(-1, dtype=np.int64).astype(np.float64)  # per plane and column
        sx, sxx = (ones[0] + ones[1], ones[0] + 3 * ones[1]) if geno else (ones[0], ones[0])
    for b0 in range(0, len(pairs), _COUNT_BLOCK):
        blk = index[b0 : b0 + _COUNT_BLOCK]
        c = kernels.pair_counts(planes, blk).astype(np.float64)
        if complete:
            i, j = blk.T
            sxy = c[:, :2, :2].sum((1, 2)) if geno else c[:, 0, 0]
            out[b0 : b0 + len(blk)] = _r2(float(len(m)), sx[i], sx[j], sxx[i], sxx[j], sxy)
        elif geno:  # planes lo, hi, called
            out[b0 : b0 + len(blk)] = _r2(c[:, 2, 2], c[:, 0, 2] + c[:, 1, 2], c[:, 2, 0] + c[:, 2, 1],
                                          c[:, 0, 2] + 3 * c[:, 1, 2], c[:, 2, 0] + 3 * c[:, 2, 1],
                                          c[:, :2, :2].sum((1, 2)))
        else:  # planes allele, called
            out[b0 : b0 + len(blk)] = _r2(c[:, 1, 1], c[:, 0, 1], c[:, 1, 0], c[:, 0, 1], c[:, 1, 0], c[:, 0, 0])
    return out


def _snp_planes(m, lo: int, hi: int, geno: bool) -> tuple[np.ndarray, bool]:
    """Bit planes of SNPs ``lo:hi`` over all rows (:func:`genofast.kernels.snp_planes`), built a block of rows at
    a time (a VCF Zarr cohort is never read whole); the called plane is dropped when every call is called (second
    value True)."""
    from ..models._base import check_memory

    n_words = -(-len(m) // 64)
    shape = (3 if geno else 2, hi - lo, n_words)
    check_memory(8 * np.prod(shape, dtype=np.float64), f"r² over {hi - lo} SNPs of {len(m)} rows (bit planes)",
                 "pass pairs over fewer SNPs or fewer rows")
    planes = np.zeros(shape, dtype=np.uint64)
    complete = True
    for r0 in range(0, len(m), _PLANE_ROWS):
        part = m[r0 : r0 + _PLANE_ROWS].to("cpu")
        part = part if (lo, hi) == (0, m.n_snps) else part[:, lo:hi]
        complete = complete and not part.has_missing
        block = kernels.snp_planes(part.words, hi - lo, genotypes=geno, missing=getattr(part, "missing", None))
        planes[:, :, r0 // 64 : r0 // 64 + block.shape[2]] = block
    return (planes[:-1] if complete else planes), complete


@dataclass(frozen=True)
class LDFidelity:
    """How well the synthetic set reproduces the level of LD, not only the shape of its decay."""

    decay_mean_abs_diff: float  # mean over distance bins of |mean r² real − mean r² synthetic| (floor-corrected)
    real_level: float  # mean over the same bins of the real mean r² above its floor (the scale of the difference)
    window_r: float  # Pearson r of pairwise r², real vs synthetic, over SNP pairs within windows
    window_mean_abs_diff: float  # mean |r² real − r² synthetic| over the same pairs
    n_pairs: int  # pairs behind the window statistics

    @property
    def level_score(self) -> float:
        """1 − (mean |Δ r²| per bin) / (mean real r² per bin), clipped to [0, 1]: 1 means the same LD level."""
        if not self.real_level > 0:
            return float("nan")
        return float(np.clip(1 - self.decay_mean_abs_diff / self.real_level, 0, 1))


def ld_fidelity(real, synthetic, decay: LDDecay | None = None, window: int = 50, max_pairs: int = 200_000,
                seed: int = 0) -> LDFidelity:
    """LD magnitude: differences of r² per distance bin and the correlation of r² matrices within windows.

    ``ld_decay``'s r correlates two curves, so a set whose LD is uniformly too
    weak still scores near 1; these numbers compare the r² values themselves.
    Windows are non-overlapping runs of ``window`` consecutive SNPs of one
    chromosome and every pair inside counts, as when the upper and lower
    triangles of LD heatmaps are compared (Yelmen et al. 2023); above
    ``max_pairs`` pairs, whole windows are sampled (seeded). ``decay`` reuses
    an :func:`ld_decay` result instead of computing one.

    The differences compare r² minus its expectation for unlinked SNPs,
    1 / (n − 1) in a set of n haplotypes: without that, two sets of different
    sizes differ in LD level from sampling alone (a 200-haplotype set sits
    0.004 above an 800-haplotype one), which swamps weak LD.
    """
    real, synthetic = _matrix(real), _matrix(synthetic)
    _check_same_snps(real, synthetic)
    if window < 2:
        raise ValueError(f"window must hold at least 2 SNPs, got {window}")
    decay = decay if decay is not None else ld_decay(real, synthetic, seed=seed)
    floor_real, floor_syn = 1 / max(1, len(real) - 1), 1 / max(1, len(synthetic) - 1)
    both = ~(np.isnan(decay.real) | np.isnan(decay.synthetic))
    curve_real, curve_syn = decay.real[both] - floor_real, decay.synthetic[both] - floor_syn
    mad = float(np.mean(np.abs(curve_real - curve_syn))) if both.any() else float("nan")
    level = float(np.mean(curve_real)) if both.any() else float("nan")
    chrom = np.asarray(real.variants.chrom).astype(str)
    starts = [idx[s : s + window] for c in dict.fromkeys(chrom) for idx in [np.flatnonzero(chrom == c)]
              for s in range(0, idx.size - 1, window)]
    starts = [w for w in starts if w.size >= 2]
    per_window = np.array([w.size * (w.size - 1) // 2 for w in starts])
    if per_window.sum() > max_pairs:
        keep = np.random.default_rng(seed).permutation(len(starts))
        keep = np.sort(keep[: max(1, int(np.searchsorted(np.cumsum(per_window[keep]), max_pairs)))])
        starts = [starts[k] for k in keep]
    if not starts:
        raise ValueError("LD fidelity needs at least two SNPs on one chromosome")
    pairs = np.concatenate([np.stack([w[i], w[j]], axis=1) for w in starts for i, j in [np.triu_indices(w.size, 1)]])
    r2_real, r2_syn = pair_r2(real, pairs), pair_r2(synthetic, pairs)
    window_mad = float(np.mean(np.abs((r2_real - floor_real) - (r2_syn - floor_syn))))
    return LDFidelity(mad, level, _pearson(r2_real, r2_syn), window_mad, len(pairs))
