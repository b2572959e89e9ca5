"""What the PyTorch generators (GAN, WGAN, VAE, GMMN) share: labels, seeding, the training loop with
model selection, sampling through the copy gate, and checkpoints that resume bit-identically
(models/_torch_checkpoint.py).

Randomness: every epoch draws from its own ``torch.Generator`` and numpy
permutation keyed by (seed, epoch), and sampling from one keyed by the
sampling seed alone. A checkpoint saved at an epoch boundary therefore needs
no RNG state beyond the epoch counter: parameters, buffers (batch-norm
statistics) and optimizer moments are enough for a resumed run on the same
device to repeat the uninterrupted one bit for bit.

Model selection (``eval_every``): the seeds stopped WGAN and VAE training by
eye on PCA plots (Yelmen et al. 2023) and the GAN on AATS (Yelmen et al.
2021). Here every ``eval_every`` epochs ``n_eval`` haplotypes are generated
and scored by the RBM's rule (:mod:`genofast.models._selection`: AA_truth and
AA_syn against what unseen real haplotypes score, AF, LD and 3-point
correlations) plus the distance between real and synthetic PC1-4 score
distributions, all weighted 1 (``SELECT``; ``fit(select=...)`` changes them
and can add real-vs-synthetic classifiers, ``select={"classifier": w}``).
AATS alone can sit at 0.5 while AA_truth is near 0 and AA_syn near 1
(synthetic haplotypes bunched near real ones but close to each other). The
parameters of the epoch with the lowest score are restored at the end, and
the trace is kept in the checkpoint.

Data-parallel training (``fit(distributed=True)``, under ``torchrun``; see
:mod:`genofast.models._ddp`): every process holds the same haplotypes, seed
and initial weights and walks the same batches; each computes a contiguous
share of every batch (WGAN: whole packs). Every random tensor of a step is
drawn at whole-batch size from the epoch's generator and cut to the share,
so the generators' streams are one process's; losses are the share's part
of the whole batch's (divided by the whole batch size), the gradients are
added over the processes before every optimizer step, batch norm uses the
whole batch's statistics and GMMN's MMD the whole batch's mean features. The
run therefore equals a one-process run with the same batch size up to float
summation order. Process 0 alone evaluates and writes checkpoints; its
selection results are sent to the others, so all end on the same parameters.

Averaged generator (``ema``, GAN, WGAN and GMMN): with a decay ``ema`` > 0 an
exponential moving average of the generator's parameters (``generator_ema``,
updated after every training batch with decay min(ema, (1 + t) / (10 + t)) at
update t, batch-norm statistics copied) generates every sample, in evaluation
too (Yazici et al. 2019: the average of an adversarial generator's iterates
sits nearer the equilibrium its iterates circle). The second term is the
smaller for the first 9 / (1 - ema) - 10 updates (8,990 for 0.999): until
then the average weighs mostly the last tenth of the updates so far. It is
saved and resumed with the rest.

Allele-frequency term (``frequency_weight`` = w > 0; GAN with straight-through
draws, VAE): the generator's loss gains w * sum_s g_s * mean_b p_bs, where p is
the generator's P(allele 1), g_s = (m_s - f_s) / max(f_s (1 - f_s), 1e-3), f the
training allele frequencies and m an exponential moving average (decay 0.99 per
batch) of the generator's mean P(allele 1). The division by f(1 - f) offsets
the factor p(1 - p) by which a probability moves its logit, so rare SNPs are
held as firmly as common ones. The generated mean is the average of the last hundred
batches, not the current batch's: a term in the current batch's squared
deviation would also penalise the spread between haplotypes (the linkage).
Per label for a conditional model. A proportional controller on the
frequencies, not a change of the adversarial game: with zero deviation the
term has no gradient.

Calibrated sampler (``calibrate``; GAN with straight-through draws, VAE with
Bernoulli output): per SNP (and label), an offset added to the sampler's
logits so that its mean P(allele 1) over 4,096 latent draws (keyed by the
seed and epoch) equals the training allele frequency; fitted by bisection
after each evaluated epoch (before its samples are drawn, so the kept state
carries its own offsets) and after the last epoch. Training
never sees the offsets. A shift of a SNP's logit in every haplotype alike:
frequencies exact at the price of where in the haplotype backgrounds the
added or removed alleles fall.
"""

