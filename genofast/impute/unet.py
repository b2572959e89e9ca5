"""Genotype imputation with the iterative U-Net of the imputation thesis (seed 000).

The loop (sections 4.2-4.3), batched on the device with genofast's phasing
kernels: unphased genotypes are split at random into two haplotypes
(:func:`~genofast.kernels.random_phase`); the network predicts an allele-1
probability per SNP for each haplotype; the predictions are rounded, and
:func:`~genofast.kernels.reconcile` applies the homozygous correction and the
complement rule (at an observed heterozygous call one haplotype carries what
the other does not, so two predictions carrying the same allele are re-split
at random); the repaired pair is the next iteration's input. Each
iteration's two probability vectors merge into genotype probabilities
(P(0) = (1-pa)(1-pb), P(1) = pa(1-pb) + (1-pa)pb, P(2) = pa pb). Training
hides half of the observed calls afresh at every iteration and sums the
cross-entropy of the merged genotypes over the iterations; the network's
input at a hidden or missing call is allele -1 with flag 0 whatever was
predicted there before ("the flags are kept"), so what one iteration hands the
next is the phase at heterozygous calls.

Beyond the thesis: both of its variants (10 iterations and 1; Table 3 found
the single iteration slightly better) are trained and the one with the
higher concordance on held-out samples' hidden calls is kept, as is the
epoch with the best such concordance; long cohorts are cut into overlapping
windows with one network each, stitched at the middle of each overlap.
Windows are cut by SNP index, not by chromosome: as in the thesis (whose
9,259 array SNPs over chromosomes 20-22 feed one network), a window may
hold the end of one chromosome and the start of the next; the network sees
no linkage across that seam and learns none.

Randomness is keyed by (seed, window, variant, epoch, batch, iteration) -
masks and dropout from ``torch.Generator`` s, phase splits from the kernels'
Philox streams - so a run resumed from a checkpoint repeats the
uninterrupted one exactly on the same device.
"""

from __future__ import annotations

import time as _time

import numpy as np

from .. import kernels
from ..matrix import GenotypeMatrix
from ..models._base import (check_float, check_int, check_memory, check_seed, progress_bar)
from ..models._torch_ops import derived_seed, resolve_device
from ..phasing import _check_genotypes, mask_calls
from .result import Imputed

ROWS_PER_PASS = 64  # samples per forward pass when imputing: bounds memory for any cohort


def _torch():
    import torch

    return torch


