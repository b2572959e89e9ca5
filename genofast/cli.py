"""The ``genofast`` command line: demo, simulate, train, generate, evaluate, impute, info."""

from __future__ import annotations

import functools
import os
import time
from enum import Enum
from pathlib import Path
from typing import List, Optional

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Fast artificial genomes: simulate, train, generate and judge them for realism and privacy.")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class Device(str, Enum):
    cpu = "cpu"
    cuda = "cuda"
    auto = "auto"


class ModelKind(str, Enum):
    rbm = "rbm"
    bernoulli = "bernoulli"
    markov = "markov"
    gan = "gan"
    wgan = "wgan"
    vae = "vae"
    gmmn = "gmmn"


# the neural generators: torch models trained by epochs, conditional on labels when given
NEURAL = ("gan", "wgan", "vae", "gmmn")


# Oversubscribing cores is legal but past this it is a typo, and OpenMP would
# try to start that many threads.
MAX_THREADS = 1024
# msprime takes seeds in [1, 2**32); the models take [0, 2**63).
SIMULATION_SEEDS = (1, 2**32 - 1)
# Runs estimated longer than this are refused: a week is beyond any interactive
# use, and a typo in --k or -n (10**10) lands far beyond it.
MAX_SECONDS = 7 * 24 * 3600
# Peak bytes per allele of writing a sampled matrix, measured on the writers
# (the VCF writer builds text per call; .hapt one byte per allele twice).
WRITE_BYTES = {"vcf": 80, "hapt": 4, "store": 1, "plink": 80}
# msprime plus the genotype matrix and MAF filter, measured: ~35 bytes and
# ~0.35 us per kept allele at 1,000-4,000 haplotypes; the VCF write adds ~0.5 us.
SIMULATE_BYTES, SIMULATE_SECONDS = 40, 1e-6

SEED = typer.Option(1, "--seed", help="Seed of every random choice (0 to 2**63 - 1); same seed, same result.")
SIM_SEED = typer.Option(1, "--seed", help="Seed of every random choice (1 to 2**32 - 1, msprime's range).")
DEVICE = typer.Option(Device.auto, "--device", help="Where models run: cpu, cuda or auto.")
THREADS = typer.Option(None, "--threads", help=f"CPU threads, 1 to {MAX_THREADS} (default: all cores).")
LEGEND = typer.Option(None, "--legend", help="A .legend file (id position a0 a1) giving the SNPs of .hapt inputs.")


