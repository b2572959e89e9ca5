"""``genofast train`` and ``generate``: models from data, data from models."""

from __future__ import annotations

import os

import time
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from ._common import (CONDITIONAL, DEVICE, Device, LEGEND, ModelKind, NEURAL, SEED, THREADS, WRITE_BYTES,
                      _check_legend, _check_output, _check_time, _device, _read_haplotypes, command, console)


def _rbm_defaults() -> dict:
    from ..models.rbm import DEFAULTS, FIT_DEFAULTS

    return {**DEFAULTS, **FIT_DEFAULTS}


def _crbm_epochs() -> int:
    from ..models.crbm import ConditionalRBMChain

    return ConditionalRBMChain.FIT_EPOCHS


# The RBM options default to RBM.DEFAULTS, so `genofast train` and `RBM(n_snps)` build the same model.
RBM_DEFAULTS = _rbm_defaults()


def _make_model(kind: ModelKind, n_snps: int, hidden: int, units: str, training: str, k: int, lr: float,
                batch_size: int, chains: int, device: str, window: int, decay: float = 0.0, classes=None,
                dropout: float = 0.0, local_hidden: Optional[int] = 0,
                local_window: int = RBM_DEFAULTS["local_window"]):
    from ..models import RBM, Bernoulli, MarkovChain

    if kind is ModelKind.bernoulli:
        return Bernoulli()
    if kind is ModelKind.markov:
        return MarkovChain(window=window)
    return RBM(n_snps, hidden, units, training=training, k=k, lr=lr, batch_size=batch_size, n_chains=chains,
               decay=decay, dropout=dropout, local_hidden=local_hidden, local_window=local_window, classes=classes,
               device=device)


CRBM_EPOCHS = _crbm_epochs()
OPTION_KINDS = (*NEURAL, "crbm")  # the models `train --option` configures


