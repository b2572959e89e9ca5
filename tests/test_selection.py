"""Selection scans, per-population statistics and UMAP/Isomap views (issue 17)."""

import numpy as np
import pytest

from genofast import HaplotypeMatrix
from genofast.metrics import population, quality, selection_scans
from genofast.metrics.selection import Scan


@pytest.fixture(scope="module")
def cohort():
    from genofast.simulate import simulate

    return simulate(180, 400, seed=3)


def _columns(h, rows):
    """SNPs x haplotypes int8, the layout scikit-allel takes, for direct reference calls."""
    return np.ascontiguousarray(h.to_numpy()[rows].T.astype(np.int8))


def _counts(a):
    return np.stack([a.shape[1] - a.sum(1), a.sum(1)], axis=1)


def test_scans_match_direct_scikit_allel_calls(cohort):
    import allel

    h, pops = cohort.haplotypes, cohort.populations
    a, b, c = (np.flatnonzero(pops == p) for p in "ABC")
    syn = h[a[::-1][:40]]  # a different, smaller "synthetic" set of real A haplotypes
    s = selection_scans(h, pops, {"s": syn}, focal="A", references=("B", "C"), window_size=8, window_step=4)
    pos = h.variants.position
    with np.errstate(divide="ignore", invalid="ignore"):
        xp = allel.standardize(allel.xpehh(_columns(h, a), _columns(h, b), pos, use_threads=False))
        xp_syn = allel.standardize(allel.xpehh(_columns(syn, slice(None)), _columns(h, b), pos, use_threads=False))
        raw = allel.ihs(_columns(h, a), pos, use_threads=False)
        ihs, _ = allel.standardize_by_allele_count(raw, _columns(h, a).sum(1), n_bins=50, diagnostics=False)
        pbs = allel.pbs(_counts(_columns(h, a)), _counts(_columns(h, b)), _counts(_columns(h, c)), 8, window_step=4)
    np.testing.assert_allclose(s.scans["XP-EHH"].real, xp, equal_nan=True)
    np.testing.assert_allclose(s.scans["XP-EHH"].synthetic["s"], xp_syn, equal_nan=True)
    np.testing.assert_allclose(s.scans["iHS"].real, ihs, equal_nan=True)
    np.testing.assert_allclose(s.scans["PBS"].real, pbs, equal_nan=True)
    ok = np.isfinite(xp) & np.isfinite(xp_syn)
    assert s.scans["XP-EHH"].r["s"] == pytest.approx(np.corrcoef(xp[ok], xp_syn[ok])[0, 1])
    # the per-SNP scans are summarised on the PBS windows: 8 SNPs every 4
    scan = s.scans["XP-EHH"]
    assert len(scan.real_windows) == len(pbs) == (400 - 8) // 4 + 1
    assert scan.window_start[3] == pos[12] and scan.window_stop[3] == pos[19]
    w = next(w for w in range(len(pbs)) if np.isfinite(xp[4 * w : 4 * w + 8]).any()
             and np.isfinite(ihs[4 * w : 4 * w + 8]).any())
    assert scan.real_windows[w] == pytest.approx(np.nanmax(xp[4 * w : 4 * w + 8]))
    assert s.scans["iHS"].real_windows[w] == pytest.approx(np.nanmax(np.abs(ihs[4 * w : 4 * w + 8])))
    empty = ~np.array([np.isfinite(xp[4 * v : 4 * v + 8]).any() for v in range(len(pbs))])
    assert np.isnan(scan.real_windows[empty]).all()
    assert s.n_real == a.size and s.n_synthetic == {"s": 40}


