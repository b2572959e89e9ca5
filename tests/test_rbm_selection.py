"""Model selection during RBM training: the rule, its criteria, and what the kept model reproduces."""

import numpy as np
import pytest

from genofast import HaplotypeMatrix, metrics
from genofast.models import RBM
from genofast.models._selection import WEIGHTS, Evaluator, best, check_weights, score


def _row(epoch, truth, syn, af, ld, c3, target=(0.46, 0.45)):
    return dict(epoch=epoch, aats=(truth + syn) / 2, aa_truth=truth, aa_syn=syn, af_r=af, ld_r=ld,
                three_point_r=c3, target_truth=target[0], target_syn=target[1])


TRACE = [
    _row(5, 0.51, 0.49, 0.95, 0.40, 0.10),  # AATS 0.50 exactly, but nearly independent SNPs
    _row(10, 0.62, 0.40, 0.99, 0.90, 0.85),  # good utility, AA off by 0.16 / 0.05
    _row(15, 0.50, 0.44, 0.99, 0.88, 0.80),  # AA off by 0.04 / 0.01, utility slightly lower
    _row(20, 0.30, 0.20, 1.00, 0.99, 0.95),  # best utility, but close to copying
]


def test_score_by_hand():
    # epoch 15: |0.50 − 0.46| + |0.44 − 0.45| + (1 − 0.99) + (1 − 0.88) + (1 − 0.80)
    assert score(TRACE[2], WEIGHTS) == pytest.approx(0.04 + 0.01 + 0.01 + 0.12 + 0.20)
    w = check_weights({"privacy": 2.0, "ld": 0.0})
    assert score(TRACE[1], w) == pytest.approx(2 * (0.16 + 0.05) + 0.01 + 0.15)
    # the classifier criterion counts only when weighted; unmeasured, it is chance-level's worst, 0.5
    w = check_weights({"classifier": 2.0})
    assert score(dict(TRACE[2], classifier_delta=0.2), WEIGHTS) == pytest.approx(0.38)
    assert score(dict(TRACE[2], classifier_delta=0.2), w) == pytest.approx(0.38 + 0.4)
    assert score(dict(TRACE[2], classifier_delta=float("nan")), w) == pytest.approx(0.38 + 1.0)
    # it can overturn the choice: epoch 10 (score 0.47) beats 15 (0.38) when 15's synthetic set is told apart
    marked = [dict(r, classifier_delta=d) for r, d in zip(TRACE, (0.4, 0.05, 0.25, 0.3))]
    assert best(marked, WEIGHTS)["epoch"] == 15 and best(marked, w)["epoch"] == 10


def test_selection_rule_on_hand_made_trace():
    # scores: 5 → 0.09 + 1.55; 10 → 0.21 + 0.26; 15 → 0.05 + 0.33; 20 → 0.41 + 0.06
    assert best(TRACE, WEIGHTS)["epoch"] == 15  # not the AATS-0.5 epoch, not the copier
    assert best(TRACE, check_weights({"privacy": 10.0}))["epoch"] == 15
    # privacy alone: the old rule's answer is the epoch whose AA are nearest their targets
    only_privacy = check_weights({"af": 0, "ld": 0, "three_point": 0})
    assert best(TRACE, only_privacy)["epoch"] == 15
    # utility alone picks the copier: why privacy is in the rule
    assert best(TRACE, check_weights({"privacy": 0}))["epoch"] == 20
    # an undefined correlation (constant sample) is the worst value, never a free pass
    nan_row = _row(25, 0.46, 0.45, 1.0, float("nan"), 1.0)
    assert score(nan_row, WEIGHTS) == pytest.approx(2.0)


@pytest.mark.parametrize("weights, message", [
    ({"aats": 1.0}, "unknown selection weights"), ({"af": -1.0}, "'af' must be a finite number >= 0"),
    ({"ld": float("nan")}, "'ld' must be"), ({"privacy": 0, "af": 0, "ld": 0, "three_point": 0}, "one selection"),
])
def test_bad_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        check_weights(weights)


