"""Distributed (Dask LocalCluster) vs single-process genofast: cross AATS and self nearest neighbours.

    python bench/bench_distributed.py --haplotypes 20000 --snps 10000 --workers 2

Prints wall times and checks that the results are identical. Each worker
runs the kernels on one thread (Dask's nanny sets OMP_NUM_THREADS=1 in
worker processes; the cluster supplies the parallelism); the single-process
run uses all of genofast's threads.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from genofast import HaplotypeMatrix, kernels, metrics


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    import distributed

    from genofast import distributed as gd

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--haplotypes", type=int, default=20_000)
    p.add_argument("--snps", type=int, default=10_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--chunk-rows", type=int, default=2_500)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    rng = np.random.default_rng(args.seed)
    words = kernels.pack_haplotypes(rng.integers(0, 2, (args.haplotypes, args.snps), dtype=np.uint8))
    cohort = HaplotypeMatrix(words, args.snps)
    half = args.haplotypes // 2
    real, synthetic = cohort[:half], cohort[half:]
    print(f"cohort: {args.haplotypes} haplotypes x {args.snps} SNPs; AATS {half} real vs "
          f"{args.haplotypes - half} synthetic; self NN over all {args.haplotypes}; kernel threads {kernels.threads()}")

    one_aats, t_one_aats = timed(lambda: metrics.aats(real, synthetic))
    one_nn, t_one_nn = timed(lambda: kernels.nearest_neighbors(cohort, None, 1))

    with gd.local_cluster(args.workers) as cluster, distributed.Client(cluster) as client:
        kw = {"chunk_rows": args.chunk_rows, "client": client}
        dist_aats, t_dist_aats = timed(lambda: gd.aats(real, synthetic, **kw))
        dist_nn, t_dist_nn = timed(lambda: gd.nearest_neighbors(cohort, None, 1, **kw))

    assert dist_aats.aats == one_aats.aats and np.array_equal(dist_aats.d_syn_real, one_aats.d_syn_real)
    assert all(np.array_equal(x, y) for x, y in zip(dist_nn, one_nn))
    print(f"{'task':<22}{'single [s]':>12}{'dask [s]':>12}{'ratio':>8}")
    for name, t1, td in (("cross AATS", t_one_aats, t_dist_aats), ("self NN (k=1)", t_one_nn, t_dist_nn)):
        print(f"{name:<22}{t1:>12.2f}{td:>12.2f}{t1 / td:>8.2f}")
    print(f"AATS = {one_aats.aats:.6f} in both; results identical")


if __name__ == "__main__":
    main()
