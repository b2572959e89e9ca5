import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import genofast
from genofast import HaplotypeMatrix, kernels

import reference

shapes = st.tuples(st.integers(0, 9), st.integers(1, 300))


@settings(max_examples=60, deadline=None)
@given(shapes.flatmap(lambda s: arrays(np.uint8, s, elements=st.integers(0, 1))))
def test_haplotype_round_trip_matches_packbits(alleles):
    words = kernels.pack_haplotypes(alleles)
    np.testing.assert_array_equal(words, reference.pack_haplotypes(alleles))
    np.testing.assert_array_equal(kernels.unpack_haplotypes(words, alleles.shape[1]), alleles)


@settings(max_examples=60, deadline=None)
@given(shapes.flatmap(lambda s: arrays(np.int8, s, elements=st.integers(-1, 2))))
def test_genotype_round_trip_matches_reference(dosages):
    words = kernels.pack_genotypes(dosages)
    np.testing.assert_array_equal(words, reference.pack_genotypes(dosages))
    np.testing.assert_array_equal(kernels.unpack_genotypes(words, dosages.shape[1]), dosages)


@pytest.mark.parametrize("n_snps", [1, 31, 32, 33, 63, 64, 65, 128, 1000])
def test_edge_shapes_and_zero_tail(n_snps, rng):
    a = rng.integers(0, 2, (3, n_snps), dtype=np.uint8)
    a[:] = 1  # every valid bit set: the tail must still be zero
    w = kernels.pack_haplotypes(a)
    assert w.shape == (3, -(-n_snps // 64))
    tail = n_snps % 64
    if tail:
        assert (w[:, -1] >> np.uint64(tail) == 0).all()
    d = np.full((2, n_snps), 2, dtype=np.int8)
    g = kernels.pack_genotypes(d)
    np.testing.assert_array_equal(kernels.unpack_genotypes(g, n_snps), d)


def test_zero_rows():
    w = kernels.pack_haplotypes(np.zeros((0, 70), dtype=np.uint8))
    assert w.shape == (0, 2)
    assert kernels.unpack_haplotypes(w, 70).shape == (0, 70)


def test_code_order_documented():
    # dosage 0, 1, 2, missing -> codes 0, 1, 2, 3 at bits 2j, 2j+1
    w = kernels.pack_genotypes(np.array([[0, 1, 2, -1]], dtype=np.int8))
    assert int(w[0, 0]) == 0b11_10_01_00


def test_haplotypes_to_genotypes_against_numpy(rng):
    a = rng.integers(0, 2, (8, 150), dtype=np.uint8)
    missing = rng.random((8, 150)) < 0.1
    h = HaplotypeMatrix.from_numpy(np.where(missing, np.int8(-1), a.astype(np.int8)))
    g = h.to_genotypes().to_numpy()
    expect = a[0::2].astype(np.int8) + a[1::2]
    expect[missing[0::2] | missing[1::2]] = -1
    np.testing.assert_array_equal(g, expect)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([[0, 1, 2]]), r"row 0, SNP 2: got 2"),
        (np.array([[0, 1], [1, -3]]), r"row 1, SNP 1"),
        (np.array([[0.0, np.nan]]), r"NaN at row 0, SNP 1"),
        (np.zeros(5), r"2-D"),
    ],
)
def test_bad_haplotype_values(bad, message):
    with pytest.raises(ValueError, match=message):
        kernels.pack_haplotypes(bad)


def test_bad_uint8_value_found_by_the_kernel():
    a = np.zeros((4, 200), dtype=np.uint8)
    a[3, 130] = 7
    with pytest.raises(ValueError, match=r"row 3, SNP 130: got 7"):
        kernels.pack_haplotypes(a)


def test_bad_dosages():
    d = np.zeros((2, 40), dtype=np.int8)
    d[1, 33] = 3
    with pytest.raises(ValueError, match=r"row 1, SNP 33: got 3"):
        kernels.pack_genotypes(d)
    with pytest.raises(ValueError, match=r"row 0, SNP 0"):
        kernels.pack_genotypes(np.array([[-2, 0]]))


def test_words_validation():
    with pytest.raises(ValueError, match="uint64"):
        kernels.unpack_haplotypes(np.zeros((2, 2), dtype=np.float32), 100)
    with pytest.raises(ValueError, match="do not hold 200 SNPs"):
        kernels.unpack_haplotypes(np.zeros((2, 2), dtype=np.uint64), 200)


def test_has_cuda_reports_both_parts():
    info = genofast.has_cuda()
    assert isinstance(info.compiled, bool) and isinstance(info.device_count, int)
    assert info.available == (info.compiled and info.device_count > 0)


def test_philox_known_answers():
    # Random123 kat_vectors, philox4x32 10: counter (4 words), key (2 words) -> 4 words.
    core = kernels._core
    assert core.philox4x32_10([0, 0, 0, 0], [0, 0]) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)
    ones = 0xFFFFFFFF
    assert core.philox4x32_10([ones] * 4, [ones] * 2) == (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)
    assert core.philox4x32_10([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0]) == (
        0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)


@pytest.mark.cuda
@pytest.mark.parametrize("n_snps", [1, 31, 32, 33, 63, 64, 65, 1000])  # a warp builds one word: every edge
def test_cuda_pack_matches_cpu(rng, n_snps):
    import torch

    a = rng.integers(0, 2, (37, n_snps), dtype=np.uint8)
    d = rng.integers(-1, 3, (21, n_snps)).astype(np.int8)
    wa = kernels.pack_haplotypes(torch.from_numpy(a).cuda())
    np.testing.assert_array_equal(wa.cpu().numpy().view(np.uint64), kernels.pack_haplotypes(a))
    np.testing.assert_array_equal(kernels.unpack_haplotypes(wa, n_snps).cpu().numpy(), a)
    wd = kernels.pack_genotypes(torch.from_numpy(d).cuda())
    np.testing.assert_array_equal(wd.cpu().numpy().view(np.uint64), kernels.pack_genotypes(d))
    np.testing.assert_array_equal(kernels.unpack_genotypes(wd, n_snps).cpu().numpy(), d)
    g = kernels.haplotypes_to_genotypes(wa[:36], n_snps)
    np.testing.assert_array_equal(g.cpu().numpy().view(np.uint64),
                                  kernels.haplotypes_to_genotypes(kernels.pack_haplotypes(a[:36]), n_snps))
