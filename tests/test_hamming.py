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
