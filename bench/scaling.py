"""Scaling of all-vs-all nearest-neighbour search: time grows as n^2 * words, memory stays linear.

Run: python bench/scaling.py [--snps 10000] [--sizes 1000 2000 5000 10000 20000 50000]
Each size runs in a fresh process so its peak resident memory is its own.
"""

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import numpy as np
from genofast import HaplotypeMatrix, kernels
n, snps = int(sys.argv[1]), int(sys.argv[2])
words = np.random.default_rng(n).integers(0, 2**63, (n, -(-snps // 64)), dtype=np.uint64)
if snps % 64:
    words[:, -1] &= np.uint64((1 << (snps % 64)) - 1)
h = HaplotypeMatrix(words, snps)
kernels.nearest_neighbors(HaplotypeMatrix(words[:8], snps), None, 1)  # start the thread pool
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
kernels.nearest_neighbors(h, None, 1)
elapsed = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "rss_before_mb": before / 1024, "rss_peak_mb": peak / 1024,
                  "input_mb": words.nbytes / 2**20}))
"""


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--snps", type=int, default=10_000)
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10_000, 20_000, 50_000])
    args = p.parse_args()
    words = -(-args.snps // 64)
    print(f"all-vs-all NN k=1 (self mode, one triangle), {args.snps} SNPs = {words} words per haplotype")
    print("| n | seconds | ns per (pair x word) | input MB | extra peak RSS MB | full n x n int32 matrix would be MB |")
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(args.snps)], capture_output=True, text=True,
                             check=True).stdout
        r = json.loads(out)
        pairs = n * (n - 1) / 2
        print(f"| {n:,} | {r['seconds']:.3f} | {r['seconds'] / (pairs * words) * 1e9:.4f} | {r['input_mb']:.1f} "
              f"| {r['rss_peak_mb'] - r['rss_before_mb']:.1f} | {n * n * 4 / 2**20:,.0f} |")


if __name__ == "__main__":
    main()