def command(fn):
    """Registers a command whose expected failures print one line and exit 1, without a traceback."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            _set_threads(kwargs.get("threads"))
            return fn(*args, **kwargs)
        except typer.Exit:  # typer's Exit is a RuntimeError: let it through
            raise
        except MemoryError as e:
            _fail(str(e) or "out of memory")
        except (ValueError, FileNotFoundError, RuntimeError, OSError, TypeError, KeyError, ArithmeticError) as e:
            _fail(str(e) or type(e).__name__)

    return app.command()(run)


def _fail(message: str):
    from rich.markup import escape

    # One line: a long message from a library (pybind11 lists every overload) is cut at its first line;
    # escaped, since file names and messages may hold brackets that rich would read as markup.
    err.print(f"[red]error:[/red] {escape(message.strip().splitlines()[0])}", highlight=False)
    raise typer.Exit(1)


def _set_threads(threads: Optional[int]) -> None:
    if threads is None:
        return
    from . import kernels
    from .models._base import check_int

    check_int(threads, "--threads", 1, MAX_THREADS)
    import torch

    kernels.set_threads(threads)
    torch.set_num_threads(threads)


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.0f} s"


def _check_time(seconds: float, what: str, advice: str) -> None:
    if seconds > MAX_SECONDS:
        raise ValueError(f"{what} would take about {_duration(seconds)} (estimated); {advice}")
    if seconds > 60:
        console.print(f"{what}: about {_duration(seconds)} (estimated)")


def _check_output(out: Path, folder: bool = False) -> None:
    """Fail before the work, not after it, when --out cannot be written."""
    if out.exists() and out.is_dir() != folder:
        want = "a folder" if folder else "a file name"
        raise ValueError(f"--out {out} is {'a file' if folder else 'a folder'}; give {want}")
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out}: cannot write in {parent}")


def _device(device: Device) -> str:
    from . import kernels

    if device is Device.auto:
        return "cuda" if kernels.has_cuda().available else "cpu"
    return device.value


def _is_hapt(path: Path) -> bool:
    from . import io

    return io._kind(path) == "hapt"


def _check_legend(legend: Optional[Path], paths) -> None:
    """A legend names the SNPs of .hapt files only; refuse one that would apply to nothing."""
    from .io._files import existing

    if legend is None:
        return
    existing(legend)
    if not any(p is not None and _is_hapt(p) for p in paths):
        raise ValueError(f"--legend {legend} applies to .hapt files, and no input is one")


def _read(path: Path, legend: Optional[Path] = None):
    from . import io

    return io.read(path, legend=legend) if legend is not None and _is_hapt(path) else io.read(path)


def _read_haplotypes(path: Path, legend: Optional[Path] = None):
    from .matrix import HaplotypeMatrix

    m = _read(path, legend)
    if not isinstance(m, HaplotypeMatrix):
        raise ValueError(f"{path}: phased haplotypes are needed, but the file holds unphased genotypes")
    return m


def _chromosomes(variants) -> str:
    chrom = np.asarray(variants.chrom).astype(str)
    names, first = np.unique(chrom, return_index=True)
    names = names[np.argsort(first)]  # in file order, which is genome order for sorted files
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"{len(names)} chromosome{'s' if len(names) != 1 else ''} ({shown})"


@command
def info(files: List[Path] = typer.Argument(None, help="Data files to describe (.hapt, .vcf, .bed, .npz)."),
         legend: Optional[Path] = LEGEND, threads: Optional[int] = THREADS):
    """Build and device information, and the shape and missingness of data files."""
    from . import __version__, kernels

    _check_legend(legend, files or [])
    cuda = kernels.has_cuda()
    console.print(f"genofast {__version__}: CUDA compiled={cuda.compiled}, devices={cuda.device_count}, "
                  f"SIMD={kernels.simd_level()} (supported {kernels.simd_supported()}), threads={kernels.threads()}")
    for f in files or []:
        m = _read(f, legend)
        size = m.shape[0] * m.shape[1]
        missing = m.n_missing / size if size else 0.0  # counted on the packed words; unpacking costs 8-14x
        where = _chromosomes(m.variants) if _has_positions(f, m, legend) else \
            "no SNP positions" + (" (a .hapt has none: give --legend)" if _is_hapt(f) else "")
        console.print(f"{f}: {type(m).__name__}, {m.shape[0]} rows x {m.shape[1]} SNPs, "
                      f"missing {100 * missing:.2f}%, {where}")


def _has_positions(path: Path, m, legend: Optional[Path]) -> bool:
    from .align import has_metadata

    return legend is not None if _is_hapt(path) else has_metadata(m.variants)


@command
def simulate(out: Path = typer.Option(Path("simulated"), "--out", help="Output folder."),
             haplotypes: int = typer.Option(1002, help="Haplotypes (a multiple of 6)."),
             snps: int = typer.Option(3000, help="SNPs kept (MAF >= 1%)."),
             seed: int = SIM_SEED, threads: Optional[int] = THREADS):
    """Simulate three populations with msprime; write simulated.vcf.gz, simulated.hapt and populations.txt."""
    from . import io
    from .models._base import check_int
    from .simulate import simulate as run

    check_int(haplotypes, "--haplotypes", 6)
    if haplotypes % 6:
        raise ValueError(f"--haplotypes must be a multiple of 6 (3 populations of diploids), got {haplotypes}")
    check_int(snps, "--snps", 1)
    check_int(seed, "--seed", *SIMULATION_SEEDS)
    _check_output(out, folder=True)
    _check_simulation_size(haplotypes, snps, "--haplotypes and --snps")
    with console.status("simulating with msprime"):
        sim = run(haplotypes, snps, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    io.write_vcf(out / "simulated.vcf.gz", sim.haplotypes)
    io.write_hapt(out / "simulated.hapt", sim.haplotypes, tag="Sim")
    (out / "populations.txt").write_text("".join(f"{i}\t{p}\n" for i, p in zip(sim.haplotypes.ids, sim.populations)))
    console.print(f"wrote {sim.haplotypes.n_haplotypes} haplotypes x {sim.haplotypes.n_snps} SNPs to {out}/")


def _rbm_defaults() -> dict:
    from .models.rbm import DEFAULTS, FIT_DEFAULTS

    return {**DEFAULTS, **FIT_DEFAULTS}


def _check_simulation_size(haplotypes: int, snps: int, options: str) -> None:
    from .models._base import available_memory, check_memory

    what = f"simulating {haplotypes} haplotypes x {snps} SNPs"
    per_allele = max(SIMULATE_BYTES, WRITE_BYTES["vcf"])  # the simulation is freed before the VCF is written
    fit = int(available_memory() / (per_allele * haplotypes))
    check_memory(haplotypes * snps * per_allele, what, f"lower {options} (about {fit:,} SNPs fit at {haplotypes} "
                                                       "haplotypes)")
    _check_time(haplotypes * snps * SIMULATE_SECONDS, what, f"lower {options}")


def _make_model(kind: ModelKind, n_snps: int, hidden: int, units: str, training: str, k: int, lr: float,
                batch_size: int, chains: int, device: str, window: int, decay: float = 0.0):
    from .models import RBM, Bernoulli, MarkovChain

    if kind is ModelKind.bernoulli:
        return Bernoulli()
    if kind is ModelKind.markov:
        return MarkovChain(window=window)
    return RBM(n_snps, hidden, units, training=training, k=k, lr=lr, batch_size=batch_size, n_chains=chains,
               decay=decay, device=device)


# The RBM options default to RBM.DEFAULTS, so `genofast train` and `RBM(n_snps)` build the same model.
RBM_DEFAULTS = _rbm_defaults()


@command
def train(data: Path = typer.Argument(..., help="Training haplotypes (.hapt, phased .vcf, .npz)."),
          out: Path = typer.Option(..., "--out", help="Model checkpoint to write (.safetensors)."),
          model: ModelKind = typer.Option(ModelKind.rbm, help="rbm, gan, wgan, vae, gmmn, bernoulli or markov."),
          labels: Optional[Path] = typer.Option(None, help="Population labels of the training samples (tsv with a "
                                                "header: sample, then the label): a conditional gan, wgan, vae or "
                                                "gmmn."),
          epochs: int = typer.Option(RBM_DEFAULTS["epochs"]),
          hidden: int = typer.Option(RBM_DEFAULTS["n_hidden"], help="RBM hidden units."),
          units: str = typer.Option(RBM_DEFAULTS["hidden"], help="RBM hidden units: relu or bernoulli."),
          training: str = typer.Option(RBM_DEFAULTS["training"], help="RBM training: rdm, pcd or cd."),
          k: int = typer.Option(RBM_DEFAULTS["k"], help="Gibbs sweeps per update (and per sample for rdm)."),
          lr: float = typer.Option(RBM_DEFAULTS["lr"]), batch_size: int = typer.Option(RBM_DEFAULTS["batch_size"]),
          decay: float = typer.Option(RBM_DEFAULTS["decay"], help="RBM learning rate at epoch e: lr / (1 + decay·e)."),
          chains: int = typer.Option(RBM_DEFAULTS["n_chains"], help="RBM chains per update (pcd, rdm)."),
          window: int = typer.Option(3, help="Markov-chain window."),
          eval_every: int = typer.Option(RBM_DEFAULTS["eval_every"], help="Epochs between measurements of privacy "
                                         "and utility on fresh samples; the best epoch is kept (0: never)."),
          resume: bool = typer.Option(False, help="Continue from --out if it exists."),
          fingerprints: bool = typer.Option(True, help="Store a 64-bit hash of each training haplotype in the "
                                            "checkpoint, so `generate` can refuse exact copies. Anyone holding the "
                                            "checkpoint and a known haplotype can then test whether it was "
                                            "trained on (the same information a copy check needs)."),
          legend: Optional[Path] = LEGEND,
          seed: int = SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Train a model on haplotypes and save it."""
    from .models import RBM
    from .models._base import check_float, check_int, check_seed

    # Every option is checked before the data are read: a bad one must not cost a long read.
    check_seed(seed, "--seed")
    if model is ModelKind.markov:
        check_int(window, "--window", 1, 20)
    if labels is not None and model.value not in NEURAL:
        raise ValueError(f"--labels makes a conditional {', '.join(NEURAL)}; the {model.value} model takes none")
    if model.value in NEURAL:
        check_int(epochs, "--epochs")
        check_int(eval_every, "--eval-every", 0)
    if model is ModelKind.rbm:
        from .kernels import UNIT_KINDS
        from .models.rbm import TRAINING

        for option, value, allowed in (("--units", units, UNIT_KINDS), ("--training", training, TRAINING)):
            if value not in allowed:
                raise ValueError(f"{option} must be one of {', '.join(allowed)}, got {value!r}")
        check_int(epochs, "--epochs")
        check_int(hidden, "--hidden")
        check_int(k, "--k")
        check_int(batch_size, "--batch-size")
        check_int(chains, "--chains")
        check_float(lr, "--lr", low_open=True)
        check_float(decay, "--decay")
        check_int(eval_every, "--eval-every", 0)
    _check_output(out)
    _check_legend(legend, [data])
    h = _read_haplotypes(data, legend)
    t = time.perf_counter()
    if model.value in NEURAL:
        m = _train_neural(model.value, h, out, labels, epochs, eval_every, resume, fingerprints, seed, device)
    elif model is ModelKind.rbm:
        m = RBM.load(out, device=_device(device)) if resume and out.exists() else _make_model(
            model, h.n_snps, hidden, units, training, k, lr, batch_size, chains, _device(device), window, decay)
        _check_training_size(m, h, epochs)
        m.fit(h, epochs, seed, eval_every=eval_every, progress=True, checkpoint=out, fingerprint=fingerprints)
    else:
        m = _make_model(model, h.n_snps, hidden, units, training, k, lr, batch_size, chains, "cpu", window).fit(h)
    m.save(out)
    console.print(f"trained {model.value} on {h.n_haplotypes} x {h.n_snps} in {time.perf_counter() - t:.1f} s; "
                  f"saved {out}")


