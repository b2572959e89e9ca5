"""Nearest-neighbour Hamming search and full AATS vs faiss-cpu, plink 1.9 and a numpy GEMM pipeline.

Data: 5,008 x 10,000 random bits and the 5,008 x 805 real haplotypes of
shared/data/yelmen805. "all-vs-all" is every haplotype's nearest other
haplotype in the cohort; "cross" is the 2,504 first haplotypes against the
2,504 others (the AATS real-vs-synthetic step). "genotypes" is the same
all-vs-all search on 5,000 unphased individuals x 10,000 SNPs by allele-count
(L1) distance, as the privacy metrics compare genotypes, against plink 1.9's
``--distance allele-ct``.
"""

import shutil
import subprocess

import numpy as np
import pytest

from genofast import kernels, metrics

faiss = pytest.importorskip("faiss")

DATASETS = ["random_bits", "yelmen805"]


def as_bytes(h):
    return np.ascontiguousarray(h.words).view(np.uint8)


def faiss_index(codes):
    index = faiss.IndexBinaryFlat(codes.shape[1] * 8)
    index.add(codes)
    return index


def faiss_all_vs_all(codes):
    d, i = faiss_index(codes).search(codes, 2)  # first hit is the query itself
    return d[:, 1], i[:, 1]


def numpy_all_vs_all(dense):
    x = dense.astype(np.float32)
    norms = x.sum(1)
    d = norms[:, None] + norms[None, :] - 2 * (x @ x.T)
    np.fill_diagonal(d, np.inf)
    return d.min(1), d.argmin(1)


@pytest.fixture(params=DATASETS)
def data(request):
    return request.param, request.getfixturevalue(request.param)


def test_all_vs_all_genofast(benchmark, data):
    name, h = data
    benchmark.group = f"all-vs-all NN k=1, {name}"
    benchmark.name = "genofast nearest_neighbors(self)"
    d, _ = benchmark(kernels.nearest_neighbors, h, None, 1)
    fd, _ = faiss_all_vs_all(as_bytes(h))
    np.testing.assert_array_equal(d[:, 0], fd)


def test_all_vs_all_faiss(benchmark, data):
    name, h = data
    benchmark.group = f"all-vs-all NN k=1, {name}"
    benchmark.name = "faiss IndexBinaryFlat"
    benchmark(faiss_all_vs_all, as_bytes(h))


def test_all_vs_all_numpy(benchmark, data):
    name, h = data
    benchmark.group = f"all-vs-all NN k=1, {name}"
    benchmark.name = "numpy float32 GEMM"
    dense = h.to_numpy()
    benchmark.pedantic(numpy_all_vs_all, (dense,), rounds=2, iterations=1)


@pytest.fixture(scope="module")
def plink_files(tmp_path_factory):
    """Each haplotype as a homozygous pseudo-individual, so plink's IBS distance is Hamming / 2."""
    if shutil.which("plink1.9") is None:
        pytest.skip("plink1.9 not installed (apt-get install plink1.9)")
    return tmp_path_factory.mktemp("plink")


def plink_all_vs_all(prefix, out, n):
    subprocess.run(["plink1.9", "--bfile", str(prefix), "--distance", "square", "bin", "ibs", "--threads", "2",
                    "--allow-no-sex", "--out", str(out)], check=True, capture_output=True)
    ibs = np.fromfile(f"{out}.mibs.bin", dtype=np.float64).reshape(n, n)
    np.fill_diagonal(ibs, -np.inf)
    return ibs.argmax(1)


def test_all_vs_all_plink(benchmark, data, plink_files):
    from bed_reader import to_bed

    name, h = data
    benchmark.group = f"all-vs-all NN k=1, {name}"
    benchmark.name = "plink 1.9 --distance ibs"
    prefix = plink_files / name
    if not prefix.with_suffix(".bed").exists():
        to_bed(prefix.with_suffix(".bed"), (2 * h.to_numpy()).astype(np.int8), properties={"fid": h.ids, "iid": h.ids})
    idx = benchmark.pedantic(plink_all_vs_all, (prefix, plink_files / f"{name}.out", h.n_haplotypes), rounds=1,
                             iterations=1)
    d, _ = kernels.nearest_neighbors(h, None, 1)
    ref = kernels.pairwise_hamming(h[:50], h)
    np.testing.assert_array_equal(ref[np.arange(50), idx[:50]], d[:50, 0])