def _structured(rng, n=1200, snps=60):
    """Four haplotype types with 3% noise: linkage an RBM can learn."""
    types = rng.integers(0, 2, (4, snps), dtype=np.uint8)
    return types[rng.integers(0, 4, n)] ^ (rng.random((n, snps)) < 0.03).astype(np.uint8)


def test_evaluator_criteria_equal_direct_numpy(rng):
    data = _structured(rng, 400, 30)
    ev = Evaluator(data, 150, seed=4)
    syn = HaplotypeMatrix.from_numpy(_structured(np.random.default_rng(9), 150, 30))
    row = ev(syn, 3)
    a = metrics.aats(ev.real, syn)
    assert (row["aa_truth"], row["aa_syn"]) == (a.aa_truth, a.aa_syn)
    s = syn.to_numpy().astype(float)
    assert row["af_r"] == pytest.approx(np.corrcoef(data.mean(0), s.mean(0))[0, 1])

    def r2(x, i, j):
        return np.corrcoef(x[:, i], x[:, j])[0, 1] ** 2

    real_r2 = [r2(data.astype(float), i, j) for i, j in ev.pairs]
    syn_r2 = [r2(s, i, j) for i, j in ev.pairs]
    assert row["ld_r"] == pytest.approx(np.corrcoef(real_r2, syn_r2)[0, 1], rel=1e-6)
    assert all(j - i <= 20 for i, j in ev.pairs)
    # the target: AATS between the evaluated real rows and as many other training rows
    real = ev.real.to_numpy()
    assert ev.n == 150 and all((data == r).all(1).any() for r in real)
    codes = {r.tobytes() for r in data}
    assert 0 <= row["target_truth"] <= 1 and 0 <= row["target_syn"] <= 1 and len(codes) > 150
    assert "classifier_delta" not in row  # measured only when asked for


def test_evaluator_classifier_criterion(rng):
    data = _structured(rng, 550, 30)
    ev = Evaluator(data[:400], 150, seed=4, weights={"classifier": 1.0})
    same = HaplotypeMatrix.from_numpy(data[400:])  # unseen draws of the same four types
    # each SNP shuffled on its own: the same frequencies without the four haplotype types
    shuffled = np.column_stack([np.random.default_rng(j).permutation(c) for j, c in enumerate(ev.real.to_numpy().T)])
    near, far = ev(same, 1)["classifier_delta"], ev(HaplotypeMatrix.from_numpy(shuffled), 2)["classifier_delta"]
    assert near < 0.1 and far > 0.3
    # the report's classifiers on three splits of the same rows, the worst of them
    ref = metrics.quality.classifier_scores(ev.real, same, n_splits=3, max_per_class=150, seed=4)
    assert near == max(ref.delta.values())


def test_evaluator_privacy_loss_equals_direct_numpy(rng):
    from reference import aats as ref_aats

    data = rng.integers(0, 2, (700, 30), dtype=np.uint8)  # nearest neighbours about 8 SNPs apart
    train, held = data[:400], data[400:550]  # as many held-out rows as the evaluation compares: no subsample
    ev = Evaluator(train, 150, seed=4, holdout=held)
    real = ev.real.to_numpy()
    unseen = data[550:]
    copier = real.copy()  # a "model" that hands out the rows it is compared with
    copier[np.arange(150), rng.integers(0, 30, 150)] ^= 1  # not exact copies: one allele off each
    for syn, sign in ((unseen, 0), (copier, 1)):
        row = ev(HaplotypeMatrix.from_numpy(syn), 1)
        expect = ref_aats(held, syn)[2] - ref_aats(real, syn)[2]
        assert row["privacy_loss"] == pytest.approx(expect, abs=1e-12)
        assert (row["privacy_loss"] > 0.3) if sign else (abs(row["privacy_loss"]) < 0.1)
    assert "privacy_loss" not in Evaluator(train, 150, seed=4)(HaplotypeMatrix.from_numpy(unseen), 1)


