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
from ._dense import (_CHUNK_ROWS, _PAIR_BLOCK, _check_same_snps, _chunks, _haplotypes, _matrix, _pearson, _ploidy,
                     _same_kind)
# LD lives in .ld; its names stay importable from here, where every statistic was found before
from .ld import LDDecay, LDFidelity, ld_decay, ld_fidelity, ld_matrix, pair_r2  # noqa: F401

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


DENSE_PCA_BYTES = 2 << 30  # above this, pca streams a randomized SVD instead of copying the sets dense


def pca(real, synthetic, n_components: int = 6, max_snps: int = 20_000, seed: int = 0) -> PCAProjection:
    """PCA fitted on the real set; the synthetic set is projected onto the real axes.

    Missing calls (in either set) are replaced by the real set's SNP mean,
    which puts them at the centre of that axis: they pull a sample towards the
    origin instead of towards allele 0. Sets whose dense copies would pass
    ``DENSE_PCA_BYTES`` or half the memory available (and VCF Zarr cohorts)
    take a randomized SVD streamed over row chunks instead of sklearn's on a
    dense copy: the same axes up to sign and the randomized approximation, in
    memory of a few rows x components (60,000 x 10,000 haplotypes: 7.5 GB
    dense).
    """
    from sklearn.decomposition import PCA

    from ..io.zarr import ZarrCohort
    from ..models._base import available_memory

    real, synthetic = _matrix(real), _matrix(synthetic)
    _check_same_snps(real, synthetic)
    cols = None
    if real.n_snps > max_snps:
        cols = np.sort(np.random.default_rng(seed).choice(real.n_snps, max_snps, replace=False))
    p = real.n_snps if cols is None else len(cols)
    # float32 copies of both sets, then sklearn's centred float64 copy of the real one and the SVD's work arrays
    dense = 4 * (len(real) + len(synthetic)) * p + 24 * len(real) * p
    if (isinstance(real, ZarrCohort) or isinstance(synthetic, ZarrCohort) or dense > DENSE_PCA_BYTES
            or dense > available_memory() / 2):
        return _streamed_pca(real, synthetic, n_components, cols, seed)
    means = _real_means(real, cols)
    xr, xs = _mean_imputed(real, means, cols), _mean_imputed(synthetic, means, cols)
    k = int(min(n_components, xr.shape[0], xr.shape[1]))
    model = PCA(n_components=k, random_state=seed, svd_solver="randomized" if min(xr.shape) > 500 else "full")
    return PCAProjection(model.fit_transform(xr), model.transform(xs), model.explained_variance_ratio_)


def _streamed_pca(real, synthetic, n_components: int, cols, seed: int, oversample: int = 10,
                  power_iterations: int | None = None) -> PCAProjection:
    """The PCA of :func:`pca` for cohorts read chunk by chunk (VCF Zarr stores): a randomized SVD (Halko et al.
    2011) of the mean-centred real set, each product with it one pass over its row chunks.

    ``power_iterations``: by default sklearn's rule for its randomized solver (which the in-memory path uses),
    7 when the components are fewer than a tenth of the smaller side, else 4. With 4, on a flat spectrum (founder
    mosaics, 1,500-4,000 x 1,500-3,000, leading ratios 0.0016-0.0036) every explained-variance ratio came out 4-5%
    below the in-memory PCA's; with 7 within 1-2% of them, for 20% more time.

    Memory: a few n x (k + oversample) and p x (k + oversample) arrays, never the n x p matrix. Components
    are sklearn's up to sign (and to the randomized approximation).
    """
    from ..models._base import check_memory

    p = real.n_snps if cols is None else len(cols)
    # scores and the range of both sets, the axes, and one chunk's alleles and its float32 copies
    chunk = min(_CHUNK_ROWS, max(len(real), len(synthetic)))
    check_memory(8 * (2 * (len(real) + len(synthetic)) + 2 * p) * (n_components + oversample)
                 + chunk * (9 * real.n_snps + 12 * p),
                 f"a PCA of {len(real)} real and {len(synthetic)} synthetic rows x {p} SNPs",
                 "lower max_snps (the PCA then uses a random subset of SNPs) or sample fewer haplotypes")
    means = _real_means(real, cols).astype(np.float64)
    means32 = means.astype(np.float32)

    def filled(m):
        """float32 row chunks, missing calls at the real mean; the centring X - 1 μᵀ is applied to each product
        instead (a centred float64 copy of every chunk took most of the time)."""
        for values, called in _chunks(m, cols):
            x = values.astype(np.float32)
            yield x if called.all() else np.where(called, x, means32)

    def times(x, right):  # (x - 1 μᵀ) @ right
        return (x @ right.astype(np.float32)).astype(np.float64) - means @ right

    n = len(real)
    if power_iterations is None:
        power_iterations = 7 if n_components < 0.1 * min(n, p) else 4
    width = int(min(n_components + oversample, n, p))
    q = np.random.default_rng(seed).standard_normal((p, width))
    total = 0.0  # sum of squares of X_c, for the explained variance: taken in the first pass
    for it in range(power_iterations + 1):
        parts = []
        for x in filled(real):
            parts.append(times(x, q))  # n x width: the range of X_c, sharpened each round
            if it == 0:
                s1, s2 = x.sum(0, dtype=np.float64), np.einsum("ij,ij->j", x, x, dtype=np.float64)
                total += float((s2 - 2 * means * s1 + len(x) * means**2).sum())
        y, _ = np.linalg.qr(np.concatenate(parts))
        z = np.zeros((p, width))
        r0 = 0
        for x in filled(real):
            yc = y[r0 : r0 + len(x)]
            z += (x.T @ yc.astype(np.float32)).astype(np.float64) - np.outer(means, yc.sum(0))
            r0 += len(x)
        if it < power_iterations:
            q, _ = np.linalg.qr(z)
    # X_c ~ Y (Y^T X_c) = Y Z^T; the SVD of the small Z gives the axes
    _, sv, vt = np.linalg.svd(z.T, full_matrices=False)
    k = int(min(n_components, n, p))
    axes = vt[:k]
    # sklearn's sign rule: the largest-magnitude loading of each axis positive
    axes *= np.sign(axes[np.arange(k), np.abs(axes).argmax(1)])[:, None]
    scores = [np.concatenate([times(x, axes.T) for x in filled(m)]) for m in (real, synthetic)]
    ratio = sv[:k] ** 2 / total if total > 0 else np.zeros(k)
    return PCAProjection(scores[0], scores[1], ratio)


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


