"""Selection scans on AGs of a simulated sweep (issue 17): RBM vs Bernoulli and Markov baselines.

A three-population cohort with a sweep in A (genofast.simulate.simulate_sweep);
models are trained on A's training haplotypes only and their AGs stand in for
A in XP-EHH (A vs B), iHS (A) and PBS (A vs B, C), as in Yelmen et al. 2021
(Fig. 4). Prints the real-vs-synthetic correlations and the rank of the
window nearest the sweep, and writes the HTML report (with UMAP/Isomap).

    .venv/bin/python bench/selection_sweep.py --out /tmp/sweep --epochs 15
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import genofast
from genofast.metrics import selection_scans
from genofast.models import RBM, Bernoulli, MarkovChain
from genofast.simulate import simulate_sweep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("sweep_report"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--snps", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--batch", type=int, default=128, help="batch size and number of chains")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--end-frequency", type=float, default=0.9, help="frequency of the selected allele today")
    ap.add_argument("--flank", type=int, default=50_000, help="bp around the selected site that count as the sweep")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    sim = simulate_sweep((600, 200, 200), args.snps, seed=args.seed, end_frequency=args.end_frequency)
    h, pops = sim.haplotypes, sim.populations
    a = np.flatnonzero(pops == "A")
    order = np.random.default_rng(args.seed).permutation(a)
    train_rows, holdout_rows = np.sort(order[:400]), np.sort(order[400:])
    train, holdout = h[train_rows], h[holdout_rows]
    # The scanned cohort: A's training haplotypes (what the models learned) and the real B and C.
    cohort_rows = np.r_[train_rows, np.flatnonzero(pops != "A")]
    cohort, cohort_pops = h[cohort_rows], pops[cohort_rows]
    print(f"simulated {h.n_haplotypes} x {h.n_snps}, sweep at {sim.sweep_position:,} bp "
          f"({time.perf_counter() - t0:.1f} s)")
    models = {}
    t = time.perf_counter()
    rbm = RBM(h.n_snps, args.hidden, "relu", training="rdm", k=100, lr=args.lr, batch_size=args.batch,
              n_chains=args.batch)
    rbm.fit(train, args.epochs, args.seed)
    models["RBM"] = rbm.sample(len(train), seed=args.seed)
    print(f"RBM: {args.epochs} epochs {time.perf_counter() - t:.1f} s")
    models["Markov(5)"] = MarkovChain(5).fit(train).sample(len(train), seed=args.seed)
    models["Bernoulli"] = Bernoulli().fit(train).sample(len(train), seed=args.seed)
    t = time.perf_counter()
    # Held-out real haplotypes of A are what a perfect model would give (at their smaller size): the reference row.
    scans = selection_scans(cohort, cohort_pops, {**models, "held-out A": holdout}, focal="A", references=("B", "C"))
    print(f"scans {time.perf_counter() - t:.1f} s")
    print(f"{'set':<11}" + " ".join(f"{s + ' r':>9} {s + ' top':>9} {s + ' sweep':>10}" for s in scans.scans))
    for name in [None, *models, "held-out A"]:
        cells = []
        for scan in scans.scans.values():
            r = scan.r[name] if name else 1.0
            o = scan.top_overlap[name] if name else 1.0
            cells.append(f"{r:9.3f} {o:9.2f} {scan.window_rank(sim.sweep_position, name, args.flank):10d}")
        print(f"{name or 'real':<11}" + " ".join(cells))
    print(f"(sweep = rank of the best window within {args.flank // 1000} kb of the selected site, of "
          f"{len(next(iter(scans.scans.values())).real_windows)} windows)")
    t = time.perf_counter()
    r = genofast.evaluate(train, models, out=args.out / "report.html", holdout=holdout, scans=scans, embeddings=True,
                          seed=args.seed)
    print(f"evaluate with UMAP/Isomap: {time.perf_counter() - t:.1f} s -> {r.report}")
    cols = ["aggregate score", "AF r", "LD decay r", "LD level score", "LD r² window r", "AATS", "exact copies"]
    for name, row in r.table.items():
        print(f"{name:<10} " + " ".join(f"{c} {row[c]:.3f}" for c in cols))


if __name__ == "__main__":
    main()
