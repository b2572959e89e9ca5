"""Pack / unpack throughput on 5008 haplotypes x 65,536 SNPs vs numpy.packbits / unpackbits."""

import numpy as np
import pytest

from genofast import kernels

SHAPE = (5008, 65_536)


@pytest.fixture(scope="module")
def alleles():
    return np.random.default_rng(0).integers(0, 2, SHAPE, dtype=np.uint8)


def test_pack_genofast(benchmark, alleles):
    benchmark.group = "pack 5008 x 65536"
    benchmark.name = "genofast pack_haplotypes"
    benchmark(kernels.pack_haplotypes, alleles)


def test_pack_numpy(benchmark, alleles):
    benchmark.group = "pack 5008 x 65536"
    benchmark.name = "numpy packbits(bitorder=little)"
    benchmark(np.packbits, alleles, axis=1, bitorder="little")


def test_unpack_genofast(benchmark, alleles):
    benchmark.group = "unpack 5008 x 65536"
    benchmark.name = "genofast unpack_haplotypes"
    words = kernels.pack_haplotypes(alleles)
    out = benchmark(kernels.unpack_haplotypes, words, SHAPE[1])
    assert (out[:5] == alleles[:5]).all()


def test_unpack_numpy(benchmark, alleles):
    benchmark.group = "unpack 5008 x 65536"
    benchmark.name = "numpy unpackbits(bitorder=little)"
    packed = np.packbits(alleles, axis=1, bitorder="little")
    benchmark(np.unpackbits, packed, axis=1, count=SHAPE[1], bitorder="little")
