import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genofast import HaplotypeMatrix, kernels

import reference


def packed(a):
    return HaplotypeMatrix.from_numpy(a)


@pytest.mark.parametrize("n_snps", [1, 63, 64, 65, 200, 10_000])
@pytest.mark.parametrize("k", [1, 3])
def test_nearest_neighbors_matches_brute_force(simd, rng, n_snps, k):
    a = rng.integers(0, 2, (70, n_snps), dtype=np.uint8)
    b = rng.integers(0, 2, (133, n_snps), dtype=np.uint8)
    d, i, cm = kernels.nearest_neighbors(packed(a), packed(b), k, return_column_min=True)
    full = reference.hamming_matrix(a, b)
    rd, ri = reference.top_k(full, k)
    np.testing.assert_array_equal(d, rd)
    np.testing.assert_array_equal(i, ri)
    np.testing.assert_array_equal(cm, full.min(0))


@pytest.mark.parametrize("n_snps", [1, 64, 65, 805])
@pytest.mark.parametrize("k", [1, 2, 5])
def test_self_mode_excludes_diagonal(simd, rng, n_snps, k):
    a = rng.integers(0, 2, (150, n_snps), dtype=np.uint8)
    d, i = kernels.nearest_neighbors(packed(a), None, k)
    rd, ri = reference.top_k(reference.hamming_matrix(a, a), k, exclude_diagonal=True)
    np.testing.assert_array_equal(d, rd)
    np.testing.assert_array_equal(i, ri)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 80), st.integers(1, 130), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_random_shapes(m, n, n_snps, k, seed):
    r = np.random.default_rng(seed)
    # few SNPs and few distinct rows: many ties, the tie rule decides
    a = r.integers(0, 2, (m, n_snps), dtype=np.uint8)
    b = r.integers(0, 2, (n, n_snps), dtype=np.uint8)
    k = min(k, n)
    d, i = kernels.nearest_neighbors(packed(a), packed(b), k)
    rd, ri = reference.top_k(reference.hamming_matrix(a, b), k)
    np.testing.assert_array_equal(d, rd)
    np.testing.assert_array_equal(i, ri)
    if m > k:
        d, i = kernels.nearest_neighbors(packed(a), None, k)
        rd, ri = reference.top_k(reference.hamming_matrix(a, a), k, exclude_diagonal=True)
        np.testing.assert_array_equal(d, rd)
        np.testing.assert_array_equal(i, ri)


def test_all_equal_rows_ties_go_to_lower_index(simd):
    a = np.ones((300, 100), dtype=np.uint8)
    d, i = kernels.nearest_neighbors(packed(a), None, 4)
    assert (d == 0).all()
    expect = np.array([[j for j in range(5) if j != r][:4] for r in range(300)])
    np.testing.assert_array_equal(i, expect)
    d, i = kernels.nearest_neighbors(packed(a[:7]), packed(a), 3)
    np.testing.assert_array_equal(i, np.tile([0, 1, 2], (7, 1)))


def test_single_query_and_single_reference(rng):
    a = rng.integers(0, 2, (1, 300), dtype=np.uint8)
    b = rng.integers(0, 2, (500, 300), dtype=np.uint8)
    d, i = kernels.nearest_neighbors(packed(a), packed(b))
    full = reference.hamming_matrix(a, b)
    assert d[0, 0] == full.min() and i[0, 0] == full.argmin()
    d, i, cm = kernels.nearest_neighbors(packed(b), packed(a), return_column_min=True)
    np.testing.assert_array_equal(d[:, 0], full[0])
    assert (i == 0).all() and cm[0] == full.min()


def test_pairwise_and_histogram(simd, rng):
    a = rng.integers(0, 2, (90, 130), dtype=np.uint8)
    b = rng.integers(0, 2, (75, 130), dtype=np.uint8)
    full = reference.hamming_matrix(a, b)
    np.testing.assert_array_equal(kernels.pairwise_hamming(packed(a), packed(b)), full)
    h = kernels.hamming_histogram(packed(a), packed(b))
    assert h.shape == (131,)
    np.testing.assert_array_equal(h, np.bincount(full.ravel(), minlength=131))
    self_full = reference.hamming_matrix(a, a)
    iu = np.triu_indices(90, 1)
    np.testing.assert_array_equal(kernels.hamming_histogram(packed(a)), np.bincount(self_full[iu], minlength=131))