def test_identical_set_scores_one_and_noise_scores_less(cohort):
    h, pops = cohort.haplotypes, cohort.populations
    a = np.flatnonzero(pops == "A")
    rng = np.random.default_rng(0)
    x = h[a].to_numpy()
    shuffled = np.array([rng.permutation(col) for col in x.T]).T  # same frequencies, no haplotypes
    sets = {"same": h[a], "noise": HaplotypeMatrix.from_numpy(shuffled, variants=h.variants)}
    s = selection_scans(h, pops, sets, focal="A")
    for scan in s.scans.values():
        assert scan.r["same"] == pytest.approx(1.0) and scan.top_overlap["same"] == 1.0
        assert scan.real_top_rank("same") == 1
    # PBS depends on frequencies only, which the shuffle keeps; EHH needs haplotypes, which it destroys
    assert s.scans["PBS"].r["noise"] == pytest.approx(1.0)
    assert s.scans["iHS"].r["noise"] < 0.3
    # XP-EHH keeps part of its r through the real reference population both scans share (here ~0.86),
    # so its r alone flatters a model: the top windows tell more
    assert s.scans["XP-EHH"].r["noise"] < 0.95 and s.scans["XP-EHH"].top_overlap["noise"] == 0
    assert s.table()["noise"]["XP-EHH r"] == s.scans["XP-EHH"].r["noise"]


def test_window_rank_on_hand_made_scan():
    scan = Scan("PBS", "PBS", np.array([15, 35, 55]), np.array([0.1, 0.9, 0.5]), {"s": np.array([0.8, 0.1, np.nan])},
                np.array([10, 30, 50]), np.array([20, 40, 60]), np.array([0.1, 0.9, 0.5]),
                {"s": np.array([0.8, 0.1, np.nan])}, {"s": 0.0}, {"s": 0.0}, 1)
    assert scan.window_rank(35) == 1 and scan.window_rank(55) == 2 and scan.window_rank(12) == 3
    assert scan.window_rank(55, "s") == 3  # NaN ranks last
    assert scan.window_rank(45, flank=6) == 1  # window 30-40 is within 6 bp
    assert scan.real_top_rank("s") == 2
    with pytest.raises(ValueError, match="no PBS window"):
        scan.window_rank(25)


def test_scans_refuse_what_they_cannot_do(cohort, rng):
    h, pops = cohort.haplotypes, cohort.populations
    with pytest.raises(ValueError, match="positions"):
        selection_scans(HaplotypeMatrix.from_numpy(h.to_numpy()), pops, h[:10])
    with pytest.raises(ValueError, match="labels"):
        selection_scans(h, pops[:-1], h[:10])
    with pytest.raises(ValueError, match="2 comparison"):
        selection_scans(h, pops, h[:10], focal="A", references=("B",))
    selection_scans(h, pops, h[:10], focal="A", references=("B",), scans=("XP-EHH", "iHS"))  # no PBS: fine
    a = h.to_numpy().astype(np.int8)
    a[0, 0] = -1
    with pytest.raises(ValueError, match="missing"):
        selection_scans(HaplotypeMatrix.from_numpy(a, variants=h.variants), pops, h[:10])


def test_sweep_simulation_puts_the_signal_at_the_selected_site():
    from genofast.simulate import simulate_sweep

    sim = simulate_sweep((200, 100, 100), 1000, seed=1)
    assert sim.haplotypes.n_haplotypes == 400 and sim.sweep_position == 1_000_001
    assert list(np.unique(sim.populations, return_counts=True)[1]) == [200, 100, 100]
    assert np.all(np.diff(sim.haplotypes.variants.position) > 0)
    s = selection_scans(sim.haplotypes, sim.populations, sim.haplotypes[:20], focal="A", scans=("XP-EHH",))
    # of ~200 windows, the sweep region ranks among the strongest XP-EHH signals of A vs B
    assert s.scans["XP-EHH"].window_rank(sim.sweep_position, flank=50_000) <= 3


def test_labels_from_files_and_ids(tmp_path):
    tsv = tmp_path / "labels.tsv"
    tsv.write_text("sample\tpop\tsuper_pop\nHG1\tGBR\tEUR\nHG2\tYRI\tAFR\n")
    labels = population.read_labels(tsv)
    assert labels == {"HG1": "EUR", "HG2": "AFR"}
    assert population.read_labels(tsv, "pop")["HG2"] == "YRI"
    csv = tmp_path / "super"
    csv.write_text("Estonian,Europe\nHan,East Asia\n")
    assert population.read_labels(csv) == {"Estonian": "Europe", "Han": "East Asia"}
    ids = ["HG1_A", "HG1_B", "HG2_A", "HG2"]
    assert list(population.haplotype_labels(ids, labels)) == ["EUR", "EUR", "AFR", "AFR"]
    with pytest.raises(ValueError, match="HG3"):
        population.haplotype_labels(["HG3_A"], labels)
    with pytest.raises(ValueError, match="pop_x"):
        population.read_labels(tsv, "pop_x")


