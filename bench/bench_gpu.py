"""GPU benchmarks (issue 13): genofast's CUDA kernels against their peers on the same GPU, in the same run.

Every timed call ends with ``torch.cuda.synchronize()``, so GPU time is measured.

- all-vs-all NN k=1 self: 5,008 x 10,000 and 50,000 x 10,000 random bits, 100,000 x 805 (the real
  yelmen805 haplotypes tiled; random bits when the shared data is absent). genofast's tensor-core ("mma") and
  popcount kernels vs the exact torch pipeline a user would write (+-1 int8 ``torch._int_mm`` in row blocks,
  row max), checked equal to genofast once; genofast CPU and faiss-cpu on the 5,008 and 100,000 x 805 cases.
- hamming_histogram 20,000 x 805 self vs NN k=1 on the same pairs.
- bandwidth-bound kernels (random_phase, complement, reconcile on 20,000 x 200,000 genotypes; pack/unpack of
  20,000 x 200,000 haplotype bits; merge into ``out=`` on 20,000 x 20,000; rbm_units Bernoulli + pack on
  4,096 x 10,000) vs a device-to-device copy of the same byte count and, where easy, torch eager. Achieved
  GB/s (bytes read + written / median time) is printed after the ratio table.

Run: .venv/bin/python -m pytest bench/bench_gpu.py -m cuda --benchmark-columns=median,iqr,rounds
"""

import functools
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genofast import kernels

HAVE_GPU = torch.cuda.is_available() and kernels.has_cuda().available
pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not HAVE_GPU, reason="needs a CUDA GPU and genofast built with CUDA")]

COPY = "device copy, same bytes"


def timed(benchmark, group, name, fn, *args, rounds=None, nbytes=None, **kwargs):
    """Benchmark fn(*args, **kwargs) + synchronize; one untimed warm-up unless rounds (slow peers) is given."""
    benchmark.group, benchmark.name = group, name
    if nbytes is not None:
        benchmark.extra_info["bytes"] = int(nbytes)

    def call():
        out = fn(*args, **kwargs)
        torch.cuda.synchronize()
        return out

    if rounds:
        return benchmark.pedantic(call, rounds=rounds, iterations=1)
    call()
    return benchmark(call)


def nbytes(*tensors):
    return sum(t.numel() * t.element_size() for t in tensors)


def gen(seed):
    return torch.Generator(device="cuda").manual_seed(seed)


def random_words(n, n_snps, seed=0):
    return kernels.pack_haplotypes(torch.randint(0, 2, (n, n_snps), dtype=torch.uint8, device="cuda",
                                                 generator=gen(seed)))


def to_cuda(words):
    return torch.from_numpy(np.ascontiguousarray(words).view(np.int64)).cuda()


# --- the torch peer for nearest neighbours ------------------------------------------------------