def test_privacy_loss_weight():
    # counted only when weighted, and only above 0: leaning toward the held-out set is no privacy cost
    w = check_weights({"privacy_loss": 2.0})
    assert score(dict(TRACE[2], privacy_loss=0.1), WEIGHTS) == pytest.approx(0.38)
    assert score(dict(TRACE[2], privacy_loss=0.1), w) == pytest.approx(0.38 + 0.2)
    assert score(dict(TRACE[2], privacy_loss=-0.1), w) == pytest.approx(0.38)
    assert score(dict(TRACE[2], privacy_loss=float("nan")), w) == pytest.approx(0.38 + 2.0)
    # it can overturn the choice: epoch 15 (0.38) leaks 0.3, epoch 10 (0.47) nothing
    marked = [dict(r, privacy_loss=p) for r, p in zip(TRACE, (0.0, 0.0, 0.3, 0.5))]
    assert best(marked, WEIGHTS)["epoch"] == 15 and best(marked, w)["epoch"] == 10
    with pytest.raises(ValueError, match="privacy_loss needs held-out haplotypes"):
        Evaluator(np.zeros((10, 5), np.uint8), 4, seed=0, weights=w)


def test_fit_with_holdout_records_privacy_loss(rng, tmp_path):
    data = _structured(rng, 900, 40)
    held = HaplotypeMatrix.from_numpy(data[700:])
    m = RBM(40, 16, training="rdm", k=20, n_chains=64, batch_size=64, lr=3e-3)
    m.fit(data[:700], epochs=4, seed=2, eval_every=2, n_eval=200, holdout=held, select={"privacy_loss": 1.0},
          checkpoint=tmp_path / "m.safetensors")
    assert all(-1 <= row["privacy_loss"] <= 1 for row in m.trace) and len(m.trace) == 2
    assert m.best_epoch == best(m.trace, check_weights({"privacy_loss": 1.0}))["epoch"]
    assert RBM.load(tmp_path / "m.safetensors").trace == m.trace
    # the evaluations draw the same samples with or without a held-out set: only the extra criterion differs
    plain = RBM(40, 16, training="rdm", k=20, n_chains=64, batch_size=64, lr=3e-3)
    plain.fit(data[:700], epochs=4, seed=2, eval_every=2, n_eval=200)
    assert [{k: v for k, v in r.items() if k not in ("privacy_loss", "score")} for r in m.trace] == \
        [{k: v for k, v in r.items() if k != "score"} for r in plain.trace]


@pytest.mark.parametrize("holdout, kwargs, message", [
    (np.zeros((5, 39), np.uint8), {}, "held-out haplotypes have 39 SNPs, the training data 40"),
    (np.zeros((1, 40), np.uint8), {}, "at least 2 held-out haplotypes"),
    (np.full((5, 40), 2, np.uint8), {}, "held-out haplotypes: haplotypes must contain only 0 and 1"),
    (np.zeros((5, 40), np.uint8), {"eval_every": 0}, "pass eval_every"),
    (np.zeros((5, 40), np.uint8), {"context": np.zeros((64, 3), np.uint8)}, "conditioned on context"),
    ("training", {}, "all 64 held-out haplotypes are also training haplotypes"),
])
def test_fit_refuses_bad_holdout(rng, holdout, kwargs, message):
    data = _structured(rng, 64, 40)
    holdout = data if isinstance(holdout, str) else holdout
    n_context = 3 if "context" in kwargs else 0
    m = RBM(40, 4, n_context=n_context)
    with pytest.raises(ValueError, match=message):
        m.fit(data, epochs=1, **{"eval_every": 1, **kwargs}, holdout=holdout)
    assert m.epoch == 0


def test_fit_refuses_holdout_on_other_snps(rng):
    from genofast.matrix import Variants

    data = _structured(rng, 64, 6)
    v = Variants(chrom=np.array(["1"] * 6), position=np.arange(1, 7) * 100, id=np.array([f"s{i}" for i in range(6)]),
                 ref=np.array(["A"] * 6), alt=np.array(["G"] * 6))
    w = Variants(chrom=v.chrom, position=v.position.copy(), id=v.id, ref=v.ref, alt=v.alt)
    w.position[3] += 1
    train = HaplotypeMatrix.from_numpy(data, variants=v)
    held = HaplotypeMatrix.from_numpy(data[:8], variants=w)
    with pytest.raises(ValueError, match=r"held-out haplotypes' SNP 4 \(1:401 A>G\) differs"):
        RBM(6, 4).fit(train, epochs=1, eval_every=1, holdout=held)


