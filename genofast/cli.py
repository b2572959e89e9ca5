"""The ``genofast`` command line: demo, simulate, train, generate, evaluate, impute, info."""

from __future__ import annotations

import functools
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


SEED = typer.Option(1, "--seed", help="Seed of every random choice; same seed, same result.")
DEVICE = typer.Option(Device.auto, "--device", help="Where models run: cpu, cuda or auto.")
THREADS = typer.Option(None, "--threads", min=1, help="CPU threads (default: all cores).")


def command(fn):
    """Registers a command whose expected failures print one line and exit 1, without a traceback."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        threads = kwargs.get("threads")
        if threads:
            import torch

            from . import kernels

            kernels.set_threads(threads)
            torch.set_num_threads(threads)
        try:
            return fn(*args, **kwargs)
        except (ValueError, FileNotFoundError, RuntimeError, OSError, TypeError, KeyError) as e:
            err.print(f"[red]error:[/red] {e}", highlight=False)
            raise typer.Exit(1) from None

    return app.command()(run)


def _device(device: Device) -> str:
    from . import kernels

    if device is Device.auto:
        return "cuda" if kernels.has_cuda().available else "cpu"
    return device.value


def _read_haplotypes(path: Path):
    from . import io
    from .matrix import HaplotypeMatrix

    m = io.read(path)
    if not isinstance(m, HaplotypeMatrix):
        raise ValueError(f"{path}: phased haplotypes are needed, but the file holds unphased genotypes")
    return m


@command
def info(files: List[Path] = typer.Argument(None, help="Data files to describe (.hapt, .vcf, .bed, .npz)."),
         threads: Optional[int] = THREADS):
    """Build and device information, and the shape and missingness of data files."""
    from . import __version__, io, kernels

    cuda = kernels.has_cuda()
    console.print(f"genofast {__version__}: CUDA compiled={cuda.compiled}, devices={cuda.device_count}, "
                  f"SIMD={kernels.simd_level()} (supported {kernels.simd_supported()}), threads={kernels.threads()}")
    for f in files or []:
        m = io.read(f)
        missing = float(m.to_numpy().__lt__(0).mean()) if m.shape[0] else 0.0
        console.print(f"{f}: {type(m).__name__}, {m.shape[0]} rows x {m.shape[1]} SNPs, "
                      f"missing {100 * missing:.2f}%, chromosomes {', '.join(np.unique(m.variants.chrom)[:5])}")


@command
def simulate(out: Path = typer.Option(Path("simulated"), "--out", help="Output folder."),
             haplotypes: int = typer.Option(1002, help="Haplotypes (a multiple of 6)."),
             snps: int = typer.Option(3000, help="SNPs kept (MAF >= 1%)."),
             seed: int = SEED, threads: Optional[int] = THREADS):
    """Simulate three populations with msprime; write simulated.vcf.gz, simulated.hapt and populations.txt."""
    from . import io
    from .simulate import simulate as run

    with console.status("simulating with msprime"):
        sim = run(haplotypes, snps, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    io.write_vcf(out / "simulated.vcf.gz", sim.haplotypes)
    io.write_hapt(out / "simulated.hapt", sim.haplotypes, tag="Sim")
    (out / "populations.txt").write_text("".join(f"{i}\t{p}\n" for i, p in zip(sim.haplotypes.ids, sim.populations)))
    console.print(f"wrote {sim.haplotypes.n_haplotypes} haplotypes x {sim.haplotypes.n_snps} SNPs to {out}/")


def _make_model(kind: ModelKind, n_snps: int, hidden: int, units: str, training: str, k: int, lr: float,
                batch_size: int, device: str, window: int):
    from .models import RBM, Bernoulli, MarkovChain

    if kind is ModelKind.bernoulli:
        return Bernoulli()
    if kind is ModelKind.markov:
        return MarkovChain(window=window)
    return RBM(n_snps, hidden, units, training=training, k=k, lr=lr, batch_size=batch_size, n_chains=batch_size,
               device=device)


@command
def train(data: Path = typer.Argument(..., help="Training haplotypes (.hapt, phased .vcf, .npz)."),
          out: Path = typer.Option(..., "--out", help="Model checkpoint to write (.safetensors)."),
          model: ModelKind = typer.Option(ModelKind.rbm, help="rbm, bernoulli or markov."),
          epochs: int = typer.Option(60, min=1), hidden: int = typer.Option(100, help="RBM hidden units."),
          units: str = typer.Option("relu", help="RBM hidden units: relu or bernoulli."),
          training: str = typer.Option("rdm", help="RBM training: rdm, pcd or cd."),
          k: int = typer.Option(50, help="Gibbs sweeps per update (and per sample for rdm)."),
          lr: float = typer.Option(3e-3), batch_size: int = typer.Option(64),
          window: int = typer.Option(3, help="Markov-chain window."),
          eval_every: Optional[int] = typer.Option(None, help="Epochs between AATS checks (keeps the best)."),
          resume: bool = typer.Option(False, help="Continue from --out if it exists."),
          seed: int = SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Train a model on haplotypes and save it."""
    from .models import RBM

    h = _read_haplotypes(data)
    t = time.perf_counter()
    if model is ModelKind.rbm:
        m = RBM.load(out, device=_device(device)) if resume and out.exists() else _make_model(
            model, h.n_snps, hidden, units, training, k, lr, batch_size, _device(device), window)
        m.fit(h, epochs, seed, eval_every=eval_every, progress=True, checkpoint=out)
    else:
        m = _make_model(model, h.n_snps, hidden, units, training, k, lr, batch_size, "cpu", window).fit(h)
    m.save(out)
    console.print(f"trained {model.value} on {h.n_haplotypes} x {h.n_snps} in {time.perf_counter() - t:.1f} s; "
                  f"saved {out}")