def genotype_counts(genotypes) -> np.ndarray:
    """3 x SNPs: how many called genotypes have dosage 0, 1 and 2 at each SNP (missing calls counted in none).
    ``counts.argmax(0)`` is each SNP's most frequent dosage, the lowest on a tie."""
    g = _matrix(genotypes)
    counts = np.zeros((3, g.n_snps), dtype=np.int64)
    for values, called in _chunks(g):
        for d in range(3):
            counts[d] += ((values == d) & called).sum(0)
    return counts


def distance_bits(data) -> HaplotypeMatrix:
    """The rows as the bit vectors whose Hamming distances are the distance statistics' distances.

    Haplotypes are themselves, missing alleles at the set's major allele
    (:func:`complete`). Unphased genotypes become two bits per SNP, dosage >= 1
    then dosage 2 (a thermometer code: 0 -> 00, 1 -> 10, 2 -> 11), so that the
    Hamming distance of two rows is their L1 distance, the number of allele
    copies in which two individuals differ; a missing call takes the SNP's
    most frequent dosage in the set, adding no distance to typical individuals.
    """
    from ..matrix import GenotypeMatrix

    m = _matrix(data)
    if not isinstance(m, GenotypeMatrix):
        return complete(m)
    fill = genotype_counts(m).argmax(0).astype(np.int8) if m.has_missing else None  # 0 where nothing is called
    words = []
    for values, called in _chunks(m):
        d = values if fill is None else np.where(called, values, fill)
        words.append(kernels.pack_haplotypes(np.concatenate([d >= 1, d == 2], axis=1).view(np.uint8)))
    words = np.concatenate(words) if words else np.zeros((0, kernels.haplotype_words(2 * m.n_snps)), np.uint64)
    return HaplotypeMatrix(words, 2 * m.n_snps, ids=m.ids)


@dataclass(frozen=True)
class DistanceDistributions:
    within_real: np.ndarray  # counts by Hamming distance, unordered pairs
    within_synthetic: np.ndarray
    between: np.ndarray


def distance_distributions(real, synthetic) -> DistanceDistributions:
    """All pairwise Hamming distances, as histograms (never a distance matrix).

    Missing alleles take the major allele of their set (see :func:`complete`); genotypes are compared by their
    L1 distance, the allele copies in which two individuals differ (see :func:`distance_bits`).
    """
    real, synthetic = _matrix(real), _matrix(synthetic)
    _same_kind((real, synthetic), ("real", "synthetic"))
    _check_same_snps(real, synthetic)
    real, synthetic = distance_bits(real), distance_bits(synthetic)
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
