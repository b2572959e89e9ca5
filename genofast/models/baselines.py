"""Baseline generators every artificial-genome study compares against.

:class:`Bernoulli` draws each SNP independently at its observed allele
frequency (it keeps allele frequencies and loses all linkage);
:class:`MarkovChain` draws each allele given the previous ``window`` alleles
of the same haplotype, as the Markov-chain baseline of Yelmen et al. 2019.
"""

from __future__ import annotations

import numpy as np

from ..io._files import FormatError
from ..matrix import HaplotypeMatrix, Variants
from ._base import (as_alleles, check_fit_input, check_float, check_int, check_memory, check_sample_count,
                    check_seed, check_tensor, checked_config, load_checkpoint, save_checkpoint,
                    variants_from_checkpoint, variants_to_checkpoint)

# Bytes per sampled haplotype beyond its alleles: its id string (Python object
# and numpy copy) and the packed row.
_ROW_OVERHEAD = 160


def _check_sample(model, n, seed) -> int:
    n = check_sample_count(n)
    check_seed(seed)
    check_memory(model.sample_bytes(n), f"sampling {n} haplotypes x {model.n_snps} SNPs",
                 "sample fewer haplotypes per call")
    return n


def _to_matrix(alleles: np.ndarray, variants: Variants | None, prefix: str) -> HaplotypeMatrix:
    ids = np.array([f"{prefix}{i}" for i in range(alleles.shape[0])])
    return HaplotypeMatrix.from_numpy(alleles, ids=ids, variants=variants)


class Bernoulli:
    """Independent SNPs at the allele-1 frequencies of the training data."""

    kind = "bernoulli"

    def __init__(self):
        self.frequencies: np.ndarray | None = None
        self.variants: Variants | None = None

    def fit(self, haplotypes, seed: int | None = None) -> "Bernoulli":
        a = as_alleles(haplotypes)
        check_fit_input(a)
        self.frequencies = a.mean(axis=0)
        self.variants = getattr(haplotypes, "variants", None)
        return self

    @property
    def n_snps(self) -> int:
        self._check_fitted()
        return self.frequencies.size

    def sample_bytes(self, n: int) -> int:
        """Peak memory of :meth:`sample`: float64 uniforms, their comparison and the alleles."""
        self._check_fitted()
        return n * (self.frequencies.size * 10 + _ROW_OVERHEAD)

    def sample(self, n: int, seed: int) -> HaplotypeMatrix:
        self._check_fitted()
        n = _check_sample(self, n, seed)
        rng = np.random.default_rng(seed)
        a = (rng.random((n, self.frequencies.size)) < self.frequencies).astype(np.uint8)
        return _to_matrix(a, self.variants, "bernoulli")

    def save(self, path) -> None:
        self._check_fitted()
        arrays, variants = variants_to_checkpoint(self.variants)
        save_checkpoint(path, self.kind, {"n_snps": int(self.frequencies.size), "variants": variants},
                        {"frequencies": self.frequencies, **arrays})

    @classmethod
    def load(cls, path) -> "Bernoulli":
        meta, arrays = load_checkpoint(path, cls.kind)
        # n_snps joined the config later; older checkpoints give it by the tensor alone
        n_snps = checked_config(path, lambda: check_int(
            meta.get("n_snps", getattr(arrays.get("frequencies"), "size", 1)), "n_snps"))
        m = cls()
        m.frequencies = check_tensor(path, arrays, "frequencies", (n_snps,), 0.0, 1.0)
        m.variants = variants_from_checkpoint(arrays, meta.get("variants", {}), path, n_snps)
        return m

    def _check_fitted(self):
        if self.frequencies is None:
            raise RuntimeError("model is not fitted; call fit() or load() first")