def _train_neural(kind: str, h, out: Path, labels, epochs: int, eval_every: int, resume: bool, fingerprints: bool,
                  seed: int, device):
    """A GAN, WGAN, VAE or GMMN with its defaults (conditional when labels are given), checkpointed every epoch."""
    from .models import GAN, GMMN, VAE, WGAN

    cls = {"gan": GAN, "wgan": WGAN, "vae": VAE, "gmmn": GMMN}[kind]
    y = None
    if labels is not None:
        from .metrics.population import haplotype_labels, read_labels

        y = haplotype_labels(h.ids, read_labels(labels))
    if resume and out.exists():
        m = cls.load(out, device=_device(device))
    else:
        m = cls(h.n_snps, None if y is None else sorted(set(y)), device=_device(device))
    return m.fit(h, epochs, seed, labels=y, eval_every=eval_every or None, progress=True, checkpoint=out,
                 fingerprint=fingerprints)


def _check_training_size(m, h, epochs: int) -> None:
    """Refuse RBM training that cannot fit in memory or finish within MAX_SECONDS, before the first epoch."""
    from .models._base import check_memory

    cfg = m.config
    what = f"training an RBM on {h.n_haplotypes} x {h.n_snps} alleles"
    # the data as float32 and their uint8 copy; the chains of one update are a sampler's work arrays
    check_memory(5 * h.n_haplotypes * h.n_snps + m.sample_bytes(max(cfg["n_chains"], cfg["batch_size"])), what,
                 "train on fewer haplotypes or SNPs, or lower --batch-size")
    updates = max(epochs - m.epoch, 0) * -(-h.n_haplotypes // cfg["batch_size"])
    if updates:  # an update runs k sweeps of its chains plus two hidden passes
        per_update = m.sample_seconds(max(cfg["n_chains"], cfg["batch_size"]), cfg["k"] + 1)
        _check_time(updates * per_update, what, "lower --k or --epochs")


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
                                                 "gan, wgan, vae or gmmn trained with --labels)."),
             seed: int = SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Generate artificial haplotypes from a trained model.

    Before writing, synthetic haplotypes are checked against the training set (the --training file, or the
    fingerprints stored in the checkpoint), and the output is refused if any copies one, unless --allow-copies.
    """
    from . import io
    from .models import RBM, ConditionalRBMChain, load
    from .models._base import available_memory, check_int, check_memory, check_seed

    check_int(n, "-n", 1)
    check_seed(seed, "--seed")
    if k is not None:
        check_int(k, "--k", 1)
    kind = io._kind(out)  # an unknown output type fails now, not after sampling
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
    if label is not None and m.kind not in NEURAL:
        raise ValueError(f"--label needs a conditional neural model; {model} holds a {m.kind} model")
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
        else:
            syn = m.sample(n, k, seed=seed, allow_copies=True) if gibbs else m.sample(n, seed=seed)
    _privacy_gate(m, syn, train_h, max_distance, allow_copies, model)
    io.write(out, syn)
    console.print(f"wrote {syn.n_haplotypes} x {syn.n_snps} to {out}")


def _privacy_gate(m, syn, train_h, max_distance: int, allow_copies: bool, model: Path) -> None:
    """Refuse (before anything is written) synthetic haplotypes that copy training ones, unless allowed."""
    from .models._gate import copied_rows, refuse_copies

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


@command
def evaluate(real: Path = typer.Argument(..., help="Real (training) haplotypes."),
             synthetic: List[Path] = typer.Argument(..., help="One or more synthetic sets."),
             out: Path = typer.Option(Path("report.html"), "--out", help="HTML report."),
             holdout: Optional[Path] = typer.Option(None, help="Held-out real haplotypes, for privacy loss."),
             classifiers: bool = typer.Option(True, help="Train real-vs-synthetic classifiers."),
             labels: Optional[Path] = typer.Option(None, help="Population labels of the real samples (tsv with "
                                                   "a header: sample, then super_pop): per-population statistics."),
             embeddings: bool = typer.Option(False, help="Add UMAP and Isomap views beside the PCA (slower)."),
             legend: Optional[Path] = LEGEND,
             seed: int = SEED, threads: Optional[int] = THREADS):
    """Compare synthetic sets with real data: statistics, privacy and an HTML report."""
    from .models._base import check_seed
    from .report import evaluate as run

    check_seed(seed, "--seed")
    _check_output(out)
    _check_legend(legend, [real, holdout, *synthetic])
    names = _set_names(synthetic)
    r = _read_haplotypes(real, legend)
    held = _read_haplotypes(holdout, legend) if holdout else None
    syn = {name: _read_haplotypes(p, legend) for name, p in zip(names, synthetic)}
    populations = None
    if labels is not None:
        from .metrics.population import haplotype_labels, read_labels

        populations = haplotype_labels(r.ids, read_labels(labels))
    with console.status("evaluating"):
        result = run(r, syn, out=out, holdout=held, classifiers=classifiers, seed=seed, populations=populations,
                     embeddings=embeddings)
    for note in getattr(result, "alignment_notes", {}).values():
        console.print(f"note: {note}")
    _summary(result.table)
    _warn_copies(result.table)
    console.print(f"report: {out}")


def _warn_copies(table: dict) -> None:
    for name, row in table.items():
        if row.get("exact copies", 0) > 0:
            console.print(f"[bold red]warning:[/bold red] synthetic set {name!r} holds {row['exact copies']} exact "
                          "copies of real (training) haplotypes: do not release it as is")


def _set_names(paths: List[Path]) -> List[str]:
    """A distinct name per synthetic file: its stem, else parent/stem, else a #2, #3 suffix.

    Two sets under one name would share a row of the table, and one of them
    would vanish from the report.
    """
    stems = [p.name.split(".")[0] for p in paths]
    names = [s if stems.count(s) == 1 else f"{p.parent.name or '.'}/{s}" for p, s in zip(paths, stems)]
    seen: dict = {}
    for i, name in enumerate(names):
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[i] = f"{name}#{seen[name]}"
    renamed = [f"{p} as {name!r}" for p, s, name in zip(paths, stems, names) if name != s]
    if renamed:
        console.print(f"note: synthetic sets share a name; reporting {', '.join(renamed)}")
    return names


@command
def impute(model: Path = typer.Argument(..., help="An RBM checkpoint, or the word trio-boost."),
           data: Path = typer.Argument(..., help="Haplotypes with missing alleles (phased .vcf, .npz); for "
                                       "trio-boost, genotypes of parents and children (.vcf, .bed, .npz)."),
           out: Path = typer.Option(..., "--out", help="Imputed haplotypes (.vcf[.gz], .hapt, .npz)."),
           sweeps: int = typer.Option(200, help="Gibbs sweeps (at least 2)."),
           burn_in: int = typer.Option(50, help="Sweeps discarded before averaging (fewer than --sweeps)."),
           pedigree: Optional[Path] = typer.Option(None, help="trio-boost: PED or .fam file naming each child's "
                                                   "parents."),
           learner: str = typer.Option("logitboost", help="trio-boost: logitboost, adaboost, totalboost or mendel."),
           window: int = typer.Option(10, help="trio-boost: flanking SNPs per window (half each side)."),
           legend: Optional[Path] = LEGEND,
           seed: int = SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Fill missing alleles with an RBM (Gibbs sampling with observed alleles clamped), or children's untyped
    SNPs in parent-offspring trios with boosting (``genofast impute trio-boost DATA --pedigree FILE``)."""
    from . import io
    from .models import RBM, load
    from .models._base import check_int, check_memory, check_seed

    if str(model) == "trio-boost":
        _impute_trios(data, out, pedigree, learner, window, seed, threads)
        return
    if pedigree is not None:
        raise ValueError("--pedigree applies to trio-boost imputation: use `genofast impute trio-boost DATA ...`")
    check_int(sweeps, "--sweeps", 2)
    check_int(burn_in, "--burn-in", 0)
    if burn_in >= sweeps:
        raise ValueError(f"--burn-in ({burn_in}) must be smaller than --sweeps ({sweeps})")
    check_seed(seed, "--seed")
    io._kind(out)
    _check_output(out)
    _check_legend(legend, [data])
    m = load(model, device=_device(device))
    if not isinstance(m, RBM):
        raise ValueError(f"{model}: imputation needs an RBM checkpoint")
    h = _read_haplotypes(data, legend)
    if m.variants is not None:
        h = _align_to_model(m, h, data)
    # the int8 unpacked alleles, then about six float32 arrays of the same shape in the sampler
    check_memory(25 * h.n_haplotypes * h.n_snps, f"imputing {h.n_haplotypes} x {h.n_snps} alleles",
                 "impute fewer haplotypes at a time")
    with console.status("imputing"):
        _, calls = m.impute(h, sweeps=sweeps, burn_in=burn_in, seed=seed)
    io.write(out, calls)
    console.print(f"imputed {h.n_missing} missing alleles; wrote {out}")


