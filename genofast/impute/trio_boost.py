"""Imputing the untyped SNPs of trio children with boosted trees on windows of flanking SNPs.

What is learned. A child's genotype at an untyped SNP is the sum of the
alleles its parents passed on. A homozygous parent's is known (Mendel); for
a heterozygous parent the question is which of its two alleles it passed,
i.e. which parental haplotype the child carries there. At the child's typed
SNPs nearby the trio often shows which allele that parent passed; linkage
disequilibrium says how those alleles sit on the parent's haplotypes
relative to the target's. So each example is (family, SNP, heterozygous
parent), the label is the passed allele (0/1), and the features are, for
each of the L flanking SNPs of the window (seed 004: L/2 each side,
truncated at chromosome ends), the vote ``r_jl * (+1 or -1)`` of the allele
the parent passed at SNP l when the trio shows it (0 otherwise), with
``r_jl`` the genotype correlation of SNPs j and l among all parents, plus the
sum of the votes and the number of informative neighbours. These features
mean the same thing at every SNP, so one learner is trained on the typed
child calls of all SNPs and both parents, and applied to all untyped ones.
The child's dosage is then the sum over parents of the known allele or the
learner's probability.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .boosting import LEARNERS, make_learner
from .trios import Trios, allele_frequency, chromosome_blocks, mendelian_dosage, transmitted_alleles, window_neighbours

_CHUNK = 1 << 18  # rows of features built and scored at a time: bounds memory at ~L * 4 B * 256k


@dataclass
class TrioImputation:
    """Imputed child dosages (observed calls kept) and what it took."""

    dosage: np.ndarray  # families x SNPs, float in [0, 2]
    learner: str
    n_train: int
    mendel_errors: int
    seconds: dict = field(default_factory=dict)
    n_trees: int = 0  # trees the learner kept (LogitBoost and TotalBoost may stop before n_rounds)

    def genotypes(self) -> np.ndarray:
        """Hard calls: the dosage rounded to the nearest genotype."""
        return np.clip(np.rint(self.dosage), 0, 2).astype(np.int8)


def parent_ld(trios: Trios, neighbours: np.ndarray) -> np.ndarray:
    """Correlation of the parents' dosages at each SNP and each of its window neighbours (0 past chromosome ends).

    Dosage correlation estimates the haplotype correlation r under
    Hardy-Weinberg equilibrium; parents are typed at every SNP, so this uses
    all of them. Missing calls enter at the SNP mean and so add nothing.
    """
    g = np.concatenate([trios.father, trios.mother]).astype(np.float32)
    called = g >= 0
    n = np.maximum(called.sum(0), 1)
    mean = (g * called).sum(0) / n
    z = np.where(called, g - mean, 0.0).astype(np.float32)
    sd = np.sqrt((z * z).sum(0) / n)
    z = np.divide(z, sd, out=np.zeros_like(z), where=sd > 0)
    r = np.zeros(neighbours.shape, dtype=np.float32)
    for c in range(neighbours.shape[1]):
        nb = neighbours[:, c]
        ok = nb >= 0
        r[ok, c] = (z[:, ok] * z[:, nb[ok]]).sum(0) / n[ok]
    return r


def _features(signs: np.ndarray, r: np.ndarray, neighbours: np.ndarray, rows: np.ndarray, cols: np.ndarray):
    """Feature matrix for (family ``rows``, SNP ``cols``) pairs of one parent; ``signs`` is +1/-1/0 per call."""
    nb = neighbours[cols]
    s = np.where(nb >= 0, signs[rows[:, None], np.maximum(nb, 0)], 0).astype(np.float32)
    votes = r[cols] * s
    return np.column_stack([votes, votes.sum(1), (s != 0).sum(1)]).astype(np.float32)


def impute_trios(trios: Trios, learner: str = "logitboost", *, window: int = 10, n_rounds: int = 100,
                 max_depth: int = 3, n_train: int = 20_000, seed: int = 0, n_jobs: int = 2) -> TrioImputation:
    """Impute every missing child call of ``trios`` with a boosted learner, or with Mendel's rules alone.

    Parameters
    ----------
    learner : ``adaboost``, ``logitboost``, ``totalboost`` or ``mendel``
        (expected dosage from the parents' genotypes, no learning).
    window : L, the number of flanking SNPs (L/2 each side; seed 004 used 10
        for 5k and 10k SNP panels and 22 for 1k).
    n_rounds, max_depth : trees per learner (seed: 100) and their depth.
    n_train : examples drawn (seeded) from the typed child calls to train on.
        One learner serves all SNPs (the features mean the same everywhere),
        so a sample suffices; it also bounds TotalBoost's LP (n_train columns).
    n_jobs : threads for scoring the untyped calls (trees release the GIL).

    Returns a :class:`TrioImputation`; observed child calls are kept as they are.
    """
    t0 = time.perf_counter()
    if learner != "mendel" and learner not in LEARNERS:
        raise ValueError(f"unknown learner {learner!r}; choose mendel or one of {', '.join(LEARNERS)}")
    tf, tm, error = transmitted_alleles(trios)
    if learner == "mendel":
        return TrioImputation(mendelian_dosage(trios), learner, 0, int(error.sum()),
                              {"total": time.perf_counter() - t0})
    neighbours = window_neighbours(chromosome_blocks(trios.variants), window)
    r = parent_ld(trios, neighbours)
    signs = []
    for parent, passed in ((trios.father, tf), (trios.mother, tm)):
        # Only a heterozygous parent's passed allele says which haplotype the child got there.
        signs.append(np.where((parent == 1) & (passed >= 0), 2 * passed.astype(np.int8) - 1, 0).astype(np.int8))
    # Training examples: typed child calls where a heterozygous parent's passed allele is known.
    examples = [np.nonzero(s != 0) for s in signs]
    n_all = sum(len(e[0]) for e in examples)
    if n_all == 0:
        raise ValueError("no typed child call shows which allele a heterozygous parent passed on; nothing to learn")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xB005]))
    pick = np.sort(rng.choice(n_all, size=min(n_train, n_all), replace=False))
    X, y = [], []
    offset = 0
    for s, (rows, cols) in zip(signs, examples):
        mine = pick[(pick >= offset) & (pick < offset + len(rows))] - offset
        offset += len(rows)
        X.append(_features(s, r, neighbours, rows[mine], cols[mine]))
        y.append((s[rows[mine], cols[mine]] > 0).astype(np.int8))
    X, y = np.concatenate(X), np.concatenate(y)
    t1 = time.perf_counter()
    model = make_learner(learner, n_rounds, max_depth, seed).fit(X, y)
    t2 = time.perf_counter()

    # Expected passed allele per parent: known, learned (heterozygous parent, child untyped) or the frequency.
    freq = allele_frequency(trios)
    dosage = np.where(trios.child >= 0, trios.child, 0.0).astype(np.float64)
    untyped = trios.child < 0
    tasks = []
    for parent, s in ((trios.father, signs[0]), (trios.mother, signs[1])):
        known = np.where(parent >= 0, parent / 2.0, freq[None, :])
        dosage += np.where(untyped & (parent != 1), known, 0.0)
        rows, cols = np.nonzero(untyped & (parent == 1))
        for a in range(0, len(rows), _CHUNK):
            tasks.append((s, rows[a:a + _CHUNK], cols[a:a + _CHUNK]))

    def score(task):
        s, rows, cols = task
        return rows, cols, model.predict_proba(_features(s, r, neighbours, rows, cols))[:, 1]

    if n_jobs > 1 and len(tasks) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_jobs) as pool:
            results = list(pool.map(score, tasks))
    else:
        results = [score(t) for t in tasks]
    for rows, cols, p in results:
        dosage[rows, cols] += p  # (rows, cols) pairs are unique within one parent's task
    t3 = time.perf_counter()
    n_trees = len(model.estimators_) if hasattr(model, "estimators_") else len(model.trees_)
    return TrioImputation(dosage, learner, len(y), int(error.sum()),
                          {"features": t1 - t0, "fit": t2 - t1, "predict": t3 - t2, "total": t3 - t0}, n_trees)
