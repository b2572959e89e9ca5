"""Memory guards: every allocation that grows as a product of sizes is estimated and refused up front.

The available-memory functions are monkeypatched to a small number, so each
guard fires on tiny inputs, and the message must give the estimate and the
alternative to use.
"""

import numpy as np
import pytest

import genofast
from genofast import kernels
from genofast.models import RBM, _base
from genofast.metrics import quality

SMALL = 10_000  # bytes "available": less than any guarded allocation below


@pytest.fixture
def little_memory(monkeypatch):
    monkeypatch.setattr(_base, "available_memory", lambda: SMALL)


def haplotypes(rng, n, snps):
    return genofast.HaplotypeMatrix.from_numpy((rng.random((n, snps)) < 0.3).astype(np.uint8))


def test_pairwise_hamming_refuses_and_points_to_nearest_neighbors(rng, little_memory):
    a, b = haplotypes(rng, 100, 70), haplotypes(rng, 50, 70)
    with pytest.raises(MemoryError, match=r"100 x 50 Hamming distance matrix needs about .* GiB.*nearest_neighbors"):
        kernels.pairwise_hamming(a, b)
    kernels.nearest_neighbors(a, b, k=1)  # the alternative it names still runs


def test_pairwise_hamming_runs_when_it_fits(rng):
    a = haplotypes(rng, 20, 70)
    assert kernels.pairwise_hamming(a).shape == (20, 20)


def test_ld_matrix_refuses_with_the_estimate(rng, little_memory):
    h = haplotypes(rng, 30, 200)
    with pytest.raises(MemoryError, match=r"LD matrix of 200 SNPs needs about .*ld_decay"):
        quality.ld_matrix(h)
    assert quality.ld_matrix(h, np.arange(10)).shape == (10, 10)  # 4.8 kB: fits even in SMALL


def test_pca_refuses_and_names_max_snps(rng, little_memory):
    real, syn = haplotypes(rng, 60, 100), haplotypes(rng, 40, 100)
    with pytest.raises(MemoryError, match=r"PCA of 60 real and 40 synthetic rows x 100 SNPs.*max_snps"):
        quality.pca(real, syn)


def test_report_figure_refuses_too_many_panels(little_memory):
    from genofast.report import figures

    with pytest.raises(MemoryError, match=r"report figure of 12 panels.*fewer synthetic sets"):
        figures._grid(12)


def test_rbm_gpu_buffers_are_checked_against_free_gpu_memory(rng, monkeypatch):
    # No GPU needed: the guard runs before the first CUDA allocation, so a model
    # that only *says* it lives on cuda:0 reaches it and stops there.
    monkeypatch.setattr("genofast.models._rbm_resources.gpu_available_memory", lambda device: SMALL)
    m = RBM(50, 8, k=1, n_chains=4)
    m.device = "cuda:0"
    with pytest.raises(MemoryError, match=r"sampling 1000 haplotypes x 50 SNPs on the GPU needs about .*fewer"):
        m.sample(1000)
    data = (rng.random((200, 50)) < 0.5).astype(np.uint8)
    with pytest.raises(MemoryError, match=r"training data of 200 x 50 alleles on the GPU .*on the CPU"):
        m.fit(data, epochs=1)


def test_rbm_host_sampling_guard(little_memory):
    with pytest.raises(MemoryError, match=r"sampling 1000 haplotypes x 50 SNPs needs about .*sample fewer"):
        RBM(50, 8, k=1, n_chains=4, local_hidden=0).sample(1000)
