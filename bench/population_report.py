"""Per-population report on yelmen805 (issue 17): baselines and held-out real haplotypes, by super-population.

    .venv/bin/python bench/population_report.py --data ../shared/data/yelmen805 --out /tmp/pop
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import genofast
from genofast.io import read_hapt
from genofast.metrics import population
from genofast.models import Bernoulli, MarkovChain


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/yelmen805"))
    ap.add_argument("--out", type=Path, default=Path("population_report"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    h = read_hapt(args.data / "805_SNP_1000G_real.hapt.gz")
    labels = population.haplotype_labels(h.ids, population.read_labels(args.data / "805_SNP_1000G_real.labels.tsv"))
    order = np.random.default_rng(args.seed).permutation(h.n_haplotypes)
    train_rows, holdout_rows = np.sort(order[:4000]), np.sort(order[4000:])
    train, holdout = h[train_rows], h[holdout_rows]
    n = len(holdout_rows)
    sets = {"held-out real": holdout, "Markov(5)": MarkovChain(5).fit(train).sample(n, seed=args.seed),
            "Bernoulli": Bernoulli().fit(train).sample(n, seed=args.seed)}
    t = time.perf_counter()
    # The held-out set's own labels are known; the baselines' come from their nearest real haplotype.
    r = genofast.evaluate(train, sets, out=args.out / "report.html", populations=labels[train_rows],
                          synthetic_populations={"held-out real": labels[holdout_rows]}, embeddings=True,
                          classifiers=False, seed=args.seed)
    print(f"evaluate: {time.perf_counter() - t:.1f} s -> {r.report}")
    for name, per in r.populations.items():
        for pop, row in per.items():
            print(f"{name:<14} {pop}: " + " ".join(f"{k} {v:.3f}" for k, v in row.items()
                                                    if k in ("synthetic share", "AF r", "LD r² window r", "AATS")))
    cols = ["aggregate score", "AF r", "LD decay r", "LD level score", "LD r² window r", "AATS"]
    for name, row in r.table.items():
        print(f"{name:<14} " + " ".join(f"{c} {row[c]:.3f}" for c in cols))


if __name__ == "__main__":
    main()
