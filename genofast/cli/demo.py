"""``genofast demo``: simulate, train, generate and evaluate in one go."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from ._common import (DEVICE, Device, SIMULATION_SEEDS, SIM_SEED, THREADS, _check_output, _device, _summary,
                      _warn_copies, command, console)


@command
def demo(out: Path = typer.Option(Path("demo"), "--out", help="Output folder."),
         quick: bool = typer.Option(False, help="A smaller run (under 2 minutes)."),
         seed: int = SIM_SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Simulate a cohort, train an RBM and baselines, generate, evaluate: the whole pipeline in one go."""
    from .. import io
    from ..models import RBM, Bernoulli, MarkovChain
    from ..models._base import check_int
    from ..report import evaluate as run
    from ..simulate import simulate as sim

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
