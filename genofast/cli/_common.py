"""What every ``genofast`` command shares: the app, one-line failures, thread and device options, readers."""

from __future__ import annotations

import functools
import os
from enum import Enum
from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="markdown",
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
    crbm = "crbm"


# the neural generators: torch models trained by epochs, conditional on labels when given
NEURAL = ("gan", "wgan", "vae", "gmmn")
CONDITIONAL = ("rbm", *NEURAL)  # the models `train --labels` makes conditional


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
    from .. import kernels
    from ..models._base import check_int

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
    from .. import kernels

    if device is Device.auto:
        return "cuda" if kernels.has_cuda().available else "cpu"
    return device.value


def _is_hapt(path: Path) -> bool:
    from .. import io

    return io._kind(path) == "hapt"


def _check_legend(legend: Optional[Path], paths) -> None:
    """A legend names the SNPs of .hapt files only; refuse one that would apply to nothing."""
    from ..io._files import existing

    if legend is None:
        return
    existing(legend)
    if not any(p is not None and _is_hapt(p) for p in paths):
        raise ValueError(f"--legend {legend} applies to .hapt files, and no input is one")


def _read(path: Path, legend: Optional[Path] = None):
    from .. import io

    return io.read(path, legend=legend) if legend is not None and _is_hapt(path) else io.read(path)


def _read_haplotypes(path: Path, legend: Optional[Path] = None):
    from .. import io
    from ..io._files import UnphasedError
    from ..matrix import HaplotypeMatrix

    hint = f"phase them first: genofast phase {path} --out phased.vcf.gz (Beagle)"
    if io._kind(path) == "vcf":  # the reader stops at the first unphased call and names its line, site and sample
        try:
            return io.read_vcf(path, phased=True)
        except UnphasedError as e:
            raise ValueError(f"{e}; {hint}") from None
    m = _read(path, legend)
    if not isinstance(m, HaplotypeMatrix):
        raise ValueError(f"{path}: phased haplotypes are needed, but the file holds unphased genotypes ({hint})")
    return m


def _chromosomes(variants) -> str:
    chrom = np.asarray(variants.chrom).astype(str)
    names, first = np.unique(chrom, return_index=True)
    names = names[np.argsort(first)]  # in file order, which is genome order for sorted files
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"{len(names)} chromosome{'s' if len(names) != 1 else ''} ({shown})"


def _warn_copies(table: dict) -> None:
    for name, row in table.items():
        if row.get("exact copies", 0) > 0:
            console.print(f"[bold red]warning:[/bold red] synthetic set {name!r} holds {row['exact copies']} exact "
                          "copies of real (training) haplotypes: do not release it as is")


def _summary(table: dict) -> None:
    import textwrap

    from rich import box

    # No vertical rules, and the numbers never cut: on an 80-column terminal the headers and the set names wrap
    # instead (boxed, every value showed as "0.5…"). The box's blank column rule is the only gap: with padding
    # too, set names wrapped past 12 characters ("syn_bernoulli").
    t = Table(title="real vs synthetic", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=0)
    # AA_truth and AA_syn beside AATS: an AATS near 0.5 can hide both being wrong in opposite directions
    cols = ["AATS", "AA_truth", "AA_syn", "privacy loss", "AF r", "LD decay r", "3-point r", "exact copies"]
    cols = [c for c in cols if any(c in row for row in table.values())]
    t.add_column("model", min_width=10, overflow="fold")
    for c in cols:  # as wide as "-0.123" or the header's longest word
        width = max(6, *map(len, c.split()))
        t.add_column(textwrap.fill(c, width), justify="right", width=width)
    for name, row in table.items():
        t.add_row(name, *(f"{row[c]:.3f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in cols))
    console.print(t)
