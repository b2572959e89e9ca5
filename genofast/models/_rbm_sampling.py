"""Sampling and imputation of :class:`~genofast.models.rbm.RBM` (mixed into it): chains from random states or
given rows, with the training's dropout mask, gated against copies of training haplotypes; missing alleles filled
by Gibbs sampling with the observed ones clamped."""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..matrix import HaplotypeMatrix
from ._base import as_alleles, check_int, check_sample_count, check_seed, label_indices
from ._torch_ops import torch_module


class Sampling:
    """:meth:`sample`, :meth:`impute` and the draw they share, for :class:`~genofast.models.rbm.RBM`."""

    def sample(self, n: int, k: int | None = None, seed: int = 0, init=None, context=None, labels=None, *,
               allow_copies: bool = False) -> HaplotypeMatrix:
        """Draw ``n`` haplotypes by ``k`` Gibbs sweeps (default: the training k for Rdm, else 1000).

        Chains start from uniform random states, or from the rows of ``init``
        (a HaplotypeMatrix or 0/1 array with n rows). An RBM built with
        ``classes`` needs ``labels``: one for all haplotypes or one each (ids
        then read ``rbm<i>.<label>``). When the model holds
        fingerprints of its training haplotypes, a sample with an exact copy
        of one raises :class:`~genofast.models.CopiesError` unless
        ``allow_copies``.
        """
        n = check_sample_count(n)
        check_seed(seed)
        k = self._sweeps(k)
        self._check_sample_memory(n)
        idx = label_indices(self.classes, labels, n, "RBM")
        u = self._context(context, n, idx)
        ids = None if idx is None else np.array([f"rbm{i}.{self.classes[j]}" for i, j in enumerate(idx)])
        out = self._draw(n, k, seed, init, u, ids)
        if not allow_copies and self.fingerprints is not None:
            from ._gate import copied_rows, refuse_copies

            refuse_copies(copied_rows(out, stored=self.fingerprints), n, "RBM.sample")
        return out

    def _draw(self, n: int, k: int | None, seed: int, init, u, ids=None) -> HaplotypeMatrix:
        """``n`` haplotypes given the conditioning rows ``u`` (checked by the caller), ungated."""
        k = self._sweeps(k)
        saved = self.step
        self.step = 0  # sampling draws from its own seed alone, not from the training history
        try:
            v = self._random_visible(n, seed) if init is None else self._tensor(as_alleles(init))
            if tuple(v.shape) != (n, self.config["n_visible"]):
                raise ValueError(f"init has shape {tuple(v.shape)}, expected ({n}, {self.config['n_visible']})")
            shifts = self._shifts(u)
            mask = self._mask(n, (seed, 0, 2))  # a model trained with dropout samples as it trained
            v = self._gibbs(v, max(k - 1, 0), seed, shifts, mask=mask)
            h, _, _ = self._hidden(v, shifts, seed, mask=mask)
            _, _, packed = self._visible(h, shifts, seed, pack=True)
        finally:
            self.step = saved
        words = packed.cpu().numpy().view(np.uint64) if kernels.is_cuda(packed) else packed
        ids = np.array([f"rbm{i}" for i in range(n)]) if ids is None else ids
        return HaplotypeMatrix(words, self.config["n_visible"], ids=ids, variants=self.variants)

    @property
    def n_snps(self) -> int:
        return self.config["n_visible"]

    def _sweeps(self, k) -> int:
        return self.config["sample_k"] if k is None else check_int(k, "k")

    def impute(self, haplotypes: HaplotypeMatrix, sweeps: int = 200, burn_in: int = 50, seed: int = 0):
        """Fill missing alleles by Gibbs sampling with the observed alleles clamped.

        Returns (probabilities, calls): per allele, P(allele 1) averaged over
        the sweeps after ``burn_in`` (observed alleles keep 0/1), and the
        HaplotypeMatrix of hard calls (probability >= 0.5).
        """
        torch = torch_module()
        if not isinstance(haplotypes, HaplotypeMatrix):
            haplotypes = HaplotypeMatrix.from_numpy(np.asarray(haplotypes))
        if haplotypes.n_snps != self.config["n_visible"]:
            raise ValueError(f"model has {self.config['n_visible']} SNPs, data have {haplotypes.n_snps}")
        if self._n_conditions:
            raise ValueError("impute() runs an unconditional RBM; this one is conditional (context or classes)")
        check_int(sweeps, "sweeps")
        check_int(burn_in, "burn_in", 0)
        check_seed(seed)
        if burn_in >= sweeps:
            raise ValueError("burn_in must be smaller than sweeps")
        x = haplotypes.to("cpu").to_numpy().astype(np.int8)
        missing = self._tensor(x < 0) > 0
        observed = self._tensor(np.where(x < 0, 0, x))
        saved, self.step = self.step, 0
        try:
            v = torch.where(missing, self._random_visible(x.shape[0], seed), observed)
            total = torch.zeros_like(v)
            mask = self._mask(x.shape[0], (seed, 0, 3))
            for t in range(sweeps):
                h, _, _ = self._hidden(v, None, seed, mask=mask)
                vs, p, _ = self._visible(h, None, seed, mean=True)
                v = torch.where(missing, vs, observed)
                if t >= burn_in:
                    total += p
        finally:
            self.step = saved
        prob = torch.where(missing, total / (sweeps - burn_in), observed).cpu().numpy()
        calls = HaplotypeMatrix.from_numpy((prob >= 0.5).astype(np.uint8), ids=haplotypes.ids,
                                           variants=haplotypes.variants)
        return prob, calls