@command
def generate(model: Path = typer.Argument(..., help="A model checkpoint from `genofast train`."),
             out: Path = typer.Option(..., "--out", help="Output (.hapt[.gz], .vcf[.gz], .npz)."),
             n: int = typer.Option(1000, "-n", "--n", min=0, help="Haplotypes to generate."),
             k: Optional[int] = typer.Option(None, help="Gibbs sweeps (RBM; default: the model's)."),
             seed: int = SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Generate artificial haplotypes from a trained model."""
    from . import io
    from .models import load

    m = load(model, device=_device(device))
    with console.status(f"sampling {n} haplotypes"):
        syn = m.sample(n, k, seed=seed) if hasattr(m, "config") else m.sample(n, seed=seed)
    io.write(out, syn)
    console.print(f"wrote {syn.n_haplotypes} x {syn.n_snps} to {out}")


@command
def evaluate(real: Path = typer.Argument(..., help="Real (training) haplotypes."),
             synthetic: List[Path] = typer.Argument(..., help="One or more synthetic sets."),
             out: Path = typer.Option(Path("report.html"), "--out", help="HTML report."),
             holdout: Optional[Path] = typer.Option(None, help="Held-out real haplotypes, for privacy loss."),
             classifiers: bool = typer.Option(True, help="Train real-vs-synthetic classifiers."),
             seed: int = SEED, threads: Optional[int] = THREADS):
    """Compare synthetic sets with real data: statistics, privacy and an HTML report."""
    from .report import evaluate as run

    r = _read_haplotypes(real)
    syn = {p.name.split(".")[0]: _read_haplotypes(p) for p in synthetic}
    with console.status("evaluating"):
        result = run(r, syn, out=out, holdout=_read_haplotypes(holdout) if holdout else None,
                     classifiers=classifiers, seed=seed)
    _summary(result.table)
    console.print(f"report: {out}")


@command
def impute(model: Path = typer.Argument(..., help="An RBM checkpoint."),
           data: Path = typer.Argument(..., help="Haplotypes with missing alleles (phased .vcf, .npz)."),
           out: Path = typer.Option(..., "--out", help="Imputed haplotypes (.vcf[.gz], .hapt, .npz)."),
           sweeps: int = typer.Option(200, min=2), burn_in: int = typer.Option(50, min=0),
           seed: int = SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Fill missing alleles with an RBM (Gibbs sampling with observed alleles clamped)."""
    from . import io
    from .models import RBM, load

    m = load(model, device=_device(device))
    if not isinstance(m, RBM):
        raise ValueError(f"{model}: imputation needs an RBM checkpoint")
    h = _read_haplotypes(data)
    with console.status("imputing"):
        _, calls = m.impute(h, sweeps=sweeps, burn_in=burn_in, seed=seed)
    io.write(out, calls)
    n_missing = int((h.to_numpy() < 0).sum()) if h.has_missing else 0
    console.print(f"imputed {n_missing} missing alleles; wrote {out}")


def _summary(table: dict) -> None:
    t = Table(title="real vs synthetic")
    cols = ["AATS", "privacy loss", "AF r", "LD decay r", "3-point r", "exact copies"]
    cols = [c for c in cols if any(c in row for row in table.values())]
    t.add_column("model")
    for c in cols:
        t.add_column(c, justify="right")
    for name, row in table.items():
        t.add_row(name, *(f"{row[c]:.3f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in cols))
    console.print(t)


@command
def demo(out: Path = typer.Option(Path("demo"), "--out", help="Output folder."),
         quick: bool = typer.Option(False, help="A smaller run (under 2 minutes)."),
         seed: int = SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Simulate a cohort, train an RBM and baselines, generate, evaluate: the whole pipeline in one go."""
    from . import io
    from .models import RBM, Bernoulli, MarkovChain
    from .report import evaluate as run
    from .simulate import simulate as sim

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
    rbm = RBM(n_snps, 100, "relu", training="rdm", k=100, lr=1e-3, batch_size=32, n_chains=32, device=_device(device))
    rbm.fit(train_h, epochs, seed, eval_every=5, n_eval=train_h.n_haplotypes, progress=True,
            checkpoint=out / "rbm.safetensors")
    n = train_h.n_haplotypes
    synthetic = {"RBM": rbm.sample(n, seed=seed), "Bernoulli": Bernoulli().fit(train_h).sample(n, seed=seed),
                 "Markov chain (k=3)": MarkovChain(3).fit(train_h).sample(n, seed=seed)}
    for name, s in synthetic.items():
        io.write_hapt(out / f"synthetic_{name.split()[0].lower()}.hapt.gz", s, tag=name.split()[0])
    console.print(f"trained and sampled ({time.perf_counter() - t0:.0f} s)")
    with console.status("evaluating realism and privacy"):
        result = run(train_h, synthetic, out=out / "report.html", holdout=holdout, classifiers=not quick,
                     seed=seed)
    _summary(result.table)
    console.print(f"report: {out / 'report.html'}  (total {time.perf_counter() - t0:.0f} s)")


def main():  # pragma: no cover - console entry point
    app()