def test_cross_genofast(benchmark, data):
    name, h = data
    benchmark.group = f"cross 2504 x 2504 NN k=1, {name}"
    benchmark.name = "genofast nearest_neighbors"
    benchmark(kernels.nearest_neighbors, h[:2504], h[2504:], 1)


def test_cross_faiss(benchmark, data):
    name, h = data
    benchmark.group = f"cross 2504 x 2504 NN k=1, {name}"
    benchmark.name = "faiss IndexBinaryFlat"
    codes = as_bytes(h)
    benchmark(lambda: faiss_index(codes[2504:]).search(codes[:2504], 1))


def faiss_aats(real, syn):
    it, is_ = faiss_index(real), faiss_index(syn)
    d_ts = is_.search(real, 1)[0][:, 0]
    d_st = it.search(syn, 1)[0][:, 0]
    d_tt = it.search(real, 2)[0][:, 1]
    d_ss = is_.search(syn, 2)[0][:, 1]
    return ((d_ts > d_tt).mean() + (d_st > d_ss).mean()) / 2


def test_aats_genofast(benchmark, data):
    name, h = data
    benchmark.group = f"full AATS 2504 real vs 2504 syn, {name}"
    benchmark.name = "genofast metrics.aats"
    r = benchmark(metrics.aats, h[:2504], h[2504:])
    codes = as_bytes(h)
    assert r.aats == pytest.approx(faiss_aats(codes[:2504], codes[2504:]))


def test_aats_faiss(benchmark, data):
    name, h = data
    benchmark.group = f"full AATS 2504 real vs 2504 syn, {name}"
    benchmark.name = "faiss pipeline (4 IndexBinaryFlat searches)"
    codes = as_bytes(h)
    benchmark(faiss_aats, codes[:2504], codes[2504:])


@pytest.fixture(scope="module")
def genotypes():
    from genofast import GenotypeMatrix

    rng = np.random.default_rng(3)
    return GenotypeMatrix.from_numpy(rng.binomial(2, rng.uniform(0.05, 0.5, 10_000), (5000, 10_000)).astype(np.int8))


def genofast_genotype_neighbours(g):
    from genofast.metrics import quality

    return kernels.nearest_neighbors(quality.distance_bits(g), None, 1)  # the thermometer code, then the search


def test_genotypes_genofast(benchmark, genotypes):
    benchmark.group = "genotypes all-vs-all NN k=1 (allele-count distance), 5,000 x 10,000"
    benchmark.name = "genofast distance_bits + nearest_neighbors"
    benchmark(genofast_genotype_neighbours, genotypes)


def plink_allele_ct(prefix, out, n):
    subprocess.run(["plink1.9", "--bfile", str(prefix), "--distance", "square", "bin", "allele-ct", "--threads", "2",
                    "--allow-no-sex", "--out", str(out)], check=True, capture_output=True)
    d = np.fromfile(f"{out}.dist.bin", dtype=np.float64).reshape(n, n)
    np.fill_diagonal(d, np.inf)
    return d.min(1)


def test_genotypes_plink(benchmark, genotypes, plink_files):
    from bed_reader import to_bed

    benchmark.group = "genotypes all-vs-all NN k=1 (allele-count distance), 5,000 x 10,000"
    benchmark.name = "plink 1.9 --distance allele-ct"
    prefix = plink_files / "genotypes"
    ids = np.array([f"i{i}" for i in range(len(genotypes))])
    to_bed(prefix.with_suffix(".bed"), genotypes.to_numpy(), properties={"fid": ids, "iid": ids})
    d = benchmark.pedantic(plink_allele_ct, (prefix, plink_files / "genotypes.out", len(genotypes)), rounds=1,
                           iterations=1)
    np.testing.assert_array_equal(d, genofast_genotype_neighbours(genotypes)[0][:, 0])
