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


# --- statistics streamed from a store (ZarrCohort), chunk by chunk -----------------------------------------------


def test_statistics_stream_from_a_store(tmp_path, rng, monkeypatch):
    from genofast.metrics import _dense, quality

    monkeypatch.setattr(_dense, "_CHUNK_ROWS", 7)  # many row chunks, uneven last one
    h = haplotypes(rng, 20, 130, missing_rate=0.05)
    other = haplotypes(rng, 15, 130, missing_rate=0.02)
    io.write_zarr(tmp_path / "h.zarr", h, chunk_variants=64)
    cohort = io.ZarrCohort(tmp_path / "h.zarr", chunk_variants=64)
    assert len(cohort) == 40 and cohort.n_snps == 130
    np.testing.assert_array_equal(quality.allele_frequencies(cohort), quality.allele_frequencies(h))
    np.testing.assert_array_equal(quality.missing_fraction(cohort), quality.missing_fraction(h))
    pairs = np.array([[0, 1], [3, 70], [64, 129], [5, 5]])
    np.testing.assert_array_equal(quality.pair_r2(cohort, pairs), quality.pair_r2(h, pairs))
    np.testing.assert_array_equal(quality.ld_matrix(cohort, slice(60, 70)), quality.ld_matrix(h, slice(60, 70)))
    d_store, d_mem = quality.ld_decay(cohort, other), quality.ld_decay(h, other)
    np.testing.assert_array_equal(d_store.real, d_mem.real)
    np.testing.assert_array_equal(quality.kmer_frequencies(cohort, 4), quality.kmer_frequencies(h, 4))
    t = quality.sample_triplets(130, 50)
    np.testing.assert_array_equal(quality.three_point_correlations(cohort, t),
                                  quality.three_point_correlations(h, t))
    assert np.array_equal(cohort[[5, 1, 30]].to_numpy(), h[[5, 1, 30]].to_numpy())
    with pytest.raises(TypeError, match="contiguous row slices"):
        cohort[::2]


def test_streamed_pca_equals_sklearn(tmp_path, rng):
    from genofast.metrics import quality

    # three populations with different frequencies: two strong axes, then noise
    f = rng.uniform(0.05, 0.95, (3, 90))
    pop = np.repeat([0, 1, 2], [30, 30, 20])
    alleles = (rng.random((80, 90)) < f[pop]).astype(np.int8)
    alleles[rng.random(alleles.shape) < 0.03] = -1
    h = HaplotypeMatrix.from_numpy(alleles, variants=Variants.numbered(90))
    syn = HaplotypeMatrix.from_numpy((rng.random((30, 90)) < f[0]).astype(np.int8), variants=Variants.numbered(90))
    io.write_zarr(tmp_path / "h.zarr", h)
    got = quality.pca(io.ZarrCohort(tmp_path / "h.zarr"), syn, n_components=3)
    want = quality.pca(h, syn, n_components=3)
    np.testing.assert_allclose(got.explained_variance_ratio[:2], want.explained_variance_ratio[:2], rtol=1e-3)
    for c in range(2):  # the same axes up to sign
        for a, b in ((got.real, want.real), (got.synthetic, want.synthetic)):
            assert abs(np.corrcoef(a[:, c], b[:, c])[0, 1]) > 0.999


def test_evaluate_a_store_as_in_memory(tmp_path, rng):
    distributed = pytest.importorskip("distributed")
    from genofast import distributed as gd
    from genofast.report import evaluate

    types = rng.integers(0, 2, (4, 120))
    real = types[rng.integers(0, 4, 60)] ^ (rng.random((60, 120)) < 0.05)
    real = real.astype(np.int8)
    real[rng.random(real.shape) < 0.02] = -1
    h = HaplotypeMatrix.from_numpy(real, variants=Variants.numbered(120))
    syn = HaplotypeMatrix.from_numpy((types[rng.integers(0, 4, 40)] ^ (rng.random((40, 120)) < 0.08)).astype(np.uint8),
                                     variants=h.variants)
    holdout = HaplotypeMatrix.from_numpy((types[rng.integers(0, 4, 30)] ^ (rng.random((30, 120)) < 0.05))
                                         .astype(np.uint8), variants=h.variants)
    io.write_zarr(tmp_path / "real.zarr", h)
    options = dict(holdout=holdout, n_splits=2, n_triplets=200)
    want = evaluate(h, {"syn": syn}, **options)
    with gd.local_cluster(2, processes=False) as c, distributed.Client(c) as client:
        got = evaluate(io.ZarrCohort(tmp_path / "real.zarr"), {"syn": syn}, out=tmp_path / "r.html", client=client,
                       **options)
    assert (tmp_path / "r.html").exists()
    w, g = want.table["syn"], got.table["syn"]
    assert set(w) == set(g)
    for key, value in w.items():  # (the PCA is a randomized SVD from a store, but the table holds no PCA number)
        if isinstance(value, float) and not np.isnan(value):
            assert g[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key
        else:
            assert g[key] == value or (np.isnan(g[key]) and np.isnan(value)), key
    with pytest.raises(ValueError, match="variants"):
        evaluate(io.ZarrCohort(tmp_path / "real.zarr"), {"syn": syn[:, :100]})


def test_evaluate_a_store_refuses_what_needs_memory(tmp_path, rng):
    from genofast.report import evaluate

    h = haplotypes(rng, 5, 20)
    io.write_zarr(tmp_path / "h.zarr", h)
    with pytest.raises(ValueError, match="need the real set in memory"):
        evaluate(io.ZarrCohort(tmp_path / "h.zarr"), {"syn": h}, populations=np.array(["A"] * 10))
