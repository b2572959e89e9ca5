import numpy as np
import pytest

from genofast import GenotypeMatrix, HaplotypeMatrix, Variants


def test_haplotype_matrix_basics(rng):
    a = rng.integers(0, 2, (10, 200), dtype=np.uint8)
    h = HaplotypeMatrix.from_numpy(a)
    assert h.n_haplotypes == 10 and h.n_snps == 200 and h.shape == (10, 200)
    assert h.words.dtype == np.uint64 and h.words.shape == (10, 4)
    assert not h.has_missing
    np.testing.assert_array_equal(h.to_numpy(), a)


@pytest.mark.parametrize("start, stop", [(0, 200), (0, 64), (3, 70), (64, 128), (63, 65), (130, 200), (199, 200), (5, 5)])
def test_snp_range_slicing_without_unpacking(rng, start, stop):
    a = rng.integers(0, 2, (6, 200), dtype=np.uint8)
    h = HaplotypeMatrix.from_numpy(a)
    s = h[:, start:stop]
    assert s.n_snps == stop - start
    np.testing.assert_array_equal(s.to_numpy(), a[:, start:stop])
    if s.n_snps % 64:
        assert (s.words[:, -1] >> np.uint64(s.n_snps % 64) == 0).all()
    assert list(s.variants.position) == list(h.variants.position[start:stop])


def test_row_and_fancy_slicing(rng):
    a = rng.integers(0, 2, (6, 100), dtype=np.uint8)
    h = HaplotypeMatrix.from_numpy(a, ids=[f"h{i}" for i in range(6)])
    np.testing.assert_array_equal(h[[4, 1]].to_numpy(), a[[4, 1]])
    assert list(h[1:3].ids) == ["h1", "h2"]
    np.testing.assert_array_equal(h[2].to_numpy(), a[[2]])
    np.testing.assert_array_equal(h[:, ::3].to_numpy(), a[:, ::3])
    np.testing.assert_array_equal(h[1:4, [5, 0, 99]].to_numpy(), a[1:4][:, [5, 0, 99]])


def test_missing_alleles_round_trip(rng):
    a = rng.integers(-1, 2, (5, 90)).astype(np.int8)
    h = HaplotypeMatrix.from_numpy(a)
    assert h.has_missing
    np.testing.assert_array_equal(h.to_numpy(), a)
    np.testing.assert_array_equal(h[:, 10:80].to_numpy(), a[:, 10:80])


def test_genotype_matrix_slicing(rng):
    d = rng.integers(-1, 3, (7, 150)).astype(np.int8)
    g = GenotypeMatrix.from_numpy(d)
    assert g.n_samples == 7 and g.has_missing
    np.testing.assert_array_equal(g.to_numpy(), d)
    np.testing.assert_array_equal(g[2:5, 17:133].to_numpy(), d[2:5, 17:133])
    np.testing.assert_array_equal(g[:, [0, 149]].to_numpy(), d[:, [0, 149]])


def test_shape_errors():
    with pytest.raises(ValueError, match="cannot hold"):
        HaplotypeMatrix(np.zeros((2, 3), dtype=np.uint64), 300)
    with pytest.raises(ValueError, match="3 ids for 2 rows"):
        HaplotypeMatrix(np.zeros((2, 1), dtype=np.uint64), 10, ids=["a", "b", "c"])
    with pytest.raises(ValueError, match="variant metadata for 5 SNPs"):
        HaplotypeMatrix(np.zeros((2, 1), dtype=np.uint64), 10, variants=Variants.numbered(5))
    with pytest.raises(ValueError, match="odd|even"):
        HaplotypeMatrix.from_numpy(np.zeros((3, 4), dtype=np.uint8)).to_genotypes()


def test_packed_input_is_validated():
    # a set bit past the last SNP would put identical rows at Hamming distance 1
    with pytest.raises(ValueError, match="row 1 has bits set beyond SNP 3"):
        HaplotypeMatrix(np.array([[0b101], [0b1101]], dtype=np.uint64), 3)
    with pytest.raises(ValueError, match="beyond SNP 33"):
        GenotypeMatrix(np.array([[0], [1 << 2 * 33 - 64]], dtype=np.uint64).reshape(1, 2), 33)
    # a float mask would be reinterpreted bit by bit into phantom missing alleles
    with pytest.raises(ValueError, match="missing mask must be a 2-D uint64 array.*float64"):
        HaplotypeMatrix(np.zeros((1, 1), dtype=np.uint64), 3, missing=np.ones((1, 1)))
    with pytest.raises(ValueError, match="missing mask has shape"):
        HaplotypeMatrix(np.zeros((2, 1), dtype=np.uint64), 3, missing=np.zeros((1, 1), dtype=np.uint64))
    with pytest.raises(ValueError, match="missing mask: row 0 has bits set beyond"):
        HaplotypeMatrix(np.zeros((1, 1), dtype=np.uint64), 3, missing=np.full((1, 1), 8, dtype=np.uint64))
    with pytest.raises(ValueError, match="n_snps must be a non-negative integer"):
        HaplotypeMatrix(np.zeros((1, 1), dtype=np.uint64), 2.5)
    # alleles under the mask read as 0, so packed comparisons never see an uncalled value
    h = HaplotypeMatrix(np.array([[0b111]], dtype=np.uint64), 3, missing=np.array([[0b010]], dtype=np.uint64))
    assert int(h.words[0, 0]) == 0b101
    np.testing.assert_array_equal(h.to_numpy(), [[1, -1, 1]])


@pytest.mark.parametrize("values", [[[0.5, 1, 0.9]], [[0, 1, 1.0000001]], [[0, np.nan, 1]], [[0, 2, 1]]])
def test_non_integral_alleles_are_rejected(values):
    with pytest.raises(ValueError, match="not in|NaN"):
        HaplotypeMatrix.from_numpy(values)


def test_non_integral_dosages_are_rejected():
    with pytest.raises(ValueError, match="dosage not in"):
        GenotypeMatrix.from_numpy([[0, 1.5, 2]])
    np.testing.assert_array_equal(GenotypeMatrix.from_numpy([[0.0, 2.0, -1.0]]).to_numpy(), [[0, 2, -1]])


def test_missing_counts_from_packed_words(rng):
    a = rng.integers(-1, 2, (50, 130)).astype(np.int8)
    assert HaplotypeMatrix.from_numpy(a).n_missing == int((a < 0).sum())
    d = rng.integers(-1, 3, (9, 77)).astype(np.int8)
    g = GenotypeMatrix.from_numpy(d)
    assert g.n_missing == int((d < 0).sum()) and g.has_missing
    assert not GenotypeMatrix.from_numpy(np.abs(d)).has_missing


def test_store_rejects_tail_bits_and_float_masks(tmp_path):
    from genofast import io

    h = HaplotypeMatrix.from_numpy(np.array([[0, 1, -1], [1, 1, 0]]))
    io.save(tmp_path / "ok.npz", h)
    z = dict(np.load(tmp_path / "ok.npz"))
    z["words"] = z["words"] | np.uint64(1 << 10)
    np.savez(tmp_path / "tail.npz", **z)
    with pytest.raises(ValueError, match=r"tail.npz.*bits set beyond SNP 3"):
        io.load(tmp_path / "tail.npz")
    z = dict(np.load(tmp_path / "ok.npz"))
    z["missing"] = z["missing"].astype(np.float64)
    np.savez(tmp_path / "mask.npz", **z)
    with pytest.raises(ValueError, match=r"mask.npz.*missing mask must be a 2-D uint64"):
        io.load(tmp_path / "mask.npz")
