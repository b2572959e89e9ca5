"""Choosing the epoch to keep: privacy and utility measured on fresh samples during training.

Yelmen et al. (2019) stopped an RBM when AATS came closest to 0.5. Alone that
rule prefers early, nearly independent-SNP models (they score near 0.5 by
being noisy in both directions) and, taking the best of many noisy
estimates, reports a score the kept model does not reproduce. Here every
evaluation records each criterion, and the kept epoch minimises

    w_privacy · (|AA_truth − target_truth| + |AA_syn − target_syn|)
    + w_af · (1 − AF r) + w_ld · (1 − LD r) + w_three_point · (1 − 3-point r)
    + w_pca · PCA distance + w_classifier · classifier Δ
    + w_privacy_loss · max(0, privacy loss)

The AA targets are what real, unseen haplotypes score: AATS between two
disjoint halves of the training set (with distance ties that is ≈ 0.46 under
the strict rule, not 0.5). LD r: Pearson r of r² over SNP pairs up to 20 SNPs
apart; 3-point r: over fixed triplets within 20 SNPs; AF r over all SNPs.
PCA distance (the seeds stopped WGAN and VAE by eye on PCA plots): the
1-Wasserstein distance between real and synthetic scores on each of the real
set's first four principal components, divided by the real component's
standard deviation, averaged; measured when the family's weight on it is
positive (the neural generators', see ``TorchGenerator.SELECT``). Classifier
Δ: the worst |0.5 − held-out accuracy| of the report's real-vs-synthetic
classifiers (logistic regression, kNN, MLP; three 2:1 splits of the
evaluation rows and the sample), measured when its weight is positive (off
by default). Perera et al. judge a GMMN by that Δ, but it depends on the
classifiers' training size: for one GMMN sample the MLP's Δ was 0.30 with
2,000 haplotypes a side and 0.01 with 1,000 (its early stopping then quits
at chance), so use an ``n_eval`` as large as the final test's. Privacy
loss: with held-out haplotypes (``fit(holdout=...)``), AATS(held-out,
sample) − AATS(training rows, sample) at equal sizes, recorded at every
evaluation. It is the one criterion that sees memorisation, since the others
compare the sample with the training set only: on a small array cohort (400
haplotypes) the kept epoch's AA_truth and AA_syn were 0.46 and 0.50 against
targets of 0.45 and 0.60, at a privacy loss of 0.32 (docs/rbm.md). Its
weight is 0 by default: on the 805-SNP set it wandered with no trend between
evaluations, so selecting on it keeps a low draw of noise.
"""

from __future__ import annotations

import math

import numpy as np

from ..matrix import HaplotypeMatrix
from ..metrics._dense import _pearson

# Criterion weights of the selection score (``fit(select=...)`` overrides any of them).
WEIGHTS = dict(privacy=1.0, af=1.0, ld=1.0, three_point=1.0, pca=0.0, classifier=0.0, privacy_loss=0.0)
CRITERIA = ("aats", "aa_truth", "aa_syn", "af_r", "ld_r", "three_point_r")
# Criteria measured only when their weight is positive: weight name -> (trace key, value counted when undefined,
# the highest valid value)
OPTIONAL = {"pca": ("pca_wasserstein", 10.0, None), "classifier": ("classifier_delta", 0.5, 0.5)}


def check_weights(weights, defaults: dict = WEIGHTS) -> dict:
    w = {**WEIGHTS, **defaults}
    if weights is not None:
        unknown = set(weights) - set(WEIGHTS)
        if unknown:
            raise ValueError(f"unknown selection weights {sorted(unknown)}; known: {sorted(WEIGHTS)}")
        for k, v in weights.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"selection weight {k!r} must be a finite number >= 0, got {v!r}")
            w[k] = float(v)
    if not any(w.values()):
        raise ValueError("at least one selection weight must be positive")
    return w


def score(row: dict, weights: dict) -> float:
    """The selection score of one evaluation (lower is better); a NaN criterion counts as its worst value."""
    def bad(r):  # 1 − r, with an undefined correlation (a constant sample) as bad as it gets
        return 2.0 if r is None or not math.isfinite(r) else 1.0 - r

    # both accuracies near their targets: a copier is low on both, noise high on AA_truth
    privacy = abs(row["aa_truth"] - row["target_truth"]) + abs(row["aa_syn"] - row["target_syn"])
    total = (weights["privacy"] * privacy + weights["af"] * bad(row["af_r"]) + weights["ld"] * bad(row["ld_r"])
             + weights["three_point"] * bad(row["three_point_r"]))
    for name, (key, worst, _) in OPTIONAL.items():
        if weights.get(name):
            v = row.get(key, float("nan"))
            total += weights[name] * (v if v is not None and math.isfinite(v) else worst)
    if weights.get("privacy_loss"):
        v = row.get("privacy_loss", float("nan"))
        total += weights["privacy_loss"] * (max(0.0, v) if v is not None and math.isfinite(v) else 1.0)
    return total


