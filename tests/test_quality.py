import numpy as np
import pytest

from genofast import HaplotypeMatrix, Variants
from genofast.metrics import quality


@pytest.fixture
def pair(rng):
    """Correlated real data and a noisy copy as 'synthetic'."""
    n, s = 300, 60
    a = np.zeros((n, s), dtype=np.uint8)
    a[:, 0] = rng.random(n) < 0.4
    for j in range(1, s):
        a[:, j] = np.where(rng.random(n) < 0.85, a[:, j - 1], rng.random(n) < 0.3)
    syn = a[rng.permutation(n)[:250]] ^ (rng.random((250, s)) < 0.05)
    pos = np.cumsum(rng.integers(100, 5000, s))
    v = Variants(np.array(["1"] * 40 + ["2"] * 20), pos, np.array([f"s{i}" for i in range(s)]), np.full(s, "A"),
                 np.full(s, "C"))
    return HaplotypeMatrix.from_numpy(a, variants=v), HaplotypeMatrix.from_numpy(syn.astype(np.uint8), variants=v)


def test_allele_frequencies_against_numpy(pair):
    real, syn = pair
    np.testing.assert_allclose(quality.allele_frequencies(real), real.to_numpy().mean(0))
    c = quality.compare_allele_frequencies(real, syn)
    fr, fs = real.to_numpy().mean(0), syn.to_numpy().mean(0)
    assert c.r == pytest.approx(np.corrcoef(fr, fs)[0, 1])
    low = fr <= 0.2
    if low.sum() > 2:
        assert c.r_low == pytest.approx(np.corrcoef(fr[low], fs[low])[0, 1])
    fixed = np.zeros((10, 4), dtype=np.uint8)
    fixed[:, 1] = 1
    fixed[3, 2] = 1
    f = quality.compare_allele_frequencies(fixed, fixed)
    assert f.fixed_real == 3


def test_ld_matrix_matches_scikit_allel(pair):
    import allel

    real, _ = pair
    a = real.to_numpy()
    r = allel.rogers_huff_r(a.T.astype("i1"))  # haploid 0/1 counts: Pearson r of alleles
    from scipy.spatial.distance import squareform

    expect = squareform(r**2)
    got = quality.ld_matrix(real)
    iu = np.triu_indices_from(got, 1)
    np.testing.assert_allclose(got[iu], expect[iu], rtol=1e-5, atol=1e-6)


def test_ld_decay_pairs_and_bins(pair):
    real, syn = pair
    d = quality.ld_decay(real, real, n_bins=10)
    np.testing.assert_allclose(d.real, d.synthetic)
    assert d.r == pytest.approx(1.0)
    # reference: r² of every within-chromosome pair (970 of them), binned by distance
    a = real.to_numpy().astype(float)
    r2 = np.nan_to_num(np.corrcoef(a.T) ** 2)
    pos, chrom = real.variants.position, real.variants.chrom
    nb = len(d.bin_edges) - 1
    assert 2 <= nb < 10  # ten log-spaced bins, merged to hold at least 200 pairs each
    sums, counts = np.zeros(nb), np.zeros(nb)
    for i in range(real.n_snps):
        for j in range(i + 1, real.n_snps):
            if chrom[i] == chrom[j]:
                b = min(np.digitize(abs(pos[j] - pos[i]), d.bin_edges) - 1, nb - 1)
                sums[b] += r2[i, j]
                counts[b] += 1
    assert counts.sum() == 40 * 39 // 2 + 20 * 19 // 2 and counts.min() >= 200
    np.testing.assert_allclose(d.real, sums / counts, rtol=1e-6)
    # with one pair enough, more and finer bins, none empty (empty ones join the next)
    single = quality.ld_decay(real, real, n_bins=10, min_pairs=1)
    assert nb < len(single.bin_edges) - 1 <= 10 and not np.isnan(single.real).any()
    with pytest.raises(ValueError, match="min_pairs"):
        quality.ld_decay(real, real, min_pairs=0)
    # independent SNPs have no LD: the decay of a column-shuffled copy is flat and low
    shuffled = HaplotypeMatrix.from_numpy(np.array([np.random.default_rng(i).permutation(c) for i, c in
                                                    enumerate(real.to_numpy().T)]).T, variants=real.variants)
    flat = quality.ld_decay(real, shuffled)
    ok = ~np.isnan(flat.real)
    assert np.nanmean(flat.synthetic[ok][:5]) < 0.5 * np.nanmean(flat.real[ok][:5])