@command
def train(data: Path = typer.Argument(..., help="Training haplotypes (.hapt, phased .vcf, .npz)."),
          out: Path = typer.Option(..., "--out", help="Model checkpoint to write (.safetensors)."),
          model: ModelKind = typer.Option(ModelKind.rbm, metavar="MODEL", help="rbm, gan, wgan, vae, gmmn, "
                                          "bernoulli, markov, or crbm (a chain of conditional RBMs over windows, "
                                          "for long regions)."),
          labels: Optional[Path] = typer.Option(None, help="Population labels of the training samples (tsv with a "
                                                "header: sample, then the label): a conditional rbm, gan, wgan, "
                                                "vae or gmmn."),
          epochs: Optional[int] = typer.Option(None, help=f"Training epochs (default {RBM_DEFAULTS['epochs']}; crbm: "
                                               f"{CRBM_EPOCHS} per window)."),
          hidden: int = typer.Option(RBM_DEFAULTS["n_hidden"], help="RBM hidden units connected to every SNP."),
          local_hidden: Optional[int] = typer.Option(RBM_DEFAULTS["local_hidden"], help="RBM hidden units "
                                                     "connected to --local-window consecutive SNPs each, spread "
                                                     "along the SNPs (local linkage; docs/rbm.md); default: about 12 "
                                                     "windows over each SNP, at most 300."),
          local_window: int = typer.Option(RBM_DEFAULTS["local_window"], help="Consecutive SNPs each RBM local "
                                           "unit sees (docs/rbm.md)."),
          units: str = typer.Option(RBM_DEFAULTS["hidden"], help="RBM hidden units: relu or bernoulli."),
          training: str = typer.Option(RBM_DEFAULTS["training"], help="RBM training: rdm, pcd or cd."),
          k: int = typer.Option(RBM_DEFAULTS["k"], help="Gibbs sweeps per update (and per sample for rdm)."),
          lr: float = typer.Option(RBM_DEFAULTS["lr"]), batch_size: int = typer.Option(RBM_DEFAULTS["batch_size"]),
          decay: float = typer.Option(RBM_DEFAULTS["decay"], help="RBM learning rate at epoch e: lr / (1 + decay·e)."),
          chains: int = typer.Option(RBM_DEFAULTS["n_chains"], help="RBM chains per update (pcd, rdm)."),
          dropout: float = typer.Option(RBM_DEFAULTS["dropout"], help="RBM hidden-unit dropout probability "
                                        "(0: none; 0.3 held the privacy loss down on the 805-SNP set, see "
                                        "docs/rbm.md)."),
          window: int = typer.Option(3, help="Markov-chain window."),
          option: Optional[list[str]] = typer.Option(None, "--option", help="gan, wgan, vae, gmmn, crbm: a model "
                                                     "option as NAME=JSON, repeatable (e.g. --option ema=0.999 "
                                                     "--option 'kernel=[50,100]'); the names are each class's "
                                                     "DEFAULTS (crbm: ConditionalRBMChain.DEFAULTS and the RBM's "
                                                     "options, e.g. --option window=2048)."),
          eval_every: int = typer.Option(RBM_DEFAULTS["eval_every"], help="Epochs between measurements of privacy "
                                         "and utility on fresh samples; the best epoch is kept (0: never)."),
          select: Optional[list[str]] = typer.Option(None, "--select", help="rbm, gan, wgan, vae, gmmn: a weight "
                                                     "of the choice of epoch as NAME=W, repeatable (privacy, af, ld, "
                                                     "three_point, pca, classifier, privacy_loss; e.g. --select "
                                                     "privacy_loss=1 with --holdout; docs/rbm.md)."),
          holdout: Optional[Path] = typer.Option(None, help="rbm, gan, wgan, vae, gmmn: real haplotypes never "
                                                 "trained on (other individuals of the same cohort); each evaluation "
                                                 "then measures the privacy loss against them, and the end of "
                                                 "training reports it."),
          resume: bool = typer.Option(False, "--resume", help="Continue from --out if it exists."),
          distributed: bool = typer.Option(False, "--distributed", help="rbm, gan, wgan, vae, gmmn: "
                                           "data-parallel training over the processes torchrun starts (torchrun "
                                           "--nproc-per-node N -m "
                                           "genofast.cli train ...), one GPU each with --device cuda; process 0 "
                                           "writes --out."),
          no_fingerprints: bool = typer.Option(False, "--no-fingerprints", help="Store no 64-bit hash of each "
                                               "training haplotype in the checkpoint. With them (the default) "
                                               "`generate` refuses exact copies, and anyone holding the checkpoint "
                                               "and a known haplotype can test whether it was trained on (the same "
                                               "information a copy check needs)."),
          legend: Optional[Path] = LEGEND,
          seed: int = SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Train a model on haplotypes and save it."""
    from ..models import RBM
    from ..models._base import check_float, check_int, check_seed

    # Every option is checked before the data are read: a bad one must not cost a long read.
    check_seed(seed, "--seed")
    if model is ModelKind.markov:
        check_int(window, "--window", 1, 20)
    if epochs is None:
        epochs = CRBM_EPOCHS if model is ModelKind.crbm else RBM_DEFAULTS["epochs"]
    if distributed and model is not ModelKind.rbm and model.value not in NEURAL:
        raise ValueError(f"--distributed trains an RBM, GAN, WGAN, VAE or GMMN; the {model.value} model trains in "
                         "one process")
    if labels is not None and model.value not in CONDITIONAL:
        raise ValueError(f"--labels makes a conditional {', '.join(CONDITIONAL)}; the {model.value} model takes "
                         "none")
    if option and model.value not in OPTION_KINDS:
        raise ValueError(f"--option sets a gan, wgan, vae, gmmn or crbm option; the {model.value} model has its own "
                         "flags")
    if resume and model is ModelKind.crbm:
        raise ValueError("--resume: a crbm chain is trained window by window in one run and has no checkpoint to "
                         "resume from")
    weights = _select_weights(model.value, select or [], eval_every, holdout is not None)
    if holdout is not None:
        _needs_evaluations("--holdout is scored at", model.value, eval_every,
                           " (score its samples with genofast evaluate --holdout)")
    options = _model_options(model.value, option or [])
    if model.value in OPTION_KINDS:
        check_int(epochs, "--epochs")
        check_int(eval_every, "--eval-every", 0)
    if model is ModelKind.rbm:
        from ..kernels import UNIT_KINDS
        from ..models.rbm import TRAINING

        for option, value, allowed in (("--units", units, UNIT_KINDS), ("--training", training, TRAINING)):
            if value not in allowed:
                raise ValueError(f"{option} must be one of {', '.join(allowed)}, got {value!r}")
        check_int(epochs, "--epochs")
        check_int(hidden, "--hidden", 0)
        if local_hidden is not None:
            check_int(local_hidden, "--local-hidden", 0)
        check_int(local_window, "--local-window")
        if not hidden and local_hidden == 0:
            raise ValueError("--hidden must be at least 1 when --local-hidden is 0 (the RBM needs hidden units)")
        check_int(k, "--k")
        check_int(batch_size, "--batch-size")
        check_int(chains, "--chains")
        check_float(lr, "--lr", low_open=True)
        check_float(decay, "--decay")
        check_float(dropout, "--dropout", high=1.0, high_open=True)
        check_int(eval_every, "--eval-every", 0)
    _check_output(out)
    _check_legend(legend, [data, holdout])
    fingerprints = not no_fingerprints
    h = _read_haplotypes(data, legend)
    held = None if holdout is None else _holdout(h, data, holdout, legend)
    t = time.perf_counter()
    if model.value in NEURAL or model is ModelKind.rbm:
        dev = _device(device)
        if distributed and dev == "cuda":  # one GPU per process: torchrun's LOCAL_RANK picks it
            dev = f"cuda:{os.environ.get('LOCAL_RANK', '0')}"
        if model.value in NEURAL:
            _note_small_cohort(h, held, eval_every)
            m = _train_neural(model.value, h, out, labels, epochs, eval_every, resume, fingerprints, seed, dev,
                              distributed, options, held, weights)
        else:
            y = None if labels is None else _labels(h, labels)
            resumed = resume and out.exists()
            m = RBM.load(out, device=dev) if resumed else _make_model(
                model, h.n_snps, hidden, units, training, k, lr, batch_size, chains, dev, window, decay,
                None if y is None else sorted(set(y)), dropout, local_hidden, local_window)
            _check_training_size(m, h, epochs)
            _note_small_cohort(h, held, eval_every)
            if local_hidden is None and not resumed:
                _note_local_coverage(m)
            m.fit(h, epochs, seed, labels=y, eval_every=eval_every, progress=True, checkpoint=out,
                  fingerprint=fingerprints, distributed=distributed, holdout=held, select=weights)
        if distributed and _rank() != 0:
            return  # process 0 writes the model
    elif model is ModelKind.crbm:
        from ..models import ConditionalRBMChain

        m = ConditionalRBMChain(h.n_snps, device=_device(device), **options)
        _check_training_size(m, h, epochs)
        m.fit(h, epochs, seed, progress=True, fingerprint=fingerprints, eval_every=eval_every)
    else:
        m = _make_model(model, h.n_snps, hidden, units, training, k, lr, batch_size, chains, "cpu", window).fit(h)
    m.save(out)
    console.print(f"trained {model.value} on {h.n_haplotypes} x {h.n_snps} in {time.perf_counter() - t:.1f} s; "
                  f"saved {out}")
    _kept(m)


# A privacy loss past this at the kept epoch is memorisation, not the estimate's noise: on 1,008 held-out
# haplotypes a model's figure moves by about 0.01 (sd) between samples, and held-out individuals of 50
# populations scored 0.08 as a stand-in for a perfect model (docs/rbm.md).
PRIVACY_LOSS_WARNING = 0.1
# Below this many training haplotypes `train` suggests --holdout: the defaults were measured on 4,000-5,000, and
# memorised a 400-haplotype cohort (docs/rbm.md).
SMALL_COHORT = 1000


def _note_small_cohort(h, held, eval_every: int) -> None:
    if held is None and eval_every and h.n_haplotypes < SMALL_COHORT:
        console.print(f"note: {h.n_haplotypes} training haplotypes: on cohorts this small the defaults can memorise "
                      "their individuals (an RBM's privacy loss 0.32 on 400 haplotypes of a 50-population array "
                      "cohort, 0.01-0.02 on the demo's 480 simulated ones; docs/rbm.md), which the training "
                      "criteria do not show; --holdout with other individuals' haplotypes measures it")


def _holdout(h, data: Path, path: Path, legend: Optional[Path]):
    """``--holdout``'s haplotypes on the training SNPs (matched by position and alleles where both files name
    them, flipped where their alleles are swapped)."""
    from ..align import align_to

    try:
        held, info = align_to(h.variants, _read_haplotypes(path, legend), name=f"--holdout {path}",
                              reference_name=f"the training data {data}")
    except ValueError as e:  # the aligner's hint names its Python option; here the file must change
        raise ValueError(str(e).split("; pass on_mismatch")[0] + "; --holdout needs every SNP of the training "
                         "data") from None
    if info.flipped or info.reordered:
        console.print(f"note: --holdout {path}: {info.flipped} SNPs with swapped alleles flipped"
                      f"{', SNPs reordered' if info.reordered else ''} to match the training data")
    from ..models._gate import fingerprints

    same = int(np.isin(fingerprints(held), fingerprints(h)).sum())
    if 0 < same < held.n_haplotypes:  # all of them: fit refuses the set
        console.print(f"note: {same} of the {held.n_haplotypes} --holdout haplotypes equal training haplotypes "
                      "(common on few SNPs; otherwise the two files share individuals, and the privacy loss reads "
                      "low)")
    return held


def _kept(m) -> None:
    """The kept epoch's measurements, and a warning when the held-out set shows memorisation; for a chain, the
    spread of its windows' kept measurements."""
    windows = [w for w in getattr(m, "models", []) if w.trace and w.best_epoch is not None]
    if windows:
        rows = [next(r for r in w.trace if r["epoch"] == w.best_epoch) for w in windows]

        def spread(key, fmt=".3f"):
            v = np.array([r[key] for r in rows], float)
            return f"{np.nanmedian(v):{fmt}} ({np.nanmin(v):{fmt}} to {np.nanmax(v):{fmt}})"

        console.print(f"kept per window (median, range over {len(rows)} windows, each sampled given real "
                      f"contexts): epoch {spread('epoch', 'g')}, AATS {spread('aats')}, AF r {spread('af_r')}, "
                      f"LD r {spread('ld_r')}, 3-point r {spread('three_point_r')}")
        return
    trace, kept = getattr(m, "trace", None), getattr(m, "best_epoch", None)
    if not trace or kept is None:
        return
    row = next(r for r in trace if r["epoch"] == kept)
    text = (f"kept epoch {kept} of {m.epoch}: AATS {row['aats']:.3f} (AA_truth {row['aa_truth']:.3f}, AA_syn "
            f"{row['aa_syn']:.3f}; unseen real haplotypes score {row['target_truth']:.3f}, {row['target_syn']:.3f}), "
            f"AF r {row['af_r']:.3f}, LD r {row['ld_r']:.3f}, 3-point r {row['three_point_r']:.3f}")
    loss = row.get("privacy_loss")
    if loss is None:
        console.print(f"{text} (privacy loss: train with --holdout)")
        return
    console.print(f"{text}, privacy loss {loss:.3f}")
    if loss > PRIVACY_LOSS_WARNING:
        console.print(f"[bold red]warning:[/bold red] privacy loss {loss:.3f} against --holdout: the samples lie "
                      "nearer the training haplotypes than the held-out ones, so the model has memorised its "
                      "training individuals (0 for none; a held-out set unlike every training individual raises it "
                      "too). Every evaluation's figure is in the checkpoint's trace; docs/rbm.md has what was "
                      "measured on a small cohort")


