"""Trio imputation (seed 004): Mendel's rules, simulation, windows, learners, accuracy, pedigree files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

import genofast
from genofast.impute import (LogitBoost, TotalBoost, Trios, imputation_accuracy, impute_trio_file, impute_trios,
                             mask_offspring, mendelian_dosage, read_pedigree, simulate_trios, solve_edge_lp,
                             transmitted_alleles, trios_from_genotypes, window_neighbours)
from genofast.impute.boosting import logistic_loss
from genofast.impute.trio_boost import parent_ld
from genofast.impute.trios import chromosome_blocks, gamete


def _trios(father, mother, child, chrom=None):
    father, mother, child = (np.atleast_2d(np.asarray(a, dtype=np.int8)) for a in (father, mother, child))
    n, s = child.shape
    v = genofast.Variants.numbered(s) if chrom is None else genofast.Variants(
        np.asarray(chrom), np.arange(1, s + 1), np.array([f"s{i}" for i in range(s)]), np.full(s, "A"), np.full(s, "C"))
    ids = np.arange(n).astype(str)
    return Trios(father, mother, child, v, np.char.add("f", ids), np.char.add("m", ids), np.char.add("c", ids))


@pytest.fixture(scope="module")
def small_sim():
    return simulate_trios(40, 1000, seed=7)


# ------------------------------------------------------------------------------------------- Mendel's rules

# (father, mother, child) -> (allele from father, allele from mother, Mendel error); -1 = not shown by the trio.
HAND_CASES = [
    ((0, 0, 0), (0, 0, False)), ((2, 2, 2), (1, 1, False)), ((0, 2, 1), (0, 1, False)),
    ((0, 0, 1), (-1, -1, True)), ((2, 0, 2), (-1, -1, True)),
    ((1, 0, 0), (0, 0, False)), ((1, 0, 1), (1, 0, False)), ((1, 2, 1), (0, 1, False)), ((1, 2, 2), (1, 1, False)),
    ((0, 1, 1), (0, 1, False)), ((2, 1, 1), (1, 0, False)), ((1, 0, 2), (-1, -1, True)), ((1, 2, 0), (-1, -1, True)),
    ((1, 1, 0), (0, 0, False)), ((1, 1, 2), (1, 1, False)), ((1, 1, 1), (-1, -1, False)),
    ((1, 0, -1), (-1, 0, False)), ((2, 1, -1), (1, -1, False)), ((-1, 0, 1), (-1, 0, False)),
    ((-1, 2, 1), (-1, 1, False)), ((-1, 1, 1), (-1, -1, False)),
]


@pytest.mark.parametrize("trio, expected", HAND_CASES)
def test_transmitted_alleles_hand_cases(trio, expected):
    tf, tm, err = transmitted_alleles(_trios(*([[x]] for x in trio)))
    assert (int(tf[0, 0]), int(tm[0, 0]), bool(err[0, 0])) == expected


def test_mendelian_dosage_hand_cases():
    t = _trios([[0, 1, 1, 2, 2, -1, 0]], [[2, 0, 1, 2, 1, 0, 0]], [[-1, -1, -1, -1, -1, -1, 1]])
    d = mendelian_dosage(t)
    # allele-1 frequency at SNP 5 from the parents' called alleles: father missing, mother 0 -> p = 0
    np.testing.assert_allclose(d, [[1.0, 0.5, 1.0, 2.0, 1.5, 0.0, 1.0]])


def test_trios_reject_non_diploid_dosage():
    with pytest.raises(ValueError, match="mother of family 0 has dosage 3 at SNP 1"):
        _trios([[0, 1]], [[0, 3]], [[0, 1]])


# -------------------------------------------------------------------------------------------------- simulation


def test_simulated_trios_obey_mendel(small_sim):
    t = small_sim.trios
    # Independent of transmitted_alleles: the child's dosage must be a + b for some allele a of each parent.
    alleles = {0: {0}, 1: {0, 1}, 2: {1}}
    ok = np.vectorize(lambda f, m, c: any(a + b == c for a in alleles[f] for b in alleles[m]))(
        t.father, t.mother, t.child)
    assert ok.all()
    assert not transmitted_alleles(t)[2].any()
    # Founders are diverse: every SNP segregates among parents and allele 1 is the minor one.
    freq = (t.father + t.mother).mean(0) / 4
    assert (freq > 0).all() and (freq <= 0.5 + 0.1).all()
    assert np.isin(t.child, (0, 1, 2)).all()


def test_gamete_crossovers_about_one_per_morgan():
    rng = np.random.default_rng(3)
    morgans = np.linspace(0, 1, 4000, endpoint=False)
    a, b = np.zeros(4000, np.int8), np.ones(4000, np.int8)
    switches, reported = [], []
    for _ in range(4000):
        g, n = gamete(a, b, morgans, 1.0, rng)
        switches.append(int((np.diff(g) != 0).sum()))  # seen in the gamete itself, not taken from gamete()
        reported.append(n)
    switches = np.array(switches)
    assert abs(switches.mean() - 1.0) < 0.06  # Poisson(1): SE of the mean of 4000 is 0.016
    assert abs(switches.var() - 1.0) < 0.15  # Poisson: variance = mean (no interference)
    assert (switches <= np.array(reported)).all() and (switches == reported).mean() > 0.99
    two = np.array([(np.diff(gamete(a, b, morgans * 2, 2.0, rng)[0]) != 0).sum() for _ in range(2000)])
    assert abs(two.mean() - 2.0) < 0.12


def test_simulated_crossovers_per_chromosome(small_sim):
    c = small_sim.crossovers
    assert c.shape == (40, 2, 5)
    assert abs(c.mean() - 1.0) < 0.25  # 400 meioses of 1 Morgan, SE 0.05


def test_simulation_is_seeded():
    a, b, c = simulate_trios(6, 500, seed=11), simulate_trios(6, 500, seed=11), simulate_trios(6, 500, seed=12)
    for name in ("father", "mother", "child"):
        np.testing.assert_array_equal(getattr(a.trios, name), getattr(b.trios, name))
    np.testing.assert_array_equal(a.trios.variants.position, b.trios.variants.position)
    assert not np.array_equal(a.trios.child, c.trios.child)


def test_mask_offspring_hides_exact_share_per_child(small_sim):
    t = small_sim.trios
    m1, m2 = mask_offspring(t, 0.3, seed=5), mask_offspring(t, 0.3, seed=5)
    np.testing.assert_array_equal(m1.child, m2.child)
    assert ((m1.child < 0).sum(1) == 300).all()
    kept = m1.child >= 0
    np.testing.assert_array_equal(m1.child[kept], t.child[kept])
    np.testing.assert_array_equal(m1.father, t.father)
    assert not np.array_equal(mask_offspring(t, 0.3, seed=6).child, m1.child)


# ----------------------------------------------------------------------------------------------------- windows


def test_window_neighbours_truncated_at_chromosome_ends():
    block = np.array([0, 0, 0, 1, 1, 1, 1])
    got = window_neighbours(block, 4)  # offsets -2, -1, +1, +2
    expected = np.array([
        [-1, -1, 1, 2], [-1, 0, 2, -1], [0, 1, -1, -1],
        [-1, -1, 4, 5], [-1, 3, 5, 6], [3, 4, 6, -1], [4, 5, -1, -1],
    ])
    np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="even"):
        window_neighbours(block, 3)


def test_chromosome_blocks_refuse_unsorted_snps():
    v = genofast.Variants(np.array(["1", "1", "2", "1"]), np.array([1, 2, 1, 3]), np.array(list("abcd")),
                          np.full(4, "A"), np.full(4, "C"))
    with pytest.raises(ValueError, match="chromosome 1 appears in more than one block"):
        chromosome_blocks(v)
    v = genofast.Variants(np.array(["1", "1", "1"]), np.array([5, 9, 7]), np.array(list("abc")), np.full(3, "A"),
                          np.full(3, "C"))
    with pytest.raises(ValueError, match="SNP c"):
        chromosome_blocks(v)


def test_parent_ld_matches_numpy_corrcoef(small_sim):
    t = small_sim.trios
    nb = window_neighbours(chromosome_blocks(t.variants), 10)
    r = parent_ld(t, nb)
    g = np.concatenate([t.father, t.mother]).astype(float)
    for j in (0, 1, 199, 200, 517, 999):
        for c in range(10):
            want = 0.0 if nb[j, c] < 0 else np.corrcoef(g[:, j], g[:, nb[j, c]])[0, 1]
            assert r[j, c] == pytest.approx(want, abs=1e-5)


# ---------------------------------------------------------------------------------------------------- accuracy


def test_accuracy_hand_case():
    truth = np.array([[0, 0, 1, 2, 0], [1, 2, 1, 1, 2], [2, 1, 1, 0, 1], [9, 9, 9, 9, 9]], float)
    imputed = np.array([[0, 2, 0, 1, 0], [1, 1, 0, 1, 2], [2, 0, 0, 1, 1], [-9, 9, -9, 9, 9]], float)
    untyped = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], bool)
    # SNP 0: identical -> 1. SNP 1: truth (0, 2, 1) vs imputed (2, 1, 0): deviations (-1, 1, 0) and (1, 0, -1),
    # r = (-1 + 0 + 0) / 2 = -0.5. SNP 2: truth constant -> skipped. SNP 3: imputed constant -> 0.
    # SNP 4: truth (0, 2, 1) vs (0, 2, 1) -> 1. Row 3 is typed and must be ignored.
    acc, scored, skipped = imputation_accuracy(imputed, truth, untyped)
    assert (scored, skipped) == (4, 1)
    assert acc == pytest.approx((1 - 0.5 + 0 + 1) / 4)


# ---------------------------------------------------------------------------------------------------- learners


def test_logitboost_reaches_the_maximum_likelihood_and_loss_never_rises():
    # One binary feature, label frequencies 0.2 and 0.9 in its two groups: the logistic MLE is those frequencies.
    x = np.r_[np.zeros(500), np.ones(500)][:, None]
    y = np.r_[np.arange(500) < 100, np.arange(500) < 450].astype(int)
    model = LogitBoost(n_rounds=50, max_depth=1).fit(x, y)
    p = model.predict_proba(np.array([[0.0], [1.0]]))[:, 1]
    np.testing.assert_allclose(p, [0.2, 0.9], atol=1e-4)
    assert np.all(np.diff(model.loss_) <= 1e-15)
    assert model.loss_[-1] == pytest.approx(logistic_loss(model.decision_function(x), y), rel=1e-9)


def test_logitboost_loss_decreases_on_noisy_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + rng.normal(size=2000) > 0).astype(int)
    model = LogitBoost(n_rounds=100, max_depth=3).fit(X, y)
    loss = np.array(model.loss_)
    assert np.all(np.diff(loss) <= 1e-15)
    assert loss[0] == pytest.approx(np.log(2)) and loss[-1] < 0.45
    assert model.loss_[-1] == pytest.approx(logistic_loss(model.decision_function(X), y), rel=1e-9)


def _greedy_min_edge(margins, cap):
    """min over capped distributions d of d . margins: fill the smallest margins first (fractional knapsack)."""
    total, mass = 0.0, 1.0
    for m in np.sort(margins):
        take = min(cap, mass)
        total, mass = total + take * m, mass - take
        if mass <= 0:
            break
    return total


@pytest.mark.parametrize("seed", range(5))
def test_edge_lp_is_feasible_and_optimal(seed):
    rng = np.random.default_rng(seed)
    n, t = 30, 6
    U = rng.choice([-1.0, 1.0], size=(n, t)) * rng.uniform(0.2, 1.0, size=(n, t))
    cap = 1 / (0.4 * n)
    d, gamma, w = solve_edge_lp(U, cap)
    assert d.sum() == pytest.approx(1) and (d >= -1e-12).all() and (d <= cap + 1e-12).all()
    assert (U.T @ d <= gamma + 1e-9).all()
    # Strong duality, checked two independent ways: the dual LP solved here, and the margin the returned
    # hypothesis weights w actually achieve (a greedy computation, no LP).
    c = np.r_[np.zeros(t), -1.0, cap * np.ones(n)]  # variables w (t), rho, xi (n): maximise rho - cap sum xi
    A_ub = np.hstack([-U, np.ones((n, 1)), -np.eye(n)])
    dual = linprog(c, A_ub=A_ub, b_ub=np.zeros(n), A_eq=np.r_[np.ones(t), 0, np.zeros(n)][None], b_eq=[1],
                   bounds=[(0, None)] * t + [(None, None)] + [(0, None)] * n, method="highs")
    assert -dual.fun == pytest.approx(gamma, abs=1e-8)
    assert w.sum() == pytest.approx(1) and (w >= 0).all()
    assert _greedy_min_edge(U @ w, cap) == pytest.approx(gamma, abs=1e-8)


def test_edge_lp_hand_cases():
    U = np.array([[1.0], [-1.0]])
    assert solve_edge_lp(U, 1.0)[1] == pytest.approx(-1.0)  # all weight on the misclassified example
    d, gamma, _ = solve_edge_lp(U, 0.5)  # capped at 1/2 each: forced uniform
    np.testing.assert_allclose(d, [0.5, 0.5])
    assert gamma == pytest.approx(0.0)
    with pytest.raises(ValueError, match="too small"):
        solve_edge_lp(U, 0.4)


def test_totalboost_hard_margin_separates_a_majority_vote():
    # Label = majority of three stumps: a vote of stumps separates it, so with the hard margin (cap 1)
    # the LP value is the smallest training margin of the combined vote and must end positive.
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(400, 3))
    y = ((X > 0.5).sum(1) >= 2).astype(int)
    model = TotalBoost(n_rounds=30, max_depth=1, nu=1 / 400, tol=1e-9).fit(X, y)
    f = model.decision_function(X)
    assert model.gamma_[-1] > 0.05
    assert (f * (2 * y - 1)).min() == pytest.approx(model.gamma_[-1], abs=1e-6)
    assert ((model.predict_proba(X)[:, 1] > 0.5) == y).all()
    assert model.weights_.sum() == pytest.approx(1) and len(model.weights_) == len(model.trees_)
    assert np.all(np.diff(model.gamma_) >= -1e-9)  # more hypotheses can only raise the smallest largest edge


# ---------------------------------------------------------------------------------------------- trio imputation


@pytest.mark.parametrize("learner", ["adaboost", "logitboost", "totalboost"])
def test_learners_beat_mendel_and_are_seeded(small_sim, learner):
    masked = mask_offspring(small_sim.trios, 0.3, seed=2)
    untyped = masked.child < 0
    mendel = imputation_accuracy(impute_trios(masked, "mendel").dosage, small_sim.trios.child, untyped)[0]
    a = impute_trios(masked, learner, n_rounds=20, n_train=5000, seed=3)
    b = impute_trios(masked, learner, n_rounds=20, n_train=5000, seed=3)
    np.testing.assert_array_equal(a.dosage, b.dosage)
    acc = imputation_accuracy(a.dosage, small_sim.trios.child, untyped)[0]
    assert 0.6 < mendel < 0.8  # E[child | parents] explains half the variance: r ~ 0.71
    assert acc > mendel + 0.1
    np.testing.assert_array_equal(a.dosage[~untyped], masked.child[~untyped])
    assert (a.dosage >= 0).all() and (a.dosage <= 2).all()


# ----------------------------------------------------------------------------------------------- pedigree files


def _write_ped(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_read_pedigree(tmp_path):
    ped = _write_ped(tmp_path / "x.ped", [
        "# comment", "F1 fa 0 0 1 -9", "F1 mo 0 0 2 -9", "F1 ch fa mo 2 -9 A A C C", "F2 half fa 0 1 -9", ""])
    p = read_pedigree(ped)
    assert list(p.child) == ["ch"] and list(p.father) == ["fa"] and list(p.mother) == ["mo"]
    assert list(p.line) == [4] and p.one_parent_lines == (5,)


@pytest.mark.parametrize("lines, message", [
    (["F1 a 0 0 1"], "line 1: expected at least 6 columns"),
    (["F1 a 0 0 1 -9", "F2 a 0 0 1 -9"], "line 2: sample 'a' is already on line 1"),
    (["F1 a a 0 1 -9"], "line 1: sample 'a' is its own father"),
    (["F1 a b b 1 -9"], "line 1: sample 'a' has 'b' as both father and mother"),
    (["F1 fa 0 0 2 -9", "F1 mo 0 0 2 -9", "F1 ch fa mo 1 -9"], "line 3: father 'fa' of sample 'ch' is recorded as "
                                                             "female on line 1"),
])
def test_read_pedigree_errors_name_file_and_line(tmp_path, lines, message):
    ped = _write_ped(tmp_path / "bad.fam", lines)
    with pytest.raises(ValueError, match=f"bad.fam, {message}"):
        read_pedigree(ped)


def test_trios_from_genotypes_unknown_sample(tmp_path):
    g = genofast.GenotypeMatrix.from_numpy(np.zeros((2, 3), np.int8), ids=np.array(["fa", "ch"]))
    ped = _write_ped(tmp_path / "p.fam", ["F fa 0 0 1 -9", "F ch fa mo 1 -9"])
    with pytest.raises(ValueError, match=r"p.fam, line 2: mother 'mo' of child 'ch' is not among the 2 genotyped"):
        trios_from_genotypes(g, read_pedigree(ped))


def test_impute_trio_file_round_trip(tmp_path, small_sim):
    t = mask_offspring(small_sim.trios, 0.3, seed=4)
    n = t.n_trios
    ids = np.concatenate([t.child_ids, t.father_ids, t.mother_ids])  # children first: order must not matter
    g = np.concatenate([t.child, t.father, t.mother])
    genofast.io.write_vcf(tmp_path / "in.vcf.gz", genofast.GenotypeMatrix.from_numpy(g, ids=ids, variants=t.variants))
    _write_ped(tmp_path / "trios.ped", [f"F{i} {t.child_ids[i]} {t.father_ids[i]} {t.mother_ids[i]} 0 -9"
                                        for i in range(n)])
    res = impute_trio_file(tmp_path / "in.vcf.gz", tmp_path / "trios.ped", tmp_path / "out.vcf.gz",
                           n_rounds=20, n_train=5000)
    out = genofast.io.read_vcf(tmp_path / "out.vcf.gz", phased=False)
    assert list(out.ids) == list(ids)
    d = out.to_numpy()
    assert (d[:n] >= 0).all()
    np.testing.assert_array_equal(d[n:], g[n:])  # parents untouched
    np.testing.assert_array_equal(d[:n][t.child >= 0], t.child[t.child >= 0])
    np.testing.assert_array_equal(d[:n], res.genotypes())
    assert imputation_accuracy(d[:n], small_sim.trios.child, t.child < 0)[0] > 0.85


def test_impute_trio_file_refuses_haploid_calls(tmp_path):
    vcf = tmp_path / "haploid.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n##contig=<ID=1>\n"
                   '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
                   "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tfa\tmo\tch\n"
                   "1\t10\ta\tA\tC\t.\tPASS\t.\tGT\t0/1\t0/0\t./.\n"
                   "1\t20\tb\tA\tC\t.\tPASS\t.\tGT\t0/1\t1\t0/1\n")
    ped = _write_ped(tmp_path / "t.fam", ["F ch fa mo 1 -9"])
    with pytest.raises(ValueError, match=r"haploid.vcf, line 6: site 1:20, sample mo: only diploid"):
        impute_trio_file(vcf, ped, tmp_path / "out.vcf")
    assert not (tmp_path / "out.vcf").exists()


def test_cli_imputes_trio_children(tmp_path, small_sim):
    from typer.testing import CliRunner

    from genofast.cli import app

    t = mask_offspring(small_sim.trios, 0.3, seed=4)
    n = t.n_trios
    ids = np.concatenate([t.father_ids, t.mother_ids, t.child_ids])
    g = np.concatenate([t.father, t.mother, t.child])
    genofast.io.write_vcf(tmp_path / "in.vcf.gz", genofast.GenotypeMatrix.from_numpy(g, ids=ids, variants=t.variants))
    ped = _write_ped(tmp_path / "t.ped", [f"F{i} {t.child_ids[i]} {t.father_ids[i]} {t.mother_ids[i]} 0 -9"
                                          for i in range(n)])
    runner = CliRunner()
    r = runner.invoke(app, ["impute", "trio-boost", str(tmp_path / "in.vcf.gz"), "--pedigree", str(ped),
                            "--learner", "mendel", "--out", str(tmp_path / "out.vcf.gz")])
    assert r.exit_code == 0, r.output
    d = genofast.io.read_vcf(tmp_path / "out.vcf.gz", phased=False).to_numpy()
    np.testing.assert_array_equal(d[: 2 * n], g[: 2 * n])
    assert (d[2 * n :] >= 0).all()
    r = runner.invoke(app, ["impute", "trio-boost", str(tmp_path / "in.vcf.gz"), "--out", str(tmp_path / "x.vcf")])
    assert r.exit_code == 1 and "needs --pedigree" in r.output
