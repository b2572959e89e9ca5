"""Restricted Boltzmann machines for haplotypes (Yelmen et al. 2019, 2023).

Binary visible units (alleles), Bernoulli or ReLU hidden units. The ReLU unit
is the energy-based rectified Gaussian: h | v ~ N(b + vW, 1) truncated to
h >= 0, so the free energy and its gradient are exact. Training by CD-k,
persistent CD (PCD-k, persistent chains) or out-of-equilibrium Rdm-k (chains
restarted from uniform random states at every update and sampled with the
same k; Decelle et al. 2021, Yelmen et al. 2023). GEMMs run in torch (BLAS
or cuBLAS); the bias + activation + sampling epilogue and the bit-packing of
samples are genofast kernels with Philox randomness keyed by (seed, step),
so a seed fixes every chain on a given device whatever torch's own seed.

With ``n_context > 0`` the RBM is conditional: context alleles u shift the
visible and hidden biases by u·A and u·B (Taylor et al. 2007), the building
block of :class:`ConditionalRBMChain`.
"""

from __future__ import annotations

import math

import numpy as np

from .. import kernels
from ..matrix import HaplotypeMatrix, Variants
from ._base import (as_alleles, check_fit_input, check_sample_count, load_checkpoint, save_checkpoint,
                    variants_from_checkpoint, variants_to_checkpoint)

TRAINING = ("cd", "pcd", "rdm")
_STATE = ("W", "a", "b", "A", "B")


def _torch():
    import torch

    return torch


def _resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if kernels.has_cuda().available else "cpu"
    if device.startswith("cuda") and not kernels.has_cuda().available:
        raise RuntimeError("CUDA was requested but no CUDA device is available to genofast")
    return device