def test_ld_decay_on_given_pairs(pair):
    """Only the given pairs count: e.g. those straddling a window boundary of a conditional-RBM chain."""
    real, syn = pair
    pairs = np.array([[0, 5], [1, 7], [2, 3], [4, 9], [3, 8]])
    d = quality.ld_decay(real, syn, pairs=pairs, n_bins=4, min_pairs=2)
    pos = real.variants.position
    nb = len(d.bin_edges) - 1
    b = np.minimum(np.digitize(np.abs(pos[pairs[:, 1]] - pos[pairs[:, 0]]), d.bin_edges) - 1, nb - 1)
    assert nb >= 1 and np.bincount(b, minlength=nb).min() >= 2
    for m, curve in ((real, d.real), (syn, d.synthetic)):
        a = m.to_numpy().astype(float)
        r2 = np.array([np.corrcoef(a[:, i], a[:, j])[0, 1] ** 2 for i, j in pairs])
        np.testing.assert_allclose(curve, np.bincount(b, r2, minlength=nb) / np.bincount(b, minlength=nb), rtol=1e-6)
    with pytest.raises(ValueError, match="pairs must be"):
        quality.ld_decay(real, syn, pairs=np.array([[0, real.n_snps]]))


def test_pca_matches_sklearn(pair):
    from sklearn.decomposition import PCA

    real, syn = pair
    p = quality.pca(real, syn, n_components=4)
    ref = PCA(4, svd_solver="full").fit(real.to_numpy().astype(np.float32))
    np.testing.assert_allclose(np.abs(p.real), np.abs(ref.transform(real.to_numpy().astype(np.float32))), atol=1e-3)
    np.testing.assert_allclose(np.abs(p.synthetic), np.abs(ref.transform(syn.to_numpy().astype(np.float32))),
                               atol=1e-3)


@pytest.mark.parametrize("limit", ["threshold", "memory"])
def test_pca_of_large_sets_streams_the_same_axes(pair, monkeypatch, limit):
    """Above DENSE_PCA_BYTES, or with less than twice the dense copies' memory available, the randomized SVD over
    row chunks runs instead, and must find sklearn's axes (up to sign) on the same data."""
    from sklearn.decomposition import PCA

    from genofast.models import _base

    real, syn = pair
    dense = 4 * (len(real) + len(syn)) * real.n_snps + 24 * len(real) * real.n_snps
    if limit == "threshold":
        monkeypatch.setattr(quality, "DENSE_PCA_BYTES", dense - 1)
    else:
        monkeypatch.setattr(_base, "available_memory", lambda: 2 * dense - 1)
    calls = []
    streamed = quality._streamed_pca
    monkeypatch.setattr(quality, "_streamed_pca", lambda *a, **k: calls.append(1) or streamed(*a, **k))
    p = quality.pca(real, syn, n_components=3)
    assert calls == [1]
    ref = PCA(3, svd_solver="full").fit(real.to_numpy().astype(np.float64))
    for c in range(2):  # the two leading axes; the third is within the randomized approximation only
        for got, data in ((p.real, real), (p.synthetic, syn)):
            want = ref.transform(data.to_numpy().astype(np.float64))[:, c]
            assert abs(np.corrcoef(got[:, c], want)[0, 1]) > 0.999
    np.testing.assert_allclose(p.explained_variance_ratio[:2], ref.explained_variance_ratio_[:2], rtol=1e-2)


