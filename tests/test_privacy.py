import numpy as np
import pytest

from genofast import HaplotypeMatrix
from genofast import metrics

import reference


def H(rows):
    return HaplotypeMatrix.from_numpy(np.array(rows, dtype=np.uint8))


def test_aats_hand_made_without_ties():
    real, syn = H([[0, 0, 0], [1, 1, 1]]), H([[0, 0, 1], [1, 1, 0]])
    r = metrics.aats(real, syn)
    # each real is 1 from a synthetic but 3 from the other real: synthetic too close
    assert (r.aa_truth, r.aa_syn, r.aats) == (0.0, 0.0, 0.0)
    np.testing.assert_array_equal(r.d_real_syn, [1, 1])
    np.testing.assert_array_equal(r.d_real_real, [3, 3])


def test_aats_tie_rules_hand_made():
    # every nearest distance is 2 on both sides: all comparisons are ties
    real, syn = H([[0, 0, 0, 0], [0, 0, 1, 1]]), H([[0, 1, 0, 1], [1, 1, 1, 1]])
    strict = metrics.aats(real, syn, tie="strict")
    inclusive = metrics.aats(real, syn, tie="inclusive")
    assert (strict.aa_truth, strict.aa_syn, strict.aats) == (0.0, 0.0, 0.0)
    assert (inclusive.aa_truth, inclusive.aa_syn, inclusive.aats) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="tie must be one of"):
        metrics.aats(real, syn, tie=">")


@pytest.mark.parametrize("strict", [True, False])
def test_aats_matches_brute_force(rng, strict):
    real = rng.integers(0, 2, (120, 40), dtype=np.uint8)
    syn = rng.integers(0, 2, (90, 40), dtype=np.uint8)
    r = metrics.aats(HaplotypeMatrix.from_numpy(real), HaplotypeMatrix.from_numpy(syn),
                     tie="strict" if strict else "inclusive")
    assert (r.aa_truth, r.aa_syn, r.aats) == pytest.approx(reference.aats(real, syn, strict))


def test_privacy_loss_detects_copying(rng):
    pop = rng.integers(0, 2, (400, 60), dtype=np.uint8)
    train, test = pop[:200], pop[200:]
    syn = train[rng.permutation(200)[:150]]  # a "model" that memorised its training set
    loss = metrics.privacy_loss(*(HaplotypeMatrix.from_numpy(x) for x in (train, test, syn)))
    expect = reference.aats(test, syn)[2] - reference.aats(train, syn)[2]
    assert loss == pytest.approx(expect)
    assert loss > 0.3