def test_labels_from_an_eigenstrat_ind_file(tmp_path, shared_data):
    ind = tmp_path / "x.ind"
    ind.write_text("  HG1   M  Han\nHG2 U\tYoruba\n")
    assert population.read_labels(ind) == {"HG1": "Han", "HG2": "Yoruba"}
    ind.write_text("HG1 M Han\nHG2 U\n")
    with pytest.raises(ValueError, match="x.ind, line 2: expected 'sample sex population', got 2 fields"):
        population.read_labels(ind)
    # the real file's populations are the .fam's first column (its README: they match)
    ho = shared_data / "humanorigins249" / "HumanOrigins249_tiny"
    fam = [line.split() for line in ho.with_suffix(".fam").read_text().splitlines()]
    assert population.read_labels(ho.with_suffix(".ind")) == {r[1]: r[0] for r in fam}


def test_split_and_nearest_neighbour_assignment(rng):
    real = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (30, 70)))
    labels = np.array(["X", "Y", "Z"] * 10)
    parts = population.split(real, labels)
    assert list(parts) == ["X", "Y", "Z"]
    np.testing.assert_array_equal(parts["Y"].to_numpy(), real.to_numpy()[1::3])
    syn = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (25, 70)))
    got = population.assign(real, labels, syn)
    d = (syn.to_numpy()[:, None, :] != real.to_numpy()[None, :, :]).sum(-1)
    np.testing.assert_array_equal(got, labels[d.argmin(1)])  # argmin: ties to the lower row, as the kernel


def test_per_population_statistics_are_the_statistics_of_each_subset(cohort):
    h, pops = cohort.haplotypes, cohort.populations
    syn = h[::-1]
    syn_labels = pops[::-1]
    per = population.per_population(h, pops, syn, syn_labels)
    assert set(per) == {"A", "B", "C"}
    for p in "ABC":
        rows = np.flatnonzero(pops == p)
        assert per[p]["real share"] == pytest.approx(1 / 3) and per[p]["synthetic share"] == pytest.approx(1 / 3)
        assert per[p]["AF r"] == pytest.approx(quality.compare_allele_frequencies(h[rows], h[rows[::-1]]).r)
        assert per[p]["exact copies"] == rows.size and per[p]["AATS"] == 0.0
    # a model that generates only population A: B and C get shares and no statistics
    only_a = population.per_population(h, pops, h[np.flatnonzero(pops == "A")])
    assert only_a["A"]["synthetic share"] == 1.0 and only_a["B"] == {"real share": pytest.approx(1 / 3),
                                                                      "synthetic share": 0.0}


@pytest.mark.parametrize("method", ["isomap", "umap"])
def test_embeddings_are_deterministic_and_project_real_onto_itself(cohort, method):
    h, pops = cohort.haplotypes, cohort.populations
    real, syn = h[::2], h[1::2][:50]
    e1 = population.embed(real, syn, method, seed=1)
    e2 = population.embed(real, syn, method, seed=1)
    assert e1.real.shape == (90, 2) and e1.synthetic.shape == (50, 2)
    np.testing.assert_array_equal(e1.real, e2.real)
    np.testing.assert_array_equal(e1.synthetic, e2.synthetic)
    same = population.embed(real, real, method, seed=1)
    np.testing.assert_allclose(same.synthetic, same.real, atol=1e-5)  # the same haplotypes land in the same place
    # population structure survives the projection: each synthetic point's nearest real points share its population
    # (a vote of the 5 nearest: the single nearest one swings between 0.74 and 0.96 with the seed and UMAP's version)
    labels = pops[::2]
    d = ((e1.synthetic[:, None, :] - e1.real[None, :, :]) ** 2).sum(-1)
    votes = labels[np.argsort(d, axis=1)[:, :5]]
    majority = np.array([u[c.argmax()] for u, c in (np.unique(v, return_counts=True) for v in votes)])
    agree = (majority == pops[1::2][:50]).mean()
    assert agree > 0.8