def test_streamed_pca_variance_ratios_on_a_flat_spectrum(rng):
    """Where no axis stands out (a mosaic of 200 founders), the streamed randomized SVD must give the
    explained-variance ratios of the in-memory path, sklearn's randomized solver: with 4 power iterations instead
    of sklearn's 7 they came out 4-5% below them. (Both sit a few % below an exact SVD's on such a spectrum.)"""
    from sklearn.decomposition import PCA

    founders = rng.integers(0, 2, (200, 1500), dtype=np.uint8)
    segments = np.repeat(rng.integers(0, 200, (1500, 15)), 100, axis=1)  # 15 segments of 100 SNPs
    x = founders[segments, np.arange(1500)] ^ (rng.random((1500, 1500)) < 0.01)
    real = HaplotypeMatrix.from_numpy(x.astype(np.uint8))
    dense = quality.pca(real, real[:10], n_components=6).explained_variance_ratio  # sklearn, randomized
    exact = PCA(6, svd_solver="full").fit(x.astype(np.float64)).explained_variance_ratio_
    got = quality._streamed_pca(real, real[:10], 6, None, seed=0).explained_variance_ratio
    np.testing.assert_allclose(got, dense, rtol=0.02)
    np.testing.assert_allclose(got, exact, rtol=0.06)


def test_distance_distributions_count_all_pairs(pair):
    real, syn = pair
    d = quality.distance_distributions(real, syn)
    assert d.within_real.sum() == 300 * 299 // 2
    assert d.between.sum() == 300 * 250
    a, b = real.to_numpy().astype(int), syn.to_numpy().astype(int)
    between = (a[:, None, :] != b[None, :, :]).sum(-1)
    np.testing.assert_array_equal(d.between, np.bincount(between.ravel(), minlength=61))


def test_kmers_against_counting(pair):
    real, _ = pair
    f = quality.kmer_frequencies(real, 4)
    a = real.to_numpy()
    assert f.shape == (15, 16)
    w = 3
    codes = a[:, 12:16] @ (1 << np.arange(4))
    np.testing.assert_allclose(f[w], np.bincount(codes, minlength=16) / 300)
    np.testing.assert_allclose(f.sum(1), 1.0)
    assert quality.kmer_correlation(real, real, 8) == pytest.approx(1.0)


def test_three_point_hand_made():
    x = np.array([[1, 1, 1], [0, 0, 0], [1, 0, 0], [0, 0, 0]], dtype=np.uint8)
    c = quality.three_point_correlations(x, np.array([[0, 1, 2]]))
    m = x.mean(0)
    expect = np.mean((x[:, 0] - m[0]) * (x[:, 1] - m[1]) * (x[:, 2] - m[2]))
    assert c[0] == pytest.approx(expect)
    t = quality.sample_triplets(100, 200, span=10, seed=1)
    assert ((t[:, 2] - t[:, 0]) < 10).all() and (np.diff(t, axis=1) > 0).all()


def test_classifiers_tell_noise_from_structure(pair, rng):
    real, _ = pair
    same = quality.classifier_scores(real[:150], real[150:], n_splits=2)
    noise = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (300, 60), dtype=np.uint8))
    diff = quality.classifier_scores(real, noise, n_splits=2)
    assert max(same.delta.values()) < 0.15
    assert max(diff.accuracy.values()) > 0.8 and min(diff.accuracy.values()) > 0.6


def test_shape_mismatch():
    with pytest.raises(ValueError, match="SNPs"):
        quality.ld_decay(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="empty"):
        quality.allele_frequencies(np.zeros((0, 3)))


