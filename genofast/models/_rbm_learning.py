"""How an RBM's parameters move: the log-likelihood gradient (data minus chain statistics, centred), the
Adam or momentum step with the local units' larger steps, and the parameter-state helpers of training."""

from __future__ import annotations

import numpy as np

from ._torch_ops import torch_module


class LearningRule:
    """The update of :class:`~genofast.models.rbm.RBM` (mixed into it): one call of :meth:`_update` per batch."""

    @staticmethod
    def _local_starts(V: int, n_local: int, window: int) -> list[int]:
        """The first SNP of each local unit's window of ``window`` SNPs: centres evenly spaced along the ``V``."""
        return [min(max(0, int(round((j + 0.5) * V / n_local - window / 2))), max(0, V - window))
                for j in range(n_local)]

    @staticmethod
    def _local_scales(V: int, H: int, n_local: int, window: int, lr: float):
        """Multipliers of the W and hidden-bias steps: 1 for the global units; for each of the last ``n_local``
        units ``lr`` inside its window of ``window`` consecutive SNPs (centres evenly spaced along the SNPs) and
        0 outside it. None without local units."""
        if not n_local:
            return None
        w = np.ones((V, H), np.float32)
        b = np.ones(H, np.float32)
        for j, lo in enumerate(LearningRule._local_starts(V, n_local, window)):
            col = H - n_local + j
            w[:, col] = 0.0
            w[lo : lo + window, col] = lr
            b[col] = lr
        return w, b

    @staticmethod
    def _seam_scale(n_context: int, V: int, window: int, lr: float):
        """Multiplier of the A steps of a conditional RBM with local units: the context alleles' couplings to
        the window's SNPs at most ``window`` SNPs away across the seam (context SNP i of C lies C - i before the
        window's first SNP, window SNP j lies j + 1 after it) step ``lr`` times as far, as the local units
        inside the window do; the rest at the plain rate. Returned as (first context row, block) for rows
        first..C-1 and the first block.shape[1] window SNPs; None without context."""
        if not n_context:
            return None
        first = max(0, n_context - window)
        i = np.arange(first, n_context)[:, None]
        j = np.arange(min(V, window))[None, :]
        return first, np.where((n_context - i) + j <= window, lr, 1.0).astype(np.float32)

    def _update(self, v0, u, seed):
        """One gradient-ascent step on the log-likelihood, on this process's share of the batch and chains."""
        cfg, group = self.config, self._group
        n0 = v0.shape[0]
        nk = n0 if cfg["training"] == "cd" or u is not None else cfg["n_chains"]
        d0, d1 = group.share(n0)
        k0, k1 = (d0, d1) if nk == n0 else group.share(nk)
        v0, u = v0[d0:d1], None if u is None else u[d0:d1]
        shifts = self._shifts(u)
        # a dropout mask holds for a row's positive phase and, in CD, its chain; Rdm and PCD chains draw their own
        m0 = self._mask(n0, (seed, self.updates, 0), (d0, d1))
        mk = m0 if cfg["training"] == "cd" else self._mask(nk, (seed, self.updates, 1), (k0, k1))
        _, h0, _ = self._hidden(v0, shifts, seed, mean=True, row0=d0, mask=m0)
        if cfg["training"] == "pcd":
            vk = self._gibbs(self.chains, cfg["k"], seed, None, mask=mk)
            self.chains = vk
        elif cfg["training"] == "cd":
            vk = self._gibbs(v0, cfg["k"], seed, shifts, d0, mask=mk)
        else:
            vk = self._gibbs(self._random_visible(k1 - k0, seed, k0), cfg["k"], seed, shifts, k0, mask=mk)
        _, hk, _ = self._hidden(vk, shifts, seed, mean=True, row0=k0, mask=mk)
        if cfg["centered"]:
            self.offsets["h"].mul_(0.95).add_(0.05 * group.mean(h0, n0))
        grads = self.gradients(v0, h0, vk, hk, u, n=(n0, nk))
        self._step(grads)

    def gradients(self, v0, h0, vk, hk, u=None, n=None) -> dict:
        """Log-likelihood gradient estimates: data statistics minus model (chain) statistics.

        ``n``: the whole batch's (data rows, chains) when these rows are one
        process's share; the shares' sums are added over the process group.
        """
        group = self._group
        n0, nk = n or (v0.shape[0], vk.shape[0])
        if self.config["centered"]:
            mu, lam = self.offsets["v"], self.offsets["h"]
            w = (v0 - mu).T @ (h0 - lam) / n0 - (vk - mu).T @ (hk - lam) / nk
        else:
            w = v0.T @ h0 / n0 - vk.T @ hk / nk
        g = {"W": w, "a": group.mean(v0, n0) - group.mean(vk, nk), "b": group.mean(h0, n0) - group.mean(hk, nk)}
        if u is not None:  # chains keep their batch's context, so both phases share u
            g["A"] = u.T @ (v0 - vk) / n0
            g["B"] = u.T @ (h0 - hk) / n0
        group.sum_all(g, skip=("a", "b"))
        g["W"] = g["W"] - self.config["l2"] * self.params["W"]
        return g

    def _step(self, grads):
        cfg = self.config
        self.updates += 1
        lr = cfg["lr"] / (1 + cfg["decay"] * self.epoch)
        steps = {}
        for k, g in grads.items():
            m, s = self.moments[k]
            if cfg["optimizer"] == "sgd":
                m.mul_(cfg["momentum"]).add_(g)
                steps[k] = lr * m
            else:
                m.mul_(0.9).add_(0.1 * g)
                s.mul_(0.999).add_(0.001 * g * g)
                mh = m / (1 - 0.9 ** self.updates)
                sh = s / (1 - 0.999 ** self.updates)
                steps[k] = lr * mh / (sh.sqrt() + 1e-8)
        if self._step_scale is not None:
            steps["W"] = steps["W"] * self._step_scale[0]
            steps["b"] = steps["b"] * self._step_scale[1]
            # The centring below moves the visible biases by the local units' larger W steps; at the plain rate
            # their own steps could not follow, and the samples drifted off the allele frequencies (docs/rbm.md).
            steps["a"] = steps["a"] * cfg["local_lr"]
            if self._seam_step is not None:
                # Short-range linkage across a chain's seam is the context's couplings to the window's first
                # SNPs: at the plain rate they stayed too weak to carry it (docs/rbm.md, long regions).
                first, block = self._seam_step
                C, w = first + block.shape[0], block.shape[1]
                steps["A"][first:C, :w] *= block  # a fresh tensor: the step, not the parameter
        if cfg["centered"]:
            # steps in the centred parameters; the same model in plain parameters moves the biases too
            steps["a"] = steps["a"] - steps["W"] @ self.offsets["h"]
            steps["b"] = steps["b"] - self.offsets["v"] @ steps["W"]
        for k, d in steps.items():
            self.params[k].add_(d)

    def _non_finite(self) -> str | None:
        torch = torch_module()
        return next((k for k, p in self.params.items() if not bool(torch.isfinite(p).all())), None)

    def _state_copy(self):
        return {k: v.clone() for k, v in self.params.items()}

    def _restore(self, state):
        for k, v in state.items():
            self.params[k].copy_(v)
