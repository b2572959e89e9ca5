"""Masked-call imputation: the iterative U-Net against Beagle 5.4 and the most-frequent-genotype baseline.

The thesis' protocol (seed 000, section 4.5): hide a fraction of each
sample's observed calls, impute, and score the concordance of the hidden
calls. Every method sees only the masked cohort (the U-Net trains on its
observed calls, as Beagle phases and imputes from them), the same masks for
all methods.

    python bench/impute_unet.py                       # HumanOrigins 249 x 9,259, mask seeds 1 2 3
    python bench/impute_unet.py --epochs 60 --lr 1e-3 --iterations 1
    python bench/impute_unet.py --simulate 2000 100000 --masks 1 --epochs 1 --iterations 1

Each method runs in its own process so that its peak resident memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HUMAN_ORIGINS = Path(__file__).resolve().parents[2] / "shared" / "data" / "humanorigins249" / "HumanOrigins249_tiny.bed"


def cohort(args):
    from genofast.io import read
    from genofast.simulate import simulate

    if args.simulate:
        n, m = args.simulate
        cache = Path(args.cache) if args.cache else None
        if cache and cache.is_file():
            from genofast.io import load

            return load(cache)
        g = simulate(6 * -(-n // 3), m, seed=1, min_maf=0.01).haplotypes
        g = g[: 2 * n].to_genotypes()
        if cache:
            from genofast.io import save

            save(cache, g)
        return g
    if not HUMAN_ORIGINS.is_file():
        sys.exit(f"{HUMAN_ORIGINS} not found (shared data beside the project)")
    return read(HUMAN_ORIGINS)


def run_one(spec: dict) -> dict:
    """One method on one mask, in this process."""
    import torch

    from genofast.impute import UNetImputer, concordance, mask_calls, most_frequent_genotype

    torch.set_num_threads(spec["threads"])
    g = cohort(argparse.Namespace(**spec["cohort"]))
    masked, mask = mask_calls(g, spec["fraction"], seed=spec["mask"])
    t0 = time.perf_counter()
    out = {"method": spec["method"], "mask": spec["mask"]}
    if spec["method"] == "baseline":
        calls = most_frequent_genotype(masked).calls
    elif spec["method"] == "beagle":
        from genofast.impute.beagle import impute_genotypes_with_beagle

        run = impute_genotypes_with_beagle(masked, seed=spec["mask"], nthreads=spec["threads"])
        calls, out["beagle_peak_mib"] = run.calls, run.peak_mib
    else:
        its = spec["iterations"]
        m = UNetImputer(g.n_snps, iterations=its, lr=spec["lr"], batch_size=spec["batch_size"],
                        window=spec["window"])
        m.fit(masked, epochs=spec["epochs"], seed=spec["mask"], eval_every=spec["eval_every"])
        out["trained_s"] = time.perf_counter() - t0
        if spec.get("save"):
            m.save(spec["save"])
        for k in spec["draws"][1:]:  # the extra draws' scores; the first count is the row's own
            t1 = time.perf_counter()
            out[f"concordance_draws{k}"] = concordance(g, m.impute(masked, seed=spec["mask"], draws=k).calls, mask)
            out[f"impute_s_draws{k}"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        calls = m.impute(masked, seed=spec["mask"], draws=spec["draws"][0]).calls
        out["impute_s"] = time.perf_counter() - t1
        out["chosen"] = m.chosen
        out["best_val"] = [r.get("concordance") for r in m.trace]
    out["seconds"] = time.perf_counter() - t0
    out["concordance"] = concordance(g, calls, mask)
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--simulate", type=int, nargs=2, metavar=("SAMPLES", "SNPS"), help="msprime cohort instead")
    p.add_argument("--cache", help="npz file to keep the simulated cohort in")
    p.add_argument("--masks", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--fraction", type=float, default=0.2)
    p.add_argument("--methods", nargs="+", default=["baseline", "beagle", "unet10", "unet1"],
                   help="baseline, beagle, unet10, unet1 (one iteration count) or unet (10 and 1, better kept)")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--eval-every", type=int, default=5)
    p.add_argument("--lr", type=float, default=6.4e-5)
    p.add_argument("--batch-size", type=int, default=10)
    p.add_argument("--window", type=int, default=10_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--draws", type=int, nargs="+", default=[1], help="U-Net random phasings averaged; the first "
                   "count gives the row, the others are scored too")
    p.add_argument("--save", help="folder for the trained U-Nets (METHOD_maskN.safetensors)")
    p.add_argument("--out", help="JSON file for the rows")
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(run_one(json.loads(args.one))))
        return
    rows = []
    for mask in args.masks:
        for method in args.methods:
            its = {"unet10": 10, "unet1": 1, "unet": [10, 1]}.get(method)
            spec = dict(method=method, mask=mask, fraction=args.fraction, threads=args.threads,
                        cohort=dict(simulate=args.simulate, cache=args.cache), iterations=its, lr=args.lr,
                        batch_size=args.batch_size, epochs=args.epochs, eval_every=args.eval_every,
                        window=args.window, draws=args.draws,
                        save=args.save and str(Path(args.save) / f"{method}_mask{mask}.safetensors"))
            res = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True,
                                 text=True)
            if res.returncode:
                sys.exit(f"{method} on mask {mask} failed:\n{res.stderr[-3000:]}")
            row = json.loads(res.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"{method:9s} mask {mask}: concordance {row['concordance']:.4f}  {row['seconds']:8.1f} s  "
                  f"peak {row.get('beagle_peak_mib', row['peak_mib']):7.0f} MiB"
                  + (f"  kept {row['chosen']}" if "chosen" in row else "")
                  + "".join(f"  draws {k}: {row[f'concordance_draws{k}']:.4f}" for k in args.draws[1:]
                            if f"concordance_draws{k}" in row), flush=True)
    print("\nmethod     mean concordance  (sd)   mean s")
    for method in args.methods:
        c = [r["concordance"] for r in rows if r["method"] == method]
        s = [r["seconds"] for r in rows if r["method"] == method]
        print(f"{method:9s}  {np.mean(c):.4f}  ({np.std(c):.4f})  {np.mean(s):8.1f}")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
