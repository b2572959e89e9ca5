"""The linkage kernel (pair counts of SNP-major bit planes) and the r² built on it, against numpy."""

import numpy as np
import pytest

from genofast import GenotypeMatrix, HaplotypeMatrix, kernels
from genofast.metrics import quality


def numpy_counts(planes, pairs):
    """counts[k, a, b] by numpy's popcount of every word."""
    p = len(planes)
    return np.array([[[int(np.bitwise_count(planes[a, i] & planes[b, j]).sum()) for b in range(p)] for a in range(p)]
                     for i, j in pairs], dtype=np.int64).reshape(len(pairs), p, p)


def numpy_r2(x, pairs):
    """Squared Pearson r over the rows called (>= 0) at both SNPs; 0 where either does not vary there."""
    out = []
    for i, j in pairs:
        ok = (x[:, i] >= 0) & (x[:, j] >= 0)
        a, b = x[ok, i].astype(float), x[ok, j].astype(float)
        out.append(0.0 if len(a) == 0 or a.std() == 0 or b.std() == 0 else np.corrcoef(a, b)[0, 1] ** 2)
    return np.array(out)


@pytest.mark.parametrize("level", kernels.SIMD_LEVELS)
@pytest.mark.parametrize("n_planes, n_words", [(1, 1), (2, 7), (3, 8), (4, 9), (3, 33)])
def test_pair_counts_equal_numpy_at_every_simd_level(level, n_planes, n_words, rng):
    if kernels.SIMD_LEVELS.index(level) > kernels.SIMD_LEVELS.index(kernels.simd_supported()):
        pytest.skip(f"this CPU lacks {level}")
    planes = rng.integers(0, 2**64, (n_planes, 30, n_words), dtype=np.uint64)
    pairs = rng.integers(0, 30, (200, 2))
    pairs[0] = (3, 3)
    previous = kernels.simd_level()
    try:
        kernels.set_simd(level)
        got = kernels.pair_counts(planes, pairs)
    finally:
        kernels.set_simd(previous)
    np.testing.assert_array_equal(got, numpy_counts(planes, pairs))
    np.testing.assert_array_equal(kernels.pair_counts(planes.view(np.int64), pairs), got)  # int64 words alike


def test_pair_counts_hand_case():
    # SNP 0: rows 0, 1, 2 set; SNP 1: rows 1, 2, 5 set; called plane: every row but row 2 at SNP 1
    planes = np.array([[[0b111], [0b100110]], [[0b111111], [0b111011]]], dtype=np.uint64)
    c = kernels.pair_counts(planes, [[0, 1]])
    np.testing.assert_array_equal(c[0], [[2, 2], [3, 5]])  # {1,2}, {0,1}, {1,2,5}, {0,1,3,4,5}
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(kernels.pair_counts(torch.from_numpy(planes.view(np.int64)), [[0, 1]]), c)


def test_pair_counts_refuses_bad_input(rng):
    planes = rng.integers(0, 2**64, (2, 5, 3), dtype=np.uint64)
    with pytest.raises(ValueError, match="SNP indices from 0 to 4"):
        kernels.pair_counts(planes, [[0, 5]])
    with pytest.raises(ValueError, match="SNP indices"):
        kernels.pair_counts(planes, [[-1, 2]])
    with pytest.raises(ValueError, match="1 to 4 bit planes"):
        kernels.pair_counts(np.zeros((5, 5, 3), np.uint64), [[0, 1]])
    with pytest.raises(ValueError, match=r"3-D \(planes x SNPs x words\)"):
        kernels.pair_counts(planes[0], [[0, 1]])
    with pytest.raises(ValueError, match="uint64"):
        kernels.pair_counts(planes.astype(np.float64), [[0, 1]])
    assert kernels.pair_counts(planes, np.zeros((0, 2), np.int64)).shape == (0, 2, 2)


def packed_columns(bits):
    """rows x SNPs booleans -> SNPs x ceil(rows / 64) words, row r at bit r % 64 of word r // 64 (numpy)."""
    b = np.packbits(bits.T, axis=1, bitorder="little")
    return np.ascontiguousarray(np.pad(b, ((0, 0), (0, -b.shape[1] % 8)))).view("<u8").astype(np.uint64)


@pytest.mark.parametrize("rows", [1, 63, 64, 65, 300])
@pytest.mark.parametrize("snps", [1, 31, 32, 33, 63, 64, 65, 200])
def test_snp_planes_equal_numpy_packbits(rows, snps, rng):
    x = rng.integers(0, 2, (rows, snps)).astype(np.int8)
    x[rng.random(x.shape) < 0.1] = -1
    h = HaplotypeMatrix.from_numpy(x)
    planes = kernels.snp_planes(h.words, snps, missing=h.missing)
    np.testing.assert_array_equal(planes, [packed_columns(x == 1), packed_columns(x >= 0)])
    np.testing.assert_array_equal(kernels.snp_planes(h.words, snps)[1], packed_columns(x > -2))  # no mask: all called
    d = rng.integers(0, 3, (rows, snps)).astype(np.int8)
    d[rng.random(d.shape) < 0.1] = -1
    g = GenotypeMatrix.from_numpy(d)
    np.testing.assert_array_equal(kernels.snp_planes(g.words, snps, genotypes=True),
                                  [packed_columns(d >= 1), packed_columns(d == 2), packed_columns(d >= 0)])


