"""Seed 004's table: imputation accuracy of trio children, G1–G4 x NA10–NA90 x learner.

    python bench/trio_boost.py                         # everything (Beagle is the slow part)
    python bench/trio_boost.py --methods adaboost logitboost totalboost mendel
    python bench/trio_boost.py --designs G4 --rates NA90 --out g4.jsonl

One simulated replicate per design (seed 004 averaged 5–30), masked at each
missing rate with its own seed. Each finished cell is appended to ``--out``
(JSON lines) as soon as it is done, and cells already there are skipped, so
a long run can be stopped and resumed. The table printed at the end reads
the whole file. Accuracy is seed 004's: per untyped SNP, the correlation of
imputed and true child dosages, averaged over SNPs; ``hard`` is the same
with dosages rounded to genotypes. Times are the imputation only (features,
fit, prediction; Beagle's wall time), not the simulation, with the 1-minute
load average of this machine beside them because the cores are shared.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from genofast.impute import DESIGNS, MISSING_RATES, impute_trios, imputation_accuracy, mask_offspring, simulate_trios
from genofast.impute.beagle import impute_with_beagle

METHODS = ("adaboost", "logitboost", "totalboost", "mendel", "beagle")


def run_cell(sim, design, rate, method, args):
    masked = mask_offspring(sim.trios, MISSING_RATES[rate], seed=args.seed + 1000 + list(MISSING_RATES).index(rate))
    load = os.getloadavg()[0]
    if method == "beagle":
        dosage, seconds = impute_with_beagle(masked, seed=args.seed, nthreads=args.threads)
        detail = {}
    else:
        res = impute_trios(masked, method, window=args.window, n_rounds=args.rounds, max_depth=args.depth,
                           n_train=args.n_train, seed=args.seed, n_jobs=args.threads)
        dosage, seconds, detail = res.dosage, res.seconds["total"], {k: round(v, 2) for k, v in res.seconds.items()}
        detail["trees"] = res.n_trees
    untyped = masked.child < 0
    acc, scored, skipped = imputation_accuracy(dosage, sim.trios.child, untyped)
    hard = imputation_accuracy(np.clip(np.rint(dosage), 0, 2), sim.trios.child, untyped)[0]
    return {"design": design, "rate": rate, "method": method, "accuracy": round(acc, 4), "hard": round(hard, 4),
            "seconds": round(seconds, 2), "snps_scored": scored, "snps_skipped": skipped, "load": round(load, 2),
            "window": args.window, "seed": args.seed, **({"parts": detail} if detail else {})}


def print_table(path):
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    cells = {(r["design"], r["rate"], r["method"]): r for r in rows}
    methods = [m for m in METHODS if any(k[2] == m for k in cells)]
    print("| design | rate | " + " | ".join(methods) + " |")
    print("|---|---|" + "---|" * len(methods))
    for design in DESIGNS:
        for rate in MISSING_RATES:
            if not any((design, rate, m) in cells for m in methods):
                continue
            out = []
            for m in methods:
                r = cells.get((design, rate, m))
                out.append("—" if r is None else f"{r['accuracy']:.3f} / {r['hard']:.3f} ({r['seconds']:.0f} s)")
            print(f"| {design} | {rate} | " + " | ".join(out) + " |")
    print("\ncells: accuracy with dosages / with hard calls (imputation seconds)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--designs", nargs="+", default=list(DESIGNS), choices=list(DESIGNS))
    ap.add_argument("--rates", nargs="+", default=list(MISSING_RATES), choices=list(MISSING_RATES))
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--n-train", type=int, default=20_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="trio_boost.jsonl")
    args = ap.parse_args()
    out = Path(args.out)
    done = set()
    if out.is_file():
        for line in out.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                if r.get("window") == args.window and r.get("seed") == args.seed:
                    done.add((r["design"], r["rate"], r["method"]))
    for design in args.designs:
        todo = [(rate, m) for rate in args.rates for m in args.methods if (design, rate, m) not in done]
        if not todo:
            continue
        t0 = time.perf_counter()
        n_trios, n_snps = DESIGNS[design]
        sim = simulate_trios(n_trios, n_snps, seed=args.seed + list(DESIGNS).index(design))
        print(f"{design}: simulated {n_trios} trios x {n_snps} SNPs in {time.perf_counter() - t0:.1f} s "
              f"(crossovers per meiosis per chromosome {sim.crossovers.mean():.3f})", flush=True)
        for rate, method in todo:
            row = run_cell(sim, design, rate, method, args)
            print(json.dumps(row), flush=True)
            with open(out, "a") as f:
                f.write(json.dumps(row) + "\n")
    print_table(out)


if __name__ == "__main__":
    main()
