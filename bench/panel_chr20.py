"""Artificial genomes as imputation reference panels, on 1000 Genomes chr20 (seed 001's experiment).

    python bench/panel_chr20.py [--generators rbm markov] [--epochs 16] [--nthreads 2] [--out panel.html]

Panel: shared/data/chr20_1kg/reference.vcf.gz, 300 phased samples (600
haplotypes), its SNVs at positions held by one record (indels and the 12
duplicated positions dropped). Targets: unphased.vcf.gz's 203 other samples
typed at the scaffold.vcf.gz array sites that are panel SNVs; the rest of
their panel sites are the truth to impute. Each generator is trained on the
600 panel haplotypes and writes 600 artificial ones; Beagle imputes the
targets from the real panel, each artificial panel, and real + artificial.
Needs ``beagle`` (apt-get install beagle).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from genofast import io
from genofast.impute import panel_benchmark, typed_sites

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "chr20_1kg"


def load():
    panel = io.read_vcf(DATA / "reference.vcf.gz", phased=True)
    v = panel.variants
    pos = np.asarray(v.position)
    snv = (np.char.str_len(np.asarray(v.ref, str)) == 1) & (np.char.str_len(np.asarray(v.alt, str)) == 1)
    values, counts = np.unique(pos, return_counts=True)
    unique = ~np.isin(pos, values[counts > 1])
    keep = np.flatnonzero(snv & unique)
    panel = panel[:, keep]
    truth = io.read_vcf(DATA / "unphased.vcf.gz", phased=False)
    on_panel = typed_sites(truth.variants, panel.variants)
    truth = truth[:, np.flatnonzero(on_panel)]
    if truth.n_snps != panel.n_snps:
        raise SystemExit(f"unphased.vcf.gz holds {truth.n_snps} of the {panel.n_snps} panel SNVs")
    array = io.read_vcf(DATA / "scaffold.vcf.gz", phased=False)
    typed = typed_sites(panel.variants, array.variants)
    targets = truth[:, np.flatnonzero(typed)]
    return panel, targets, truth


def generators(names, args):
    from genofast.models import Bernoulli, ConditionalRBMChain, MarkovChain

    def rbm(h, seed):
        chain = ConditionalRBMChain(h.n_snps, window=args.window, context=args.context, n_hidden=100,
                                    training="rdm", k=20, lr=3e-3, batch_size=64, n_chains=64)
        t = time.perf_counter()
        chain.fit(h, args.epochs, seed + 1, progress=True)
        print(f"RBM chain: {len(chain.models)} windows of {args.window} SNPs, {args.epochs} epochs, "
              f"{time.perf_counter() - t:.0f} s", flush=True)
        return chain.sample(h.n_haplotypes, seed=seed + 2)

    makers = {"rbm": ("RBM", rbm),
              "markov": ("Markov", lambda h, s: MarkovChain(3).fit(h).sample(h.n_haplotypes, seed=s)),
              "bernoulli": ("Bernoulli", lambda h, s: Bernoulli().fit(h).sample(h.n_haplotypes, seed=s))}
    return dict(makers[n] for n in names)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--generators", nargs="+", default=["rbm", "markov"], choices=["rbm", "markov", "bernoulli"])
    p.add_argument("--epochs", type=int, default=16)
    p.add_argument("--window", type=int, default=1024)
    p.add_argument("--context", type=int, default=256)
    p.add_argument("--nthreads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("panel_chr20.html"))
    args = p.parse_args()
    panel, targets, truth = load()
    print(f"panel {panel.n_haplotypes} haplotypes x {panel.n_snps} SNVs; targets {targets.n_samples} samples typed "
          f"at {targets.n_snps} array sites, {panel.n_snps - targets.n_snps} sites to impute", flush=True)
    result = panel_benchmark(panel, targets, truth, generators(args.generators, args), seed=args.seed,
                             nthreads=args.nthreads)
    for name, row in result.table().items():
        print(f"{name:<22}" + "  ".join(f"{k}: {v}" for k, v in row.items()))
    result.write(args.out)
    print(f"page: {args.out}")


if __name__ == "__main__":
    main()
