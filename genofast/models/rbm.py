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
block of :class:`~genofast.models.crbm.ConditionalRBMChain`.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .. import kernels
from ..io._files import FormatError
from ..matrix import HaplotypeMatrix, Variants
from ._base import (as_alleles, check_fit_input, check_float, check_int, check_memory, check_sample_count, check_seed,
                    check_tensor, checked_config, gpu_available_memory, load_checkpoint, save_checkpoint,
                    variants_from_checkpoint, variants_to_checkpoint)

TRAINING = ("cd", "pcd", "rdm")
_STATE = ("W", "a", "b", "A", "B")

# The one place the RBM's defaults live: ``RBM(...)`` and ``genofast train``
# both read this dict, so re-tuning a default changes both.
DEFAULTS = dict(n_hidden=100, hidden="relu", training="pcd", k=10, n_chains=100, lr=1e-3, batch_size=32, l2=0.0,
                optimizer="adam", momentum=0.9)


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
    ~800 SNPs, ~500 for 10k (``RBM.DEFAULTS``, shared with ``genofast train``).
    """

    kind = "rbm"
    DEFAULTS = DEFAULTS

    def __init__(self, n_visible: int, n_hidden: int = DEFAULTS["n_hidden"], hidden: str = DEFAULTS["hidden"], *,
                 training: str = DEFAULTS["training"], k: int = DEFAULTS["k"], n_chains: int = DEFAULTS["n_chains"],
                 lr: float = DEFAULTS["lr"], batch_size: int = DEFAULTS["batch_size"], l2: float = DEFAULTS["l2"],
                 optimizer: str = DEFAULTS["optimizer"], momentum: float = DEFAULTS["momentum"], n_context: int = 0,
                 sample_k: int | None = None, device: str = "cpu"):
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
            check_int(v, name)
        # A NaN or infinite rate trains to all-NaN weights, which sample all-0 haplotypes without complaint.
        lr = check_float(lr, "lr", low_open=True)
        l2 = check_float(l2, "l2")
        momentum = check_float(momentum, "momentum", high=1.0, high_open=True)
        check_int(n_context, "n_context", 0)
        if sample_k is not None:
            check_int(sample_k, "sample_k")
        V, H, C = int(n_visible), int(n_hidden), int(n_context)
        # the float64 draw for W, then W and its two optimizer moments in float32
        check_memory(V * H * 20 + C * (V + H) * 12, f"an RBM of {V} visible x {H} hidden units",
                     "use fewer hidden units")
        self.config = dict(n_visible=V, n_hidden=H, hidden=hidden, training=training,
                           k=int(k), n_chains=int(n_chains), lr=lr, batch_size=int(batch_size), l2=l2,
                           optimizer=optimizer, momentum=momentum, n_context=C,
                           sample_k=int(sample_k) if sample_k else (int(k) if training == "rdm" else 1000))
        self.device = _resolve_device(device)
        torch = _torch()
        g = np.random.default_rng(0)  # weights start small and fixed: seeds drive sampling, not init
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
        self.best_state: dict | None = None  # parameters of best_epoch, kept so a resumed run restores them
        self.variants: Variants | None = None
        self.fingerprints: np.ndarray | None = None  # of the training haplotypes; see models/_gate.py

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
        bias = torch.zeros(self.config["n_visible"], dtype=torch.float32, device=self.device)
        return self._units(zeros, bias, "bernoulli", seed)[0]  # p = 1/2 everywhere

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
            patience: int | None = None, n_eval: int = 1000, progress: bool = False, checkpoint=None,
            fingerprint: bool = True) -> "RBM":
        """Train for ``epochs`` in total (resumes from ``self.epoch`` after :meth:`load`).

        ``eval_every``: every so many epochs, sample ``n_eval`` haplotypes and
        compute AATS against the training haplotypes (Yelmen et al. 2019); the
        parameters of the epoch with AATS closest to 0.5 are kept at the end,
        and with ``patience`` training stops after that many evaluations
        without improvement. ``checkpoint``: a path saved after every epoch.
        ``context``: the conditioning alleles of a conditional RBM (rows
        matching the haplotypes). ``fingerprint``: keep a 64-bit digest of
        each training haplotype in the model (and its checkpoints) so that
        :meth:`sample` can refuse exact copies later; see
        :mod:`genofast.models._gate` for what the digests reveal.
        """
        from .. import metrics
        from ._gate import fingerprints

        torch = _torch()
        check_seed(seed)
        check_int(epochs, "epochs", 0)
        if eval_every is not None:
            check_int(eval_every, "eval_every")
            check_int(n_eval, "n_eval")
        if patience is not None:
            check_int(patience, "patience", 0)
        a = as_alleles(haplotypes)
        check_fit_input(a, self.config["n_visible"])
        self.variants = getattr(haplotypes, "variants", self.variants)
        self.fingerprints = fingerprints(a) if fingerprint else None
        self._check_gpu_memory(4 * a.size, f"training data of {a.shape[0]} x {a.shape[1]} alleles",
                               "train on fewer haplotypes or SNPs, or on the CPU")
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
        # A resumed run compares later epochs with the best one before the break, and ends on its parameters.
        best = None if self.best_epoch is None else (abs(dict(self.aats_trace)[self.best_epoch] - 0.5),
                                                      self.best_state or self._state_copy())
        stale = 0
        bar = _progress(progress, epochs, self.epoch, "training RBM")
        try:
            while self.epoch < epochs:
                order = np.random.default_rng((seed, self.epoch)).permutation(a.shape[0])
                for start in range(0, a.shape[0], cfg["batch_size"]):
                    idx = torch.as_tensor(order[start : start + cfg["batch_size"]], device=self.device)
                    self._update(data[idx], None if ctx is None else ctx[idx], seed)
                # Once a parameter is NaN every later sample is garbage; stop before the
                # epoch's checkpoint overwrites the last good one (one pass over W per epoch).
                bad = self._non_finite()
                if bad:
                    raise FloatingPointError(
                        f"training diverged in epoch {self.epoch + 1}: parameter {bad!r} became NaN or infinite; "
                        f"the checkpoint was not updated; lower the learning rate (lr={cfg['lr']:g})")
                self.epoch += 1
                if eval_every and self.epoch % eval_every == 0:
                    n = min(n_eval, a.shape[0])
                    pick = np.sort(np.random.default_rng((seed, 1, self.epoch)).choice(a.shape[0], n, False))
                    u = None if ctx is None else ctx[torch.as_tensor(pick, device=self.device)]
                    syn = self.sample(n, seed=seed + 7919 * self.epoch, context=u, allow_copies=True)
                    score = metrics.aats(HaplotypeMatrix.from_numpy(a[pick]), syn).aats
                    self.aats_trace.append((self.epoch, score))
                    if best is None or abs(score - 0.5) < best[0]:
                        best, self.best_epoch, stale = (abs(score - 0.5), self._state_copy()), self.epoch, 0
                        self.best_state = best[1]
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

    def _non_finite(self) -> str | None:
        torch = _torch()
        return next((k for k, p in self.params.items() if not bool(torch.isfinite(p).all())), None)

    def _state_copy(self):
        return {k: v.clone() for k, v in self.params.items()}

    def _restore(self, state):
        for k, v in state.items():
            self.params[k].copy_(v)

    # --- sampling and imputation ------------------------------------------------

    def sample(self, n: int, k: int | None = None, seed: int = 0, init=None, context=None, *,
               allow_copies: bool = False) -> HaplotypeMatrix:
        """Draw ``n`` haplotypes by ``k`` Gibbs sweeps (default: the training k for Rdm, else 1000).

        Chains start from uniform random states, or from the rows of ``init``
        (a HaplotypeMatrix or 0/1 array with n rows). When the model holds
        fingerprints of its training haplotypes, a sample with an exact copy
        of one raises :class:`~genofast.models.CopiesError` unless
        ``allow_copies``.
        """
        n = check_sample_count(n)
        check_seed(seed)
        k = self._sweeps(k)
        self._check_sample_memory(n)
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
        out = HaplotypeMatrix(words, self.config["n_visible"], ids=ids, variants=self.variants)
        if not allow_copies and self.fingerprints is not None:
            from ._gate import copied_rows, refuse_copies

            refuse_copies(copied_rows(out, stored=self.fingerprints), n, "RBM.sample")
        return out

    @property
    def n_snps(self) -> int:
        return self.config["n_visible"]

    def _sweeps(self, k) -> int:
        return self.config["sample_k"] if k is None else check_int(k, "k")

    def _sample_floats(self, n: int) -> int:
        # in a sweep: the old visible states, the pre-activations and the new
        # states (n x V float32 each), hidden pre-activations and states, context;
        # one more n x V for freed blocks the allocator has not reused (measured)
        V, H, C = (self.config[x] for x in ("n_visible", "n_hidden", "n_context"))
        return 4 * n * (4 * V + 2 * H + C)

    def sample_bytes(self, n: int) -> int:
        """Host memory :meth:`sample` needs: packed rows and ids, plus the float work arrays on CPU."""
        words = kernels.haplotype_words(self.config["n_visible"])
        host = n * (16 * words + 160)  # packed (and its copy off the GPU) + id strings
        return host if self.device.startswith("cuda") else host + self._sample_floats(n)

    def _check_sample_memory(self, n: int) -> None:
        what, advice = f"sampling {n} haplotypes x {self.config['n_visible']} SNPs", "sample fewer per call"
        check_memory(self.sample_bytes(n), what, advice)
        self._check_gpu_memory(self._sample_floats(n), what, advice)

    def _check_gpu_memory(self, n_bytes: int, what: str, advice: str) -> None:
        if self.device.startswith("cuda"):
            check_memory(n_bytes, what + " on the GPU", advice, available=gpu_available_memory(self.device))

    def sample_seconds(self, n: int, k: int | None = None) -> float:
        """Estimated seconds for ``sample(n, k)``, from two timed sweeps of a few chains.

        A sweep costs in proportion to chains x SNPs x hidden units, so the
        time per chain-sweep scales up; small batches carry fixed overheads,
        so the estimate errs long.
        """
        torch = _torch()
        k = self._sweeps(k)
        rows = max(1, min(int(n), 256))
        saved = self.step
        try:
            u = torch.zeros((rows, self.config["n_context"]), device=self.device) if self.config["n_context"] else None
            v = self._random_visible(rows, 0)
            start = time.perf_counter()
            self.gibbs(v, 2, 0, u)
            if self.device.startswith("cuda"):
                torch.cuda.synchronize()
            per_sweep = (time.perf_counter() - start) / 2
        finally:
            self.step = saved
        return per_sweep * (n / rows) * k

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
        bad = self._non_finite()
        if bad:
            raise ValueError(f"{path}: not saved, parameter {bad!r} is NaN or infinite")
        arrays = {k: v.cpu().numpy() for k, v in self.params.items()}
        for k, (m, s) in self.moments.items():
            arrays[f"moment1.{k}"], arrays[f"moment2.{k}"] = m.cpu().numpy(), s.cpu().numpy()
        if self.chains is not None:
            arrays["chains"] = self.chains.cpu().numpy()
        if self.best_state is not None:
            arrays.update({f"best.{k}": v.cpu().numpy() for k, v in self.best_state.items()})
        if self.fingerprints is not None:
            arrays["fingerprints"] = self.fingerprints
        variant_arrays, variants = variants_to_checkpoint(self.variants)
        arrays.update(variant_arrays)
        state = dict(epoch=self.epoch, updates=self.updates, step=self.step, aats_trace=self.aats_trace,
                     best_epoch=self.best_epoch, variants=variants)
        save_checkpoint(path, self.kind, {"config": self.config, "state": state}, arrays)

    @classmethod
    def load(cls, path, device: str = "cpu") -> "RBM":
        meta, arrays = load_checkpoint(path, cls.kind)
        m = checked_config(path, lambda: cls(**meta["config"], device=device))
        m._load_params(path, arrays, "", moments=True)
        if "chains" in arrays:
            m.chains = m._tensor(check_tensor(path, arrays, "chains", (m.config["n_chains"], m.config["n_visible"]),
                                              0.0, 1.0))
        st = meta.get("state")
        if not isinstance(st, dict):
            raise FormatError(path, "config lacks the training 'state'")

        def state():
            m.epoch, m.updates, m.step = (check_int(st[x], x, 0) for x in ("epoch", "updates", "step"))
            m.aats_trace = [(check_int(e, "aats_trace epoch"), check_float(a, "aats_trace AATS", high=1.0))
                            for e, a in st["aats_trace"]]
            m.best_epoch = st["best_epoch"]
            if m.best_epoch is not None and m.best_epoch not in dict(m.aats_trace):
                raise ValueError(f"best_epoch {m.best_epoch!r} is not in aats_trace")

        checked_config(path, state)
        if m.best_epoch is not None and "best.W" in arrays:
            m.best_state = {k: m._tensor(check_tensor(path, arrays, f"best.{k}", tuple(p.shape)))
                            for k, p in m.params.items()}
        if "fingerprints" in arrays:
            f = arrays["fingerprints"]
            if f.ndim != 1 or f.dtype != np.uint64:
                raise FormatError(path, f"tensor 'fingerprints' must be 1-D uint64, got {f.dtype} {f.shape}")
            m.fingerprints = f
        m.variants = variants_from_checkpoint(arrays, st.get("variants", {}), path, m.config["n_visible"])
        return m

    def _load_params(self, path, arrays: dict, prefix: str, moments: bool) -> None:
        """Take parameters (and optimizer moments) from checkpoint arrays, each checked against the config."""
        for k, p in self.params.items():
            shape = tuple(p.shape)
            self.params[k] = self._tensor(check_tensor(path, arrays, prefix + k, shape))
            if moments:
                self.moments[k] = (self._tensor(check_tensor(path, arrays, f"{prefix}moment1.{k}", shape)),
                                   self._tensor(check_tensor(path, arrays, f"{prefix}moment2.{k}", shape, 0.0)))


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
