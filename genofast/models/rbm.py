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
block of :class:`~genofast.models.crbm.ConditionalRBMChain`. With
``classes`` it is conditional on a label (e.g. the super-population): the
one-hot label is more context, so each label has its own visible and hidden
biases on shared weights; ``fit(labels=...)``, ``sample(labels=...)``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import kernels
from ..matrix import Variants
from ._base import (as_alleles, check_classes, check_fit_input, check_float, check_int, check_memory,
                    check_seed, check_tensor, label_indices, log_odds, progress_bar)
from ._ddp import ProcessGroup
from ._local_band import LocalBand
from ._rbm_learning import LearningRule
from ._rbm_resources import ResourceEstimates
from ._rbm_sampling import Sampling
from ._torch_ops import torch_module

TRAINING = ("cd", "pcd", "rdm")
_STATE = ("W", "a", "b", "A", "B")

# The one place the RBM's defaults live: ``RBM(...)`` and ``genofast train``
# both read this dict, so re-tuning a default changes both.
DEFAULTS = dict(n_hidden=100, hidden="relu", training="rdm", k=30, n_chains=64, lr=1e-3, batch_size=64, l2=0.0,
                optimizer="adam", momentum=0.9, centered=True, decay=0.1, dropout=0.3, local_hidden=None,
                local_window=32, local_lr=10.0)
# and of ``fit``: how long to train, how often to measure the selection criteria
FIT_DEFAULTS = dict(epochs=60, eval_every=5, n_eval=1000)
MAX_SAMPLE_SWEEPS = 1_000_000  # a stored sweep count above this is a damaged config, not a model
# Options added after checkpoints were first written, at the value that means "not used": a stored config
# without one predates it, and must not load with today's default instead.
ABSENT = dict(dropout=0.0, local_hidden=0)
MAX_AUTO_LOCAL = 300  # local units are dense columns of W: in memory and each gradient, a fully connected unit's cost


def auto_local_units(n_visible: int, window: int) -> int:
    """``local_hidden=None``: enough local units for about 12 windows over each SNP (300 on 805 or 1,000 SNPs,
    where they were measured), at most ``MAX_AUTO_LOCAL``."""
    return min(MAX_AUTO_LOCAL, math.ceil(12 * n_visible / window))


def _resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if kernels.has_cuda().available else "cpu"
    if device.startswith("cuda") and not kernels.has_cuda().available:
        raise RuntimeError("CUDA was requested but no CUDA device is available to genofast")
    return device