def _rank() -> int:
    """This process's rank under torchrun (training has ended its process group by now)."""
    return int(os.environ.get("RANK", "0"))


def _named_values(flag: str, items: list[str], what: str, example: str, convert, bad: str) -> dict:
    """Repeated ``flag NAME=VALUE`` items as {name: convert(value)}; ``bad`` (formatted with name and value) says
    why a value does not convert."""
    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise ValueError(f"{flag} {item!r}: give NAME={what}, e.g. {flag} {example}")
        if name in out:
            raise ValueError(f"{flag} {name} is given twice")
        try:
            out[name] = convert(value)
        except ValueError:  # json.JSONDecodeError is one
            raise ValueError(f"{flag} {item!r}: {bad.format(name=name, value=value)}") from None
    return out


def _needs_evaluations(what: str, kind: str, eval_every: int, hint: str = "") -> None:
    """Refuse an option that works on the training evaluations (``what``: "--flag verb") where there are none."""
    if kind != "rbm" and kind not in NEURAL:
        raise ValueError(f"{what} the evaluations of an rbm, gan, wgan, vae or gmmn; the {kind} model has none{hint}")
    if not eval_every:
        raise ValueError(f"{what} the evaluations, and --eval-every 0 turns them off")


def _select_weights(kind: str, items: list[str], eval_every: int, holdout: bool) -> dict | None:
    """``--select NAME=W`` items as selection weights over the model's defaults, checked; None: the defaults."""
    from ..models import _KINDS
    from ..models._selection import check_weights

    if not items:
        return None
    _needs_evaluations("--select weighs", kind, eval_every)
    weights = _named_values("--select", items, "W", "privacy_loss=1", float, "the weight is not a number")
    try:
        check_weights(weights, getattr(_KINDS[kind], "SELECT", {}))
    except ValueError as e:
        raise ValueError(f"--select: {e}") from None
    if weights.get("privacy_loss") and not holdout:
        raise ValueError("--select privacy_loss needs --holdout (the held-out haplotypes it is measured on)")
    return weights


