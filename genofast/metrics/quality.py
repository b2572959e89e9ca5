"""How real are artificial genomes: the statistics every study compares, real vs synthetic.

Inputs are :class:`~genofast.HaplotypeMatrix` (or 0/1 arrays) over the same
SNPs. Large cohorts are unpacked in row chunks where a statistic needs
dense alleles; distance distributions come from the packed Hamming kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import kernels
from ..matrix import GenotypeMatrix, HaplotypeMatrix

_CHUNK_ROWS = 2048
_PAIR_BLOCK = 16384
_GEMM_MAX_SNPS = 4096  # pair_r2 takes all pairs by matrix products up to this many SNPs


def _matrix(x) -> HaplotypeMatrix | GenotypeMatrix:
    """A packed matrix on the CPU; a plain array is read as haplotypes (-1 = missing)."""
    if isinstance(x, (HaplotypeMatrix, GenotypeMatrix)):
        return x.to("cpu")
    return HaplotypeMatrix.from_numpy(np.asarray(x))


def _haplotypes(x, what: str) -> HaplotypeMatrix:
    m = _matrix(x)
    if not isinstance(m, HaplotypeMatrix):
        raise ValueError(f"{what} needs phased haplotypes, got unphased genotypes ({m.n_samples} samples); "
                         "phase them first")
    return m


def _ploidy(m) -> int:
    return 1 if isinstance(m, HaplotypeMatrix) else 2


def _chunks(h, columns=None):
    """(values, called) row chunks: values are alleles or dosages with 0 where missing, called is boolean.

    Chunks keep memory bounded on large cohorts; missing calls are never a value.
    """
    for r0 in range(0, len(h), _CHUNK_ROWS):
        a = h[r0 : r0 + _CHUNK_ROWS].to_numpy()
        if columns is not None:
            a = a[:, columns]
        called = a >= 0
        yield np.where(called, a, 0).astype(np.int8), called


def _check_same_snps(real, synthetic) -> None:
    if real.n_snps != synthetic.n_snps:
        raise ValueError(f"real has {real.n_snps} SNPs but synthetic has {synthetic.n_snps}")
    for name, h in (("real", real), ("synthetic", synthetic)):
        if len(h) == 0:
            raise ValueError(f"the {name} set is empty")


def missing_fraction(data) -> np.ndarray:
    """Fraction of missing calls at each SNP (haplotypes: alleles; genotypes: diploid calls)."""
    m = _matrix(data)
    if len(m) == 0:
        raise ValueError("the missing rate of an empty set is undefined")
    missing = np.zeros(m.n_snps)
    if m.has_missing:
        for _, called in _chunks(m):
            missing += (~called).sum(axis=0)
    return missing / len(m)


def allele_frequencies(data) -> np.ndarray:
    """Frequency of allele 1 at each SNP, over called alleles only (NaN where nothing is called).

    Haplotypes count alleles; unphased genotypes count dosage / 2 over called
    samples, as ``bcftools +fill-tags`` (AF) and PLINK ``--freq`` do.
    """
    m = _matrix(data)
    if len(m) == 0:
        raise ValueError("allele frequencies of an empty set are undefined")
    total = np.zeros(m.n_snps)
    called_alleles = np.zeros(m.n_snps)
    for values, called in _chunks(m):
        total += values.sum(axis=0, dtype=np.int64)
        called_alleles += called.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / (_ploidy(m) * called_alleles)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r over the entries where both are defined (NaN where fewer than 2 or no spread)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if x.size < 2 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


@dataclass(frozen=True)
class AlleleFrequencyComparison:
    real: np.ndarray
    synthetic: np.ndarray
    r: float  # Pearson r over all SNPs
    r_low: float  # over SNPs whose real allele-1 frequency is <= low_threshold
    low_threshold: float
    fixed_real: int  # monomorphic SNPs in the real set
    fixed_synthetic: int


def compare_allele_frequencies(real, synthetic, low_threshold: float = 0.2) -> AlleleFrequencyComparison:
    """Allele-1 frequencies of both sets and their Pearson r (SNPs not called in a set are left out of r)."""
    fr, fs = allele_frequencies(real), allele_frequencies(synthetic)
    low = fr <= low_threshold
    fixed = lambda f: int(((f == 0) | (f == 1)).sum())  # noqa: E731
    return AlleleFrequencyComparison(fr, fs, _pearson(fr, fs), _pearson(fr[low], fs[low]), low_threshold, fixed(fr),
                                     fixed(fs))


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
    bin_edges: np.ndarray  # distance bins in base pairs
    real: np.ndarray  # mean r² per bin
    synthetic: np.ndarray
    r: float  # Pearson r of the two curves over bins with data


def ld_decay(real, synthetic, positions=None, chrom=None, n_bins: int = 50, max_pairs: int = 200_000,
             seed: int = 0, pairs=None) -> LDDecay:
    """Mean r² by distance between SNPs, on the same sampled pairs for both sets.

    Pairs are drawn within chromosomes (all of them when there are at most
    ``max_pairs``), or given as ``pairs`` (k x 2 column indices, e.g. the
    pairs that straddle a window boundary), binned by base-pair distance
    into ``n_bins`` log-spaced bins. r² is pairwise complete, as in
    :func:`ld_matrix`.
    """
    real, synthetic = _matrix(real), _matrix(synthetic)
    _check_same_snps(real, synthetic)
    pos = np.asarray(positions if positions is not None else real.variants.position, dtype=np.int64)
    chrom = np.asarray(chrom if chrom is not None else real.variants.chrom)
    if pairs is not None:
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if len(pairs) == 0 or pairs.min() < 0 or pairs.max() >= real.n_snps:
            raise ValueError(f"pairs must be a non-empty k x 2 array of SNP indices below {real.n_snps}")
        return _decay_curves(real, synthetic, pairs, pos, n_bins)
    rng = np.random.default_rng(seed)
    pairs = []
    for c in np.unique(chrom):
        idx = np.flatnonzero(chrom == c)
        if idx.size < 2:
            continue
        n_all = idx.size * (idx.size - 1) // 2
        if n_all <= max_pairs:
            i, j = np.triu_indices(idx.size, 1)
        else:
            i = rng.integers(0, idx.size, max_pairs)
            j = rng.integers(0, idx.size, max_pairs)
            keep = i != j
            i, j = np.minimum(i, j)[keep], np.maximum(i, j)[keep]
        pairs.append(np.stack([idx[i], idx[j]], axis=1))
    if not pairs:
        raise ValueError("LD decay needs at least two SNPs on one chromosome")
    return _decay_curves(real, synthetic, np.concatenate(pairs), pos, n_bins)


def _decay_curves(real, synthetic, pairs: np.ndarray, pos: np.ndarray, n_bins: int) -> LDDecay:
    dist = np.abs(pos[pairs[:, 1]] - pos[pairs[:, 0]])
    # Log-spaced bins: LD decays over the first tens of kb, so equal-width bins
    # would put the whole decay into the first bin and noise into the rest.
    d_min = max(1, int(dist[dist > 0].min())) if (dist > 0).any() else 1
    edges = np.concatenate([[0], np.geomspace(d_min, dist.max() + 1, n_bins)])
    which = np.clip(np.digitize(dist, edges) - 1, 0, n_bins - 1)
    curves = []
    for h in (real, synthetic):
        r2 = pair_r2(h, pairs)
        total = np.bincount(which, weights=r2, minlength=n_bins)
        count = np.bincount(which, minlength=n_bins)
        with np.errstate(invalid="ignore"):
            curves.append(total / count)
    return LDDecay(edges, curves[0], curves[1], _pearson(curves[0], curves[1]))


def pair_r2(data, pairs: np.ndarray) -> np.ndarray:
    """r² of the given SNP pairs (``pairs``: k x 2 column indices), pairwise complete as in :func:`ld_matrix`."""
    m = _matrix(data)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    columns, inverse = np.unique(pairs, return_inverse=True)
    if len(columns) <= _GEMM_MAX_SNPS:  # all pairs of these SNPs by matrix products beat gathering each pair
        i, j = inverse.reshape(-1, 2).T
        n, sx, sxx, sxy = _moments(m, columns)
        return _r2(n[i, j], sx[i, j], sx[j, i], sxx[i, j], sxx[j, i], sxy[i, j])
    sums = np.zeros((6, len(pairs)))  # n, sx, sy, sxx, syy, sxy
    complete = not m.has_missing
    for values, called in _chunks(m):
        for b0 in range(0, len(pairs), _PAIR_BLOCK):
            blk = pairs[b0 : b0 + _PAIR_BLOCK]
            # float32 sums of a chunk are exact: at most 2048 rows of values <= 4.
            x = values[:, blk[:, 0]].astype(np.float32)
            y = values[:, blk[:, 1]].astype(np.float32)
            if complete:
                n = np.full(len(blk), float(len(x)))
            else:
                both = (called[:, blk[:, 0]] & called[:, blk[:, 1]]).astype(np.float32)
                n = both.sum(0)
                x *= both
                y *= both
            s = sums[:, b0 : b0 + len(blk)]
            s[0] += n
            s[1] += x.sum(0)
            s[2] += y.sum(0)
            s[3] += (x * x).sum(0)
            s[4] += (y * y).sum(0)
            s[5] += (x * y).sum(0)
    return _r2(*sums)


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


@dataclass(frozen=True)
class PCAProjection:
    real: np.ndarray  # n_real x n_components
    synthetic: np.ndarray
    explained_variance_ratio: np.ndarray


def _mean_imputed(m, means: np.ndarray, columns=None) -> np.ndarray:
    """Dense float32 values with each missing call replaced by the SNP's mean (of the real set)."""
    parts = []
    for values, called in _chunks(m, columns):
        x = values.astype(np.float32)
        if not called.all():
            x = np.where(called, x, means.astype(np.float32))
        parts.append(x)
    return np.concatenate(parts) if parts else np.zeros((0, len(means)), np.float32)


