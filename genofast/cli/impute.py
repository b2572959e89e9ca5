"""``genofast impute``: fill missing calls with a U-Net (unphased genotypes), an RBM (haplotypes) or boosting
(parent-offspring trios)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from ._common import (DEVICE, Device, LEGEND, SEED, THREADS, _check_legend, _check_output, _check_time, _device,
                      _read, _read_haplotypes, command, console)


@command
def impute(model: Path = typer.Argument(..., help="An RBM or U-Net imputer checkpoint, or the word unet or "
                                        "trio-boost."),
           data: Path = typer.Argument(..., help="Haplotypes with missing alleles (phased .vcf, .npz); for unet, "
                                       "unphased genotypes (.vcf[.gz], .bed, EIGENSTRAT .geno, .npz); for "
                                       "trio-boost, genotypes of parents and children."),
           out: Path = typer.Option(..., "--out", help="Imputed data (.vcf[.gz] with GT:DS:GP for unet, .hapt, "
                                    ".npz, .bed)."),
           sweeps: int = typer.Option(200, help="Gibbs sweeps (at least 2)."),
           burn_in: int = typer.Option(50, help="Sweeps discarded before averaging (fewer than --sweeps)."),
           pedigree: Optional[Path] = typer.Option(None, help="trio-boost: PED or .fam file naming each child's "
                                                   "parents."),
           learner: str = typer.Option("logitboost", help="trio-boost: logitboost, adaboost, totalboost or mendel."),
           window: int = typer.Option(10, help="trio-boost: flanking SNPs per window (half each side)."),
           train: bool = typer.Option(False, "--train", help="unet: (continue to) train the checkpoint given "
                                      "as MODEL on DATA before imputing."),
           checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="unet: where to save the trained "
                                                     "imputer (written after every epoch; reuse it as MODEL)."),
           epochs: int = typer.Option(100, help="unet: training epochs per window and iteration count."),
           iterations: str = typer.Option("10,1", help="unet: iteration count(s); with several, the better on "
                                          "held-out samples is kept."),
           lr: float = typer.Option(6.4e-5, help="unet: Adam learning rate (the thesis' 6.4e-5)."),
           snp_window: int = typer.Option(10_000, "--snp-window", help="unet: SNPs per network (overlapping "
                                          "windows for long cohorts)."),
           legend: Optional[Path] = LEGEND,
           seed: int = SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Fill missing calls with a U-Net (genotypes), an RBM (haplotypes) or boosting (trios).

    MODEL is ``unet`` (train the iterative U-Net on DATA's unphased genotypes: ``genofast impute unet DATA --out
    OUT.vcf.gz``) or a trained U-Net checkpoint; an RBM checkpoint (haplotypes: Gibbs sampling with the observed
    alleles clamped); or ``trio-boost`` (children's untyped SNPs in parent-offspring trios: ``genofast impute
    trio-boost DATA --pedigree FILE``).
    """
    from .. import io
    from ..models import RBM, load
    from ..models._base import check_int, check_memory, check_seed

    if str(model) == "trio-boost":
        _impute_trios(data, out, pedigree, learner, window, seed, threads)
        return
    if str(model) == "unet" or _is_unet(model):
        _impute_unet(model, data, out, train, checkpoint, epochs, iterations, lr, snp_window, legend, seed,
                     _device(device))
        return
    if train or checkpoint is not None:
        raise ValueError("--train and --checkpoint apply to U-Net imputation (MODEL unet or a U-Net checkpoint)")
    if pedigree is not None:
        raise ValueError("--pedigree applies to trio-boost imputation: use `genofast impute trio-boost DATA ...`")
    check_int(sweeps, "--sweeps", 2)
    check_int(burn_in, "--burn-in", 0)
    if burn_in >= sweeps:
        raise ValueError(f"--burn-in ({burn_in}) must be smaller than --sweeps ({sweeps})")
    check_seed(seed, "--seed")
    io._kind(out, writing=True)
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
    from ..impute import LEARNERS, impute_trio_file
    from ..models._base import check_int, check_seed

    if pedigree is None:
        raise ValueError("trio-boost needs --pedigree FILE (PED or .fam) naming each child's parents")
    if learner not in (*LEARNERS, "mendel"):
        raise ValueError(f"--learner must be one of {', '.join(LEARNERS)} or mendel, got {learner!r}")
    check_int(window, "--window", 2)
    check_seed(seed, "--seed")
    from .. import io

    io._kind(out, writing=True)
    _check_output(out)
    with console.status(f"imputing trio children with {learner}"):
        result = impute_trio_file(data, pedigree, out, learner=learner, window=window, seed=seed,
                                  n_jobs=threads or 2)
    seconds = sum(result.seconds.values())
    console.print(f"imputed the children's untyped SNPs with {learner} in {seconds:.1f} s; wrote {out}")


def _is_unet(path: Path) -> bool:
    from safetensors import safe_open

    if not path.is_file() or path.suffix != ".safetensors":
        return False
    try:
        with safe_open(str(path), framework="numpy") as f:
            return (f.metadata() or {}).get("genofast_model") == "unet-imputer"
    except Exception:  # not a checkpoint: the RBM path reports it
        return False