def test_ld_fidelity_against_brute_force(pair):
    real, syn = pair
    f = quality.ld_fidelity(real, syn, window=10)
    # reference: r² of every pair within 10-SNP windows of each chromosome (40 SNPs on chr 1, 20 on chr 2)
    a, b = real.to_numpy().astype(float), syn.to_numpy().astype(float)
    ra, rb = np.nan_to_num(np.corrcoef(a.T) ** 2), np.nan_to_num(np.corrcoef(b.T) ** 2)
    pairs = [(i, j) for s in range(0, 60, 10) for i in range(s, s + 10) for j in range(i + 1, s + 10)]
    x, y = np.array([ra[p] for p in pairs]), np.array([rb[p] for p in pairs])
    assert f.n_pairs == 6 * 45
    assert f.window_r == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-5)
    # r² is compared above its expectation for unlinked SNPs, 1 / (n - 1): 300 real and 250 synthetic haplotypes
    assert f.window_mean_abs_diff == pytest.approx(np.abs((x - 1 / 299) - (y - 1 / 249)).mean(), rel=1e-5)
    d = quality.ld_decay(real, syn)
    ok = ~(np.isnan(d.real) | np.isnan(d.synthetic))
    assert f.decay_mean_abs_diff == pytest.approx(np.abs((d.real - 1 / 299) - (d.synthetic - 1 / 249))[ok].mean())
    assert f.level_score == pytest.approx(1 - f.decay_mean_abs_diff / (d.real[ok] - 1 / 299).mean())
    same = quality.ld_fidelity(real, real)
    assert same.decay_mean_abs_diff == 0 and same.window_r == pytest.approx(1.0) and same.level_score == 1.0
    # unlinked SNPs: a smaller sample of the same source has higher raw r², not more LD
    rng = np.random.default_rng(5)
    big, small = rng.integers(0, 2, (800, 40)), rng.integers(0, 2, (200, 40))
    g = quality.ld_fidelity(big, small, window=40)
    raw = quality.ld_decay(big, small)
    assert np.nanmean(raw.synthetic - raw.real) > 0.003 and g.decay_mean_abs_diff < 0.001


def test_ld_fidelity_sees_the_level_that_decay_r_misses(pair, rng):
    real, _ = pair
    # weak LD of the right shape: each allele replaced by an independent draw with probability 0.5
    a = real.to_numpy()
    weak = np.where(rng.random(a.shape) < 0.5, a, rng.random(a.shape) < a.mean(0))
    weak = HaplotypeMatrix.from_numpy(weak.astype(np.uint8), variants=real.variants)
    d = quality.ld_decay(real, weak)
    f = quality.ld_fidelity(real, weak, d)
    assert d.r > 0.8  # the shape survives
    assert f.level_score < 0.6  # the level does not: r² drops about fourfold
    # window sampling keeps whole windows and stays seeded
    s1 = quality.ld_fidelity(real, weak, d, window=10, max_pairs=100, seed=3)
    assert s1.n_pairs == 90 and s1 == quality.ld_fidelity(real, weak, d, window=10, max_pairs=100, seed=3)
    with pytest.raises(ValueError, match="window"):
        quality.ld_fidelity(real, weak, window=1)


def test_ld_decay_samples_pairs_evenly_on_log_distance(rng):
    """Above max_pairs, pairs are drawn evenly on the log scale of the SNP distance (Yelmen et al. 2023): the
    nearest distances keep all their pairs, every distance is represented, no pair twice, seeded."""
    from genofast.metrics.ld import _log_distance_pairs

    m = 2000
    i, j = _log_distance_pairs(m, 50_000, np.random.default_rng(1))
    d = j - i
    assert i.min() >= 0 and j.max() < m and (d > 0).all()
    assert len(np.unique(np.stack([i, j], 1), axis=0)) == len(i)  # no duplicates
    assert 0.9 * 50_000 <= len(i) <= 1.1 * 50_000
    per = np.bincount(d, minlength=m)
    assert (per[1:6] == m - np.arange(1, 6)).all()  # all pairs at the shortest distances
    # even on the log scale: each decade of distance holds a similar share (uniform pairs: 0.5% below 10)
    decades = [np.sum((d >= lo) & (d < 10 * lo)) for lo in (1, 10, 100)]
    assert min(decades) > 0.5 * max(decades)
    a, b = _log_distance_pairs(m, 50_000, np.random.default_rng(1))
    assert np.array_equal(a, i) and np.array_equal(b, j)
    # ld_decay takes them when the cohort has more pairs than max_pairs, seeded
    h = (rng.random((50, 400)) < 0.3).astype(np.uint8)
    d1 = quality.ld_decay(h, h, max_pairs=5_000, seed=3, min_pairs=50)
    assert d1.r == pytest.approx(1.0)
    np.testing.assert_array_equal(d1.real, quality.ld_decay(h, h, max_pairs=5_000, seed=3, min_pairs=50).real)
