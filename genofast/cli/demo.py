"""``genofast demo``: simulate, train, generate and evaluate in one go."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from ._common import (DEVICE, NEURAL, Device, ModelKind, SIMULATION_SEEDS, SIM_SEED, THREADS, _check_output, _device,
                      _summary, _warn_copies, command, console)

DEMO_MODELS = "rbm,bernoulli,markov"
NAMES = {"rbm": "RBM", "bernoulli": "Bernoulli", "markov": "Markov chain (k=3)", "gan": "GAN", "wgan": "WGAN",
         "vae": "VAE", "gmmn": "GMMN"}


@command
def demo(out: Path = typer.Option(Path("demo"), "--out", help="Output folder."),
         quick: bool = typer.Option(False, "--quick", help="A smaller run (under 2 minutes with the default models)."),
         models: str = typer.Option(DEMO_MODELS, help="Comma-separated models to train and compare: rbm, bernoulli, "
                                    "markov, gan, wgan, vae, gmmn (each neural one adds minutes on a CPU)."),
         seed: int = SIM_SEED, device: Device = DEVICE, threads: Optional[int] = THREADS):
    """Simulate a cohort, train an RBM and baselines, generate, evaluate: the whole pipeline in one go."""
    from .. import io
    from .. import models as families
    from ..metrics import aats
    from ..models._base import check_int
    from ..report import evaluate as run
    from ..simulate import simulate as sim

    check_int(seed, "--seed", *SIMULATION_SEEDS)
    chosen = [m.strip().lower() for m in models.split(",") if m.strip()]
    unknown = sorted(set(chosen) - set(NAMES))
    if unknown or not chosen:
        raise ValueError(f"--models takes a comma-separated list of {', '.join(m.value for m in ModelKind)}; "
                         f"got {models!r}")
    chosen = list(dict.fromkeys(chosen))
    _check_output(out, folder=True)
    n_train, n_snps, epochs = (480, 1000, 60) if quick else (960, 2000, 100)
    # As many held out as trained on. With 120 held out (a 4:1 split) the privacy loss was noise: the Bernoulli
    # baseline, which copies nothing but allele frequencies, scored 0.083 on the first cohort, 0.00-0.15 on
    # 120-haplotype subsets of 480 held out, against 0.015-0.050 on all 480 (docs/rbm.md).
    n_hap = 2 * n_train
    t0 = time.perf_counter()
    with console.status(f"simulating {n_hap} haplotypes x {n_snps} SNPs with msprime"):
        cohort = sim(n_hap, n_snps, seed=seed).haplotypes
    order = np.random.default_rng(seed).permutation(n_hap)
    train_h, holdout = cohort[np.sort(order[:n_train])], cohort[np.sort(order[n_train:])]
    out.mkdir(parents=True, exist_ok=True)
    io.write_vcf(out / "real_train.vcf.gz", train_h)
    io.write_vcf(out / "real_holdout.vcf.gz", holdout)
    console.print(f"simulated {n_hap} x {n_snps}: {train_h.n_haplotypes} for training, {holdout.n_haplotypes} held "
                  f"out ({time.perf_counter() - t0:.0f} s)")
    n, synthetic, trained = train_h.n_haplotypes, {}, {}
    for kind in chosen:
        # each model with its defaults, as a user who passes nothing gets them
        if kind == "rbm":
            m = families.RBM(n_snps, device=_device(device))
            # the held-out half puts the privacy loss into the training trace the report draws
            m.fit(train_h, epochs, seed, n_eval=n, progress=True, checkpoint=out / "rbm.safetensors",
                  holdout=holdout)
        elif kind in NEURAL:
            m = families._KINDS[kind](n_snps, device=_device(device))
            m.fit(train_h, epochs, seed, eval_every=max(1, epochs // 10), n_eval=n, progress=True,
                  checkpoint=out / f"{kind}.safetensors", holdout=holdout)
        else:
            m = (families.Bernoulli() if kind == "bernoulli" else families.MarkovChain(3)).fit(train_h)
        learnt = kind == "rbm" or kind in NEURAL  # trained by epochs, with a copy gate and a selection trace
        # the demo keeps copies: its report flags them, which is what it demonstrates
        synthetic[NAMES[kind]] = m.sample(n, seed=seed, allow_copies=True) if learnt else m.sample(n, seed=seed)
        if learnt:
            trained[NAMES[kind]] = m
        io.write_hapt(out / f"synthetic_{kind}.hapt.gz", synthetic[NAMES[kind]], tag=NAMES[kind].split()[0])
        console.print(f"trained and sampled {NAMES[kind]} ({time.perf_counter() - t0:.0f} s)")
    with console.status("evaluating realism and privacy"):
        result = run(train_h, synthetic, out=out / "report.html", holdout=holdout, classifiers=not quick,
                     seed=seed, training=trained)
    # the target row: held-out real haplotypes scored against the training ones, as many (AATS compares sets of
    # equal size, and the split is half and half); a model can reach AATS 0.5 with AA_truth near 1 and AA_syn
    # near 0, real haplotypes do not
    ref = aats(train_h, holdout)
    _summary({f"held-out real ({holdout.n_haplotypes})": {"AATS": ref.aats, "AA_truth": ref.aa_truth,
                                                          "AA_syn": ref.aa_syn}, **result.table})
    _warn_copies(result.table)
    console.print(f"report: {out / 'report.html'}  (total {time.perf_counter() - t0:.0f} s)")