def best(trace: list[dict], weights: dict) -> dict:
    """The row of ``trace`` with the lowest score (the earliest among equals)."""
    if not trace:
        raise ValueError("no evaluations to select from")
    return min(trace, key=lambda row: (score(row, weights), row["epoch"]))


def holdout_alleles(holdout, alleles: np.ndarray, variants, eval_every, conditional: bool = False,
                    train_prints: np.ndarray | None = None):
    """The held-out haplotypes of ``fit(holdout=...)`` as alleles, checked against the training ``alleles`` and
    their SNP list ``variants`` (None: unknown), which a held-out matrix's must match. None: none given.
    ``train_prints``: the training rows' fingerprints where the caller has them already."""
    if holdout is None:
        return None
    from ..align import first_difference, has_metadata
    from ._base import as_alleles
    from ._gate import fingerprints

    if not eval_every:
        raise ValueError("holdout is scored at each evaluation: pass eval_every (epochs between evaluations) too")
    if conditional:
        raise ValueError("holdout is not supported for a model conditioned on context alleles: its samples "
                         "follow the training rows' contexts, which held-out haplotypes do not share")
    try:
        h = as_alleles(holdout)
    except ValueError as e:
        raise ValueError(f"held-out haplotypes: {e}") from None
    if h.shape[1] != alleles.shape[1]:
        raise ValueError(f"the held-out haplotypes have {h.shape[1]} SNPs, the training data {alleles.shape[1]}")
    known = (variants, getattr(holdout, "variants", None))
    if all(v is not None and has_metadata(v) for v in known):
        j = first_difference(*known)
        if j is not None:
            v = known[1]
            raise ValueError(f"the held-out haplotypes' SNP {j + 1} ({v.chrom[j]}:{v.position[j]} {v.ref[j]}>"
                             f"{v.alt[j]}) differs from the training data's; align them first "
                             "(genofast.align.align)")
    if h.shape[0] < 2:
        raise ValueError(f"the privacy loss needs at least 2 held-out haplotypes, got {h.shape[0]}")
    if np.isin(fingerprints(h), fingerprints(alleles) if train_prints is None else train_prints).all():
        raise ValueError(f"all {h.shape[0]} held-out haplotypes are also training haplotypes: hold out other "
                         "individuals' haplotypes, never trained on")
    return h