class RBM:
    """Restricted Boltzmann machine over haplotypes; see the module docstring.

    Defaults follow Yelmen et al.: learning rate 1e-3 (Adam), batches of 32,
    PCD with k = 10 sweeps and 100 persistent chains; ~100 hidden units for
    ~800 SNPs, ~500 for 10k.
    """

    kind = "rbm"

    def __init__(self, n_visible: int, n_hidden: int = 100, hidden: str = "relu", *, training: str = "pcd",
                 k: int = 10, n_chains: int = 100, lr: float = 1e-3, batch_size: int = 32, l2: float = 0.0,
                 optimizer: str = "adam", momentum: float = 0.9, n_context: int = 0, sample_k: int | None = None,
                 device: str = "cpu"):
        if hidden not in kernels.UNIT_KINDS:
            raise ValueError(f"hidden must be one of {kernels.UNIT_KINDS}, got {hidden!r}")
        if training not in TRAINING:
            raise ValueError(f"training must be one of {TRAINING}, got {training!r}")
        if training == "pcd" and n_context:
            raise ValueError("a conditional RBM has no single persistent chain per context; use 'cd' or 'rdm'")
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
        for name, v in (("n_visible", n_visible), ("n_hidden", n_hidden), ("k", k), ("n_chains", n_chains),
                        ("batch_size", batch_size)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.config = dict(n_visible=int(n_visible), n_hidden=int(n_hidden), hidden=hidden, training=training,
                           k=int(k), n_chains=int(n_chains), lr=float(lr), batch_size=int(batch_size), l2=float(l2),
                           optimizer=optimizer, momentum=float(momentum), n_context=int(n_context),
                           sample_k=int(sample_k) if sample_k else (int(k) if training == "rdm" else 1000))
        self.device = _resolve_device(device)
        torch = _torch()
        g = np.random.default_rng(0)  # weights start small and fixed: seeds drive sampling, not init
        V, H, C = self.config["n_visible"], self.config["n_hidden"], self.config["n_context"]
        t = lambda x: torch.tensor(x, dtype=torch.float32, device=self.device)  # noqa: E731
        self.params = {"W": t(g.normal(0, 0.01, (V, H))), "a": t(np.zeros(V)), "b": t(np.zeros(H))}
        if C:
            self.params["A"] = t(np.zeros((C, V)))
            self.params["B"] = t(np.zeros((C, H)))
        self.moments = {k: (torch.zeros_like(p), torch.zeros_like(p)) for k, p in self.params.items()}
        self.chains = None
        self.epoch = 0
        self.updates = 0
        self.step = 0  # Philox stream counter: one per sampled layer
        self.aats_trace: list[tuple[int, float]] = []
        self.best_epoch: int | None = None
        self.variants: Variants | None = None

    # --- Gibbs sampling ---------------------------------------------------------

    def _units(self, pre, bias, kind, seed, mean=False, pack=False):
        out = kernels.rbm_units(pre, bias, kind, seed, self.step, mean=mean, pack=pack)
        self.step += 1
        return out

    def _hidden(self, v, u, seed, mean=False):
        pre = v @ self.params["W"]
        if u is not None:
            pre = pre + u @ self.params["B"]
        return self._units(pre, self.params["b"], self.config["hidden"], seed, mean=mean)

    def _visible(self, h, u, seed, mean=False, pack=False):
        pre = h @ self.params["W"].T
        if u is not None:
            pre = pre + u @ self.params["A"]
        return self._units(pre, self.params["a"], "bernoulli", seed, mean=mean, pack=pack)

    def _random_visible(self, n, seed):
        torch = _torch()
        zeros = torch.zeros((n, self.config["n_visible"]), dtype=torch.float32, device=self.device)
        return self._units(zeros, zeros[0], "bernoulli", seed)[0]  # p = 1/2 everywhere

    def gibbs(self, v, sweeps: int, seed: int, u=None):
        """Run ``sweeps`` alternating hidden / visible updates from visible states ``v``."""
        for _ in range(sweeps):
            h, _, _ = self._hidden(v, u, seed)
            v, _, _ = self._visible(h, u, seed)
        return v

    # --- training -----------------------------------------------------------------

    def _tensor(self, alleles):
        return _torch().tensor(alleles, dtype=_torch().float32, device=self.device)

    def fit(self, haplotypes, epochs: int = 100, seed: int = 0, *, context=None, eval_every: int | None = None,
            patience: int | None = None, n_eval: int = 1000, progress: bool = False, checkpoint=None) -> "RBM":
        """Train for ``epochs`` in total (resumes from ``self.epoch`` after :meth:`load`).

        ``eval_every``: every so many epochs, sample ``n_eval`` haplotypes and
        compute AATS against the training haplotypes (Yelmen et al. 2019); the
        parameters of the epoch with AATS closest to 0.5 are kept at the end,
        and with ``patience`` training stops after that many evaluations
        without improvement. ``checkpoint``: a path saved after every epoch.
        ``context``: the conditioning alleles of a conditional RBM (rows
        matching the haplotypes).
        """
        from .. import metrics

        torch = _torch()
        a = as_alleles(haplotypes)
        check_fit_input(a, self.config["n_visible"])
        self.variants = getattr(haplotypes, "variants", self.variants)
        data = self._tensor(a)
        ctx = self._context(context, a.shape[0])
        cfg = self.config
        if self.epoch == 0 and self.updates == 0:
            # Visible biases start at the data's log-odds (Hinton 2010, sec. 8.1):
            # the model then begins with the right allele frequencies.
            f = np.clip(a.mean(axis=0), 1e-3, 1 - 1e-3)
            self.params["a"].copy_(self._tensor(np.log(f / (1 - f))))
        if cfg["training"] == "pcd" and self.chains is None:
            self.chains = self._random_visible(cfg["n_chains"], seed)
        best = None if self.best_epoch is None else (abs(dict(self.aats_trace)[self.best_epoch] - 0.5),
                                                      self._state_copy())
        stale = 0
        bar = _progress(progress, epochs, self.epoch, "training RBM")
        try:
            while self.epoch < epochs:
                order = np.random.default_rng((seed, self.epoch)).permutation(a.shape[0])
                for start in range(0, a.shape[0], cfg["batch_size"]):
                    idx = torch.as_tensor(order[start : start + cfg["batch_size"]], device=self.device)
                    self._update(data[idx], None if ctx is None else ctx[idx], seed)
                self.epoch += 1
                if eval_every and self.epoch % eval_every == 0:
                    n = min(n_eval, a.shape[0])
                    pick = np.sort(np.random.default_rng((seed, 1, self.epoch)).choice(a.shape[0], n, False))
                    u = None if ctx is None else ctx[torch.as_tensor(pick, device=self.device)]
                    syn = self.sample(n, seed=seed + 7919 * self.epoch, context=u)
                    score = metrics.aats(HaplotypeMatrix.from_numpy(a[pick]), syn).aats
                    self.aats_trace.append((self.epoch, score))
                    if best is None or abs(score - 0.5) < best[0]:
                        best, self.best_epoch, stale = (abs(score - 0.5), self._state_copy()), self.epoch, 0
                    else:
                        stale += 1
                if checkpoint is not None:
                    self.save(checkpoint)
                bar.advance()
                if patience is not None and stale >= patience:
                    break
        finally:
            bar.close()
        if best is not None:
            self._restore(best[1])
        return self

    def _context(self, context, n_rows):
        C = self.config["n_context"]
        if not C:
            if context is not None:
                raise ValueError("this RBM is not conditional (n_context=0) but a context was given")
            return None
        if context is None:
            raise ValueError(f"a conditional RBM needs a context of {C} alleles per haplotype")
        c = context if hasattr(context, "device") and not isinstance(context, np.ndarray) else \
            self._tensor(as_alleles(context))
        if tuple(c.shape) != (n_rows, C):
            raise ValueError(f"context has shape {tuple(c.shape)}, expected ({n_rows}, {C})")
        return c.to(self.device, dtype=_torch().float32)

    def _update(self, v0, u, seed):
        """One gradient-ascent step on the log-likelihood."""
        cfg = self.config
        _, h0, _ = self._hidden(v0, u, seed, mean=True)
        if cfg["training"] == "pcd":
            vk = self.gibbs(self.chains, cfg["k"], seed)
            self.chains = vk
        elif cfg["training"] == "cd":
            vk = self.gibbs(v0, cfg["k"], seed, u)
        else:
            vk = self.gibbs(self._random_visible(v0.shape[0] if u is not None else cfg["n_chains"], seed), cfg["k"],
                            seed, u)
        _, hk, _ = self._hidden(vk, u, seed, mean=True)
        grads = self.gradients(v0, h0, vk, hk, u)
        self._step(grads)

    def gradients(self, v0, h0, vk, hk, u=None) -> dict:
        """Log-likelihood gradient estimates: data statistics minus model (chain) statistics."""
        n0, nk = v0.shape[0], vk.shape[0]
        g = {
            "W": v0.T @ h0 / n0 - vk.T @ hk / nk - self.config["l2"] * self.params["W"],
            "a": v0.mean(0) - vk.mean(0),
            "b": h0.mean(0) - hk.mean(0),
        }
        if u is not None:  # chains keep their batch's context, so both phases share u
            g["A"] = u.T @ (v0 - vk) / n0
            g["B"] = u.T @ (h0 - hk) / n0
        return g

    def _step(self, grads):
        cfg = self.config
        self.updates += 1
        for k, g in grads.items():
            p = self.params[k]
            m, s = self.moments[k]
            if cfg["optimizer"] == "sgd":
                m.mul_(cfg["momentum"]).add_(g)
                p.add_(cfg["lr"] * m)
            else:
                m.mul_(0.9).add_(0.1 * g)
                s.mul_(0.999).add_(0.001 * g * g)
                mh = m / (1 - 0.9 ** self.updates)
                sh = s / (1 - 0.999 ** self.updates)
                p.add_(cfg["lr"] * mh / (sh.sqrt() + 1e-8))

    def _state_copy(self):
        return {k: v.clone() for k, v in self.params.items()}

    def _restore(self, state):
        for k, v in state.items():
            self.params[k].copy_(v)

    # --- sampling and imputation ------------------------------------------------

    def sample(self, n: int, k: int | None = None, seed: int = 0, init=None, context=None) -> HaplotypeMatrix:
        """Draw ``n`` haplotypes by ``k`` Gibbs sweeps (default: the training k for Rdm, else 1000).

        Chains start from uniform random states, or from the rows of ``init``
        (a HaplotypeMatrix or 0/1 array with n rows).
        """
        n = check_sample_count(n)
        k = self.config["sample_k"] if k is None else int(k)
        saved = self.step
        self.step = 0  # sampling draws from its own seed alone, not from the training history
        try:
            u = self._context(context, n)
            v = self._random_visible(n, seed) if init is None else self._tensor(as_alleles(init))
            if tuple(v.shape) != (n, self.config["n_visible"]):
                raise ValueError(f"init has shape {tuple(v.shape)}, expected ({n}, {self.config['n_visible']})")
            v = self.gibbs(v, max(k - 1, 0), seed, u)
            h, _, _ = self._hidden(v, u, seed)
            _, _, packed = self._visible(h, u, seed, pack=True)
        finally:
            self.step = saved
        words = packed.cpu().numpy().view(np.uint64) if kernels.is_cuda(packed) else packed
        ids = np.array([f"rbm{i}" for i in range(n)])
        return HaplotypeMatrix(words, self.config["n_visible"], ids=ids, variants=self.variants)

    def impute(self, haplotypes: HaplotypeMatrix, sweeps: int = 200, burn_in: int = 50, seed: int = 0):
        """Fill missing alleles by Gibbs sampling with the observed alleles clamped.

        Returns (probabilities, calls): per allele, P(allele 1) averaged over
        the sweeps after ``burn_in`` (observed alleles keep 0/1), and the
        HaplotypeMatrix of hard calls (probability >= 0.5).
        """
        torch = _torch()
        if not isinstance(haplotypes, HaplotypeMatrix):
            haplotypes = HaplotypeMatrix.from_numpy(np.asarray(haplotypes))
        if haplotypes.n_snps != self.config["n_visible"]:
            raise ValueError(f"model has {self.config['n_visible']} SNPs, data have {haplotypes.n_snps}")
        if burn_in >= sweeps:
            raise ValueError("burn_in must be smaller than sweeps")
        x = haplotypes.to("cpu").to_numpy().astype(np.int8)
        missing = self._tensor(x < 0) > 0
        observed = self._tensor(np.where(x < 0, 0, x))
        saved, self.step = self.step, 0
        try:
            v = torch.where(missing, self._random_visible(x.shape[0], seed), observed)
            total = torch.zeros_like(v)
            for t in range(sweeps):
                h, _, _ = self._hidden(v, None, seed)
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

    # --- exact quantities for small models ------------------------------------------

    def free_energy(self, v):
        """F(v) = −a·v − Σ_j log ∫ exp(h x_j − E_h(h)) dh, with x = b + vW (exact)."""
        torch = _torch()
        x = v @ self.params["W"] + self.params["b"]
        if self.config["hidden"] == "bernoulli":
            hidden = torch.nn.functional.softplus(x)
        else:  # log ∫_0^∞ exp(hx − h²/2) dh = x²/2 + log(√(2π) Φ(x))
            hidden = x * x / 2 + 0.5 * math.log(2 * math.pi) + torch.special.log_ndtr(x)
        return -(v @ self.params["a"]) - hidden.sum(-1)

    # --- checkpoints --------------------------------------------------------------

    def save(self, path) -> None:
        """Parameters, optimizer moments, chains and training state (safetensors + JSON), atomically."""
        arrays = {k: v.cpu().numpy() for k, v in self.params.items()}
        for k, (m, s) in self.moments.items():
            arrays[f"moment1.{k}"], arrays[f"moment2.{k}"] = m.cpu().numpy(), s.cpu().numpy()
        if self.chains is not None:
            arrays["chains"] = self.chains.cpu().numpy()
        variant_arrays, variants = variants_to_checkpoint(self.variants)
        arrays.update(variant_arrays)
        state = dict(epoch=self.epoch, updates=self.updates, step=self.step, aats_trace=self.aats_trace,
                     best_epoch=self.best_epoch, variants=variants)
        save_checkpoint(path, self.kind, {"config": self.config, "state": state}, arrays)

    @classmethod
    def load(cls, path, device: str = "cpu") -> "RBM":
        meta, arrays = load_checkpoint(path, cls.kind)
        m = cls(**meta["config"], device=device)
        torch = _torch()
        t = lambda x: torch.tensor(x, dtype=torch.float32, device=m.device)  # noqa: E731
        for k in m.params:
            m.params[k] = t(arrays[k])
            m.moments[k] = (t(arrays[f"moment1.{k}"]), t(arrays[f"moment2.{k}"]))
        if "chains" in arrays:
            m.chains = t(arrays["chains"])
        st = meta["state"]
        m.epoch, m.updates, m.step, m.best_epoch = st["epoch"], st["updates"], st["step"], st["best_epoch"]
        m.aats_trace = [tuple(x) for x in st["aats_trace"]]
        m.variants = variants_from_checkpoint(arrays, st.get("variants", {}))
        return m


class ConditionalRBMChain:
    """An RBM on the first window and conditional RBMs for each next window given the previous one.

    For regions too long for one RBM (Yelmen et al. 2023 generate 65,535
    SNPs this way): window t is generated given the last ``context`` alleles
    of window t − 1, so samples are drawn end to end.
    """

    kind = "crbm_chain"

    def __init__(self, n_snps: int, window: int = 5000, context: int | None = None, n_hidden: int = 500,
                 hidden: str = "relu", training: str = "rdm", k: int = 100, device: str = "cpu", **rbm_options):
        if window < 1 or n_snps < 1:
            raise ValueError("n_snps and window must be positive")
        self.n_snps, self.window = int(n_snps), int(window)
        self.context = int(min(context or window, window))
        self.bounds = [(s, min(s + self.window, self.n_snps)) for s in range(0, self.n_snps, self.window)]
        self.options = dict(n_hidden=n_hidden, hidden=hidden, k=k, **rbm_options)
        self.training, self.device = training, device
        self.models = []
        for t, (s, e) in enumerate(self.bounds):
            ctx = 0 if t == 0 else min(self.context, self.bounds[t - 1][1] - self.bounds[t - 1][0])
            train = training if (t == 0 or training != "pcd") else "cd"
            self.models.append(RBM(e - s, n_context=ctx, training=train, device=device, **self.options))
        self.variants = None

    def fit(self, haplotypes, epochs: int = 100, seed: int = 0, progress: bool = False, **fit_options):
        a = as_alleles(haplotypes)
        check_fit_input(a, self.n_snps)
        self.variants = getattr(haplotypes, "variants", None)
        for t, ((s, e), model) in enumerate(zip(self.bounds, self.models)):
            ctx = None if t == 0 else a[:, s - model.config["n_context"] : s]
            model.fit(a[:, s:e], epochs, seed + t, context=ctx, progress=progress, **fit_options)
        return self

    def sample(self, n: int, k: int | None = None, seed: int = 0) -> HaplotypeMatrix:
        parts = []
        for t, model in enumerate(self.models):
            ctx = None if t == 0 else parts[-1][:, parts[-1].shape[1] - model.config["n_context"]:]
            parts.append(model.sample(n, k, seed + t, context=ctx).to_numpy())
        ids = np.array([f"crbm{i}" for i in range(n)])
        return HaplotypeMatrix.from_numpy(np.concatenate(parts, axis=1), ids=ids, variants=self.variants)

    def save(self, path) -> None:
        arrays, configs = {}, []
        for t, m in enumerate(self.models):
            arrays.update({f"{t}.{k}": v.cpu().numpy() for k, v in m.params.items()})
            configs.append(m.config)
        variant_arrays, variants = variants_to_checkpoint(self.variants)
        arrays.update(variant_arrays)
        save_checkpoint(path, self.kind, {"n_snps": self.n_snps, "window": self.window, "context": self.context,
                                          "models": configs, "variants": variants}, arrays)

    @classmethod
    def load(cls, path, device: str = "cpu") -> "ConditionalRBMChain":
        meta, arrays = load_checkpoint(path, cls.kind)
        chain = cls.__new__(cls)
        chain.n_snps, chain.window, chain.context = meta["n_snps"], meta["window"], meta["context"]
        chain.bounds = [(s, min(s + chain.window, chain.n_snps)) for s in range(0, chain.n_snps, chain.window)]
        chain.models, chain.device = [], device
        chain.variants = variants_from_checkpoint(arrays, meta.get("variants", {}))
        torch = _torch()
        for t, cfg in enumerate(meta["models"]):
            m = RBM(**cfg, device=device)
            for k in m.params:
                m.params[k] = torch.tensor(arrays[f"{t}.{k}"], device=m.device)
            chain.models.append(m)
        return chain


class _progress:
    """A rich progress bar when asked for, else nothing."""

    def __init__(self, enabled: bool, total: int, done: int, label: str):
        self.bar = None
        if enabled:
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task(label, total=total, completed=done)

    def advance(self):
        if self.bar:
            self.bar.advance(self.task)

    def close(self):
        if self.bar:
            self.bar.stop()