def windows(n_snps: int, window: int | None, overlap: int) -> list[tuple[int, int, int, int]]:
    """(start, end, core_start, core_end) per window: windows of ``window`` SNPs overlapping by ``overlap``,
    the last one ending at ``n_snps``; each SNP's prediction comes from the window whose core holds it."""
    if window is None or window >= n_snps:
        return [(0, n_snps, 0, n_snps)]
    step = window - overlap
    starts = list(range(0, n_snps - window + 1, step))
    if starts[-1] + window < n_snps:
        starts.append(n_snps - window)
    cuts = [0] + [(s + e) // 2 for s, e in zip(starts[1:], [s + window for s in starts[:-1]])] + [n_snps]
    return [(s, s + window, cuts[i], cuts[i + 1]) for i, s in enumerate(starts)]


def _log_merge(logit_a, logit_b):
    """log P(dosage 0, 1, 2) of two independent haplotypes, from logits, stable where probabilities underflow."""
    torch = _torch()
    F = torch.nn.functional
    la1, la0, lb1, lb0 = F.logsigmoid(logit_a), F.logsigmoid(-logit_a), F.logsigmoid(logit_b), F.logsigmoid(-logit_b)
    return torch.stack([la0 + lb0, torch.logaddexp(la1 + lb0, la0 + lb1), la1 + lb1], -1)


class UNetImputer:
    """Iterative U-Net imputer for unphased diploid genotypes; see the module docstring.

    Defaults follow the thesis' Table 2 (Adam lr 6.4e-5 without decay, batch
    10, bottleneck noise std 0.0032, L2 1e-7 on kernels, 10 iterations, 50%
    training masks). ``iterations`` is one count or several to choose among
    on validation; ``validation`` is the fraction of samples held out for that
    (their ``validation_mask`` share of observed calls hidden); ``window`` /
    ``overlap`` cut long cohorts (``None``: one network over all SNPs).
    """

    kind = "unet-imputer"
    DEFAULTS = dict(iterations=(10, 1), lr=6.4e-5, batch_size=10, noise_std=0.0032, l2=1e-7, mask_fraction=0.5,
                    filters=8, kernel=5, dense=75, bottleneck=2, dropout=0.01, window=10_000, overlap=500,
                    validation=0.1, validation_mask=0.2)

    def __init__(self, n_snps: int, *, device: str = "cpu", **config):
        check_int(n_snps, "n_snps")
        unknown = set(config) - set(self.DEFAULTS)
        if unknown:
            raise TypeError(f"UNetImputer got unknown options {sorted(unknown)}")
        cfg = {**self.DEFAULTS, **config}
        its = cfg["iterations"]
        its = [its] if isinstance(its, (int, np.integer)) else list(its)
        if not its or len(set(its)) != len(its):
            raise ValueError(f"iterations must be a count or distinct counts, got {cfg['iterations']!r}")
        cfg["iterations"] = [check_int(i, "iterations") for i in its]
        for k in ("batch_size", "filters", "kernel", "dense", "bottleneck"):
            check_int(cfg[k], k)
        for k in ("lr", "noise_std", "l2", "dropout", "mask_fraction", "validation", "validation_mask"):
            check_float(cfg[k], k, high=1.0 if k in ("dropout", "mask_fraction", "validation",
                                                    "validation_mask") else None)
        if cfg["window"] is not None:
            check_int(cfg["window"], "window", 8)
            check_int(cfg["overlap"], "overlap", 0, cfg["window"] - 1)
        self.n_snps, self.config = int(n_snps), cfg
        self.device = resolve_device(device)
        self.windows = windows(self.n_snps, cfg["window"], cfg["overlap"])
        self.nets: list = [None] * len(self.windows)  # the kept network of each finished window
        self.chosen: list[int | None] = [None] * len(self.windows)  # its iteration count
        self.unit = 0  # (window, variant) pairs finished
        self.epoch = 0  # epochs done in the current unit
        self.trace: list[dict] = []
        self.variants = None
        self._net = self._opt = None
        self._best: dict | None = None  # {"score", "epoch", "state"} of the current unit
        self._finished: dict[int, dict] = {}  # iteration count -> best of each finished variant, current window

    # --- structure -------------------------------------------------------------------------

    @property
    def iterations(self) -> list[int]:
        return self.config["iterations"]

    @property
    def units(self) -> list[tuple[int, int]]:
        return [(w, it) for w in range(len(self.windows)) for it in self.iterations]

    @property
    def trained(self) -> bool:
        return all(n is not None for n in self.nets)

    def _build(self, w: int):
        from ._unet_net import UNet1D

        c = self.config
        s, e = self.windows[w][:2]
        return UNet1D(e - s, c["filters"], c["kernel"], c["dense"], c["bottleneck"], c["dropout"],
                      c["noise_std"]).to(self.device)

    def _start_unit(self, seed: int) -> None:
        torch = _torch()
        w, it = self.units[self.unit]
        torch.manual_seed(derived_seed(seed, 1, w, it))  # initial weights; nothing else draws from this RNG
        self._net = self._build(w)
        self._opt = torch.optim.Adam(self._net.parameters(), lr=self.config["lr"])
        self._best = None

    def _finish_unit(self) -> None:
        w, it = self.units[self.unit]
        best = self._best or {"score": float("nan"), "epoch": self.epoch, "state": self._state(self._net)}
        self._finished[it] = best
        if len(self._finished) == len(self.iterations):  # the window is done: keep the better variant
            score = {k: (-np.inf if np.isnan(v["score"]) else v["score"]) for k, v in self._finished.items()}
            keep = max(sorted(score), key=lambda k: score[k])  # ties: fewer iterations
            net = self._build(w)
            net.load_state_dict(self._finished[keep]["state"])
            net.eval()
            self.nets[w], self.chosen[w] = net, keep
            self._finished = {}
        self.unit += 1
        self.epoch = 0
        self._net = self._opt = self._best = None

    @staticmethod
    def _state(net) -> dict:
        return {k: v.detach().clone() for k, v in net.state_dict().items()}

    # --- the loop ---------------------------------------------------------------------------

    def _inputs(self, hap_words, g, length: int):
        """Network input (2B, 2, L) for the pair of haplotypes: allele or -1, and the observed flag."""
        torch = _torch()
        alleles = torch.cat([self._tensor(kernels.unpack_haplotypes(h, length)) for h in hap_words])
        observed = (g >= 0).repeat(2, 1)
        return torch.stack([torch.where(observed, alleles.float(), -1.0), observed.float()], 1)

    def _tensor(self, x):
        torch = _torch()
        return x if torch.is_tensor(x) else torch.from_numpy(np.asarray(x)).to(self.device)

    @staticmethod
    def _kernel_input(t):
        return t if t.is_cuda else t.cpu().numpy()

    def _phase(self, g, length: int, pair, key):
        """First iteration: a random split of ``g``; later: the previous predictions repaired against ``g``."""
        gw = kernels.pack_genotypes(self._kernel_input(g))
        if pair is None:
            a, b, _ = kernels.random_phase(gw, length, derived_seed(*key))
        else:
            packed = [kernels.pack_haplotypes(self._kernel_input(p > 0)) for p in pair]
            a, b, _ = kernels.reconcile(gw, *packed, length, derived_seed(*key))
        return a, b

    def _train_batch(self, d, it: int, gen, key) -> float:
        """One optimiser step on true dosages ``d`` (B, L; -1 missing) with ``it`` iterations; returns the summed
        loss."""
        torch = _torch()
        net, c = self._net, self.config
        known = d >= 0
        target = d.long().clamp(min=0).unsqueeze(-1)
        n_known = known.sum().clamp(min=1)
        self._opt.zero_grad()
        total, pair, length = 0.0, None, d.shape[1]
        for t in range(it):
            hide = (torch.rand(d.shape, generator=gen, device=d.device) < c["mask_fraction"]) & known
            g = torch.where(hide, -1, d)
            a, b = self._phase(g, length, pair, (*key, t))
            logits = net(self._inputs((a, b), g, length), gen)
            la, lb = logits[: d.shape[0]], logits[d.shape[0]:]
            logp = _log_merge(la, lb).gather(-1, target).squeeze(-1)
            loss = -(logp * known).sum() / n_known
            loss.backward()  # iterations share no graph (their inputs are hard calls): free each one's at once
            total += float(loss.detach())
            pair = (la.detach(), lb.detach())
        if c["l2"]:
            (c["l2"] * sum((w ** 2).sum() for w in net.weights())).backward()
        self._opt.step()
        return total

    def _steps(self, net, g, it: int, seed: int, key):
        """Yield (hap_a words, hap_b words, logits_a, logits_b) per iteration on genotypes ``g`` (B, L), no gradients:
        the pair is the network's input in that iteration, the logits its output."""
        torch = _torch()
        pair, length = None, g.shape[1]
        with torch.no_grad():
            for t in range(it):
                a, b = self._phase(g, length, pair, (seed, 5, *key, t))
                logits = net(self._inputs((a, b), g, length))
                pair = (logits[: g.shape[0]], logits[g.shape[0]:])
                yield a, b, *pair

    def _merge(self, logit_a, logit_b):
        """Genotype probabilities (B, L, 3) with the merge kernel, as a CPU tensor."""
        torch = _torch()
        pa, pb = (torch.sigmoid(p).contiguous() for p in (logit_a, logit_b))
        if pa.is_cuda:
            return kernels.merge(pa, pb).cpu()
        return torch.from_numpy(kernels.merge(pa.numpy(), pb.numpy()))

    def _impute_block(self, net, g, it: int, seed: int, key):
        for *_, la, lb in self._steps(net, g, it, seed, key):
            pass
        return self._merge(la, lb)

    def _impute_window(self, net, g, it: int, seed: int, w: int):
        """Probabilities for all rows of ``g`` (torch int8, samples x window SNPs) as a CPU tensor."""
        net.eval()
        parts = [self._impute_block(net, g[r: r + ROWS_PER_PASS], it, seed, (w, r))
                 for r in range(0, g.shape[0], ROWS_PER_PASS)]
        return _torch().cat(parts)

    # --- training ---------------------------------------------------------------------------

    def fit(self, genotypes, epochs: int = 100, seed: int = 0, *, eval_every: int = 5, progress: bool = False,
            checkpoint=None):
        """Train every window's network(s) for ``epochs`` each (resumes where a loaded checkpoint stopped).

        ``eval_every``: epochs between validations (the best validated epoch is
        kept). ``checkpoint``: a path written atomically after every epoch.
        """
        torch = _torch()
        check_seed(seed)
        check_int(epochs, "epochs")
        check_int(eval_every, "eval_every")
        g, d = self._checked(genotypes, "training")
        self.variants = g.variants if self.variants is None else self.variants
        train, val = self._split(d.shape[0], seed)
        if len(self.iterations) > 1 and not len(val):
            raise ValueError("choosing among several iteration counts needs validation samples: set validation > 0 "
                             "or a single iterations count")
        masked_val, val_mask = (mask_calls(GenotypeMatrix.from_numpy(d[val]), self.config["validation_mask"],
                                           derived_seed(seed, 4)) if len(val) else (None, None))
        if masked_val is not None:
            masked_val = masked_val.to_numpy()  # unpacked once, sliced per window at every validation
        batch = min(self.config["batch_size"], len(train))
        bar = progress_bar(progress, len(self.units) * epochs, self.unit * epochs + self.epoch, "training U-Net")
        try:
            while self.unit < len(self.units):
                w, it = self.units[self.unit]
                s, e = self.windows[w][:2]
                self._check_memory(e - s, batch, len(train))
                data = torch.as_tensor(d[train, s:e], device=self.device)
                if self._net is None:
                    self._start_unit(seed)
                while self.epoch < epochs:
                    self._net.train()
                    gen = torch.Generator(device=self.device).manual_seed(derived_seed(seed, 2, w, it, self.epoch))
                    order = np.random.default_rng((seed, 3, w, it, self.epoch)).permutation(len(train))
                    losses = [self._train_batch(data[torch.as_tensor(order[i: i + batch], device=self.device)], it,
                                                gen, (seed, 6, w, it, self.epoch, i))
                              for i in range(0, len(train) - batch + 1, batch)]
                    if not np.isfinite(losses).all():
                        raise FloatingPointError(f"U-Net training diverged in window {w}, epoch {self.epoch + 1}; "
                                                 "lower the learning rate")
                    self.epoch += 1
                    row = {"window": w, "iterations": it, "epoch": self.epoch, "loss": float(np.mean(losses))}
                    if masked_val is not None and (self.epoch % eval_every == 0 or self.epoch == epochs):
                        row.update(self._validate(masked_val, d[val], val_mask, w, it, seed))
                        if self._best is None or row["concordance"] > self._best["score"]:
                            self._best = {"score": row["concordance"], "epoch": self.epoch,
                                          "state": self._state(self._net)}
                    self.trace.append(row)
                    if self.epoch == epochs:
                        self._finish_unit()
                    if checkpoint is not None:
                        self.save(checkpoint)
                    bar.advance()
                    if self._net is None:
                        break
        finally:
            bar.close()
        return self

    def fit_seconds(self, n_samples: int, epochs: int = 100) -> float:
        """Estimated seconds for what is left of ``fit(genotypes of n_samples, epochs)``, from a timed training
        batch of the widest window at the most iterations (the second of two: the first pays one-off costs).

        A batch costs in proportion to SNPs x iterations (measured: 1.5-1.65e-6 s per sample x SNP x iteration
        on one core, alike for 1 and 10 iterations and for 3,000 or 6,000 SNPs), so each remaining unit is that
        batch scaled by its width and iteration count. Validations (a forward pass over the held-out samples
        every ``eval_every`` epochs) are left out: they add a few per cent.
        """
        torch = _torch()
        check_int(n_samples, "n_samples")
        check_int(epochs, "epochs")
        todo = [(u, w, it) for u, (w, it) in enumerate(self.units) if u >= self.unit]
        if not todo:
            return 0.0
        n_train = n_samples - self._n_validation(n_samples)
        batch = max(1, min(self.config["batch_size"], n_train))
        width = {w: self.windows[w][1] - self.windows[w][0] for _, w, _ in todo}
        w0 = max(width, key=width.get)
        it0 = max(it for *_, it in todo)
        saved = self._net, self._opt
        try:
            with torch.random.fork_rng(devices=[]):  # building a network draws weights: leave the user's RNG be
                self._net = self._build(w0)
                self._opt = torch.optim.Adam(self._net.parameters(), lr=self.config["lr"])
                d = torch.as_tensor(np.random.default_rng(0).integers(0, 3, (batch, width[w0]), dtype=np.int8),
                                    device=self.device)
                gen = torch.Generator(device=self.device).manual_seed(0)
                for rep in range(2):
                    if rep:
                        start = _time.perf_counter()
                    self._train_batch(d, it0, gen, (0, rep))
                if self.device.startswith("cuda"):
                    torch.cuda.synchronize()
                per_cell = (_time.perf_counter() - start) / (batch * width[w0] * it0)
        finally:
            self._net, self._opt = saved
        batches = max(1, n_train // batch)
        cells = sum(width[w] * it * (epochs - (self.epoch if u == self.unit else 0)) for u, w, it in todo)
        return per_cell * batch * batches * cells

    def _n_validation(self, n: int) -> int:
        return int(round(self.config["validation"] * n))

    def _split(self, n: int, seed: int):
        n_val = self._n_validation(n)
        if n - n_val < 1:
            raise ValueError(f"{n} samples leave none to train on after holding out {n_val} for validation")
        order = np.random.default_rng((seed, 7)).permutation(n)
        return np.sort(order[n_val:]), np.sort(order[:n_val])

    def _validate(self, masked: np.ndarray, truth: np.ndarray, mask: np.ndarray, w: int, it: int,
                  seed: int) -> dict:
        torch = _torch()
        s, e = self.windows[w][:2]
        g = torch.as_tensor(masked[:, s:e], device=self.device)
        p = self._impute_window(self._net, g, it, seed, w).numpy()
        m, t = mask[:, s:e], truth[:, s:e]
        m = m & (t >= 0)
        if not m.any():
            return {"concordance": float("nan"), "masked_loss": float("nan")}
        true_p = np.take_along_axis(p, t.clip(0)[..., None].astype(np.int64), -1)[..., 0][m]
        return {"concordance": float((p.argmax(-1)[m] == t[m]).mean()),
                "masked_loss": float(-np.log(np.clip(true_p, 1e-7, 1)).mean())}

    def _check_memory(self, length: int, batch: int, n_train: int) -> None:
        c = self.config
        pooled = (length + 1) // 2
        params = 2 * pooled * c["filters"] * c["dense"] + 20 * c["filters"] ** 2 * c["kernel"]
        activations = 2 * max(batch, ROWS_PER_PASS) * length * c["filters"] * 16
        need = 4 * (6 * params + activations) + n_train * length
        check_memory(need, f"a U-Net over {length} SNPs", "set window= to fewer SNPs per network")

    def _checked(self, genotypes, what: str) -> tuple[GenotypeMatrix, np.ndarray]:
        """The genotypes, checked against the model, and their dosages unpacked (-1 missing)."""
        g = _check_genotypes(genotypes)
        if g.n_snps != self.n_snps:
            raise ValueError(f"the imputer has {self.n_snps} SNPs, the {what} genotypes {g.n_snps}")
        if g.n_samples == 0:
            raise ValueError(f"no samples in the {what} genotypes")
        if self.variants is not None and g.variants is not None:
            a, b = self.variants, g.variants
            same = ((np.asarray(a.position) == np.asarray(b.position))
                    & (np.asarray(a.chrom, str) == np.asarray(b.chrom, str)))
            if not same.all():
                j = int(np.flatnonzero(~same)[0])
                raise ValueError(f"SNP {j} of the {what} genotypes ({b.chrom[j]}:{b.position[j]}) is not the "
                                 f"model's ({a.chrom[j]}:{a.position[j]}): impute the SNP set it was trained on")
        d = g.to("cpu").to_numpy()
        empty = np.flatnonzero((d < 0).all(axis=1))
        if empty.size:
            raise ValueError(f"{empty.size} {what} sample(s) have no observed call, first {g.ids[empty[0]]!r} "
                             f"(row {empty[0]}): nothing to impute them from")
        return g, d

    # --- imputation -------------------------------------------------------------------------

    def impute(self, genotypes, seed: int = 0, *, draws: int = 1, progress: bool = False) -> Imputed:
        """Probabilities of every call; observed calls are kept (one-hot), missing ones imputed.

        ``draws`` > 1 averages the probabilities over that many random initial
        phasings (the network sees a different split of the heterozygous calls
        each time); ``draws=1`` is the thesis' single pass.
        """
        torch = _torch()
        if not self.trained:
            raise RuntimeError("the U-Net imputer is not trained: call fit() or load a trained checkpoint")
        check_seed(seed)
        check_int(draws, "draws")
        g, d = self._checked(genotypes, "target")
        check_memory(12.0 * g.n_samples * self.n_snps, "the imputed probabilities",
                     "impute fewer samples at a time")
        out = np.empty(d.shape + (3,), np.float32)
        one_hot = np.eye(3, dtype=np.float32)
        bar = progress_bar(progress, len(self.windows) * draws, 0, "imputing")
        try:
            for w, (s, e, cs, ce) in enumerate(self.windows):
                g_w = torch.as_tensor(d[:, s:e], device=self.device)
                p = sum(self._impute_window(self.nets[w], g_w, self.chosen[w], derived_seed(seed, 8, k) if k else seed,
                                            w) for k in range(draws)) / draws
                core, calls = p[:, cs - s: ce - s].numpy(), d[:, cs:ce]
                observed = calls >= 0
                core[observed] = one_hot[calls[observed]]  # observed calls kept, a window at a time to bound memory
                out[:, cs:ce] = core
                bar.advance(draws)
        finally:
            bar.close()
        return Imputed(out, g)

    def iterate(self, genotypes, seed: int = 0, *, window: int = 0, iterations: int | None = None):
        """Yield, per iteration of one window, ``(hap_a, hap_b, probabilities)``: the phased pair the network read
        (uint8 arrays samples x window SNPs; hap_a + hap_b equals every observed dosage) and the genotype
        probabilities it gave (samples x window SNPs x 3), to follow how the iterations change the result."""
        torch = _torch()
        if self.nets[window] is None:
            raise RuntimeError(f"window {window} is not trained")
        _, dosages = self._checked(genotypes, "target")
        s, e = self.windows[window][:2]
        d = torch.as_tensor(dosages[:, s:e], device=self.device)
        net = self.nets[window]
        net.eval()
        chunks = [list(self._steps(net, d[r: r + ROWS_PER_PASS], iterations or self.chosen[window], seed, (window, r)))
                  for r in range(0, d.shape[0], ROWS_PER_PASS)]  # the same row blocks, hence draws, as impute()
        for steps in zip(*chunks):
            haps = [np.concatenate([np.asarray(self._tensor(kernels.unpack_haplotypes(step[k], e - s)).cpu())
                                    for step in steps]) for k in (0, 1)]
            yield (*haps, np.concatenate([self._merge(step[2], step[3]).numpy() for step in steps]))

    # --- checkpoints (genofast/impute/_unet_checkpoint.py) -----------------------------------

    def save(self, path) -> None:
        """Finished networks and the run in progress (weights, Adam moments, best epoch), atomically."""
        from ._unet_checkpoint import save

        save(self, path)

    @classmethod
    def load(cls, path, device: str = "cpu") -> "UNetImputer":
        """A saved imputer, trained or mid-training (``fit`` then resumes where it stopped)."""
        from ._unet_checkpoint import load

        return load(cls, path, device)