def _real_means(real, columns=None) -> np.ndarray:
    """Per-SNP mean value (allele frequency x ploidy) of the real set; 0 where nothing is called."""
    f = allele_frequencies(real)
    f = f if columns is None else f[columns]
    return np.nan_to_num(f * _ploidy(real))


def pca(real, synthetic, n_components: int = 6, max_snps: int = 20_000, seed: int = 0) -> PCAProjection:
    """PCA fitted on the real set; the synthetic set is projected onto the real axes.

    Missing calls (in either set) are replaced by the real set's SNP mean,
    which puts them at the centre of that axis: they pull a sample towards the
    origin instead of towards allele 0.
    """
    from sklearn.decomposition import PCA

    from ..models._base import check_memory

    real, synthetic = _matrix(real), _matrix(synthetic)
    _check_same_snps(real, synthetic)
    cols = None
    if real.n_snps > max_snps:
        cols = np.sort(np.random.default_rng(seed).choice(real.n_snps, max_snps, replace=False))
    p = real.n_snps if cols is None else len(cols)
    # float32 copies of both sets, then sklearn's centred float64 copy of the real one and the SVD's work arrays
    check_memory(4 * (real.shape[0] + synthetic.shape[0]) * p + 24 * real.shape[0] * p,
                 f"a PCA of {real.shape[0]} real and {synthetic.shape[0]} synthetic rows x {p} SNPs",
                 "lower max_snps (the PCA then uses a random subset of SNPs) or sample fewer haplotypes")
    means = _real_means(real, cols)
    xr, xs = _mean_imputed(real, means, cols), _mean_imputed(synthetic, means, cols)
    k = int(min(n_components, xr.shape[0], xr.shape[1]))
    model = PCA(n_components=k, random_state=seed, svd_solver="randomized" if min(xr.shape) > 500 else "full")
    return PCAProjection(model.fit_transform(xr), model.transform(xs), model.explained_variance_ratio_)