@pytest.mark.parametrize("larger", ["train", "test"])
def test_privacy_loss_averages_seeded_subsamples(rng, larger):
    # by hand: subsample i draws the larger set's rows with default_rng(seed + i); the brute-force AATS
    # differences are averaged
    big, small = rng.integers(0, 2, (90, 30), dtype=np.uint8), rng.integers(0, 2, (40, 30), dtype=np.uint8)
    syn = rng.integers(0, 2, (50, 30), dtype=np.uint8)
    train, test = (big, small) if larger == "train" else (small, big)
    expect = []
    for s in range(7, 7 + 4):
        rows = np.sort(np.random.default_rng(s).choice(90, 40, replace=False))
        t, v = (train[rows], test) if larger == "train" else (train, test[rows])
        expect.append(reference.aats(v, syn)[2] - reference.aats(t, syn)[2])
    got = metrics.privacy_loss(H(train), H(test), H(syn), seed=7, subsamples=4)
    assert got == pytest.approx(np.mean(expect))
    # the draws differ, so the average is not any one of them
    assert len(set(np.round(expect, 12))) > 1
    assert metrics.privacy_loss(H(train), H(test), H(syn), seed=8) == pytest.approx(expect[1])


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "3"])
def test_privacy_loss_refuses_bad_subsample_counts(rng, bad):
    x = H(rng.integers(0, 2, (10, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="subsamples must be an integer at least 1, got "):
        metrics.privacy_loss(x, x, x, subsamples=bad)

def test_copies(rng):
    train = rng.integers(0, 2, (50, 200), dtype=np.uint8)
    syn = rng.integers(0, 2, (30, 200), dtype=np.uint8)
    syn[4], syn[9] = train[7], train[31]
    syn[12] = train[2]
    syn[12, :3] ^= 1  # a near copy at distance 3
    c = metrics.copies(HaplotypeMatrix.from_numpy(train), HaplotypeMatrix.from_numpy(syn))
    assert c.count == 2 and list(c.synthetic_indices) == [4, 9] and list(c.train_indices) == [7, 31]
    near = metrics.copies(HaplotypeMatrix.from_numpy(train), HaplotypeMatrix.from_numpy(syn), threshold=3)
    assert list(near.synthetic_indices) == [4, 9, 12] and list(near.distances) == [0, 0, 3]


def test_membership_inference_matches_sklearn(rng):
    from sklearn.metrics import roc_auc_score

    pop = rng.integers(0, 2, (300, 30), dtype=np.uint8)
    train, holdout = pop[:150], pop[150:]
    syn = np.concatenate([train[:60], rng.integers(0, 2, (60, 30), dtype=np.uint8)])
    r = metrics.membership_inference(*(HaplotypeMatrix.from_numpy(x) for x in (train, holdout, syn)))
    d_m = reference.hamming_matrix(train, syn).min(1)
    d_n = reference.hamming_matrix(holdout, syn).min(1)
    labels = np.r_[np.ones(150), np.zeros(150)]
    assert r.auc == pytest.approx(roc_auc_score(labels, -np.r_[d_m, d_n]))
    assert r.auc > 0.6


def test_nearest_neighbor_chains_hand_made():
    real = H([[0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
    syn = H([[0, 0, 0, 0, 0, 1], [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    c = metrics.nearest_neighbor_chains(real, syn)
    # s0 <-> r0 mutual (d=1), s1 <-> r1 mutual (d=0); s2 -> r1 -> s1 -> r1: not mutual
    assert c.mutual_fraction == pytest.approx(2 / 3)
    assert sorted(c.mutual_distances) == [0, 1]
    assert list(c.chain_lengths) == [2, 2, 4]


def test_aats_needs_two_haplotypes():
    with pytest.raises(ValueError, match="at least 2 real"):
        metrics.aats(H([[0, 1]]), H([[0, 1], [1, 1]]))


def test_yelmen805_halves_in_seconds(shared_data):
    from genofast import io

    h = io.read_hapt(shared_data / "yelmen805" / "805_SNP_1000G_real.hapt.gz")
    perm = np.random.default_rng(0).permutation(h.n_haplotypes)
    a, b = h[perm[:2504]], h[perm[2504:]]
    r = metrics.aats(a, b)
    # two random halves of one cohort are exchangeable: AATS near the ideal 0.5
    assert 0.45 < r.aats < 0.55
    assert metrics.aats(a, b, tie="inclusive").aats > r.aats


def test_shared_neighbours_runs_each_distinct_search_once_with_the_same_results(rng, monkeypatch):
    from genofast import kernels
    from genofast.metrics import privacy

    types = rng.integers(0, 2, (4, 90), dtype=np.uint8)
    sets = [HaplotypeMatrix.from_numpy(types[rng.integers(0, 4, n)] ^ (rng.random((n, 90)) < 0.05))
            for n in (60, 60, 50)]
    real, hold, syn = sets

    def everything(real_again):
        a = privacy.aats(real, syn)
        return (a.aats, a.aa_truth, a.aa_syn, privacy.copies(real, syn).count,
                privacy.privacy_loss(real_again, hold, syn), privacy.membership_inference(real, hold, syn).auc)

    plain = everything(real)
    calls = []
    search = kernels.nearest_neighbors
    monkeypatch.setattr(kernels, "nearest_neighbors", lambda *a, **k: calls.append(1) or search(*a, **k))
    with privacy.shared_neighbours():
        copy = HaplotypeMatrix.from_numpy(real.to_numpy())  # another object with the same content
        shared = everything(copy)
    # real x syn (with column minima), real self, syn self, syn x real (copies), hold x syn, hold self
    assert len(calls) == 6
    assert shared == plain
    calls.clear()
    everything(real)  # outside the block nothing is shared: 3 + 1 + 6 + 2 searches
    assert len(calls) == 12
    with privacy.shared_neighbours():
        privacy.aats(real, syn)
        privacy.aats(real, HaplotypeMatrix.from_numpy(syn.to_numpy() ^ 1))  # other content: searched again
    assert len(calls) == 12 + 3 + 2


def _genotypes(rng, n, snps, missing=0.0):
    g = rng.choice(3, (n, snps), p=[0.5, 0.35, 0.15]).astype(np.int8)
    g[rng.random(g.shape) < missing] = -1
    return g


def _l1(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise L1 distances of dosage arrays, each set's missing calls at its most frequent dosage per SNP
    (lowest on ties): the documented rule, computed independently of the package."""
    from scipy.spatial.distance import cdist

    def filled(x):
        x = x.copy()
        for j in range(x.shape[1]):
            called = x[:, j][x[:, j] >= 0]
            x[x[:, j] < 0, j] = np.bincount(called, minlength=3).argmax() if called.size else 0
        return x

    return cdist(filled(a), filled(b), "cityblock").astype(np.int64)


def _l1_aats(real, syn, strict=True):
    d_ts, d_tt, d_ss = _l1(real, syn), _l1(real, real), _l1(syn, syn)
    np.fill_diagonal(d_tt, 10**9)
    np.fill_diagonal(d_ss, 10**9)
    cmp = np.greater if strict else np.greater_equal
    aa_truth, aa_syn = cmp(d_ts.min(1), d_tt.min(1)).mean(), cmp(d_ts.min(0), d_ss.min(1)).mean()
    return aa_truth, aa_syn, (aa_truth + aa_syn) / 2


@pytest.mark.parametrize("strict", [True, False])
def test_genotype_aats_is_the_l1_aats(rng, strict):
    """Unphased genotypes are compared by the allele copies two individuals differ in (L1 on dosages), missing
    calls at the set's most frequent dosage: against scipy's cityblock distances."""
    from genofast import GenotypeMatrix

    real, syn = _genotypes(rng, 90, 70, missing=0.05), _genotypes(rng, 60, 70, missing=0.02)
    r = metrics.aats(GenotypeMatrix.from_numpy(real), GenotypeMatrix.from_numpy(syn),
                     tie="strict" if strict else "inclusive")
    assert (r.aa_truth, r.aa_syn, r.aats) == pytest.approx(_l1_aats(real, syn, strict))
    np.testing.assert_array_equal(r.d_real_syn, _l1(real, syn).min(1))


def test_genotype_copies_privacy_loss_and_membership(rng):
    from sklearn.metrics import roc_auc_score

    from genofast import GenotypeMatrix

    pop = _genotypes(rng, 300, 40)
    train, holdout = pop[:150], pop[150:]
    syn = np.concatenate([train[:50], _genotypes(rng, 70, 40)])
    t, h, s = (GenotypeMatrix.from_numpy(x) for x in (train, holdout, syn))
    c = metrics.copies(t, s)
    assert c.count == (_l1(syn, train).min(1) == 0).sum() >= 50
    loss = metrics.privacy_loss(t, h, s)
    assert loss == pytest.approx(_l1_aats(holdout, syn)[2] - _l1_aats(train, syn)[2]) and loss > 0.1
    mia = metrics.membership_inference(t, h, s)
    labels = np.r_[np.ones(150), np.zeros(150)]
    assert mia.auc == pytest.approx(roc_auc_score(labels, -np.r_[_l1(train, syn).min(1), _l1(holdout, syn).min(1)]))
    d = metrics.quality.distance_distributions(t, s)
    np.testing.assert_array_equal(d.between[: 81], np.bincount(_l1(train, syn).ravel(), minlength=81))
    assert d.between.sum() == 150 * 120 and d.within_real.sum() == 150 * 149 // 2


def test_genotype_sets_are_aligned_before_their_distances(rng):
    """A synthetic set on the same SNPs in another order with REF/ALT swapped at some (dosage d -> 2 - d) scores
    as the same set written the real set's way."""
    from genofast import GenotypeMatrix, Variants

    real, syn = _genotypes(rng, 60, 30, missing=0.03), _genotypes(rng, 50, 30)
    v = Variants(np.full(30, "1"), np.arange(1, 31) * 100, np.array([f"s{i}" for i in range(30)]),
                 np.full(30, "A"), np.full(30, "G"))
    swap, order = rng.random(30) < 0.4, rng.permutation(30)
    written = np.where(swap, 2 - syn, syn)[:, order]
    w = Variants(v.chrom[order], v.position[order], v.id[order], np.where(swap, "G", "A")[order],
                 np.where(swap, "A", "G")[order])
    got = metrics.aats(GenotypeMatrix.from_numpy(real, variants=v), GenotypeMatrix.from_numpy(written, variants=w))
    assert got.aats == pytest.approx(_l1_aats(real, syn)[2])


def test_haplotypes_and_genotypes_are_not_compared(rng):
    from genofast import GenotypeMatrix

    h = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (20, 10), dtype=np.uint8))
    g = h.to_genotypes()
    assert isinstance(g, GenotypeMatrix)
    for call in (lambda: metrics.aats(h, g), lambda: metrics.privacy_loss(g, g, h),
                 lambda: metrics.quality.distance_distributions(g, h)):
        with pytest.raises(ValueError, match="compare like with like"):
            call()
    with pytest.raises(ValueError, match="AATS needs at least 2 synthetic individuals"):
        metrics.aats(g, g[:1])


def test_genotype_distances_with_a_snp_missing_everywhere(rng):
    """A SNP with no call in a set takes dosage 0 there (nothing to count a most frequent dosage from)."""
    from genofast import GenotypeMatrix

    real, syn = _genotypes(rng, 30, 20), _genotypes(rng, 25, 20)
    real[:, 4] = -1
    got = metrics.aats(GenotypeMatrix.from_numpy(real), GenotypeMatrix.from_numpy(syn))
    np.testing.assert_array_equal(got.d_real_syn, _l1(np.where(real < 0, 0, real), syn).min(1))
