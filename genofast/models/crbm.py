"""Conditional RBMs chained along the genome, for regions too long for one RBM (Yelmen et al. 2023)."""

from __future__ import annotations

import numpy as np

from ..matrix import HaplotypeMatrix
from ._base import (as_alleles, check_fit_input, check_float, check_int, check_memory, check_sample_count, check_seed,
                    check_tensor, checked_config, load_checkpoint, save_checkpoint, training_extras,
                    variants_from_checkpoint)
from ._gate import fingerprints_from_checkpoint
from ._selection import load_selection, selection_state
from .rbm import RBM


class ConditionalRBMChain:
    """An RBM on the first window and conditional RBMs for each next window given the previous one.

    For regions too long for one RBM (Yelmen et al. 2023 generate 65,535
    SNPs this way): window t is generated given the last ``context`` alleles
    of window t − 1, so samples are drawn end to end. The defaults
    (``DEFAULTS``, 16 epochs) are those measured on a simulated region of
    65,536 SNPs x 2,004 haplotypes (``bench/crbm_long_region.py``, docs/rbm.md):
    windows of 1,024 SNPs given the previous 256, 100 fully connected ReLU
    units and about 300 locally connected ones per window (as
    :class:`~genofast.models.rbm.RBM`'s ``local_hidden=None``), no dropout,
    Rdm-20 at lr 3e-3; about 30 minutes of training on one CPU thread,
    AF r 0.99, and LD-decay r 0.9 or more across every one of 63 seams in
    four of eight samples from three chains (the others: one seam each at
    0.83-0.90). Sampled contexts differ a little from real ones, and a wide
    context carries more of that into the next window: a 256-SNP context
    gave better allele frequencies and boundary LD than 1,024. With local
    units the context's couplings across each seam step at the local rate
    too (see :class:`~genofast.models.rbm.RBM`): without that, three seams
    of 63 fell below LD-decay r 0.9. ``context=None``: the whole previous
    window.
    """

    kind = "crbm_chain"
    # The settings measured on the simulated 65,536-SNP region (docs/rbm.md, long regions). Yelmen et al. (2023)
    # used windows of 5,000 new SNPs given 5,000 pinned ones, 1,000 hidden units, k 100 and lr 5e-3 (not tried
    # here); on 1,024-SNP windows a 256-SNP context beat a 1,024-SNP one.
    DEFAULTS = dict(window=1024, context=256, n_hidden=100, hidden="relu", training="rdm", k=20, lr=3e-3,
                    local_hidden=None, dropout=0.0)
    FIT_EPOCHS = 16

    def __init__(self, n_snps: int, window: int = DEFAULTS["window"], context: int | None = DEFAULTS["context"],
                 n_hidden: int = DEFAULTS["n_hidden"], hidden: str = DEFAULTS["hidden"],
                 training: str = DEFAULTS["training"], k: int = DEFAULTS["k"], device: str = "cpu",
                 local_hidden: int | None = DEFAULTS["local_hidden"], dropout: float = DEFAULTS["dropout"],
                 lr: float = DEFAULTS["lr"], **rbm_options):
        self.n_snps, self.window = check_int(n_snps, "n_snps"), check_int(window, "window")
        if context is not None:
            check_int(context, "context")
        # None: the whole previous window
        self.context = int(min(context or window, window))
        self.bounds = [(s, min(s + self.window, self.n_snps)) for s in range(0, self.n_snps, self.window)]
        if rbm_options.get("classes") is not None:
            raise ValueError("a ConditionalRBMChain is not label-conditional (classes): its windows are "
                             "conditioned on the previous window's alleles only")
        self.options = dict(n_hidden=n_hidden, hidden=hidden, k=k, local_hidden=local_hidden, dropout=dropout, lr=lr,
                            **rbm_options)
        self.training, self.device = training, device
        self.models = []
        for t, (s, e) in enumerate(self.bounds):
            ctx = 0 if t == 0 else min(self.context, self.bounds[t - 1][1] - self.bounds[t - 1][0])
            train = training if (t == 0 or training != "pcd") else "cd"
            self.models.append(RBM(e - s, n_context=ctx, training=train, device=device, **self.options))
        self.variants = None
        self.fingerprints: np.ndarray | None = None
        self.context_means: list | None = None  # per window, its training contexts' allele means (None: first)

    def fit(self, haplotypes, epochs: int = FIT_EPOCHS, seed: int = 0, progress: bool = False, fingerprint: bool = True,
            **fit_options):
        """Train every window's model in turn (``fit_options`` as in :meth:`RBM.fit`, e.g. ``eval_every``).

        ``fingerprint``: keep digests of the whole training haplotypes so
        that :meth:`sample` refuses exact copies (see :mod:`genofast.models._gate`).
        """
        from ._gate import fingerprints

        check_seed(seed)
        a = as_alleles(haplotypes)
        check_fit_input(a, self.n_snps)
        self.variants = getattr(haplotypes, "variants", None)
        self.fingerprints = fingerprints(a) if fingerprint else None
        self.context_means = [None] * len(self.models)
        for t, ((s, e), model) in enumerate(zip(self.bounds, self.models)):
            ctx = None if t == 0 else a[:, s - model.config["n_context"] : s]
            if ctx is not None:
                self.context_means[t] = ctx.mean(axis=0, dtype=np.float64).astype(np.float32)
            # A window is a few SNPs of the haplotype: its copies are no copies of the haplotype, so the gate
            # works on whole haplotypes (the chain's own fingerprints), not per window.
            model.fit(a[:, s:e], epochs, seed + t, context=ctx, progress=progress, fingerprint=False, **fit_options)
        return self

    def sample_bytes(self, n: int) -> int:
        """Host memory of :meth:`sample`: the windows' samplers one at a time, unpacked windows, the result."""
        return max(m.sample_bytes(n) for m in self.models) + 3 * n * self.n_snps

    def sample_seconds(self, n: int, k: int | None = None) -> float:
        return sum(m.sample_seconds(n, k) for m in self.models)

    def sample(self, n: int, k: int | None = None, seed: int = 0, *, context_gain: float = 1.0,
               allow_copies: bool = False) -> HaplotypeMatrix:
        """Draw ``n`` haplotypes end to end: window t given the sampled end of window t − 1.

        ``context_gain`` g > 1 amplifies each sampled context's departure
        from the training contexts' mean ū: window t is drawn given
        ū + g (u − ū), so its biases shift by ū·A + g (u − ū)·A (and B). Why:
        each window was trained on real contexts and reads less from sampled
        ones, whose own linkage is weaker (a window given real contexts of
        held-out haplotypes carries 0.89-0.99 of the real r² across its seam,
        given sampled ones about 0.6). On the simulated 65,536-SNP region
        g = 1.1 raised the median share from 0.62 to 0.74 and the
        allele-frequency r from 0.991-0.992 to 0.993 on three chains, but
        moved which seam's LD-decay r fell below 0.9 rather than whether one
        did; g = 1.25 raised the share to 0.88 and left one seam at 0.75; 1.5
        overshoots (docs/rbm.md). The default, 1, samples the model as
        trained. Exact copies of whole training
        haplotypes raise :class:`~genofast.models.CopiesError` unless
        ``allow_copies``.
        """
        n = check_sample_count(n)
        check_seed(seed)
        gain = check_float(context_gain, "context_gain", low_open=True)
        check_memory(self.sample_bytes(n), f"sampling {n} haplotypes x {self.n_snps} SNPs", "sample fewer per call")
        parts = []
        for t, model in enumerate(self.models):
            ctx = None if t == 0 else parts[-1][:, parts[-1].shape[1] - model.config["n_context"]:]
            if ctx is not None and gain != 1.0:
                ctx = self._amplified(ctx, t, gain)
            parts.append(model.sample(n, k, seed + t, context=ctx, allow_copies=True).to_numpy())
        ids = np.array([f"crbm{i}" for i in range(n)])
        out = HaplotypeMatrix.from_numpy(np.concatenate(parts, axis=1), ids=ids, variants=self.variants)
        if not allow_copies and self.fingerprints is not None:
            from ._gate import copied_rows, refuse_copies

            refuse_copies(copied_rows(out, stored=self.fingerprints), n, "ConditionalRBMChain.sample")
        return out

    def _amplified(self, ctx: np.ndarray, t: int, gain: float):
        """ū + gain (u − ū) for window t's sampled contexts u, as the float tensor its RBM reads (ū: the mean of
        its training contexts)."""
        if self.context_means is None or self.context_means[t] is None:
            raise ValueError("context_gain needs the mean of each window's training contexts, which this chain "
                             "lacks (a checkpoint written before context_gain); sample with context_gain=1 or refit")
        model = self.models[t]
        mean, u = model._tensor(self.context_means[t]), model._tensor(ctx)
        return mean + gain * (u - mean)

    def save(self, path) -> None:
        arrays, configs = {}, []
        for t, m in enumerate(self.models):
            bad = m._non_finite()
            if bad:
                raise ValueError(f"{path}: not saved, parameter {bad!r} of window {t} is NaN or infinite")
            arrays.update({f"{t}.{k}": v.cpu().numpy() for k, v in m.params.items()})
            if t and self.context_means is not None:
                arrays[f"{t}.context_mean"] = self.context_means[t]
            configs.append(m.config)
        extras, variants = training_extras(self)  # each window's RBM keeps its own best epoch: no chain-wide one
        arrays.update(extras)
        # each window's epochs and selection trace (its kept parameters are the ones saved)
        windows = [selection_state(m) for m in self.models]
        save_checkpoint(path, self.kind, {"n_snps": self.n_snps, "window": self.window, "context": self.context,
                                          "models": configs, "variants": variants, "windows": windows}, arrays)

    @classmethod
    def load(cls, path, device: str = "cpu") -> "ConditionalRBMChain":
        meta, arrays = load_checkpoint(path, cls.kind)
        chain = cls.__new__(cls)

        def layout():
            chain.n_snps, chain.window = check_int(meta["n_snps"], "n_snps"), check_int(meta["window"], "window")
            chain.context = check_int(meta["context"], "context", 1, chain.window)
            n_windows = -(-chain.n_snps // chain.window)  # checked before the bounds are listed: n_snps may be huge
            if not isinstance(meta["models"], list) or len(meta["models"]) != n_windows:
                raise ValueError(f"{len(meta['models'])} window models for {n_windows} windows")
            chain.bounds = [(s, min(s + chain.window, chain.n_snps)) for s in range(0, chain.n_snps, chain.window)]
            chain.models, chain.device = [], device
            for t, (cfg, (s, e)) in enumerate(zip(meta["models"], chain.bounds)):
                m = RBM._from_stored(cfg, device)
                ctx = 0 if t == 0 else min(chain.context, chain.bounds[t - 1][1] - chain.bounds[t - 1][0])
                if (m.config["n_visible"], m.config["n_context"]) != (e - s, ctx):
                    raise ValueError(f"window model {t} has {m.config['n_visible']} SNPs and context "
                                     f"{m.config['n_context']}, the windows imply {e - s} and {ctx}")
                chain.models.append(m)

        checked_config(path, layout)
        for t, m in enumerate(chain.models):
            m._load_params(path, arrays, f"{t}.", moments=False)

        def training():  # absent from checkpoints written before it was kept
            stored = meta.get("windows")
            if stored is None:
                return
            if not isinstance(stored, list) or len(stored) != len(chain.models):
                raise ValueError(f"'windows' must list one training record per window ({len(chain.models)})")
            for t, (m, st) in enumerate(zip(chain.models, stored)):
                try:
                    load_selection(m, st)
                except ValueError as e:
                    raise ValueError(f"window {t}: {e}") from None

        checked_config(path, training)
        chain.variants = variants_from_checkpoint(arrays, meta.get("variants", {}), path, chain.n_snps)
        chain.fingerprints = fingerprints_from_checkpoint(path, arrays)
        # absent from checkpoints written before context_gain: sampling then needs context_gain=1
        chain.context_means = [None] + [
            check_tensor(path, arrays, f"{t}.context_mean", (m.config["n_context"],), 0.0, 1.0)
            for t, m in enumerate(chain.models) if t] if "1.context_mean" in arrays else None
        return chain