def test_input_errors(rng):
    a = packed(rng.integers(0, 2, (5, 100), dtype=np.uint8))
    b = packed(rng.integers(0, 2, (5, 200), dtype=np.uint8))
    with pytest.raises(ValueError, match="different SNP counts|SNPs"):
        kernels.nearest_neighbors(a, b)
    with pytest.raises(ValueError, match="k=5 but only 4 reference haplotypes"):
        kernels.nearest_neighbors(a, None, 5)
    with pytest.raises(ValueError, match="positive integer"):
        kernels.nearest_neighbors(a, a, 0)
    with pytest.raises(ValueError, match="column minima"):
        kernels.nearest_neighbors(a, None, 1, return_column_min=True)
    with pytest.raises(ValueError, match="fully observed"):
        kernels.nearest_neighbors(HaplotypeMatrix.from_numpy(np.array([[0, -1], [1, 1]])), None)
    empty = packed(np.zeros((0, 100), dtype=np.uint8))
    with pytest.raises(ValueError, match="only 0 reference"):
        kernels.nearest_neighbors(a, empty)
    d, i = kernels.nearest_neighbors(empty, a)
    assert d.shape == (0, 1) and i.shape == (0, 1)


@pytest.mark.cuda
@pytest.mark.parametrize("n_snps", [1, 63, 64, 65, 805, 10_000])
@pytest.mark.parametrize("k", [1, 4, 32])
def test_cuda_equals_cpu(rng, n_snps, k):
    a = packed(rng.integers(0, 2, (300, n_snps), dtype=np.uint8))
    b = packed(rng.integers(0, 2, (517, n_snps), dtype=np.uint8))
    ga, gb = a.to("cuda"), b.to("cuda")
    for args in ((a, b), (a, None)):
        gargs = (ga, gb if args[1] is not None else None)
        cm = args[1] is not None
        cpu = kernels.nearest_neighbors(*args, k, return_column_min=cm)
        gpu = kernels.nearest_neighbors(*gargs, k, return_column_min=cm)
        for c, g in zip(cpu, gpu):
            np.testing.assert_array_equal(g.cpu().numpy(), c)
        np.testing.assert_array_equal(kernels.hamming_histogram(*gargs).cpu().numpy(), kernels.hamming_histogram(*args))
    ties = packed(np.ones((40, n_snps), dtype=np.uint8))
    np.testing.assert_array_equal(kernels.nearest_neighbors(ties.to("cuda"), None, 3)[1].cpu().numpy(),
                                  kernels.nearest_neighbors(ties, None, 3)[1])


# --- tensor-core path: the CUDA kernel's blocks, emulated on the CPU ---------------------------------------------