def _impute_trios(data: Path, out: Path, pedigree: Optional[Path], learner: str, window: int, seed: int,
                  threads: Optional[int]) -> None:
    from .impute import LEARNERS, impute_trio_file
    from .models._base import check_int, check_seed

    if pedigree is None:
        raise ValueError("trio-boost needs --pedigree FILE (PED or .fam) naming each child's parents")
    if learner not in (*LEARNERS, "mendel"):
        raise ValueError(f"--learner must be one of {', '.join(LEARNERS)} or mendel, got {learner!r}")
    check_int(window, "--window", 2)
    check_seed(seed, "--seed")
    from . import io

    io._kind(out)
    _check_output(out)
    with console.status(f"imputing trio children with {learner}"):
        result = impute_trio_file(data, pedigree, out, learner=learner, window=window, seed=seed,
                                  n_jobs=threads or 2)
    console.print(f"imputed the children's untyped SNPs with {learner} in {sum(result.seconds.values()):.1f} s; wrote {out}")


def _align_to_model(model, h, path: Path):
    """The data on the model's SNPs and allele coding (SNPs matched by chromosome, position and alleles)."""
    from .align import align_to

    h, info = align_to(model.variants, h, name=str(path), reference_name="the model")
    if info.flipped or info.reordered:
        console.print(f"note: {info.describe(str(path))}; the output follows the model's SNPs and alleles")
    return h


