"""read_vcf on the 1000 Genomes chr20 reference panel (300 samples x 24,990 SNPs) vs a bare cyvcf2 loop.

The peer is the least a cyvcf2-based reader must do: iterate the records and
take each one's GT array; it checks nothing and packs nothing. read_vcf does
all of its checks (column counts, ploidy, allele range, phase) and returns
packed haplotypes.
"""

import pytest

from conftest import SHARED

PATH = SHARED / "chr20_1kg" / "reference.vcf.gz"
GROUP = "read VCF 300 x 24990 (chr20 panel)"


@pytest.fixture(scope="module")
def path():
    if not PATH.exists():
        pytest.skip("shared data not present")
    return PATH


def test_read_vcf_genofast(benchmark, path):
    from genofast import io

    benchmark.group, benchmark.name = GROUP, "genofast read_vcf"
    h = benchmark.pedantic(io.read_vcf, args=(path,), rounds=5, iterations=1, warmup_rounds=1)
    assert h.shape == (600, 24990)


def test_read_vcf_cyvcf2_loop(benchmark, path):
    import cyvcf2

    def loop():
        return [v.genotype.array() for v in cyvcf2.VCF(str(path))]

    benchmark.group, benchmark.name = GROUP, "bare cyvcf2 loop (genotype.array())"
    assert len(benchmark.pedantic(loop, rounds=5, iterations=1, warmup_rounds=1)) == 24990