def major_alleles(haplotypes) -> np.ndarray:
    """Per SNP, the more frequent allele among called alleles (0 on a tie or where nothing is called)."""
    return (np.nan_to_num(allele_frequencies(haplotypes)) > 0.5).astype(np.uint8)


def complete(haplotypes) -> HaplotypeMatrix:
    """Haplotypes with every missing allele set to the SNP's major allele in the same set.

    The rule for statistics that need whole rows (Hamming distances, nearest
    neighbours, AATS): a missing allele agrees with most of the cohort, so it
    adds no distance to typical haplotypes. Report the missing rate beside
    such numbers.
    """
    h = _haplotypes(haplotypes, "filling missing alleles")
    return h.fill_missing(major_alleles(h)) if h.has_missing else h


@dataclass(frozen=True)
class DistanceDistributions:
    within_real: np.ndarray  # counts by Hamming distance, unordered pairs
    within_synthetic: np.ndarray
    between: np.ndarray


def distance_distributions(real, synthetic) -> DistanceDistributions:
    """All pairwise Hamming distances, as histograms (never a distance matrix).

    Missing alleles take the major allele of their set (see :func:`complete`).
    """
    real, synthetic = complete(real), complete(synthetic)
    _check_same_snps(real, synthetic)
    return DistanceDistributions(kernels.hamming_histogram(real), kernels.hamming_histogram(synthetic),
                                 kernels.hamming_histogram(real, synthetic))