from __future__ import annotations

import contextlib
import copy

import numpy as np

from ..matrix import HaplotypeMatrix, Variants
from ._base import (as_alleles, check_bool, check_classes, check_fit_input, check_float, check_int,
                    check_sample_count, check_seed, label_indices)
from ._ddp import ProcessGroup
from ._torch_ops import CALIBRATION_DRAWS, calibrated_offsets, derived_seed, resolve_device, torch_module

SAMPLE_CHUNK = 1000  # rows generated per forward pass in sample(): bounds memory for any n
FREQUENCY_DECAY = 0.99  # per batch: the tracked generated frequencies remember about the last 100 batches
FREQUENCY_FLOOR = 1e-3  # least f(1 - f) dividing a SNP's frequency gap (monomorphic SNPs)


def _frequency_tracker(n_groups: int, n_snps: int):
    """Buffers (saved, resumed and restored with the networks), per label: the training allele frequencies, an
    exponential moving average of the generator's mean P(allele 1) (``frequency_weight``) and the sampler's
    calibrated logit offsets (``calibrate``)."""
    torch = torch_module()
    track = torch.nn.Module()
    for name in ("target", "mean", "offset"):
        track.register_buffer(name, torch.zeros(n_groups, n_snps))
    return track


class TorchGenerator:
    """Base of the neural generators; subclasses define the networks and one training step.

    Subclasses set ``kind`` and ``DEFAULTS`` and implement ``_build()`` (a dict
    name -> nn.Module), ``_optimizers()`` (a dict name -> optimizer over those
    modules), ``_step(x, c, gen)`` (one update on a batch ``x`` of alleles with
    one-hot labels ``c`` or None) and ``_generate(n, c, gen)`` (P(allele 1) or
    0/1 values, n x SNPs). ``batch_multiple`` rounds batches down (WGAN packing).

    Under distributed training ``_step`` still receives the whole batch: it
    computes the rows ``self._group.rows(n)`` of it, draws its random tensors
    for all ``n`` rows and keeps those rows, divides its losses by the whole
    batch's size (``self._group.whole_mean``) and calls
    ``self._group.sum_grads(optimizer)`` before each optimizer step.
    """

    kind = ""
    DEFAULTS: dict = {}
    SELECT = dict(privacy=1.0, af=1.0, ld=1.0, three_point=1.0, pca=1.0)  # selection weights, see _selection
    batch_multiple = 1
    AVERAGED = ("generator",)  # the nets averaged when config["ema"] > 0

    def __init__(self, n_snps: int, classes=None, *, device: str = "cpu", **config):
        check_int(n_snps, "n_snps")
        classes = check_classes(classes)
        unknown = set(config) - set(self.DEFAULTS)
        if unknown:
            raise TypeError(f"{type(self).__name__} got unknown options {sorted(unknown)}")
        cfg = {**self.DEFAULTS, **config}
        if "ema" in cfg:
            cfg["ema"] = check_float(cfg["ema"], "ema", high=1.0, high_open=True)
        if "frequency_weight" in cfg:
            cfg["frequency_weight"] = check_float(cfg["frequency_weight"], "frequency_weight")
        if "calibrate" in cfg:
            check_bool(cfg["calibrate"], "calibrate")
        if cfg.get("fine_tune_epoch") is not None:
            cfg["fine_tune_epoch"] = check_int(cfg["fine_tune_epoch"], "fine_tune_epoch", 0)
        self.config = {"n_snps": int(n_snps), "classes": classes, **self._check_config(cfg)}
        self.device = resolve_device(device)
        self.nets = self._with_extras(self._build())
        self.optimizers = self._optimizers()
        self.epoch = 0
        self.updates = 0
        self.trace: list[dict] = []
        self.best_epoch: int | None = None
        self.best_state: dict | None = None
        self.variants: Variants | None = None
        self.fingerprints: np.ndarray | None = None
        self._group = ProcessGroup.single()  # the processes sharing each batch while fit(distributed=True) runs

    # --- subclass hooks ----------------------------------------------------------------

    def _check_config(self, cfg: dict) -> dict:
        return cfg

    def _epoch_start(self, seed: int) -> None:
        """Called before each epoch (GMMN re-draws its random features here)."""

    def _generator_lr(self) -> None:
        """The second phase (``fine_tune_epoch``, WGAN and GMMN): the generator's learning rate divided by 10 from
        that epoch on (Yelmen et al. 2023). Set at every epoch start from the epoch counter, so a resumed run
        enters the phase where the uninterrupted one did."""
        start = self.config["fine_tune_epoch"]
        lr = self.config["lr"] / (10 if start is not None and self.epoch >= start else 1)
        for g in self.optimizers["generator"].param_groups:
            g["lr"] = lr

    def _data_init(self, alleles) -> None:
        """Called after the networks are first built, with the training alleles (start at their frequencies)."""

    def _prepare(self, data, cond) -> None:
        """Called once per fit with the training tensors (GMMN keeps them for its sketches)."""

    # --- labels --------------------------------------------------------------------------

    @property
    def n_snps(self) -> int:
        return self.config["n_snps"]

    @property
    def classes(self) -> list[str] | None:
        return self.config["classes"]

    @property
    def n_classes(self) -> int:
        return len(self.classes) if self.classes else 0

    def _label_indices(self, labels, n: int) -> np.ndarray | None:
        """Labels (one per row, or one for all rows) as class indices, checked against the model's classes."""
        return label_indices(self.classes, labels, n, type(self).__name__)

    def _onehot(self, idx):
        torch = torch_module()
        if idx is None:
            return None
        return torch.nn.functional.one_hot(torch.as_tensor(idx, device=self.device), self.n_classes).float()

    # --- training ------------------------------------------------------------------------

    def _initialise(self, seed: int) -> None:
        """Fresh networks and optimizers, their initial weights drawn from ``seed`` (not torch's global RNG)."""
        torch = torch_module()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derived_seed(seed, 0))
            self.nets = self._build()
        self.optimizers = self._optimizers()

    # --- averaged generator (see the module docstring) ---------------------------------

    def _with_extras(self, nets: dict) -> dict:
        """The networks plus the averaged generator (``ema``) and the frequency tracker (``frequency_weight``,
        ``calibrate``)."""
        if self.config.get("ema"):
            for name in self.AVERAGED:
                nets[f"{name}_ema"] = copy.deepcopy(nets[name]).requires_grad_(False)
        if self.config.get("frequency_weight") or self.config.get("calibrate"):
            nets["frequencies"] = _frequency_tracker(max(1, self.n_classes), self.n_snps).to(self.device)
        return nets

    def _update_averages(self) -> None:
        decay = self.config.get("ema")
        if not decay:
            return
        decay = min(decay, (1 + self.updates) / (10 + self.updates))
        with torch_module().no_grad():
            for name in self.AVERAGED:
                avg, net = self.nets[f"{name}_ema"], self.nets[name]
                for a, p in zip(avg.parameters(), net.parameters()):
                    a.lerp_(p, 1 - decay)
                for a, b in zip(avg.buffers(), net.buffers()):
                    a.copy_(b)

    # --- allele-frequency term (see the module docstring) ----------------------------------

    def _frequency_init(self, alleles, cond) -> None:
        """Targets: the training allele frequencies (per label); the tracked means start at them."""
        if "frequencies" not in self.nets:
            return
        torch = torch_module()
        groups = [np.arange(len(alleles))] if cond is None else [np.flatnonzero(cond == k)
                                                                 for k in range(self.n_classes)]
        target = np.stack([alleles[g].mean(0) if len(g) else np.zeros(self.n_snps) for g in groups])
        track = self.nets["frequencies"]
        with torch.no_grad():
            track.target.copy_(torch.as_tensor(target, dtype=track.target.dtype))
            track.mean.copy_(track.target)

    def _frequency_loss(self, p, c, n):
        """``frequency_weight`` * sum over rows and SNPs of (tracked generated mean - training frequency f) /
        max(f(1 - f), 1e-3) * p / ``n``, for this process's rows ``p`` (P(allele 1)) with one-hot labels ``c``
        (or None) of a batch of ``n``; first updates the tracked means with the whole batch's (0 without the
        option)."""
        weight = self.config.get("frequency_weight")
        if not weight:
            return 0
        torch = torch_module()
        track = self.nets["frequencies"]
        rows = torch.ones(p.shape[0], 1, device=p.device) if c is None else c
        with torch.no_grad():
            sums = {"sums": torch.cat([rows.T @ p.detach(), rows.sum(0)[:, None]], 1)}
            self._group.sum_all(sums)
            total, count = sums["sums"][:, :-1], sums["sums"][:, -1:]
            seen = count > 0  # labels absent from the batch keep their means
            step = (1 - FREQUENCY_DECAY) * (total / count.clamp(min=1) - track.mean)
            track.mean.add_(torch.where(seen, step, torch.zeros_like(step)))
            f = track.target
            gap = rows @ ((track.mean - f) / (f * (1 - f)).clamp(min=FREQUENCY_FLOOR))
        return weight * (gap * p).sum() / n

    def _sample_logits(self, n, c, gen):
        """Logits of P(allele 1) for ``n`` latent draws with one-hot labels ``c`` (families that calibrate)."""
        raise NotImplementedError

    def _offset(self, c, n):
        """The calibrated logit offsets for ``n`` rows with one-hot labels ``c`` (0 without ``calibrate``)."""
        if not self.config.get("calibrate"):
            return 0
        offset = self.nets["frequencies"].offset
        return offset[0].expand(n, -1) if c is None else c @ offset

    def _calibrate(self, seed: int) -> None:
        """Fit the sampler's per-SNP (per-label) logit offsets so that the mean P(allele 1) over
        ``CALIBRATION_DRAWS`` latent draws (keyed by ``seed`` and the epoch) equals the training frequency."""
        if not self.config.get("calibrate"):
            return
        torch = torch_module()
        track = self.nets["frequencies"]
        gen = self._torch_generator(seed, 5, self.epoch)
        self._train_mode(False)
        with torch.no_grad(), self._averaged():
            for k in range(track.offset.shape[0]):
                c = None if not self.n_classes else self._onehot(np.full(CALIBRATION_DRAWS, k))
                logits = self._sample_logits(CALIBRATION_DRAWS, c, gen)
                track.offset[k] = calibrated_offsets(logits, track.target[k])

    @contextlib.contextmanager
    def _averaged(self):
        """While active, each averaged net stands in for its net (sampling)."""
        if not self.config.get("ema"):
            yield
            return
        saved = {name: self.nets[name] for name in self.AVERAGED}
        self.nets.update({name: self.nets[f"{name}_ema"] for name in self.AVERAGED})
        try:
            yield
        finally:
            self.nets.update(saved)

    def _train_mode(self, on: bool) -> None:
        for net in self.nets.values():
            net.train(on)

    def fit(self, haplotypes, epochs: int = 100, seed: int = 0, *, labels=None, eval_every: int | None = None,
            n_eval: int = 1000, select: dict | None = None, progress: bool = False, checkpoint=None,
            fingerprint: bool = True, distributed: bool = False, holdout=None):
        """Train for ``epochs`` in total (resumes from ``self.epoch`` after :meth:`load`).

        ``labels``: one label per haplotype for a conditional model (built with
        ``classes``). ``eval_every``: model selection, see the module docstring
        (``select``: weights of its criteria, default ``SELECT``).
        ``checkpoint``: a path saved after every epoch. ``fingerprint``: keep
        64-bit digests of the training haplotypes so that :meth:`sample` can
        refuse exact copies (see :mod:`genofast.models._gate`).
        ``distributed``: data-parallel training over the processes of a
        ``torch.distributed`` group (started by ``torchrun``; see the module
        docstring and :mod:`genofast.models._ddp`): each process gets the same
        haplotypes, labels and seed and computes its share of every batch; the
        run equals one process's with the same batch size up to float summation
        order. Only process 0 evaluates and writes the checkpoint; every
        process ends on the same (best) parameters. ``holdout``: haplotypes
        never trained on, for the privacy loss at each evaluation (see
        :meth:`genofast.models.RBM.fit`).
        """
        from ._gate import fingerprints
        from ._base import progress_bar
        from ._selection import Evaluator, check_weights, holdout_alleles

        torch = torch_module()
        check_seed(seed)
        weights = check_weights(select, self.SELECT)
        check_int(epochs, "epochs", 0)
        if eval_every is not None:
            check_int(eval_every, "eval_every")
            check_int(n_eval, "n_eval", 2)
        a = as_alleles(haplotypes)
        check_fit_input(a, self.n_snps)
        prints = fingerprints(a) if fingerprint else None
        held = holdout_alleles(holdout, a, getattr(haplotypes, "variants", None), eval_every, train_prints=prints)
        cond = self._label_indices(labels, a.shape[0])
        self.variants = getattr(haplotypes, "variants", self.variants)
        self.fingerprints = prints
        if self.epoch == 0 and self.updates == 0:
            self._initialise(seed)
            self._data_init(a)
            self.nets = self._with_extras(self.nets)  # the averages start at the data-initialised nets
            self._frequency_init(a, cond)
        data = torch.tensor(a, dtype=torch.float32, device=self.device)
        onehot = self._onehot(cond)
        self._prepare(data, onehot)
        n = a.shape[0]
        batch = max(self.batch_multiple, min(self.config["batch_size"], n) // self.batch_multiple * self.batch_multiple)
        if n < batch:
            raise ValueError(f"{type(self).__name__} needs at least {batch} training haplotypes, got {n}")
        self._group = group = ProcessGroup.join(self.device) if distributed else ProcessGroup.single()
        try:
            # only process 0 evaluates
            evaluate = Evaluator(a, n_eval, seed, weights, held) if eval_every and group.rank == 0 else None
            # a conditional model samples, for each real row it is compared with, that row's label
            eval_labels = None if evaluate is None or cond is None else np.asarray(self.classes)[cond[evaluate.rows]]
            bar = progress_bar(progress and group.rank == 0, epochs, self.epoch, f"training {type(self).__name__}")
            try:
                while self.epoch < epochs:
                    self._epoch_start(seed)
                    gen = self._torch_generator(seed, 1, self.epoch)
                    order = torch.as_tensor(np.random.default_rng((seed, self.epoch)).permutation(n),
                                            device=self.device)
                    self._train_mode(True)
                    with group.synced_batch_norm(self.nets.values()):
                        for start in range(0, n - batch + 1, batch):  # the last partial batch is dropped
                            idx = order[start : start + batch]
                            self._step(data[idx], None if onehot is None else onehot[idx], gen)
                            self._update_averages()
                            self.updates += 1
                    bad = self._non_finite()
                    if bad:
                        raise FloatingPointError(f"training diverged in epoch {self.epoch + 1}: {bad} became NaN or "
                                                 "infinite; the checkpoint was not updated; lower the learning rate")
                    self.epoch += 1
                    evaluating = eval_every and self.epoch % eval_every == 0
                    if evaluating or self.epoch == epochs:
                        self._calibrate(seed)  # the samples evaluated, and the state kept, are calibrated
                    if evaluating:
                        self._evaluate(evaluate, eval_labels, weights, seed)
                    if checkpoint is not None and group.rank == 0:
                        self.save(checkpoint)
                    bar.advance()
            finally:
                bar.close()
                self._train_mode(False)
        finally:
            group.leave()
            self._group = ProcessGroup.single()
        if self.best_state is not None:
            self._load_state(self.best_state)
        return self

    def _torch_generator(self, *key):
        torch = torch_module()
        return torch.Generator(device=self.device).manual_seed(derived_seed(*key))

    def _evaluate(self, evaluate, labels, weights: dict, seed: int) -> None:
        """Score this epoch's samples (process 0; the others receive its row) and keep the best epoch's state."""
        from ._selection import score

        row = None
        if self._group.rank == 0:
            syn = self.sample(evaluate.n, seed=derived_seed(seed, 3, self.epoch) % 2**62, labels=labels,
                              allow_copies=True)
            row = evaluate(syn, self.epoch)
            row["score"] = score(row, weights)
        row = self._group.from_first(row)
        self.trace.append(row)
        best = None if self.best_epoch is None else next(e for e in self.trace if e["epoch"] == self.best_epoch)
        if best is None or row["score"] < best["score"]:
            self.best_epoch, self.best_state = self.epoch, self._state_copy()

    # --- state ---------------------------------------------------------------------------

    def _state_copy(self) -> dict:
        return {f"{name}.{k}": v.detach().clone() for name, net in self.nets.items()
                for k, v in net.state_dict().items()}

    def _load_state(self, state: dict) -> None:
        for name, net in self.nets.items():
            net.load_state_dict({k: state[f"{name}.{k}"] for k in net.state_dict()})

    def _non_finite(self) -> str | None:
        torch = torch_module()
        for name, net in self.nets.items():
            for k, p in net.state_dict().items():
                if p.is_floating_point() and not bool(torch.isfinite(p).all()):
                    return f"{name}.{k}"
        return None

    # --- sampling ------------------------------------------------------------------------

    def sample_bytes(self, n: int) -> int:
        """Host memory of :meth:`sample`: one chunk's float work arrays, the 0/1 result, ids."""
        return 8 * min(n, SAMPLE_CHUNK) * self.n_snps + 2 * n * self.n_snps + 160 * n

    def sample(self, n: int, seed: int = 0, labels=None, *, allow_copies: bool = False) -> HaplotypeMatrix:
        """Generate ``n`` haplotypes.

        A conditional model needs ``labels``: one label for all haplotypes, or
        one per haplotype. Ids read ``<kind><i>``, or ``<kind><i>.<label>``.
        When the model holds fingerprints of its training haplotypes, an exact
        copy raises :class:`~genofast.models.CopiesError` unless ``allow_copies``.
        """
        torch = torch_module()
        n = check_sample_count(n)
        check_seed(seed)
        cond = self._label_indices(labels, n)
        gen = self._torch_generator(seed, 4)
        self._train_mode(False)
        parts = []
        with torch.no_grad(), self._averaged():
            for start in range(0, n, SAMPLE_CHUNK):
                rows = min(SAMPLE_CHUNK, n - start)
                c = None if cond is None else self._onehot(cond[start : start + rows])
                parts.append((self._generate(rows, c, gen) > 0.5).to(torch.uint8).cpu().numpy())
        alleles = np.concatenate(parts) if parts else np.zeros((0, self.n_snps), np.uint8)
        suffix = [""] * n if cond is None else [f".{self.classes[i]}" for i in cond]
        ids = np.array([f"{self.kind}{i}{s}" for i, s in enumerate(suffix)])
        out = HaplotypeMatrix.from_numpy(alleles, ids=ids, variants=self.variants)
        if not allow_copies and self.fingerprints is not None:
            from ._gate import copied_rows, refuse_copies

            refuse_copies(copied_rows(out, stored=self.fingerprints), n, f"{type(self).__name__}.sample")
        return out

    # --- checkpoints (models/_torch_checkpoint.py) -------------------------------------

    def save(self, path) -> None:
        """Networks, optimizer moments, selection trace and best parameters (safetensors + JSON), atomically."""
        from ._torch_checkpoint import save

        save(self, path)

    @classmethod
    def load(cls, path, device: str = "cpu"):
        from ._torch_checkpoint import load

        return load(cls, path, device)
