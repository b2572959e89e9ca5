"""VCF Zarr stores: round trips, phasing rules, bio2zarr interop, errors that name the store."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from genofast import GenotypeMatrix, HaplotypeMatrix, Variants, io
from genofast.io._files import FormatError

zarr = pytest.importorskip("zarr")


def haplotypes(rng, n_samples, n_snps, missing_rate=0.0):
    alleles = rng.integers(0, 2, (2 * n_samples, n_snps)).astype(np.int8)
    alleles[rng.random(alleles.shape) < missing_rate] = -1
    variants = Variants(np.array(["1"] * (n_snps // 2) + ["2"] * (n_snps - n_snps // 2)),
                        np.arange(1, n_snps + 1) * 10, np.array([f"rs{i}" for i in range(n_snps)]),
                        np.array(["A"] * n_snps), np.array(["G"] * n_snps))
    ids = np.array([f"s{i}_{h}" for i in range(n_samples) for h in "AB"])
    return HaplotypeMatrix.from_numpy(alleles, ids=ids, variants=variants)


def same(a, b):
    assert type(a) is type(b)
    assert np.array_equal(a.to_numpy(), b.to_numpy())
    assert list(map(str, a.ids)) == list(map(str, b.ids))
    for field in ("chrom", "position", "id", "ref", "alt"):
        assert list(map(str, getattr(a.variants, field))) == list(map(str, getattr(b.variants, field))), field


# 63/64/65 SNPs straddle a packed word; 130 with 64-variant blocks leaves an uneven last block.
@pytest.mark.parametrize("n_snps", [1, 63, 64, 65, 130])
@pytest.mark.parametrize("chunk_variants", [7, 64, 100])
def test_phased_round_trip(tmp_path, rng, n_snps, chunk_variants):
    h = haplotypes(rng, 5, n_snps, missing_rate=0.1)
    path = tmp_path / "h.zarr"
    io.write_zarr(path, h, chunk_variants=chunk_variants, chunk_samples=2)
    back = io.read_zarr(path, chunk_variants=chunk_variants)
    same(h, back)
    assert back.has_missing == h.has_missing
    assert io.read(path).n_snps == n_snps  # registered by suffix


def test_unphased_round_trip_and_phase_rules(tmp_path, rng):
    h = haplotypes(rng, 6, 70, missing_rate=0.05)
    g = h.to_genotypes()
    path = tmp_path / "g.zarr"
    io.write(path, g)
    same(GenotypeMatrix(g.words, g.n_snps, g.ids, g.variants), io.read_zarr(path))
    with pytest.raises(FormatError, match=r"g\.zarr.*sample s\d+: unphased heterozygous"):
        io.read_zarr(path, phased=True)
    # phased=False turns a phased store into genotypes, as read_vcf does.
    io.write_zarr(tmp_path / "h.zarr", h)
    assert np.array_equal(io.read_zarr(tmp_path / "h.zarr", phased=False).to_numpy(), g.to_numpy())


def test_reading_streams_blocks_of_variants(tmp_path, rng, monkeypatch):
    """No more than one block (chunk_variants rounded up to 64) of calls is unpacked at a time."""
    from genofast import kernels

    h = haplotypes(rng, 4, 300)
    io.write_zarr(tmp_path / "h.zarr", h, chunk_variants=50)
    widths = []
    pack = kernels.pack_haplotypes

    def recording(alleles):
        widths.append(alleles.shape[1])
        return pack(alleles)

    monkeypatch.setattr(kernels, "pack_haplotypes", recording)
    same(h, io.read_zarr(tmp_path / "h.zarr", chunk_variants=100))
    assert max(widths) == 128 and sum(widths) == 2 * 300  # alleles and missing mask, block by block


def test_store_layout_is_vcf_zarr(tmp_path, rng):
    h = haplotypes(rng, 3, 10, missing_rate=0.2)
    io.write_zarr(tmp_path / "h.zarr", h)
    group = zarr.open_group(str(tmp_path / "h.zarr"), mode="r")
    gt = group["call_genotype"][...]
    assert gt.shape == (10, 3, 2) and gt.dtype == np.int8
    assert np.array_equal(gt.transpose(1, 2, 0).reshape(6, 10), h.to_numpy().astype(np.int8))
    assert np.array_equal(group["call_genotype_mask"][...], gt < 0)
    assert group["call_genotype_phased"][...].all()
    assert group["call_genotype"].attrs["_ARRAY_DIMENSIONS"] == ["variants", "samples", "ploidy"]
    contigs = np.asarray(group["contig_id"][...]).astype(object).astype(str)
    assert list(contigs[group["variant_contig"][...]]) == list(h.variants.chrom)


def test_failed_write_keeps_previous_store(tmp_path, rng, monkeypatch):
    path = tmp_path / "h.zarr"
    old = haplotypes(rng, 2, 8)
    io.write_zarr(path, old)
    from genofast.io import zarr as gz

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(gz, "_calls", broken)
    with pytest.raises(OSError, match="disk full"):
        io.write_zarr(path, haplotypes(rng, 2, 8))
    same(old, io.read_zarr(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.zarr"]  # no temporary left behind


def test_bad_input_names_the_store(tmp_path, rng):
    with pytest.raises(FileNotFoundError, match="nope.zarr"):
        io.read_zarr(tmp_path / "nope.zarr")
    empty = tmp_path / "empty.zarr"
    zarr.open_group(str(empty), mode="w", zarr_format=2)
    with pytest.raises(FormatError, match=r"empty\.zarr.*missing array\(s\) call_genotype"):
        io.read_zarr(empty)
    path = tmp_path / "multi.zarr"
    io.write_zarr(path, haplotypes(rng, 2, 5))
    group = zarr.open_group(str(path), mode="r+")
    group["call_genotype"][3, 1, 0] = 2
    with pytest.raises(FormatError, match=r"multi\.zarr: variant 3 \(position 40\), sample s1: allele 2"):
        io.read_zarr(path)
    group["call_genotype"][3, 1, 0] = -2  # bio2zarr's padding for a haploid call
    with pytest.raises(FormatError, match="haploid or mixed-ploidy"):
        io.read_zarr(path)
    with pytest.raises(ValueError, match="even number of haplotypes"):
        io.write_zarr(tmp_path / "odd.zarr", haplotypes(rng, 2, 5)[:3])


@pytest.mark.parametrize("phased", [True, False])
def test_bio2zarr_store_reads_like_the_vcf(tmp_path, rng, phased):
    pytest.importorskip("bio2zarr")
    h = haplotypes(rng, 4, 90, missing_rate=0.05)
    vcf = tmp_path / "x.vcf.gz"
    io.write_vcf(vcf, h if phased else h.to_genotypes())
    if shutil.which("tabix") is None:
        pytest.skip("tabix not installed (bio2zarr needs an indexed VCF)")
    subprocess.run(["tabix", "-p", "vcf", str(vcf)], check=True)
    store = tmp_path / "x.vcz"
    subprocess.run([sys.executable, "-m", "bio2zarr", "vcf2zarr", "convert", str(vcf), str(store)], check=True,
                   capture_output=True)
    same(io.read_vcf(vcf), io.read_zarr(store, chunk_variants=64))