def _model_options(kind: str, items: list[str]) -> dict:
    """``--option NAME=JSON`` items as a dict, each checked (and normalised) by building a small model of ``kind``
    with them."""
    import json

    from ..models import _KINDS

    options = _named_values("--option", items, "VALUE", "ema=0.999", json.loads,
                            "the value is not JSON (strings need quotes: {name}='\"{value}\"')")
    if not options:
        return options
    try:
        if kind == "crbm":  # the chain passes what is not its own to each window's RBM, which checks it
            from ..models import ConditionalRBMChain

            for name in ("device", "n_snps"):
                if name in options:
                    raise ValueError(f"{name} is not a crbm option ({'--device' if name == 'device' else 'the data'} "
                                     "sets it)")
            ConditionalRBMChain(8, **options)
            return options
        config = _KINDS[kind](8, **options).config
    except (TypeError, ValueError) as e:
        raise ValueError(f"--option: {e}") from None
    return {k: config[k] for k in options}


def _train_neural(kind: str, h, out: Path, labels, epochs: int, eval_every: int, resume: bool, fingerprints: bool,
                  seed: int, device: str, distributed: bool = False, options: dict | None = None, holdout=None,
                  select: dict | None = None):
    """A GAN, WGAN, VAE or GMMN with its defaults and ``options`` (conditional when labels are given),
    checkpointed every epoch."""
    from ..models import _KINDS

    cls = _KINDS[kind]
    y = None if labels is None else _labels(h, labels)
    options = options or {}
    if resume and out.exists():
        m = cls.load(out, device=device)
        differ = [k for k, v in options.items() if m.config[k] != v]
        if differ:
            raise ValueError(f"--option {', '.join(differ)} differs from {out}'s; a resumed model keeps its options")
    else:
        m = cls(h.n_snps, None if y is None else sorted(set(y)), device=device, **options)
    return m.fit(h, epochs, seed, labels=y, eval_every=eval_every or None, progress=True, checkpoint=out,
                 fingerprint=fingerprints, distributed=distributed, holdout=holdout, select=select)


