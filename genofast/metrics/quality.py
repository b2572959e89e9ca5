"""How real are artificial genomes: the statistics every study compares, real vs synthetic.

Inputs are :class:`~genofast.HaplotypeMatrix` (or 0/1 arrays) over the same
SNPs. Large cohorts are unpacked in row chunks where a statistic needs
dense alleles; distance distributions come from the packed Hamming kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import kernels
from ..matrix import HaplotypeMatrix

_CHUNK_ROWS = 2048


def _matrix(x) -> HaplotypeMatrix:
    if isinstance(x, HaplotypeMatrix):
        return x.to("cpu")
    return HaplotypeMatrix.from_numpy(np.asarray(x))


def _chunks(h: HaplotypeMatrix, columns=None):
    """Dense uint8 row chunks (optionally a column subset), so memory stays bounded."""
    for r0 in range(0, h.n_haplotypes, _CHUNK_ROWS):
        a = h[r0 : r0 + _CHUNK_ROWS].to_numpy()
        yield a if columns is None else a[:, columns]


def _check_same_snps(real: HaplotypeMatrix, synthetic: HaplotypeMatrix) -> None:
    if real.n_snps != synthetic.n_snps:
        raise ValueError(f"real has {real.n_snps} SNPs but synthetic has {synthetic.n_snps}")
    for name, h in (("real", real), ("synthetic", synthetic)):
        if h.n_haplotypes == 0:
            raise ValueError(f"the {name} set is empty")


def allele_frequencies(haplotypes) -> np.ndarray:
    """Frequency of allele 1 at each SNP."""
    h = _matrix(haplotypes)
    if h.n_haplotypes == 0:
        raise ValueError("allele frequencies of an empty set are undefined")
    total = np.zeros(h.n_snps)
    for a in _chunks(h):
        total += a.sum(axis=0)
    return total / h.n_haplotypes


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
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
    fr, fs = allele_frequencies(real), allele_frequencies(synthetic)
    low = fr <= low_threshold
    fixed = lambda f: int(((f == 0) | (f == 1)).sum())  # noqa: E731
    return AlleleFrequencyComparison(fr, fs, _pearson(fr, fs), _pearson(fr[low], fs[low]), low_threshold, fixed(fr),
                                     fixed(fs))


def ld_matrix(haplotypes, snps=None) -> np.ndarray:
    """Pairwise r² between SNPs (Pearson correlation of alleles, squared); monomorphic SNPs give 0."""
    h = _matrix(haplotypes)
    a = np.concatenate(list(_chunks(h, snps))).astype(np.float64)
    a -= a.mean(axis=0)
    sd = np.sqrt((a * a).mean(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a.T @ a) / a.shape[0] / np.outer(sd, sd)
    r = np.nan_to_num(r, nan=0.0)
    return np.clip(r * r, 0.0, 1.0)


@dataclass(frozen=True)
class LDDecay:
    bin_edges: np.ndarray  # distance bins in base pairs
    real: np.ndarray  # mean r² per bin
    synthetic: np.ndarray
    r: float  # Pearson r of the two curves over bins with data


def ld_decay(real, synthetic, positions=None, chrom=None, n_bins: int = 50, max_pairs: int = 200_000,
             seed: int = 0) -> LDDecay:
    """Mean r² by distance between SNPs, on the same sampled pairs for both sets.

    Pairs are drawn within chromosomes (all of them when there are at most
    ``max_pairs``), binned by base-pair distance into ``n_bins`` log-spaced bins.
    """
    real, synthetic = _matrix(real), _matrix(synthetic)
    _check_same_snps(real, synthetic)
    pos = np.asarray(positions if positions is not None else real.variants.position, dtype=np.int64)
    chrom = np.asarray(chrom if chrom is not None else real.variants.chrom)
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
    pairs = np.concatenate(pairs)
    dist = np.abs(pos[pairs[:, 1]] - pos[pairs[:, 0]])
    # Log-spaced bins: LD decays over the first tens of kb, so equal-width bins
    # would put the whole decay into the first bin and noise into the rest.
    d_min = max(1, int(dist[dist > 0].min())) if (dist > 0).any() else 1
    edges = np.concatenate([[0], np.geomspace(d_min, dist.max() + 1, n_bins)])
    which = np.clip(np.digitize(dist, edges) - 1, 0, n_bins - 1)
    curves = []
    for h in (real, synthetic):
        r2 = _pair_r2(h, pairs)
        total = np.bincount(which, weights=r2, minlength=n_bins)
        count = np.bincount(which, minlength=n_bins)
        with np.errstate(invalid="ignore"):
            curves.append(total / count)
    ok = ~np.isnan(curves[0]) & ~np.isnan(curves[1])
    return LDDecay(edges, curves[0], curves[1], _pearson(curves[0][ok], curves[1][ok]))


def _pair_r2(h: HaplotypeMatrix, pairs: np.ndarray) -> np.ndarray:
    """r² of the given SNP pairs, accumulating counts over row chunks."""
    n = h.n_haplotypes
    p1 = np.zeros(len(pairs))
    p2 = np.zeros(len(pairs))
    p12 = np.zeros(len(pairs))
    for a in _chunks(h):
        x, y = a[:, pairs[:, 0]], a[:, pairs[:, 1]]
        p1 += x.sum(0)
        p2 += y.sum(0)
        p12 += (x & y).sum(0)
    p1, p2, p12 = p1 / n, p2 / n, p12 / n
    denom = p1 * (1 - p1) * p2 * (1 - p2)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = (p12 - p1 * p2) ** 2 / denom
    return np.where(denom > 0, r2, 0.0)


@dataclass(frozen=True)
class PCAProjection:
    real: np.ndarray  # n_real x n_components
    synthetic: np.ndarray
    explained_variance_ratio: np.ndarray


def pca(real, synthetic, n_components: int = 6, max_snps: int = 20_000, seed: int = 0) -> PCAProjection:
    """PCA fitted on the real set; the synthetic set is projected onto the real axes."""
    from sklearn.decomposition import PCA

    real, synthetic = _matrix(real), _matrix(synthetic)
    _check_same_snps(real, synthetic)
    cols = None
    if real.n_snps > max_snps:
        cols = np.sort(np.random.default_rng(seed).choice(real.n_snps, max_snps, replace=False))
    xr = np.concatenate(list(_chunks(real, cols))).astype(np.float32)
    xs = np.concatenate(list(_chunks(synthetic, cols))).astype(np.float32)
    k = int(min(n_components, xr.shape[0], xr.shape[1]))
    model = PCA(n_components=k, random_state=seed, svd_solver="randomized" if min(xr.shape) > 500 else "full")
    return PCAProjection(model.fit_transform(xr), model.transform(xs), model.explained_variance_ratio_)


@dataclass(frozen=True)
class DistanceDistributions:
    within_real: np.ndarray  # counts by Hamming distance, unordered pairs
    within_synthetic: np.ndarray
    between: np.ndarray


def distance_distributions(real, synthetic) -> DistanceDistributions:
    """All pairwise Hamming distances, as histograms (never a distance matrix)."""
    real, synthetic = _matrix(real), _matrix(synthetic)
    _check_same_snps(real, synthetic)
    return DistanceDistributions(kernels.hamming_histogram(real), kernels.hamming_histogram(synthetic),
                                 kernels.hamming_histogram(real, synthetic))


def kmer_frequencies(haplotypes, k: int) -> np.ndarray:
    """Frequencies of the 2^k haplotype motifs in each non-overlapping window of k SNPs (windows x 2^k)."""
    if not 1 <= k <= 16:
        raise ValueError(f"k must be between 1 and 16, got {k}")
    h = _matrix(haplotypes)
    n_windows = h.n_snps // k
    counts = np.zeros((n_windows, 1 << k))
    weights = 1 << np.arange(k)
    for a in _chunks(h):
        codes = (a[:, : n_windows * k].reshape(a.shape[0], n_windows, k).astype(np.int64) * weights).sum(-1)
        for w in range(n_windows):
            counts[w] += np.bincount(codes[:, w], minlength=1 << k)
    return counts / max(h.n_haplotypes, 1)


def kmer_correlation(real, synthetic, k: int) -> float:
    """Pearson r between real and synthetic k-mer motif frequencies, over all windows and motifs."""
    return _pearson(kmer_frequencies(real, k).ravel(), kmer_frequencies(synthetic, k).ravel())


def three_point_correlations(haplotypes, triplets: np.ndarray) -> np.ndarray:
    """Connected 3-point correlations C_ijk = <(x_i − m_i)(x_j − m_j)(x_k − m_k)> for SNP triplets."""
    a = np.concatenate(list(_chunks(_matrix(haplotypes), np.unique(triplets)))).astype(np.float64)
    col = {s: c for c, s in enumerate(np.unique(triplets))}
    centred = a - a.mean(axis=0)
    i, j, k = (np.array([col[s] for s in triplets[:, t]]) for t in range(3))
    return (centred[:, i] * centred[:, j] * centred[:, k]).mean(axis=0)


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
    n = min(real.n_haplotypes, synthetic.n_haplotypes, max_per_class)
    if n < 5:
        raise ValueError("classifiers need at least 5 haplotypes in each set")
    xr = real[np.sort(rng.choice(real.n_haplotypes, n, replace=False))].to_numpy()
    xs = synthetic[np.sort(rng.choice(synthetic.n_haplotypes, n, replace=False))].to_numpy()
    x = np.concatenate([xr, xs]).astype(np.float32)
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