def _summary(table: dict) -> None:
    t = Table(title="real vs synthetic")
    # AA_truth and AA_syn beside AATS: an AATS near 0.5 can hide both being wrong in opposite directions
    cols = ["AATS", "AA_truth", "AA_syn", "privacy loss", "AF r", "LD decay r", "3-point r", "exact copies"]
    cols = [c for c in cols if any(c in row for row in table.values())]
    t.add_column("model", no_wrap=True)
    for c in cols:
        t.add_column(c, justify="right")
    for name, row in table.items():
        t.add_row(name, *(f"{row[c]:.3f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in cols))
    console.print(t)


@command
def demo(out: Path = typer.Option(Path("demo"), "--out", help="Output folder."),
         quick: bool = typer.Option(False, help="A smaller run (under 2 minutes)."),
         seed: int = SIM_SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Simulate a cohort, train an RBM and baselines, generate, evaluate: the whole pipeline in one go."""
    from . import io
    from .models import RBM, Bernoulli, MarkovChain
    from .models._base import check_int
    from .report import evaluate as run
    from .simulate import simulate as sim

    check_int(seed, "--seed", *SIMULATION_SEEDS)
    _check_output(out, folder=True)
    n_hap, n_snps, epochs = (600, 1000, 60) if quick else (1200, 2000, 100)
    t0 = time.perf_counter()
    with console.status(f"simulating {n_hap} haplotypes x {n_snps} SNPs with msprime"):
        cohort = sim(n_hap, n_snps, seed=seed).haplotypes
    order = np.random.default_rng(seed).permutation(n_hap)
    train_h, holdout = cohort[np.sort(order[: n_hap * 4 // 5])], cohort[np.sort(order[n_hap * 4 // 5 :])]
    out.mkdir(parents=True, exist_ok=True)
    io.write_vcf(out / "real_train.vcf.gz", train_h)
    io.write_vcf(out / "real_holdout.vcf.gz", holdout)
    console.print(f"simulated {n_hap} x {n_snps}: {train_h.n_haplotypes} for training, {holdout.n_haplotypes} held "
                  f"out ({time.perf_counter() - t0:.0f} s)")
    # the RBM's defaults, as a user who passes nothing gets them
    rbm = RBM(n_snps, device=_device(device))
    rbm.fit(train_h, epochs, seed, n_eval=train_h.n_haplotypes, progress=True, checkpoint=out / "rbm.safetensors")
    n = train_h.n_haplotypes
    # the demo keeps copies: its report flags them, which is what it demonstrates
    synthetic = {"RBM": rbm.sample(n, seed=seed, allow_copies=True), "Bernoulli": Bernoulli().fit(train_h).sample(n, seed=seed),
                 "Markov chain (k=3)": MarkovChain(3).fit(train_h).sample(n, seed=seed)}
    for name, s in synthetic.items():
        io.write_hapt(out / f"synthetic_{name.split()[0].lower()}.hapt.gz", s, tag=name.split()[0])
    console.print(f"trained and sampled ({time.perf_counter() - t0:.0f} s)")
    with console.status("evaluating realism and privacy"):
        result = run(train_h, synthetic, out=out / "report.html", holdout=holdout, classifiers=not quick,
                     seed=seed, training={"RBM": rbm})
    _summary(result.table)
    _warn_copies(result.table)
    console.print(f"report: {out / 'report.html'}  (total {time.perf_counter() - t0:.0f} s)")


def main():  # pragma: no cover - console entry point
    app()