class MarkovChain:
    """Each allele conditioned on the ``window`` previous alleles of its haplotype.

    The first ``window`` SNPs are drawn from the empirical distribution of
    their joint states; SNP j > window from P(a_j | a_{j-window..j-1}),
    estimated by counts with a pseudo-count ``alpha`` (states never seen in
    training fall back to SNP j's marginal frequency).
    """

    kind = "markov_chain"

    def __init__(self, window: int = 3, alpha: float = 0.0):
        # 2**window states per SNP: beyond 20 the table outgrows any cohort
        self.window = check_int(window, "window", 1, 20)
        self.alpha = check_float(alpha, "alpha")
        self.conditional: np.ndarray | None = None  # (n_snps, 2**window): P(a_j = 1 | state)
        self.initial: np.ndarray | None = None  # (2**window,): distribution of the first window's state
        self.variants: Variants | None = None

    def fit(self, haplotypes, seed: int | None = None) -> "MarkovChain":
        a = as_alleles(haplotypes)
        check_fit_input(a)
        n, s = a.shape
        if s <= self.window:
            raise ValueError(f"window {self.window} needs more than {self.window} SNPs, data have {s}")
        k = self.window
        weights = 1 << np.arange(k)  # state = sum of a_{j-k+t} * 2^t
        states = np.zeros((n, s), dtype=np.int64)  # state preceding SNP j (valid for j >= k)
        for t in range(k):
            states[:, k:] += a[:, t : s - k + t].astype(np.int64) * weights[t]
        n_states = 1 << k
        cond = np.empty((s, n_states))
        marginal = a.mean(axis=0)
        for j in range(k, s):
            ones = np.bincount(states[:, j], weights=a[:, j], minlength=n_states)
            total = np.bincount(states[:, j], minlength=n_states)
            with np.errstate(invalid="ignore", divide="ignore"):
                p = (ones + self.alpha * marginal[j]) / (total + self.alpha)
            cond[j] = np.where(total + self.alpha > 0, p, marginal[j])
        cond[:k] = np.nan
        first = (a[:, :k].astype(np.int64) * weights).sum(axis=1)
        self.initial = np.bincount(first, minlength=n_states) / n
        self.conditional = cond
        self.variants = getattr(haplotypes, "variants", None)
        return self

    @property
    def n_snps(self) -> int:
        self._check_fitted()
        return self.conditional.shape[0]

    def sample_bytes(self, n: int) -> int:
        """Peak memory of :meth:`sample`: float64 uniforms and the alleles."""
        self._check_fitted()
        return n * (self.conditional.shape[0] * 10 + _ROW_OVERHEAD)

    def sample(self, n: int, seed: int) -> HaplotypeMatrix:
        self._check_fitted()
        n = _check_sample(self, n, seed)
        rng = np.random.default_rng(seed)
        s, k = self.conditional.shape[0], self.window
        out = np.zeros((n, s), dtype=np.uint8)
        state = rng.choice(1 << k, size=n, p=self.initial)
        for t in range(k):
            out[:, t] = (state >> t) & 1
        u = rng.random((n, s))
        for j in range(k, s):
            allele = (u[:, j] < self.conditional[j, state]).astype(np.int64)
            out[:, j] = allele
            state = (state >> 1) | (allele << (k - 1))
        return _to_matrix(out, self.variants, "markov")

    def save(self, path) -> None:
        self._check_fitted()
        arrays, variants = variants_to_checkpoint(self.variants)
        save_checkpoint(path, self.kind, {"window": self.window, "alpha": self.alpha,
                                          "n_snps": int(self.conditional.shape[0]), "variants": variants},
                        {"conditional": self.conditional, "initial": self.initial, **arrays})

    @classmethod
    def load(cls, path) -> "MarkovChain":
        config, arrays = load_checkpoint(path, cls.kind)
        m = checked_config(path, lambda: cls(config["window"], config["alpha"]))
        k = m.window
        cond = arrays.get("conditional")
        n_snps = checked_config(path, lambda: check_int(
            config.get("n_snps", cond.shape[0] if cond is not None and cond.ndim else k + 1), "n_snps", k + 1))
        # rows before the window are never read (they hold NaN by construction)
        m.conditional = check_tensor(path, arrays, "conditional", (n_snps, 1 << k), 0.0, 1.0, rows=slice(k, None))
        m.initial = check_tensor(path, arrays, "initial", (1 << k,), 0.0, 1.0)
        if abs(float(m.initial.sum()) - 1) > 1e-6:
            raise FormatError(path, f"tensor 'initial' is a distribution but sums to {float(m.initial.sum()):g}")
        m.variants = variants_from_checkpoint(arrays, config.get("variants", {}), path, n_snps)
        return m

    def _check_fitted(self):
        if self.conditional is None:
            raise RuntimeError("model is not fitted; call fit() or load() first")