def test_kept_epoch_is_the_best_scoring_and_trace_survives_checkpoints(rng, tmp_path):
    data = _structured(rng)
    m = RBM(60, 16, training="rdm", k=20, n_chains=64, batch_size=64, lr=3e-3)
    m.fit(data, epochs=6, seed=2, eval_every=2, n_eval=300, checkpoint=tmp_path / "m.safetensors")
    assert [row["epoch"] for row in m.trace] == [2, 4, 6]
    assert m.best_epoch == best(m.trace, WEIGHTS)["epoch"]
    for k, v in m.best_state.items():
        np.testing.assert_array_equal(m.params[k].numpy(), v.numpy())
    loaded = RBM.load(tmp_path / "m.safetensors")
    assert loaded.trace == m.trace and loaded.best_epoch == m.best_epoch
    # other weights, another rule: privacy alone keeps the epoch whose AA are nearest their targets
    w = {"af": 0, "ld": 0, "three_point": 0}
    m2 = RBM(60, 16, training="rdm", k=20, n_chains=64, batch_size=64, lr=3e-3)
    m2.fit(data, epochs=6, seed=2, eval_every=2, n_eval=300, select=w)
    assert m2.best_epoch == min(m2.trace, key=lambda r: abs(r["aa_truth"] - r["target_truth"])
                                + abs(r["aa_syn"] - r["target_syn"]))["epoch"]
    # with classifiers weighed in, their criterion is kept in the checkpoint's trace too
    m3 = RBM(60, 16, training="rdm", k=20, n_chains=64, batch_size=64, lr=3e-3)
    m3.fit(data, epochs=4, seed=2, eval_every=2, n_eval=300, select={"classifier": 1.0, "pca": 1.0},
           checkpoint=tmp_path / "m3.safetensors")
    assert all(0 <= row["classifier_delta"] <= 0.5 for row in m3.trace)
    assert all(np.isfinite(row["pca_wasserstein"]) and row["pca_wasserstein"] >= 0 for row in m3.trace)
    assert RBM.load(tmp_path / "m3.safetensors").trace == m3.trace


def test_evaluation_and_fresh_sample_agree(rng):
    """The kept model's AATS on a fresh sample equals the evaluated one within sampling error."""
    data = _structured(rng, 2000)
    m = RBM(60, 16, training="rdm", k=20, n_chains=64, batch_size=64, lr=3e-3)
    m.fit(data, epochs=8, seed=3, eval_every=2, n_eval=1000)
    kept = next(row for row in m.trace if row["epoch"] == m.best_epoch)
    ev = Evaluator(data, 1000, seed=3)  # the same real subset the evaluations used
    fresh = [metrics.aats(ev.real, m.sample(1000, seed=s, allow_copies=True)).aats for s in (101, 102, 103)]
    # sd of a 1000-vs-1000 AATS is about 0.011 here; four of them is a generous bound
    assert abs(np.mean(fresh) - kept["aats"]) < 0.045
    assert np.std(fresh) < 0.03


def test_report_plots_the_training_trace(rng, tmp_path):
    from genofast.report import evaluate

    data = _structured(rng, 300, 24)
    m = RBM(24, 8, training="rdm", k=5, n_chains=32, lr=3e-3).fit(data, epochs=4, seed=1, eval_every=2, n_eval=100)
    real = HaplotypeMatrix.from_numpy(data)
    syn = m.sample(300, seed=2, allow_copies=True)
    out = tmp_path / "r.html"
    result = evaluate(real, {"RBM": syn}, out=out, classifiers=False, training={"RBM": m})
    assert result.training["RBM"] == (m.trace, m.best_epoch)
    page = out.read_text()
    assert 'id="training"' in page and "kept epoch" in page
    with pytest.raises(ValueError, match="has no trace"):
        evaluate(real, {"RBM": syn}, classifiers=False, training={"RBM": object()})