def tied_pair(rng, m, n, n_snps):
    """Random A (m rows) and B (n rows) with exact ties: equal rows in A and a copy of one in B."""
    a = rng.integers(0, 2, (m, n_snps), dtype=np.uint8)
    b = rng.integers(0, 2, (n, n_snps), dtype=np.uint8)
    a[m // 3: m // 2] = a[0]
    b[n // 2] = a[m - 1]
    return packed(a), packed(b)


def emulated(a, b, k, n_sms, grid):
    """The tensor-core kernel run block by block on the CPU (same plan, tiles, epilogues and merges)."""
    from genofast import _core

    return _core.nearest_neighbors_mma_emulated(a.words, None if b is None else b.words, k, b is not None, n_sms,
                                                grid)


@pytest.mark.parametrize("n_snps,m,n", [(1, 150, 260), (63, 150, 260), (64, 150, 260), (65, 150, 260),
                                        (805, 150, 260), (10_000, 130, 140), (65_536, 20, 30), (805, 1, 260),
                                        (805, 150, 1)])
@pytest.mark.parametrize("k", [1, 4, 32])
def test_tensor_core_blocks_equal_cpu(rng, n_snps, m, n, k):
    ha, hb = tied_pair(rng, m, n, n_snps)
    # n_sms sets the top-k splits (132: one split per column tile); grid = persistent blocks
    for n_sms, grid in ((1, 1), (132, 7)):
        if k <= n:
            cd, ci, ccm = kernels.nearest_neighbors(ha, hb, k, return_column_min=True)
            d, i, cm = emulated(ha, hb, k, n_sms, grid)
            np.testing.assert_array_equal(d, cd)
            np.testing.assert_array_equal(i, ci)
            np.testing.assert_array_equal(cm, ccm)
        if k < m:
            cd, ci = kernels.nearest_neighbors(ha, None, k)
            d, i, _ = emulated(ha, None, k, n_sms, grid)
            np.testing.assert_array_equal(d, cd)
            np.testing.assert_array_equal(i, ci)
    from genofast import _core

    for other in (hb, None):
        h = _core.hamming_histogram_mma_emulated(ha.words, None if other is None else other.words, 3)
        np.testing.assert_array_equal(h[: n_snps + 1], kernels.hamming_histogram(ha, other))


def test_tensor_core_blocks_all_ties():
    ties = packed(np.ones((300, 805), dtype=np.uint8))
    for k in (1, 3, 32):
        d, i, _ = emulated(ties, None, k, 132, 5)
        assert (d == 0).all()
        np.testing.assert_array_equal(i, kernels.nearest_neighbors(ties, None, k)[1])


def test_method_argument(rng):
    a = packed(rng.integers(0, 2, (20, 100), dtype=np.uint8))
    with pytest.raises(ValueError, match="needs CUDA tensors"):
        kernels.nearest_neighbors(a, None, 1, method="mma")
    with pytest.raises(ValueError, match="needs CUDA tensors"):
        kernels.hamming_histogram(a, method="mma")
    with pytest.raises(ValueError, match="method must be one of"):
        kernels.nearest_neighbors(a, None, 1, method="tensor")
    np.testing.assert_array_equal(kernels.nearest_neighbors(a, None, 2, method="popcount")[1],
                                  kernels.nearest_neighbors(a, None, 2)[1])


@pytest.mark.cuda
@pytest.mark.parametrize("n_snps,m,n", [(1, 300, 517), (63, 300, 517), (64, 300, 517), (65, 300, 517),
                                        (805, 300, 517), (10_000, 300, 517), (65_536, 100, 150), (805, 1, 517),
                                        (805, 300, 1)])
@pytest.mark.parametrize("k", [1, 4, 32])
def test_cuda_tensor_cores_equal_cpu(rng, n_snps, m, n, k):
    from genofast import _core

    torch = pytest.importorskip("torch")
    if torch.cuda.get_device_capability() < (8, 0):
        pytest.skip("the tensor-core path needs sm_80 or newer")
    ha, hb = tied_pair(rng, m, n, n_snps)
    ga, gb = ha.to("cuda"), hb.to("cuda")
    if k <= n:
        cpu = kernels.nearest_neighbors(ha, hb, k, return_column_min=True)
        gpu = kernels.nearest_neighbors(ga, gb, k, return_column_min=True, method="mma")
        for c, g in zip(cpu, gpu):
            np.testing.assert_array_equal(g.cpu().numpy(), c)
    if k < m:
        cpu = kernels.nearest_neighbors(ha, None, k)
        gpu = kernels.nearest_neighbors(ga, None, k, method="mma")
        for c, g in zip(cpu, gpu):
            np.testing.assert_array_equal(g.cpu().numpy(), c)
    for other, gother in ((hb, gb), (None, None)):
        if 64 * ga.words.shape[1] + 1 <= _core.mma_histogram_max_bins():
            np.testing.assert_array_equal(kernels.hamming_histogram(ga, gother, method="mma").cpu().numpy(),
                                          kernels.hamming_histogram(ha, other))


@pytest.mark.cuda
def test_cuda_tensor_core_self_check_passes():
    torch = pytest.importorskip("torch")
    if torch.cuda.get_device_capability() < (8, 0):
        pytest.skip("the tensor-core path needs sm_80 or newer")
    assert kernels.hamming._mma_verified(torch.device("cuda"))


@pytest.mark.parametrize("outcome", [True, False, RuntimeError("launch refused")])
def test_tensor_core_self_check_falls_back_to_popcount(monkeypatch, outcome):
    torch = pytest.importorskip("torch")
    from types import SimpleNamespace

    def check(torch_, index):
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index: (9, 0))
    monkeypatch.setattr(kernels.hamming, "_mma_matches_popcount", check)
    monkeypatch.setattr(kernels.hamming, "_MMA_CHECKED", {})
    device = SimpleNamespace(index=3)
    if outcome is True:
        assert kernels.hamming._mma_verified(device)
    else:
        with pytest.warns(RuntimeWarning, match="using the popcount kernels"):
            assert not kernels.hamming._mma_verified(device)
    monkeypatch.setattr(kernels.hamming, "_mma_matches_popcount", None)  # cached: not checked again
    assert kernels.hamming._mma_verified(device) is (outcome is True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index: (7, 5))
    assert not kernels.hamming._mma_verified(SimpleNamespace(index=4))  # below sm_80: never, without a check
