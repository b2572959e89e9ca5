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
    # reference: r² of every within-chromosome pair, binned by distance
    a = real.to_numpy().astype(float)
    r2 = np.nan_to_num(np.corrcoef(a.T) ** 2)
    pos, chrom = real.variants.position, real.variants.chrom
    sums, counts = np.zeros(10), np.zeros(10)
    for i in range(real.n_snps):
        for j in range(i + 1, real.n_snps):
            if chrom[i] == chrom[j]:
                b = min(np.digitize(abs(pos[j] - pos[i]), d.bin_edges) - 1, 9)
                sums[b] += r2[i, j]
                counts[b] += 1
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(d.real, sums / counts, rtol=1e-6)
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
    d = quality.ld_decay(real, syn, pairs=pairs, n_bins=4)
    pos = real.variants.position
    for m, curve in ((real, d.real), (syn, d.synthetic)):
        a = m.to_numpy().astype(float)
        r2 = np.array([np.corrcoef(a[:, i], a[:, j])[0, 1] ** 2 for i, j in pairs])
        b = np.minimum(np.digitize(np.abs(pos[pairs[:, 1]] - pos[pairs[:, 0]]), d.bin_edges) - 1, 3)
        with np.errstate(invalid="ignore"):
            expect = np.bincount(b, r2, minlength=4) / np.bincount(b, minlength=4)
        np.testing.assert_allclose(curve, expect, rtol=1e-6)
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