def pm1_int8(words, n_snps):
    """+-1 int8 rows (bit b -> 2b - 1) over the n_snps real columns, zero-padded to a multiple of 8 columns
    (zeros add nothing to a dot product). words: CUDA int64 tensor or numpy uint64 array."""
    bits = torch.as_tensor(kernels.unpack_haplotypes(words, n_snps))
    x = torch.zeros((bits.shape[0], -(-n_snps // 8) * 8), dtype=torch.int8, device=bits.device)
    x[:, :n_snps] = bits.to(torch.int8) * 2 - 1
    return x


def torch_nn_self(x, n_snps, block=4096):
    """Exact all-vs-all NN k=1 from +-1 int8 rows, never holding more than block x m dot products.

    dot = n_snps - 2 d, so the nearest other row is the row max of dot with the diagonal masked; argmax
    returns the first maximum, i.e. the lower index on ties, as genofast does. ``torch._int_mm`` on CUDA
    (needs > 16 query rows: short blocks are zero-padded), an int32 matmul on the CPU.
    """
    m = x.shape[0]
    dist = torch.empty(m, dtype=torch.int32, device=x.device)
    idx = torch.empty(m, dtype=torch.int64, device=x.device)
    for s in range(0, m, block):
        q = x[s:s + block]
        if x.is_cuda:
            dot = torch._int_mm(q if len(q) > 16 else F.pad(q, (0, 0, 0, 17 - len(q))), x.T)[:len(q)]
        else:
            dot = q.to(torch.int32) @ x.T.to(torch.int32)
        dot.diagonal(s).fill_(torch.iinfo(torch.int32).min)
        i = dot.argmax(1)
        idx[s:s + len(q)] = i
        dist[s:s + len(q)] = (n_snps - dot.gather(1, i[:, None])[:, 0]) // 2
    return dist, idx


def faiss_self(codes):
    import faiss

    index = faiss.IndexBinaryFlat(codes.shape[1] * 8)
    index.add(codes)
    return index.search(codes, 2)  # first hit is the query itself


# --- nearest neighbours and histogram ------------------------------------------------------------------

NN_CASES = [(5008, 10_000), (50_000, 10_000), (100_000, 805)]
CPU_CASES = {(5008, 10_000), (100_000, 805)}
NN_GPU = {"genofast nearest_neighbors mma": "mma", "popcount kernel": "popcount"}


@pytest.fixture(scope="module")
def hap805(request):
    """100,000 x 805 words on the GPU: the 5,008 yelmen805 haplotypes tiled, or random bits if absent."""
    try:
        w = np.ascontiguousarray(request.getfixturevalue("yelmen805").words)
    except pytest.skip.Exception:
        return random_words(100_000, 805, seed=805), "random"
    return to_cuda(w[np.arange(100_000) % len(w)]), "yelmen805 tiled"


@pytest.fixture(scope="module", params=NN_CASES, ids=lambda c: f"{c[0]}x{c[1]}")
def nn(request):
    n, s = request.param
    if s == 805:
        words, label = request.getfixturevalue("hap805")
    elif n == 5008:
        words, label = to_cuda(request.getfixturevalue("random_bits").words), "random"
    else:
        words, label = random_words(n, s, seed=n), "random"
    return SimpleNamespace(words=words, n_snps=s, cpu=(n, s) in CPU_CASES,
                           group=f"GPU all-vs-all NN k=1, {n:,} x {s:,} {label}")


@pytest.mark.parametrize("name", list(NN_GPU))
def test_nn_gpu(benchmark, nn, name):
    timed(benchmark, nn.group, name, kernels.nearest_neighbors, nn.words, None, 1, method=NN_GPU[name])


def test_nn_torch_int8(benchmark, nn):
    x = pm1_int8(nn.words, nn.n_snps)
    d, i = torch_nn_self(x, nn.n_snps)
    for method in NN_GPU.values():
        gd, gi = kernels.nearest_neighbors(nn.words, None, 1, method=method)
        assert torch.equal(gd[:, 0], d) and torch.equal(gi[:, 0], i), method
    timed(benchmark, nn.group, "torch._int_mm +-1 int8, 4096-row blocks", torch_nn_self, x, nn.n_snps)


@pytest.mark.parametrize("peer", ["nearest_neighbors on the CPU (all cores)", "faiss-cpu IndexBinaryFlat"])
def test_nn_cpu(benchmark, nn, peer):
    if not nn.cpu:
        pytest.skip("CPU peers only on the 5,008 x 10,000 and 100,000 x 805 cases")
    w = np.ascontiguousarray(nn.words.cpu().numpy()).view(np.uint64)
    if peer.startswith("faiss"):
        pytest.importorskip("faiss")
        timed(benchmark, nn.group, peer, faiss_self, w.view(np.uint8), rounds=3)
    else:
        timed(benchmark, nn.group, peer, kernels.nearest_neighbors, w, None, 1, rounds=3)


HIST = {"genofast hamming_histogram": lambda w: kernels.hamming_histogram(w, None, 805),
        "nearest_neighbors k=1, same pairs": lambda w: kernels.nearest_neighbors(w, None, 1)}


@pytest.mark.parametrize("name", list(HIST))
def test_histogram(benchmark, hap805, name):
    words, label = hap805
    timed(benchmark, f"GPU hamming_histogram 20,000 x 805 self, {label}", name, HIST[name], words[:20_000].contiguous())


# --- bandwidth-bound kernels ---------------------------------------------------------------------------

N_IND, N_SNP, N_MERGE, RBM = 20_000, 200_000, 20_000, (4096, 10_000)


@functools.cache
def big(name):
    """Inputs of the bandwidth tasks, made once on the GPU (about 11 GB in all)."""
    if name == "dosages":
        return torch.randint(0, 3, (N_IND, N_SNP), dtype=torch.int8, device="cuda", generator=gen(1))
    if name == "alleles":
        return torch.randint(0, 2, (N_IND, N_SNP), dtype=torch.uint8, device="cuda", generator=gen(2))
    if name == "genotypes":
        return kernels.pack_genotypes(big("dosages"))
    if name == "haps":
        return kernels.pack_haplotypes(big("alleles"))
    return kernels.random_phase(big("genotypes"), N_SNP, 7)  # "phased": (hap_a, hap_b, missing)


def eager_random_phase(d):
    hom, het = d == 2, d == 1
    r = torch.randint(0, 2, d.shape, dtype=torch.uint8, device=d.device).bool()
    return hom | (het & r), hom | (het & ~r), d < 0


def eager_merge(a, b, out):
    return torch.stack([(1 - a) * (1 - b), a * (1 - b) + (1 - a) * b, a * b], -1, out=out)


def bandwidth_task(task):
    """(bytes read + written by genofast, genofast call, torch eager call or None) for one task."""
    if task in ("random_phase", "complement", "reconcile"):
        d, g, (a, b, _) = big("dosages"), big("genotypes"), big("phased")
        if task == "random_phase":
            return nbytes(g, a, b, a), lambda: kernels.random_phase(g, N_SNP, 7), lambda: eager_random_phase(d)
        if task == "complement":
            h, al = big("haps"), big("alleles").view(torch.int8)
            return nbytes(g, h, h, h, h), lambda: kernels.complement(g, h, N_SNP), lambda: d - al
        return nbytes(g, a, b, a, b), lambda: kernels.reconcile(g, a, b, N_SNP, 3), None
    if task in ("pack_haplotypes", "unpack_haplotypes"):
        al, h = big("alleles"), big("haps")
        if task == "pack_haplotypes":
            return nbytes(al, h), lambda: kernels.pack_haplotypes(al), None
        return nbytes(al, h), lambda: kernels.unpack_haplotypes(h, N_SNP), None
    if task == "merge":
        pa, pb = (torch.rand((N_MERGE, N_MERGE), device="cuda", generator=gen(s)) for s in (3, 4))
        out = torch.empty((N_MERGE, N_MERGE, 3), device="cuda")
        return nbytes(pa, pb, out), lambda: kernels.merge(pa, pb, out=out), lambda: eager_merge(pa, pb, out)
    if task == "rbm_units":
        pre = torch.randn(RBM, device="cuda", generator=gen(5))
        bias = torch.randn(RBM[1], device="cuda", generator=gen(6))
        packed = RBM[0] * kernels.haplotype_words(RBM[1]) * 8
        return (nbytes(pre, bias, pre) + packed, lambda: kernels.rbm_units(pre, bias, "bernoulli", 9, 1, pack=True),
                lambda: torch.bernoulli(torch.sigmoid(pre + bias)))
    raise ValueError(task)


BANDWIDTH = {  # task -> (group label, torch eager peer's name or None)
    "random_phase": ("genotypes 20,000 x 200,000", "torch eager on int8 dosages"),
    "complement": ("genotypes 20,000 x 200,000", "torch eager: dosage - allele (int8)"),
    "reconcile": ("genotypes 20,000 x 200,000", None),
    "pack_haplotypes": ("20,000 x 200,000 bits", None),
    "unpack_haplotypes": ("20,000 x 200,000 bits", None),
    "merge": ("into out=, 20,000 x 20,000", "torch eager: stack(..., out=)"),
    "rbm_units": ("Bernoulli + pack, 4,096 x 10,000", "torch.bernoulli(torch.sigmoid(x + b))"),
}
BW_CASES = [(t, impl) for t, (_, eager) in BANDWIDTH.items() for impl in ("genofast", "copy", "eager")
            if impl != "eager" or eager]


@pytest.mark.parametrize("task,impl", BW_CASES, ids=[f"{t}-{i}" for t, i in BW_CASES])
def test_bandwidth(benchmark, task, impl):
    size, ours, eager = bandwidth_task(task)
    group = f"GPU {task}, {BANDWIDTH[task][0]}"
    if impl == "genofast":
        timed(benchmark, group, f"genofast {task}", ours, nbytes=size)
    elif impl == "eager":
        timed(benchmark, group, BANDWIDTH[task][1], eager)
    else:
        src = torch.empty(size // 16, dtype=torch.int64, device="cuda")
        dst = torch.empty_like(src)
        timed(benchmark, group, COPY, dst.copy_, src, nbytes=2 * nbytes(src))


class BandwidthSummary:
    """Prints achieved GB/s of every benchmark with extra_info["bytes"], and genofast's share of the copy's."""

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter, config):
        session = getattr(config, "_benchmarksession", None)
        rows = [b for b in (session.benchmarks if session else []) if "bytes" in b.extra_info and b.stats]
        if not rows:
            return
        copy = {b.group: b.extra_info["bytes"] / b.stats.median for b in rows if b.name == COPY}
        lines = ["", "achieved bandwidth (bytes read + written / median time, same run):"]
        for b in rows:
            rate = b.extra_info["bytes"] / b.stats.median
            share = f"   {rate / copy[b.group]:6.0%} of the copy" if b.name != COPY and b.group in copy else ""
            lines.append(f"  {b.group:<48} {b.name:<28} {rate / 1e9:8.0f} GB/s{share}")
        terminalreporter.write_line("\n".join(lines))


@pytest.fixture(scope="module", autouse=True)
def _bandwidth_summary(request):
    if not request.config.pluginmanager.has_plugin("genofast-gpu-bandwidth"):
        request.config.pluginmanager.register(BandwidthSummary(), "genofast-gpu-bandwidth")