def test_snp_planes_refuse_bad_input(rng):
    g = GenotypeMatrix.from_numpy(rng.integers(0, 3, (5, 40)).astype(np.int8))
    with pytest.raises(ValueError, match="no missing mask"):
        kernels.snp_planes(g.words, 40, genotypes=True, missing=g.words)
    with pytest.raises(ValueError, match="do not hold 70 SNPs"):
        kernels.snp_planes(g.words, 70, genotypes=True)
    h = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (5, 40)).astype(np.int8))
    with pytest.raises(ValueError, match="missing mask has shape"):
        kernels.snp_planes(h.words, 40, missing=h.words[:3])


@pytest.mark.parametrize("rows", [1, 63, 64, 65, 2048, 2049, 4200])  # chunks of 2,048 rows, words of 64
@pytest.mark.parametrize("genotypes", [False, True])
@pytest.mark.parametrize("missing", [0.0, 0.05])
def test_pair_r2_equals_numpy(rows, genotypes, missing, rng):
    x = rng.integers(0, 3 if genotypes else 2, (rows, 40)).astype(np.int8)
    x[:, 5] = x[:, 4]  # r² 1
    x[:, 7] = (3 if genotypes else 1) - x[:, 6] - (1 if genotypes else 0)  # r² 1, negative r
    x[rng.random(x.shape) < missing] = -1
    m = GenotypeMatrix.from_numpy(x) if genotypes else HaplotypeMatrix.from_numpy(x)
    pairs = np.concatenate([[[4, 5], [6, 7], [9, 9]], rng.integers(0, 40, (300, 2))])
    got = quality.pair_r2(m, pairs)
    np.testing.assert_allclose(got, numpy_r2(x, pairs), atol=1e-12)
    if rows > 2 and not missing:
        np.testing.assert_allclose(got[:2], 1.0)


def test_pair_r2_reads_a_zarr_cohort_in_row_blocks(rng, tmp_path, monkeypatch):
    from genofast import io
    from genofast.io.zarr import ZarrCohort
    from genofast.metrics import ld

    monkeypatch.setattr(ld, "_PLANE_ROWS", 64)
    x = rng.integers(0, 2, (300, 50)).astype(np.int8)
    io.write_zarr(tmp_path / "c.vcz", HaplotypeMatrix.from_numpy(x))
    pairs = rng.integers(3, 40, (200, 2))  # a SNP range inside the set: sliced before the transpose
    np.testing.assert_allclose(quality.pair_r2(ZarrCohort(tmp_path / "c.vcz"), pairs), numpy_r2(x, pairs), atol=1e-12)


def test_pair_r2_refuses_pairs_outside_the_snps(rng):
    h = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (10, 8)).astype(np.int8))
    with pytest.raises(ValueError, match="from 0 to 7"):
        quality.pair_r2(h, [[0, 8]])
    assert quality.pair_r2(h, np.zeros((0, 2), np.int64)).shape == (0,)


def test_pair_r2_refuses_planes_larger_than_memory(rng, monkeypatch):
    from genofast.models import _base

    monkeypatch.setattr(_base, "available_memory", lambda: 1000)  # 10 x 8 SNPs need 2 planes x 8 x 1 word = 128 B
    h = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (10, 8)).astype(np.int8))
    assert quality.pair_r2(h, [[0, 7]]).shape == (1,)
    monkeypatch.setattr(_base, "available_memory", lambda: 100)
    with pytest.raises(MemoryError, match="r² over 8 SNPs of 10 rows"):
        quality.pair_r2(h, [[0, 7]])


@pytest.mark.cuda
def test_cuda_snp_planes_equal_cpu(rng):
    import torch

    for rows, snps in [(1, 1), (63, 64), (65, 65), (130, 805), (2049, 1000)]:
        x = rng.integers(0, 2, (rows, snps)).astype(np.int8)
        x[rng.random(x.shape) < 0.05] = -1
        h = HaplotypeMatrix.from_numpy(x)
        cpu = kernels.snp_planes(h.words, snps, missing=h.missing)
        mask = None if h.missing is None else torch.from_numpy(h.missing.view(np.int64)).cuda()
        gpu = kernels.snp_planes(torch.from_numpy(h.words.view(np.int64)).cuda(), snps, missing=mask)
        np.testing.assert_array_equal(gpu.cpu().numpy().view(np.uint64), cpu)
        g = h.to_genotypes() if rows % 2 == 0 else GenotypeMatrix.from_numpy(np.clip(x, -1, 2))
        cpu = kernels.snp_planes(g.words, snps, genotypes=True)
        gpu = kernels.snp_planes(torch.from_numpy(g.words.view(np.int64)).cuda(), snps, genotypes=True)
        np.testing.assert_array_equal(gpu.cpu().numpy().view(np.uint64), cpu)


@pytest.mark.cuda
@pytest.mark.parametrize("n_planes", [1, 2, 3, 4])
def test_cuda_pair_counts_equal_cpu(n_planes, rng):
    import torch

    for n_words in (1, 31, 32, 33, 313):
        planes = rng.integers(0, 2**64, (n_planes, 50, n_words), dtype=np.uint64)
        pairs = rng.integers(0, 50, (1000, 2))
        got = kernels.pair_counts(torch.from_numpy(planes.view(np.int64)).cuda(), torch.from_numpy(pairs).cuda())
        assert got.is_cuda
        np.testing.assert_array_equal(got.cpu().numpy(), kernels.pair_counts(planes, pairs))