def _labels(h, path: Path):
    """The label of each training haplotype, from a samples' labels file."""
    from ..metrics.population import haplotype_labels, read_labels

    return haplotype_labels(h.ids, read_labels(path))


def _note_local_coverage(m) -> None:
    """Say so when the automatic local units leave SNPs uncovered (long inputs): a user would not guess it."""
    from ..models.rbm import MAX_AUTO_LOCAL

    cfg, share = m.config, m.local_coverage
    if cfg["local_hidden"] and share < 1:
        console.print(f"note: the RBM's {cfg['local_hidden']} local units ({cfg['local_window']} SNPs each; the "
                      f"automatic count stops at {MAX_AUTO_LOCAL}) cover {share:.0%} of the {cfg['n_visible']:,} "
                      "SNPs, the rest get no local linkage: for a long region --model crbm trains a chain of "
                      "windows; --local-hidden N sets the count")


def _check_training_size(m, h, epochs: int) -> None:
    """Refuse RBM (or crbm chain) training that cannot fit in memory or finish within MAX_SECONDS, before the
    first epoch."""
    from ..models import ConditionalRBMChain
    from ..models._base import check_memory

    # a chain trains its windows' RBMs one after another, each on its window's alleles
    windows = ([(w, e - s) for w, (s, e) in zip(m.models, m.bounds)] if isinstance(m, ConditionalRBMChain)
               else [(m, h.n_snps)])
    n = h.n_haplotypes
    what = f"training {'a crbm chain' if isinstance(m, ConditionalRBMChain) else 'an RBM'} on {n} x {h.n_snps} alleles"
    # the data as uint8 and the window's as float32; the chains of one update are a sampler's work arrays
    work = max(4 * n * width + w.sample_bytes(max(w.config["n_chains"], w.config["batch_size"]))
               for w, width in windows)
    check_memory(n * h.n_snps + work, what, "train on fewer haplotypes or SNPs, or lower the batch size")
    seconds = 0.0
    for w, _ in windows:  # an update runs k sweeps of its chains plus two hidden passes
        cfg = w.config
        updates = max(epochs - w.epoch, 0) * -(-n // cfg["batch_size"])
        seconds += updates * w.sample_seconds(max(cfg["n_chains"], cfg["batch_size"]), cfg["k"] + 1)
    if seconds:
        _check_time(seconds, what, "lower --k or --epochs")


@command
def generate(model: Path = typer.Argument(..., help="A model checkpoint from `genofast train`."),
             out: Path = typer.Option(..., "--out", help="Output (.hapt[.gz], .vcf[.gz], .npz)."),
             n: int = typer.Option(1000, "-n", "--n", help="Haplotypes to generate."),
             k: Optional[int] = typer.Option(None, help="Gibbs sweeps (RBM; default: the model's)."),
             training: Optional[Path] = typer.Option(None, "--training", help="The training haplotypes: refuse "
                                                     "synthetic ones within --max-distance of them."),
             max_distance: int = typer.Option(0, "--max-distance", help="Hamming distance counted as a copy "
                                              "(above 0 needs --training)."),
             allow_copies: bool = typer.Option(False, "--allow-copies", help="Write even if some synthetic "
                                               "haplotypes copy training ones."),
             label: Optional[str] = typer.Option(None, "--label", help="Generate this population (a conditional "
                                                 "rbm, gan, wgan, vae or gmmn trained with --labels)."),
             seed: int = SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Generate artificial haplotypes from a trained model.

    Before writing, synthetic haplotypes are checked against the training set (the --training file, or the
    fingerprints stored in the checkpoint), and the output is refused if any copies one, unless --allow-copies.
    """
    from .. import io
    from ..models import RBM, ConditionalRBMChain, load
    from ..models._base import available_memory, check_int, check_memory, check_seed

    check_int(n, "-n", 1)
    check_seed(seed, "--seed")
    if k is not None:
        check_int(k, "--k", 1)
    kind = io._kind(out, writing=True)  # an unknown output type fails now, not after sampling
    if kind == "plink" and not hasattr(io, "write_plink"):
        raise ValueError(f"{out}: writing PLINK filesets is not supported; write .vcf.gz, .hapt or .npz")
    if kind in ("vcf", "plink") and n % 2:
        raise ValueError(f"-n must be even for {out}: it holds two haplotypes per diploid sample, got {n}")
    check_int(max_distance, "--max-distance", 0)
    if max_distance and training is None:
        raise ValueError("--max-distance above 0 needs --training: fingerprints find exact copies only")
    _check_output(out)
    m = load(model, device=_device(device))
    train_h = _read_haplotypes(training) if training is not None else None
    if train_h is not None and train_h.n_snps != m.n_snps:
        raise ValueError(f"--training {training} has {train_h.n_snps} SNPs, the model {m.n_snps}")
    gibbs = isinstance(m, (RBM, ConditionalRBMChain))
    if label is not None and m.kind not in CONDITIONAL:
        raise ValueError(f"--label needs a conditional model ({', '.join(CONDITIONAL)}); {model} holds a "
                         f"{m.kind} model")
    if k is not None and not gibbs:
        console.print(f"note: --k applies to RBM models only; ignored for the {m.kind} model")
    what = f"generating {n} haplotypes x {m.n_snps} SNPs"
    need = m.sample_bytes(n) + WRITE_BYTES[kind] * n * m.n_snps
    check_memory(need, what, f"lower -n (about {int(available_memory() / need * n):,} fit) and run several "
                             "times with different --seed")
    if gibbs:
        _check_time(m.sample_seconds(n, k), what, "lower --k or -n")
    with console.status(f"sampling {n} haplotypes"):
        # the gate below decides about copies, with the training data when given
        if m.kind in NEURAL:
            syn = m.sample(n, seed=seed, labels=label, allow_copies=True)
        elif m.kind == "rbm":
            syn = m.sample(n, k, seed=seed, labels=label, allow_copies=True)
        else:
            syn = m.sample(n, k, seed=seed, allow_copies=True) if gibbs else m.sample(n, seed=seed)
    _privacy_gate(m, syn, train_h, max_distance, allow_copies, model)
    io.write(out, syn)
    console.print(f"wrote {syn.n_haplotypes} x {syn.n_snps} to {out}")


def _privacy_gate(m, syn, train_h, max_distance: int, allow_copies: bool, model: Path) -> None:
    """Refuse (before anything is written) synthetic haplotypes that copy training ones, unless allowed."""
    from ..models._gate import copied_rows, refuse_copies

    stored = getattr(m, "fingerprints", None)
    if train_h is None and stored is None:
        console.print(f"note: {model} holds no training fingerprints and no --training was given: copies of "
                      "training haplotypes were not checked")
        return
    with console.status("checking for copies of training haplotypes"):
        rows = copied_rows(syn, train_h, stored, max_distance)
    if allow_copies:
        if len(rows):
            console.print(f"warning: {len(rows)} of {syn.n_haplotypes} synthetic haplotypes copy training "
                          "haplotypes; written anyway (--allow-copies)")
        return
    refuse_copies(rows, syn.n_haplotypes, f"{model}", max_distance)