def kmer_frequencies(haplotypes, k: int) -> np.ndarray:
    """Frequencies of the 2^k haplotype motifs in each non-overlapping window of k SNPs (windows x 2^k).

    In each window only haplotypes called at all k SNPs count, and frequencies
    are over those haplotypes (a window where none is complete is NaN).
    """
    if not 1 <= k <= 16:
        raise ValueError(f"k must be between 1 and 16, got {k}")
    h = _haplotypes(haplotypes, "k-mer frequencies")
    n_windows = h.n_snps // k
    counts = np.zeros((n_windows, 1 << k))
    complete_rows = np.zeros(n_windows)
    weights = 1 << np.arange(k)
    for values, called in _chunks(h):
        rows = values.shape[0]
        codes = (values[:, : n_windows * k].reshape(rows, n_windows, k).astype(np.int64) * weights).sum(-1)
        whole = called[:, : n_windows * k].reshape(rows, n_windows, k).all(-1)
        complete_rows += whole.sum(0)
        for w in range(n_windows):
            counts[w] += np.bincount(codes[whole[:, w], w], minlength=1 << k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / complete_rows[:, None]


def kmer_correlation(real, synthetic, k: int) -> float:
    """Pearson r between real and synthetic k-mer motif frequencies, over all windows and motifs."""
    return _pearson(kmer_frequencies(real, k).ravel(), kmer_frequencies(synthetic, k).ravel())


def three_point_correlations(data, triplets: np.ndarray) -> np.ndarray:
    """Connected 3-point correlations C_ijk = <(x_i − m_i)(x_j − m_j)(x_k − m_k)> for SNP triplets.

    Means and the product are taken over the rows called at all three SNPs of
    a triplet (NaN where fewer than 3 are).
    """
    m = _matrix(data)
    triplets = np.asarray(triplets, dtype=np.int64).reshape(-1, 3)
    cols, inverse = np.unique(triplets, return_inverse=True)
    i, j, k = inverse.reshape(-1, 3).T
    # Sums over triplet-complete rows: n, x, y, z, xy, xz, yz, xyz.
    s = np.zeros((8, len(triplets)))
    for values, called in _chunks(m, cols):
        for b0 in range(0, len(triplets), _PAIR_BLOCK):
            bi, bj, bk = i[b0 : b0 + _PAIR_BLOCK], j[b0 : b0 + _PAIR_BLOCK], k[b0 : b0 + _PAIR_BLOCK]
            w = (called[:, bi] & called[:, bj] & called[:, bk]).astype(np.float64)
            x, y, z = (values[:, c].astype(np.float64) * w for c in (bi, bj, bk))
            blk = s[:, b0 : b0 + len(bi)]
            for row, v in enumerate((w, x, y, z, x * y, x * z, y * z, x * y * z)):
                blk[row] += v.sum(0)
    n, sx, sy, sz, sxy, sxz, syz, sxyz = s
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my, mz = sx / n, sy / n, sz / n
        c3 = sxyz / n - mx * syz / n - my * sxz / n - mz * sxy / n + 2 * mx * my * mz
    return np.where(n >= 3, c3, np.nan)


def sample_triplets(n_snps: int, n: int = 5000, span: int = 20, seed: int = 0) -> np.ndarray:
    """Random triplets of distinct SNPs within ``span`` consecutive SNPs (where 3-point structure lives)."""
    if n_snps < 3:
        raise ValueError("3-point correlations need at least 3 SNPs")
    rng = np.random.default_rng(seed)
    span = min(span, n_snps)
    start = rng.integers(0, n_snps - span + 1, n)
    offs = np.array([np.sort(rng.choice(span, 3, replace=False)) for _ in range(n)])
    return start[:, None] + offs


def three_point_correlation(real, synthetic, n: int = 5000, seed: int = 0) -> float:
    """Pearson r between real and synthetic connected 3-point correlations on the same triplets."""
    real, synthetic = _matrix(real), _matrix(synthetic)
    _check_same_snps(real, synthetic)
    t = sample_triplets(real.n_snps, n, seed=seed)
    return _pearson(three_point_correlations(real, t), three_point_correlations(synthetic, t))


@dataclass(frozen=True)
class ClassifierScores:
    accuracy: dict  # classifier name -> mean accuracy over splits
    delta: dict  # |0.5 − accuracy|: 0 means real and synthetic cannot be told apart


def classifier_scores(real, synthetic, n_splits: int = 5, test_size: float = 0.33, max_per_class: int = 2000,
                      seed: int = 0) -> ClassifierScores:
    """Real-vs-synthetic classifiers (logistic regression, kNN, MLP) on balanced classes."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier

    real, synthetic = _matrix(real), _matrix(synthetic)
    _check_same_snps(real, synthetic)
    rng = np.random.default_rng(seed)
    n = min(len(real), len(synthetic), max_per_class)
    if n < 5:
        raise ValueError("classifiers need at least 5 haplotypes in each set")
    # Missing calls take the real SNP mean, as in the PCA, so that "has a missing
    # call" is not itself a feature that separates the sets.
    means = _real_means(real)
    xr = _mean_imputed(real[np.sort(rng.choice(len(real), n, replace=False))], means)
    xs = _mean_imputed(synthetic[np.sort(rng.choice(len(synthetic), n, replace=False))], means)
    x = np.concatenate([xr, xs])
    y = np.r_[np.ones(n), np.zeros(n)]
    models = {
        "logistic regression": lambda s: LogisticRegression(max_iter=500, C=0.1),
        "kNN": lambda s: KNeighborsClassifier(n_neighbors=5),
        "MLP": lambda s: MLPClassifier(hidden_layer_sizes=(64,), max_iter=200, early_stopping=True, random_state=s),
    }
    acc = {name: [] for name in models}
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    for split in range(n_splits):
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_size, random_state=seed + split, stratify=y)
        for name, make in models.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                acc[name].append(make(seed + split).fit(xtr, ytr).score(xte, yte))
    mean = {k: float(np.mean(v)) for k, v in acc.items()}
    return ClassifierScores(mean, {k: abs(0.5 - v) for k, v in mean.items()})