class Evaluator:
    """Training-set statistics computed once; each call scores one synthetic sample against them: every
    criterion of ``CRITERIA``, and those of ``OPTIONAL`` whose selection weight is positive."""

    def __init__(self, alleles: np.ndarray, n_eval: int, seed: int, weights: dict | None = None, holdout=None):
        from ..metrics import aats
        from ..metrics.quality import allele_frequencies, pair_r2, sample_triplets, three_point_correlations

        n_rows, n_snps = alleles.shape
        if n_rows < 4:
            raise ValueError(f"model selection needs at least 4 training haplotypes, got {n_rows}; "
                             "train with eval_every=0 to skip it")
        self.n = min(int(n_eval), n_rows // 2)
        order = np.random.default_rng((seed, 2)).permutation(n_rows)
        # the rows every evaluation compares with (a conditional model samples given their contexts)
        self.rows = np.sort(order[: self.n])
        self.real = HaplotypeMatrix.from_numpy(alleles[self.rows])
        other = HaplotypeMatrix.from_numpy(alleles[np.sort(order[self.n : 2 * self.n])])
        target = aats(self.real, other)
        self.target = dict(target_truth=target.aa_truth, target_syn=target.aa_syn)
        full = HaplotypeMatrix.from_numpy(alleles)
        self.af = allele_frequencies(full)
        span = min(20, n_snps - 1)
        self.pairs = np.array([(i, i + d) for d in range(1, span + 1) for i in range(n_snps - d)]).reshape(-1, 2)
        if len(self.pairs) > 20_000:
            keep = np.random.default_rng((seed, 3)).choice(len(self.pairs), 20_000, replace=False)
            self.pairs = self.pairs[np.sort(keep)]
        self.r2 = pair_r2(full, self.pairs) if len(self.pairs) else np.zeros(0)
        self.triplets = sample_triplets(n_snps, 2000, seed=seed) if n_snps >= 3 else None
        self.c3 = None if self.triplets is None else three_point_correlations(full, self.triplets)
        weights = {**WEIGHTS, **(weights or {})}
        self.classifier, self.seed = weights["classifier"] > 0, seed
        self.holdout = None if holdout is None else HaplotypeMatrix.from_numpy(holdout)
        if weights["privacy_loss"] > 0 and self.holdout is None:
            raise ValueError("the selection weight privacy_loss needs held-out haplotypes: fit(..., holdout=...)")
        self.pca = None
        if weights["pca"] > 0:
            from sklearn.decomposition import PCA

            x = alleles[self.rows].astype(np.float32)
            self.pca = PCA(n_components=min(4, x.shape[0], x.shape[1]), svd_solver="full").fit(x)
            self.scores = self.pca.transform(x)
            self.scale = np.where(self.scores.std(0) > 0, self.scores.std(0), 1.0)

    def __call__(self, synthetic: HaplotypeMatrix, epoch: int) -> dict:
        from ..metrics import aats
        from ..metrics.quality import allele_frequencies, pair_r2, three_point_correlations

        a = aats(self.real, synthetic)
        row = dict(epoch=int(epoch), aats=a.aats, aa_truth=a.aa_truth, aa_syn=a.aa_syn, **self.target)
        row["af_r"] = _pearson(self.af, allele_frequencies(synthetic))
        row["ld_r"] = _pearson(self.r2, pair_r2(synthetic, self.pairs)) if len(self.pairs) else float("nan")
        row["three_point_r"] = (float("nan") if self.triplets is None
                                else _pearson(self.c3, three_point_correlations(synthetic, self.triplets)))
        if self.pca is not None:
            from scipy.stats import wasserstein_distance

            s = self.pca.transform(synthetic.to_numpy().astype(np.float32))
            row["pca_wasserstein"] = float(np.mean([wasserstein_distance(self.scores[:, k], s[:, k]) / self.scale[k]
                                                    for k in range(s.shape[1])]))
        if self.classifier:
            from ..metrics.quality import classifier_scores

            # as many a side as the evaluation compares (classifier_scores takes the smaller set's size)
            row["classifier_delta"] = max(classifier_scores(self.real, synthetic, n_splits=3, max_per_class=self.n,
                                                            seed=self.seed).delta.values())
        if self.holdout is not None:
            from ..metrics import privacy_loss

            row["privacy_loss"] = privacy_loss(self.real, self.holdout, synthetic, seed=self.seed)
        return row


def trace_to_json(trace: list[dict]) -> list[dict]:
    """Trace rows for a checkpoint's JSON: NaN is not JSON, so an undefined criterion is stored as null."""
    return [{k: (v if v is None or math.isfinite(v) else None) for k, v in row.items()} for row in trace]


def trace_from_json(rows) -> list[dict]:
    """Trace rows from a checkpoint, checked: the epoch, each criterion a number in [-1, 1] (or null), the score."""
    from ._base import check_float, check_int

    if not isinstance(rows, list):
        raise ValueError(f"the trace must be a list, got {rows!r}")
    out = []
    for row in rows:
        if not isinstance(row, dict):
            raise ValueError(f"a trace row must be an object, got {row!r}")
        r = {"epoch": check_int(row["epoch"], "trace epoch")}
        for k in (*CRITERIA, "target_truth", "target_syn"):
            v = row[k]
            r[k] = float("nan") if v is None else check_float(v, f"trace {k}", -1.0, high=1.0)
        for key, _, high in OPTIONAL.values():
            if key in row:
                v = row[key]
                r[key] = float("nan") if v is None else check_float(v, f"trace {key}", high=high)
        if "privacy_loss" in row:
            v = row["privacy_loss"]
            r["privacy_loss"] = float("nan") if v is None else check_float(v, "trace privacy_loss", -1.0, high=1.0)
        r["score"] = check_float(row["score"], "trace score")
        out.append(r)
    return out


def selection_state(m) -> dict:
    """The part of a saved training state that says how a model was trained and chosen: the epochs run, the
    selection trace, the kept epoch (an RBM's checkpoint, and each window's in a chain's)."""
    return dict(epoch=m.epoch, best_epoch=m.best_epoch, trace=trace_to_json(m.trace))


def load_selection(m, st: dict) -> None:
    """Set what :func:`selection_state` saved back on ``m``, checked (ValueError when the kept epoch is not in the
    trace)."""
    from ._base import check_int

    m.epoch = check_int(st["epoch"], "epoch", 0)
    m.trace = trace_from_json(st["trace"])
    m.best_epoch = st["best_epoch"]
    if m.best_epoch is not None and m.best_epoch not in {row["epoch"] for row in m.trace}:
        raise ValueError(f"best_epoch {m.best_epoch!r} is not in the trace")
