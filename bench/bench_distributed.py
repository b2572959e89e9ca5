"""Distributed (Dask LocalCluster) vs single-process genofast: cross AATS and self nearest neighbours.

    python bench/bench_distributed.py --haplotypes 20000 --snps 10000 --workers 2
    python bench/bench_distributed.py --store /tmp/cohort.zarr --haplotypes 100002 --snps 10000 \
        --memory-limit 600MB

Without ``--store``: a seeded random cohort held in memory. With it: an
msprime cohort (three populations; written once to that VCF Zarr store,
reused afterwards) whose workers read their row blocks from the store, so no
process holds the whole cohort; the single-process run reads it whole. The
first half of the rows is "real", the second "synthetic": cross AATS between
the halves and self nearest neighbours over all rows. ``--memory-limit``
caps each worker (Dask pauses, spills blocks to disk, restarts a worker
past it). Prints wall times, peak resident memory of the single process and
of each worker, and checks that the results are identical. Each worker runs
the kernels on one thread (Dask's nanny sets OMP_NUM_THREADS=1 in worker
processes; the cluster supplies the parallelism); the single-process run
uses all of genofast's threads.
"""

from __future__ import annotations

import argparse
import resource
import time
from functools import partial
from pathlib import Path

import numpy as np

from genofast import HaplotypeMatrix, io, kernels, metrics


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def peak_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare_store(path: Path, n: int, n_snps: int, seed: int) -> None:
    from genofast.simulate import simulate

    sim, t = timed(lambda: simulate(n, n_snps, seed=seed))
    _, tw = timed(lambda: io.write_zarr(path, sim.haplotypes))
    print(f"simulated {n} x {n_snps} with msprime in {t:.0f} s, wrote {path} in {tw:.0f} s")


def main() -> None:
    import distributed

    from genofast import distributed as gd

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--haplotypes", type=int, default=20_000)
    p.add_argument("--snps", type=int, default=10_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--chunk-rows", type=int, default=2_500)
    p.add_argument("--store", type=Path, help="VCF Zarr store of the cohort (simulated and written when absent)")
    p.add_argument("--memory-limit", default="auto", help="per worker, e.g. 600MB (Dask's memory_limit)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    if args.store is None:
        rng = np.random.default_rng(args.seed)
        words = kernels.pack_haplotypes(rng.integers(0, 2, (args.haplotypes, args.snps), dtype=np.uint8))
        cohort = HaplotypeMatrix(words, args.snps)
    else:
        if not args.store.exists():
            prepare_store(args.store, args.haplotypes, args.snps, args.seed or 1)
            print("run again to measure (the simulation's memory would count in the single-process peak)")
            return
        cohort, t_read = timed(lambda: io.read_zarr(args.store))
        calls = cohort.n_haplotypes * cohort.n_snps
        print(f"store {args.store}: call_genotype {calls / 2**30:.2f} GiB as int8; read whole in {t_read:.1f} s "
              "(single process only)")
    n = cohort.n_haplotypes
    half = n // 2
    real, synthetic = cohort[:half], cohort[half:]
    print(f"cohort: {n} haplotypes x {cohort.n_snps} SNPs; AATS {half} real vs {n - half} synthetic; self NN over "
          f"all {n}; kernel threads {kernels.threads()}; {args.workers} workers, memory limit {args.memory_limit}")

    one_aats, t_one_aats = timed(partial(metrics.aats, real, synthetic))
    one_nn, t_one_nn = timed(partial(kernels.nearest_neighbors, cohort, None, 1))
    one_peak = peak_mib()
    del cohort, real, synthetic
    if args.store is not None:
        whole = gd.ZarrCohort(args.store)
        d_real, d_syn, d_all = whole.take(np.arange(half)), whole.take(np.arange(half, n)), whole
    else:
        words = kernels.pack_haplotypes(np.random.default_rng(args.seed).integers(0, 2, (n, args.snps),
                                                                                   dtype=np.uint8))
        d_all = HaplotypeMatrix(words, args.snps)
        d_real, d_syn = d_all[:half], d_all[half:]

    with gd.local_cluster(args.workers, memory_limit=args.memory_limit) as cluster, \
            distributed.Client(cluster) as client:
        kw = {"chunk_rows": args.chunk_rows, "client": client}
        dist_aats, t_dist_aats = timed(lambda: gd.aats(d_real, d_syn, **kw))
        dist_nn, t_dist_nn = timed(lambda: gd.nearest_neighbors(d_all, None, 1, **kw))
        worker_peaks = client.run(peak_mib)

    assert dist_aats.aats == one_aats.aats and np.array_equal(dist_aats.d_syn_real, one_aats.d_syn_real)
    assert np.array_equal(dist_aats.d_real_real, one_aats.d_real_real)
    assert all(np.array_equal(x, y) for x, y in zip(dist_nn, one_nn))
    print(f"{'task':<22}{'single [s]':>12}{'dask [s]':>12}{'ratio':>8}")
    for name, t1, td in (("cross AATS", t_one_aats, t_dist_aats), ("self NN (k=1)", t_one_nn, t_dist_nn)):
        print(f"{name:<22}{t1:>12.2f}{td:>12.2f}{t1 / td:>8.2f}")
    print(f"AATS = {one_aats.aats:.6f} (AA_truth {one_aats.aa_truth:.4f}, AA_syn {one_aats.aa_syn:.4f}) in both; "
          "results identical")
    print(f"peak resident memory: single process {one_peak:.0f} MiB; workers "
          + ", ".join(f"{v:.0f}" for v in worker_peaks.values()) + " MiB")


if __name__ == "__main__":
    main()