def _impute_unet(model: Path, data: Path, out: Path, train: bool, checkpoint: Optional[Path], epochs: int,
                 iterations: str, lr: float, snp_window: int, legend: Optional[Path], seed: int, device: str) -> None:
    from .. import io
    from ..impute import UNetImputer
    from ..matrix import HaplotypeMatrix
    from ..models._base import check_int, check_seed

    check_seed(seed, "--seed")
    check_int(epochs, "--epochs")
    check_int(snp_window, "--snp-window", 8)
    try:
        its = tuple(int(x) for x in iterations.split(","))
    except ValueError:
        raise ValueError(f"--iterations must be counts separated by commas, got {iterations!r}") from None
    kind = io._kind(out, writing=True)
    _check_output(out)
    if checkpoint is not None:
        _check_output(checkpoint)
    _check_legend(legend, [data])
    g = _read(data, legend)
    if isinstance(g, HaplotypeMatrix):
        g = g.to_genotypes()
    if str(model) == "unet":
        m = UNetImputer(g.n_snps, device=device, iterations=its, lr=lr, window=snp_window,
                        overlap=min(500, snp_window // 10))
        train = True
    else:
        m = UNetImputer.load(model, device=device)
        checkpoint = checkpoint or (model if train else None)
    if train:
        remaining = sum(epochs for _ in m.units[m.unit:]) - m.epoch
        _check_time(m.fit_seconds(g.n_samples, epochs), f"training the U-Net ({remaining} epochs)",
                    "lower --epochs or --iterations")
        t0 = time.perf_counter()
        m.fit(g, epochs=epochs, seed=seed, progress=True, checkpoint=checkpoint)
        kept = ", ".join(f"{c} iteration{'s' if c > 1 else ''}" for c in m.chosen)
        console.print(f"trained the U-Net in {time.perf_counter() - t0:.0f} s (kept: {kept})"
                      + (f"; saved {checkpoint}" if checkpoint else ""))
    result = m.impute(g, seed=seed, progress=True)
    if kind == "vcf":
        io.write_imputed_vcf(out, result)
    else:
        io.write(out, result.genotypes())
    console.print(f"imputed {g.n_missing} missing calls of {g.n_samples} samples; wrote {out}")
    _print_dosage_r2(result)


def _align_to_model(model, h, path: Path):
    """The data on the model's SNPs and allele coding (SNPs matched by chromosome, position and alleles)."""
    from ..align import align_to

    h, info = align_to(model.variants, h, name=str(path), reference_name="the model")
    if info.flipped or info.reordered:
        console.print(f"note: {info.describe(str(path))}; the output follows the model's SNPs and alleles")
    return h


def _print_dosage_r2(result) -> None:
    """How well the sites were imputed, as a user filters them: DR2 over all samples (the VCF's INFO field)."""
    from ..impute import dosage_r2

    r2 = dosage_r2(result, calls="all")
    r2 = r2[np.isfinite(r2)]
    if len(r2):
        console.print(f"DR2 over the {len(r2)} sites with imputed calls: median {np.median(r2):.3f}, "
                      f"{np.mean(r2 >= 0.8):.0%} at 0.8 or more")


@command
def phase(data: Path = typer.Argument(..., help="Unphased genotypes (.vcf[.gz], .bed, EIGENSTRAT .geno, .npz)."),
          out: Path = typer.Option(..., "--out", help="Phased haplotypes (.vcf[.gz], .hapt[.gz], .npz, .zarr)."),
          seed: int = SEED, threads: Optional[int] = THREADS):
    """Phase unphased genotypes into haplotypes with Beagle 5.4, for train (needs the beagle command).

    No reference panel: Beagle phases the cohort from the haplotypes its samples share, and fills missing calls
    while it does; every called genotype is kept.
    """
    import os

    from .. import io
    from ..impute.beagle import beagle_command, phase_with_beagle
    from ..matrix import HaplotypeMatrix
    from ..models._base import check_seed

    check_seed(seed, "--seed")
    if io._kind(out, writing=True) == "plink":
        raise ValueError(f"{out}: PLINK .bed holds unphased genotypes; write the haplotypes as .vcf[.gz], .hapt[.gz], "
                         ".npz or .zarr")
    _check_output(out)
    beagle_command()  # installed? before reading the data
    g = _read(data)
    if isinstance(g, HaplotypeMatrix):
        raise ValueError(f"{data}: already phased haplotypes; nothing to phase")
    with console.status(f"phasing {g.n_samples} samples x {g.n_snps} SNPs with Beagle"):
        try:
            run = phase_with_beagle(g, seed=seed % 2**31, nthreads=threads or os.cpu_count() or 1)
        except RuntimeError as e:  # one line: the failure and the last line of Beagle's log
            lines = [line for line in str(e).splitlines() if line.strip()]
            raise RuntimeError(" ".join(dict.fromkeys([lines[0], lines[-1]]))) from None
    io.write(out, run.haplotypes)
    console.print(f"phased {g.n_samples} samples x {g.n_snps} SNPs into {run.haplotypes.n_haplotypes} haplotypes "
                  f"in {run.seconds:.0f} s (Beagle peak memory {run.peak_mib:.0f} MiB); wrote {out}")