# The update rule, sampling and the resource estimates are mixins, one module each (models/_rbm_*.py).
class RBM(LearningRule, Sampling, ResourceEstimates):
    """Restricted Boltzmann machine over haplotypes; see the module docstring.

    Defaults (``RBM.DEFAULTS``, shared with ``genofast train``): 100 fully
    connected ReLU hidden units (Yelmen et al. 2019 used 100 for ~800 SNPs,
    500 for 10k) and up to 300 locally connected ones (below); Rdm-30
    training (Yelmen et al. 2023) with 64 chains per update, batches of 64,
    Adam at lr 1e-3 decaying as lr / (1 + decay · epoch); the centred
    gradient (Melchior et al. 2016: visible offsets at the data means, hidden
    offsets a running mean of the data's hidden activity), which keeps the
    gradient from mixing the mean of each unit into its correlations and
    steadies training. PCD-k (Yelmen et al. 2019) and CD-k are options;
    ``bench/rbm_yelmen805.py`` measures the defaults. ``dropout=p`` (default
    0.3) drops each fully connected hidden unit with probability p, one mask
    per training row or chain held through its sweeps (Srivastava et al.
    2014), and samples the same way: it holds the privacy loss down.

    ``local_hidden=L`` adds L locally connected hidden units after the
    ``n_hidden`` fully connected ones (default None: about 12 windows over
    each SNP, at most 300, :func:`auto_local_units`): unit j sees only
    ``local_window`` consecutive SNPs (windows centred evenly along the SNPs,
    shifted inside at the ends) and its weights and bias step ``local_lr``
    times as far as the others' (and so do the visible biases, which the
    centring moves by those steps). Why: through a layer of H units the
    visible units interact, to second order, through W Wᵀ, of rank at most
    H, and strong LD between neighbouring SNPs all along a dense region is a
    band, of full rank; 100 fully connected units learnt the region's
    long-range structure and little of its local linkage, and more of them
    memorised the training haplotypes. Local units add the band with few
    parameters (L x ``local_window``). Stored as zeros outside each window of
    one dense W, so every checkpoint is unchanged; the Gibbs sweeps multiply
    the windows only (:mod:`genofast.models._local_band`); ``dropout``
    spares them. ``local_hidden=0``: fully connected units only. In a
    conditional RBM with local units, the couplings A of context SNPs to
    window SNPs at most ``local_window`` apart across the seam step
    ``local_lr`` times as far too: they carry the short-range linkage across
    a :class:`~genofast.models.crbm.ConditionalRBMChain`'s seams, which at
    the plain rate stayed too weak (docs/rbm.md, long regions).
    """

    kind = "rbm"
    DEFAULTS = DEFAULTS
    BAND_MIN = 1 << 17  # V x L from which the local units' products run as a band (models/_local_band.py)

    def __init__(self, n_visible: int, n_hidden: int = DEFAULTS["n_hidden"], hidden: str = DEFAULTS["hidden"], *,
                 training: str = DEFAULTS["training"], k: int = DEFAULTS["k"], n_chains: int = DEFAULTS["n_chains"],
                 lr: float = DEFAULTS["lr"], batch_size: int = DEFAULTS["batch_size"], l2: float = DEFAULTS["l2"],
                 optimizer: str = DEFAULTS["optimizer"], momentum: float = DEFAULTS["momentum"],
                 centered: bool = DEFAULTS["centered"], decay: float = DEFAULTS["decay"],
                 dropout: float = DEFAULTS["dropout"], local_hidden: int | None = DEFAULTS["local_hidden"],
                 local_window: int = DEFAULTS["local_window"], local_lr: float = DEFAULTS["local_lr"],
                 n_context: int = 0, classes=None, sample_k: int | None = None, device: str = "cpu"):
        if hidden not in kernels.UNIT_KINDS:
            raise ValueError(f"hidden must be one of {kernels.UNIT_KINDS}, got {hidden!r}")
        if training not in TRAINING:
            raise ValueError(f"training must be one of {TRAINING}, got {training!r}")
        classes = check_classes(classes)
        if training == "pcd" and (n_context or classes):
            raise ValueError("a conditional RBM has no single persistent chain per context; use 'cd' or 'rdm'")
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
        for name, v in (("n_visible", n_visible), ("k", k), ("n_chains", n_chains), ("batch_size", batch_size)):
            check_int(v, name)
        check_int(n_hidden, "n_hidden", 0)
        # A NaN or infinite rate trains to all-NaN weights, which sample all-0 haplotypes without complaint.
        lr = check_float(lr, "lr", low_open=True)
        l2 = check_float(l2, "l2")
        decay = check_float(decay, "decay")
        momentum = check_float(momentum, "momentum", high=1.0, high_open=True)
        dropout = check_float(dropout, "dropout", high=1.0, high_open=True)
        check_int(n_context, "n_context", 0)
        check_int(local_window, "local_window")
        if local_hidden is None:
            local_hidden = auto_local_units(check_int(n_visible, "n_visible"), local_window)
        check_int(local_hidden, "local_hidden", 0)
        if not n_hidden + local_hidden:
            raise ValueError("an RBM needs hidden units: n_hidden and local_hidden are both 0")
        local_lr = check_float(local_lr, "local_lr", low_open=True)
        if sample_k is not None:  # given (always, from a checkpoint): bounded, or a damaged file could sample forever
            check_int(sample_k, "sample_k", 1, MAX_SAMPLE_SWEEPS)
        V, H = int(n_visible), int(n_hidden) + int(local_hidden)  # the local units are the last columns
        C = int(n_context) + len(classes or ())  # context columns: alleles, then the one-hot label
        # the float64 draw for W, then W and its two optimizer moments in float32
        check_memory(V * H * 20 + C * (V + H) * 12, f"an RBM of {V} visible x {H} hidden units",
                     "use fewer hidden units")
        self.config = dict(n_visible=V, n_hidden=int(n_hidden), hidden=hidden, training=training,
                           k=int(k), n_chains=int(n_chains), lr=lr, batch_size=int(batch_size), l2=l2,
                           optimizer=optimizer, momentum=momentum, centered=bool(centered), decay=float(decay),
                           dropout=dropout, local_hidden=int(local_hidden), local_window=int(local_window),
                           local_lr=local_lr, n_context=int(n_context), classes=classes,
                           sample_k=int(sample_k) if sample_k else (int(k) if training == "rdm" else 1000))
        self.device = _resolve_device(device)
        torch = torch_module()
        g = np.random.default_rng(0)  # weights start small and fixed: seeds drive sampling, not init
        t = lambda x: torch.tensor(x, dtype=torch.float32, device=self.device)  # noqa: E731
        scales = self._local_scales(V, H, int(local_hidden), int(local_window), local_lr)
        w = g.normal(0, 0.01, (V, H))
        if scales is not None:
            w *= scales[0] > 0  # a local unit starts (and stays) unconnected outside its window
        self.params = {"W": t(w), "a": t(np.zeros(V)), "b": t(np.zeros(H))}
        self._step_scale = None if scales is None else tuple(t(x) for x in scales)  # (W, hidden bias) multipliers
        self._band = self._local_band(V, int(n_hidden), int(local_hidden), int(local_window), torch)
        seam = self._seam_scale(int(n_context), V, int(local_window), local_lr) if scales is not None else None
        self._seam_step = None if seam is None else (seam[0], t(seam[1]))  # A's multipliers near the seam
        if C:
            self.params["A"] = t(np.zeros((C, V)))
            self.params["B"] = t(np.zeros((C, H)))
        self.moments = {k: (torch.zeros_like(p), torch.zeros_like(p)) for k, p in self.params.items()}
        self.offsets = {"v": t(np.full(V, 0.5)), "h": t(np.zeros(H))}
        self.chains = None
        self.epoch = 0
        self.updates = 0
        self.step = 0  # Philox stream counter: one per sampled layer
        self.trace: list[dict] = []  # one row of selection criteria per evaluation; see models/_selection.py
        self.best_epoch: int | None = None
        self.best_state: dict | None = None  # parameters of best_epoch, kept so a resumed run restores them
        self.variants: Variants | None = None
        self.fingerprints: np.ndarray | None = None  # of the training haplotypes; see models/_gate.py
        self._group = ProcessGroup.single()  # the processes sharing each batch while fit(distributed=True) runs

    # --- Gibbs sampling ---------------------------------------------------------

    def _local_band(self, V, n_global, n_local, window, torch):
        """The local units' products as a band (see models/_local_band.py), or None: without local units, where
        the dense columns are small (torch's per-call costs outweigh the saving), or where the band saves little
        (windows nearly as wide as the SNPs)."""
        if not n_local or V * n_local < self.BAND_MIN:
            return None
        band = LocalBand(self._local_starts(V, n_local, window), window, V, n_global, torch, self.device)
        return band if band.multiply_adds < V * n_local / 4 else None

    def _pre_hidden(self, v):
        W = self.params["W"]
        if self._band is None:
            return v @ W
        return torch_module().cat([v @ W[:, : self._band.first], self._band.hidden(v, W)], dim=1)

    def _pre_visible(self, h):
        W = self.params["W"]
        if self._band is None:
            return h @ W.T
        H0 = self._band.first
        return h[:, :H0] @ W[:, :H0].T + self._band.visible(h[:, H0:], W)

    def _units(self, pre, bias, kind, seed, mean=False, pack=False, row0=0):
        out = kernels.rbm_units(pre, bias, kind, seed, self.step, mean=mean, pack=pack, first_row=row0)
        self.step += 1
        return out

    def _shifts(self, u):
        """A context's shifts of the visible and hidden biases, (u·A, u·B): fixed along a chain, so computed once."""
        return None if u is None else (u @ self.params["A"], u @ self.params["B"])

    # ``row0``: the rows are rows row0... of a batch sharded over processes (``fit(distributed=True)``);
    # they draw that batch's random numbers.
    def _hidden(self, v, shifts, seed, mean=False, row0=0, mask=None):
        """Hidden units given ``v``; a dropout ``mask`` (see :meth:`_mask`) zeroes the dropped ones."""
        pre = self._pre_hidden(v)
        if shifts is not None:
            pre = pre + shifts[1]
        h, mu, packed = self._units(pre, self.params["b"], self.config["hidden"], seed, mean=mean, row0=row0)
        if mask is not None:
            h, mu = h * mask, None if mu is None else mu * mask
        return h, mu, packed

    def _visible(self, h, shifts, seed, mean=False, pack=False, row0=0):
        pre = self._pre_visible(h)
        if shifts is not None:
            pre = pre + shifts[0]
        return self._units(pre, self.params["a"], "bernoulli", seed, mean=mean, pack=pack, row0=row0)

    def _random_visible(self, n, seed, row0=0):
        torch = torch_module()
        zeros = torch.zeros((n, self.config["n_visible"]), dtype=torch.float32, device=self.device)
        bias = torch.zeros(self.config["n_visible"], dtype=torch.float32, device=self.device)
        return self._units(zeros, bias, "bernoulli", seed, row0=row0)[0]  # p = 1/2 everywhere

    def gibbs(self, v, sweeps: int, seed: int, u=None):
        """Run ``sweeps`` alternating hidden / visible updates from visible states ``v`` (context ``u``)."""
        return self._gibbs(v, sweeps, seed, self._shifts(u))

    def _gibbs(self, v, sweeps, seed, shifts, row0=0, mask=None):
        for _ in range(sweeps):
            h, _, _ = self._hidden(v, shifts, seed, row0=row0, mask=mask)
            v, _, _ = self._visible(h, shifts, seed, row0=row0)
        return v

    def _mask(self, n: int, key: tuple, rows=None):
        """Hidden-unit dropout (Srivastava et al. 2014): which units each of ``n`` rows keeps, or None without it.

        Drawn for a whole batch from ``key`` (seed, update, phase), then cut to
        this process's ``rows``, so sharded training draws what one process does.
        Only the fully connected units drop out; the local ones are always kept
        (dropped too, they lost the local linkage they are there for: docs/rbm.md).
        """
        p = self.config["dropout"]
        if not p:
            return None
        keep = np.random.default_rng(key).random((n, self.config["n_hidden"])) >= p
        if self.config["local_hidden"]:
            keep = np.concatenate([keep, np.ones((n, self.config["local_hidden"]), bool)], axis=1)
        if rows is not None:
            keep = keep[rows[0] : rows[1]]
        return self._tensor(keep)

    # --- training -----------------------------------------------------------------

    def _tensor(self, alleles):
        return torch_module().tensor(alleles, dtype=torch_module().float32, device=self.device)

    def fit(self, haplotypes, epochs: int = FIT_DEFAULTS["epochs"], seed: int = 0, *, context=None, labels=None,
            eval_every: int | None = FIT_DEFAULTS["eval_every"], select: dict | None = None,
            patience: int | None = None, n_eval: int = FIT_DEFAULTS["n_eval"], progress: bool = False,
            checkpoint=None, fingerprint: bool = True, distributed: bool = False, holdout=None) -> "RBM":
        """Train for ``epochs`` in total (resumes from ``self.epoch`` after :meth:`load`).

        ``eval_every``: every so many epochs (None or 0: never), sample ``n_eval`` haplotypes and
        measure privacy (AA_truth, AA_syn against their real-haplotype
        targets) and utility (AF, LD and 3-point correlations) against the
        training set; each row goes to ``self.trace`` and the parameters of
        the best-scoring epoch are kept at the end. ``select``: weights of
        the criteria (see :mod:`genofast.models._selection`, default
        ``WEIGHTS``). With ``patience`` training stops after that many
        evaluations without improvement. ``checkpoint``: a path saved after
        every epoch. ``context``: the conditioning alleles of a conditional
        RBM (rows matching the haplotypes); ``labels``: one label per
        haplotype for an RBM built with ``classes``. ``fingerprint``: keep a 64-bit
        digest of each training haplotype in the model (and its checkpoints)
        so that :meth:`sample` can refuse exact copies later; see
        :mod:`genofast.models._gate` for what the digests reveal.
        ``distributed``: data-parallel training over the processes of a
        ``torch.distributed`` group (started by ``torchrun``; see
        :mod:`genofast.models._ddp`): each process gets the same haplotypes
        and seed, computes its share of every batch and of the chains, and
        the gradients are summed, so the run equals one process's with the
        same batch up to float summation order. Only process 0 evaluates and
        writes the checkpoint. ``holdout``: haplotypes of the same SNPs never
        trained on; each evaluation then also records the privacy loss
        (AATS(holdout, sample) − AATS(training rows, sample)), which the
        ``privacy_loss`` selection weight can use (0 by default).
        """
        from ._gate import fingerprints
        from ._selection import Evaluator, check_weights, holdout_alleles, score

        torch = torch_module()
        check_seed(seed)
        check_int(epochs, "epochs", 0)
        weights = check_weights(select)
        if distributed and self.config["training"] == "pcd":
            raise ValueError("distributed training shards fresh chains (training='rdm' or 'cd'); PCD's persistent "
                             "chains are not sharded")
        if eval_every:
            check_int(eval_every, "eval_every")
            check_int(n_eval, "n_eval", 2)
        if patience is not None:
            check_int(patience, "patience", 0)
        a = as_alleles(haplotypes)
        check_fit_input(a, self.config["n_visible"])
        prints = fingerprints(a) if fingerprint else None
        held = holdout_alleles(holdout, a, getattr(haplotypes, "variants", None), eval_every, context is not None,
                               prints)
        self.variants = getattr(haplotypes, "variants", self.variants)
        self.fingerprints = prints
        self._check_gpu_memory(4 * a.size, f"training data of {a.shape[0]} x {a.shape[1]} alleles",
                               "train on fewer haplotypes or SNPs, or on the CPU")
        data = self._tensor(a)
        idx = label_indices(self.classes, labels, a.shape[0], "RBM")
        ctx = self._context(context, a.shape[0], idx)
        cfg = self.config
        if self.epoch == 0 and self.updates == 0:
            # Visible biases start at the data's log-odds (Hinton 2010, sec. 8.1):
            # the model then begins with the right allele frequencies.
            self.params["a"].copy_(self._tensor(log_odds(a)))
            self.offsets["v"].copy_(self._tensor(a.mean(axis=0)))
            # and each label's visible shift at its own frequencies' log-odds
            for j in range(len(self.classes or ())):
                shift = log_odds(a[idx == j]) - log_odds(a) if (idx == j).any() else 0.0
                self.params["A"][cfg["n_context"] + j] = self._tensor(shift)
        if cfg["training"] == "pcd" and self.chains is None:
            self.chains = self._random_visible(cfg["n_chains"], seed)
        evaluate = Evaluator(a, n_eval, seed, weights, held) if eval_every and self.epoch < epochs else None
        # A resumed run compares later epochs with the best one before the break, and ends on its parameters.
        rows = {row["epoch"]: row for row in self.trace}
        best = None if self.best_epoch is None else (score(rows[self.best_epoch], weights),
                                                      self.best_state or self._state_copy())
        stale = 0
        self._group = group = ProcessGroup.join(self.device) if distributed else ProcessGroup.single()
        bar = progress_bar(progress and group.rank == 0, epochs, self.epoch, "training RBM")
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
                if evaluate is not None and self.epoch % eval_every == 0:
                    row = None
                    if group.rank == 0:
                        u = None if ctx is None else ctx[torch.as_tensor(evaluate.rows, device=self.device)]
                        syn = self._draw(evaluate.n, None, seed + 7919 * self.epoch, None, u)
                        row = evaluate(syn, self.epoch)
                        row["score"] = score(row, weights)
                    row = group.from_first(row)
                    self.trace.append(row)
                    if best is None or row["score"] < best[0]:
                        best, self.best_epoch, stale = (row["score"], self._state_copy()), self.epoch, 0
                        self.best_state = best[1]
                    else:
                        stale += 1
                if checkpoint is not None and group.rank == 0:
                    self.save(checkpoint)
                bar.advance()
                if patience is not None and stale >= patience:
                    break
        finally:
            bar.close()
            group.leave()
            self._group = ProcessGroup.single()
        if best is not None:
            self._restore(best[1])
        return self

    @classmethod
    def _from_stored(cls, config: dict, device: str) -> "RBM":
        """An RBM built from a checkpoint's config: options the config predates take their "not used" value
        (``ABSENT``), not today's default."""
        return cls(**{**ABSENT, **config}, device=device)

    @property
    def n_units(self) -> int:
        """Hidden units in all: ``n_hidden`` fully connected, then ``local_hidden`` locally connected."""
        return self.config["n_hidden"] + self.config["local_hidden"]

    @property
    def local_coverage(self) -> float:
        """The share of the SNPs inside at least one local unit's window (0 without local units). Below 1 when
        the automatic count hits its cap (``MAX_AUTO_LOCAL`` windows of the default 32 SNPs cover at most 9,600
        SNPs): the SNPs between the windows get no local linkage; a chain of windows
        (:class:`~genofast.models.ConditionalRBMChain`) covers a long region whole."""
        V, n, width = self.config["n_visible"], self.config["local_hidden"], self.config["local_window"]
        covered = np.zeros(V, bool)
        for lo in self._local_starts(V, n, width) if n else ():
            covered[lo : lo + width] = True
        return float(covered.mean())

    @property
    def classes(self) -> list[str] | None:
        return self.config["classes"]

    @property
    def _n_conditions(self) -> int:
        """Rows of A and B: the context alleles, then one per label."""
        return self.config["n_context"] + len(self.classes or ())

    def _context(self, context, n_rows, idx=None):
        """The conditioning rows u: context alleles (checked) and/or the one-hot of the label indices ``idx``
        (from :func:`label_indices`); None when unconditional."""
        torch = torch_module()
        C = self.config["n_context"]
        c = None
        if not C:
            if context is not None:
                raise ValueError("this RBM is not conditional (n_context=0) but a context was given")
        elif context is None:
            raise ValueError(f"a conditional RBM needs a context of {C} alleles per haplotype")
        else:
            c = context if hasattr(context, "device") and not isinstance(context, np.ndarray) else \
                self._tensor(as_alleles(context))
            if tuple(c.shape) != (n_rows, C):
                raise ValueError(f"context has shape {tuple(c.shape)}, expected ({n_rows}, {C})")
            c = c.to(self.device, dtype=torch.float32)
        if idx is None:
            return c
        onehot = torch.nn.functional.one_hot(torch.as_tensor(idx, device=self.device), len(self.classes))
        onehot = onehot.to(torch.float32)
        return onehot if c is None else torch.cat([c, onehot], 1)

    # --- exact quantities for small models ------------------------------------------

    def free_energy(self, v):
        """F(v) = −a·v − Σ_j log ∫ exp(h x_j − E_h(h)) dh, with x = b + vW (exact)."""
        torch = torch_module()
        x = v @ self.params["W"] + self.params["b"]
        if self.config["hidden"] == "bernoulli":
            hidden = torch.nn.functional.softplus(x)
        else:  # log ∫_0^∞ exp(hx − h²/2) dh = x²/2 + log(√(2π) Φ(x))
            hidden = x * x / 2 + 0.5 * math.log(2 * math.pi) + torch.special.log_ndtr(x)
        return -(v @ self.params["a"]) - hidden.sum(-1)

    # --- checkpoints (models/_rbm_checkpoint.py) ---------------------------------------

    def save(self, path) -> None:
        """Parameters, optimizer moments, chains and training state (safetensors + JSON), atomically."""
        from ._rbm_checkpoint import save

        save(self, path)

    @classmethod
    def load(cls, path, device: str = "cpu") -> "RBM":
        from ._rbm_checkpoint import load

        return load(cls, path, device)

    def _load_params(self, path, arrays: dict, prefix: str, moments: bool) -> None:
        """Take parameters (and optimizer moments) from checkpoint arrays, each checked against the config."""
        for k, p in self.params.items():
            shape = tuple(p.shape)
            self.params[k] = self._tensor(check_tensor(path, arrays, prefix + k, shape))
            if moments:
                self.moments[k] = (self._tensor(check_tensor(path, arrays, f"{prefix}moment1.{k}", shape)),
                                   self._tensor(check_tensor(path, arrays, f"{prefix}moment2.{k}", shape, 0.0)))
