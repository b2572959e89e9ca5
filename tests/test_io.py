import gzip
import os

import numpy as np
import pytest

from genofast import GenotypeMatrix, HaplotypeMatrix, io
from genofast.io._files import FormatError

HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=1>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2\n"
)


def vcf(tmp_path, *records, name="x.vcf"):
    p = tmp_path / name
    p.write_text(HEADER + "".join("\t".join(r.split()) + "\n" for r in records))
    return p


# --- .hapt -------------------------------------------------------------------


def test_hapt_round_trip(tmp_path, rng):
    a = rng.integers(0, 2, (6, 70), dtype=np.uint8)
    h = HaplotypeMatrix.from_numpy(a, ids=[f"I{i // 2}_{'AB'[i % 2]}" for i in range(6)])
    for name in ("x.hapt", "x.hapt.gz"):
        io.write_hapt(tmp_path / name, h)
        back = io.read_hapt(tmp_path / name)
        np.testing.assert_array_equal(back.to_numpy(), a)
        assert list(back.ids) == list(h.ids)
    first = gzip.open(tmp_path / "x.hapt.gz", "rt").readline().split()
    assert first[:2] == ["AG", "I0_A"] and first[2:] == [str(v) for v in a[0]]


@pytest.mark.parametrize(
    "text, message",
    [
        ("Real a 0 1 1\nReal b 0 2 1\n", r"line 2: allele '2' at SNP 2 is not 0 or 1"),
        ("Real a 0 1 1\nReal b 0 1\n", r"line 2: 2 alleles, expected 3"),
        ("Real a 0 1 1\nReal\n", r"line 2: expected a tag, a haplotype id and alleles"),
        ("Real a 0 1 1\nReal b 0 10 1\n", r"line 2: allele '10' is not 0 or 1"),
        ("", r"no haplotypes"),
    ],
)
def test_hapt_bad_input(tmp_path, text, message):
    p = tmp_path / "bad.hapt"
    p.write_text(text)
    with pytest.raises(FormatError, match=message) as e:
        io.read_hapt(p)
    assert str(p) in str(e.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.hapt"):
        io.read_hapt(tmp_path / "nope.hapt")


def test_failed_write_keeps_previous_file(tmp_path, rng):
    p = tmp_path / "x.hapt"
    io.write_hapt(p, HaplotypeMatrix.from_numpy(np.zeros((2, 3), dtype=np.uint8)))
    before = p.read_bytes()
    with pytest.raises(ValueError, match="missing"):
        io.write_hapt(p, HaplotypeMatrix.from_numpy(np.array([[0, -1, 1]])))
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["x.hapt"]  # no temporary left behind


def test_yelmen805_real(shared_data):
    d = shared_data / "yelmen805"
    h = io.read_hapt(d / "805_SNP_1000G_real.hapt.gz", legend=d / "805_SNP.legend")
    assert h.shape == (5008, 805)
    rows = [line.split()[2:] for line in gzip.open(d / "805_SNP_1000G_real.hapt.gz", "rt")]
    np.testing.assert_array_equal(h.to_numpy(), np.array(rows, dtype=np.uint8))
    assert h.ids[0] == "HG00096_A" and h.ids[1] == "HG00096_B"
    assert h.variants.position[0] == 1243896 and h.variants.chrom[0] == "1"
    assert h.variants.ref[0] == "C" and h.variants.alt[0] == "T"
    g = h.to_genotypes()
    assert g.shape == (2504, 805) and g.ids[0] == "HG00096"


# --- VCF ---------------------------------------------------------------------


def test_vcf_phased_and_unphased(tmp_path):
    p = vcf(tmp_path, "1 100 rs1 A C . PASS . GT 0|1 1|1", "1 200 rs2 G T . PASS . GT .|. 0|1")
    h = io.read_vcf(p)
    assert isinstance(h, HaplotypeMatrix) and h.shape == (4, 2)
    np.testing.assert_array_equal(h.to_numpy(), [[0, -1], [1, -1], [1, 0], [1, 1]])
    assert list(h.ids) == ["s1_A", "s1_B", "s2_A", "s2_B"]
    assert list(h.variants.id) == ["rs1", "rs2"] and list(h.variants.alt) == ["C", "T"]
    u = vcf(tmp_path, "1 100 . A C . PASS . GT 0/1 1|1", "1 200 . G T . PASS . GT ./. 0/0", name="u.vcf")
    g = io.read_vcf(u)
    assert isinstance(g, GenotypeMatrix)
    np.testing.assert_array_equal(g.to_numpy(), [[1, -1], [2, 0]])
    assert isinstance(io.read_vcf(p, phased=False), GenotypeMatrix)


@pytest.mark.parametrize("suffix", [".vcf", ".vcf.gz"])
def test_vcf_round_trip(tmp_path, rng, suffix):
    a = rng.integers(0, 2, (8, 150), dtype=np.uint8)
    h = HaplotypeMatrix.from_numpy(a, ids=[f"S{i // 2}_{'AB'[i % 2]}" for i in range(8)])
    io.write_vcf(tmp_path / f"h{suffix}", h)
    back = io.read_vcf(tmp_path / f"h{suffix}", phased=True)
    np.testing.assert_array_equal(back.to_numpy(), a)
    np.testing.assert_array_equal(back.variants.position, h.variants.position)
    d = rng.integers(-1, 3, (5, 90)).astype(np.int8)
    io.write_vcf(tmp_path / f"g{suffix}", GenotypeMatrix.from_numpy(d))
    np.testing.assert_array_equal(io.read_vcf(tmp_path / f"g{suffix}").to_numpy(), d)


def test_vcf_multiallelic(tmp_path):
    p = vcf(tmp_path, "1 100 . A C . PASS . GT 0|1 1|1", "1 150 . A C,G . PASS . GT 0|2 1|0")
    with pytest.raises(FormatError, match=r"line 6: site 1:150 is multi-allelic \(ALT=C,G\)"):
        io.read_vcf(p)
    h = io.read_vcf(p, multiallelic="split")
    assert h.n_snps == 3 and list(h.variants.alt) == ["C", "C", "G"]
    np.testing.assert_array_equal(h.to_numpy()[:, 1:], [[0, 0], [0, 1], [1, 0], [0, 0]])


@pytest.mark.parametrize(
    "records, message",
    [
        (["1 100 . A C . PASS . GT 0|1 1|1", "1 200 . A C . PASS . GT 0|1"], r"line 6: malformed record"),
        (["1 100 . A C . PASS . GT 0|1 1|1", "1 abc . A C . PASS . GT 0|1 1|1"], r"line 6: malformed record"),
        (["1 100 . A C . PASS . GT 0|1 1"], r"line 5: site 1:100, sample s2: only diploid"),
        (["1 100 . A C . PASS . GT 0|1 1|1", "1 200 . A C . PASS . GT 0|1 0/1"],
         r"line 6: site 1:200, sample s2: unphased genotype where phased data are required"),
        (["1 100 . A C . PASS . DP 3 4"], r"line 5: site 1:100 has no GT field"),
        ([], r"no variants"),
    ],
)
def test_vcf_bad_input(tmp_path, records, message):
    p = vcf(tmp_path, *records)
    with pytest.raises(FormatError, match=message) as e:
        io.read_vcf(p, phased=True)
    assert str(p) in str(e.value)


def test_chr20_reference_and_unphased(shared_data):
    import cyvcf2

    d = shared_data / "chr20_1kg"
    ref = io.read_vcf(d / "reference.vcf.gz", phased=True)
    assert ref.shape == (600, 24990)
    # independent read of the first 300 variants with cyvcf2 directly
    gt = []
    for n, v in enumerate(cyvcf2.VCF(str(d / "reference.vcf.gz"))):
        if n == 300:
            break
        gt.append(v.genotype.array()[:, :2])
    gt = np.array(gt)  # variants x samples x 2
    np.testing.assert_array_equal(ref[:, :300].to_numpy(), gt.transpose(1, 2, 0).reshape(600, 300))
    un = io.read_vcf(d / "unphased.vcf.gz")
    assert isinstance(un, GenotypeMatrix) and un.shape == (203, 24990)
    with pytest.raises(FormatError, match="unphased genotype where phased data are required"):
        io.read_vcf(d / "unphased.vcf.gz", phased=True)
    region = io.read_vcf(d / "reference.vcf.gz", region="20:1000000-1100000")
    assert 0 < region.n_snps < 24990 and region.variants.position.max() <= 1100000


# --- PLINK -------------------------------------------------------------------


def test_humanorigins_plink(shared_data):
    from bed_reader import open_bed

    p = shared_data / "humanorigins249" / "HumanOrigins249_tiny.bed"
    g = io.read_plink(p)
    assert g.shape == (249, 9259)
    bim = (shared_data / "humanorigins249" / "HumanOrigins249_tiny.bim").read_text().split("\n")[0].split()
    with open_bed(p, count_A1=True, iid_count=249, sid_count=9259, properties={"iid": g.ids}) as bed:
        direct = bed.read(dtype="int8")
    direct[direct == -127] = -1
    np.testing.assert_array_equal(g.to_numpy(), direct)
    assert g.has_missing
    assert g.variants.id[0] == bim[1] and g.variants.alt[0] == bim[4] and g.variants.position[0] == int(bim[3])
    assert str(io.read_plink(p.with_suffix("")).ids[0]) == "HGDP01405"


def test_plink_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="x.bed"):
        io.read_plink(tmp_path / "x")
    for ext, text in ((".bed", ""), (".bim", "1 rs1 0 100 A\n"), (".fam", "f i 0 0 0 1\n")):
        (tmp_path / f"y{ext}").write_text(text)
    with pytest.raises(FormatError, match=r"y.bim, line 1: expected 6 columns, got 5"):
        io.read_plink(tmp_path / "y.bed")
    (tmp_path / "y.bim").write_text("1 rs1 0 100 A C\n")
    with pytest.raises(FormatError, match="y.bed"):
        io.read_plink(tmp_path / "y.bed")


# --- store -------------------------------------------------------------------


def test_store_round_trip(tmp_path, rng):
    h = HaplotypeMatrix.from_numpy(rng.integers(-1, 2, (6, 77)).astype(np.int8))
    io.save(tmp_path / "h.npz", h)
    back = io.load(tmp_path / "h.npz")
    np.testing.assert_array_equal(back.to_numpy(), h.to_numpy())
    assert list(back.ids) == list(h.ids)
    g = GenotypeMatrix.from_numpy(rng.integers(-1, 3, (4, 40)).astype(np.int8))
    io.save(tmp_path / "g.npz", g)
    assert isinstance(io.load(tmp_path / "g.npz"), GenotypeMatrix)
    np.testing.assert_array_equal(io.load(tmp_path / "g.npz").to_numpy(), g.to_numpy())
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(FormatError, match="not a genofast store"):
        io.load(tmp_path / "junk.npz")
