"""Scaling of genofast's GPU all-vs-all nearest neighbours (k=1, self) with the number of haplotypes.

For each n: n random haplotypes x --snps bits generated and packed on the GPU, one warm-up call, then the
median of --repeats timed calls (each ending with torch.cuda.synchronize()), the pair-bits compared per
second (n^2 x snps / median: every ordered pair, as a full GEMM would count it) and the peak extra GPU memory
of a call (torch's max_memory_allocated minus what was allocated before it, i.e. the packed input; memory
genofast's C++ takes outside torch's allocator is not seen).

Run: .venv/bin/python bench/gpu_scaling.py --n 10000,20000,50000,100000,200000 --snps 10000 --method mma
"""

import argparse
import statistics
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", default="10000,20000,50000,100000,200000", help="comma-separated haplotype counts")
    p.add_argument("--snps", type=int, default=10_000, help="bits per haplotype")
    p.add_argument("--method", default="auto", choices=["auto", "popcount", "mma"], help="nearest_neighbors method")
    p.add_argument("--repeats", type=int, default=3, help="timed calls per n (median reported)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    args.n = [int(v.replace("_", "")) for v in args.n.split(",") if v.strip()]
    return args


def main(argv=None):
    args = parse_args(argv)
    import torch

    from genofast import kernels

    if not torch.cuda.is_available():
        sys.exit("gpu_scaling: no CUDA device visible to torch (torch.cuda.is_available() is False); "
                 "this script measures the GPU kernels only")
    if not kernels.has_cuda().available:
        sys.exit(f"gpu_scaling: genofast has no usable CUDA kernels ({kernels.has_cuda()}); "
                 "reinstall with GENOFAST_CUDA=ON and nvcc present")

    dev = torch.device("cuda")
    print(f"# {torch.cuda.get_device_name(dev)}, torch {torch.__version__}, NN k=1 self, {args.snps:,} bits, "
          f"method={args.method}, median of {args.repeats} after 1 warm-up")
    print(f"{'n':>9} {'median ms':>11} {'pair-bits/s':>12} {'peak extra MiB':>15} {'input MiB':>10}")
    gen = torch.Generator(device=dev).manual_seed(args.seed)
    for n in args.n:
        bits = torch.randint(0, 2, (n, args.snps), dtype=torch.uint8, device=dev, generator=gen)
        words = kernels.pack_haplotypes(bits)
        del bits
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        before = torch.cuda.memory_allocated(dev)
        torch.cuda.reset_peak_memory_stats(dev)

        def call(words):
            t0 = time.perf_counter()
            out = kernels.nearest_neighbors(words, None, 1, method=args.method)
            torch.cuda.synchronize()
            return time.perf_counter() - t0, out

        call(words)
        times = [call(words)[0] for _ in range(args.repeats)]
        peak = torch.cuda.max_memory_allocated(dev) - before
        t = statistics.median(times)
        input_mib = words.numel() * words.element_size() / 2**20
        print(f"{n:>9,} {t * 1e3:>11.2f} {n * n * args.snps / t:>12.3e} {peak / 2**20:>15.1f} {input_mib:>10.1f}",
              flush=True)
        del words


if __name__ == "__main__":
    main()
