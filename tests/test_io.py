import gzip
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from genofast import GenotypeMatrix, HaplotypeMatrix, Variants, io
from genofast.io._files import FormatError, UnphasedError

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
    # the unphased call is its own kind of error, which `train` answers by naming `genofast phase`
    assert isinstance(e.value, UnphasedError) == ("unphased" in message)


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


# --- data correctness and safety -----------------------------------------------


def cyvcf2_calls(path, region=None):
    """Independent reference: per site and sample the two allele indices (-1 missing) and phase, via cyvcf2."""
    import cyvcf2

    vcf = cyvcf2.VCF(str(path), gts012=False, strict_gt=False)
    sites = []
    for v in vcf(region) if region else vcf:
        a = v.genotype.array()
        first, second = a[:, 0], (a[:, 1] if a.shape[1] == 3 else np.full(len(a), -2))
        second = np.where((second == -2) & (first == -1), -1, second)  # lone '.'
        sites.append((v.start + 1, len(v.ALT), np.stack([first, second], axis=1), a[:, -1].astype(bool)))
    return sites


def split_haplotypes(sites):
    """Haplotypes (rows 2i, 2i+1 for sample i) with one SNP per ALT allele, as multiallelic='split' defines them."""
    cols = []
    for _, n_alt, calls, _ in sites:
        for a in range(1, max(n_alt, 1) + 1):
            cols.append(np.where(calls < 0, -1, (calls == a).astype(np.int8)).reshape(-1))
    return np.array(cols, dtype=np.int8).T


def random_vcf(path, rng, n_samples=7, n_sites=300, phased=True):
    """A VCF mixing the fast text path (all calls 'a|b') with lines only htslib parses."""
    lines, pos = [], 0
    for i in range(n_sites):
        pos += int(rng.integers(1, 1000))
        kind = rng.integers(0, 6)
        n_alt = 11 if kind == 1 else int(rng.integers(1, 3))
        alleles = list(range(n_alt + 1)) + ["."]
        calls = []
        for s in range(n_samples):
            a, b = (alleles[int(rng.integers(0, len(alleles)))] for _ in range(2))
            sep = "|" if (phased or a == b or rng.random() < 0.7) else "/"
            call = f"{a}{sep}{b}"
            if kind == 2 and rng.random() < 0.3:
                call = "."  # lone missing call
            if kind == 3:
                call += f":{int(rng.integers(0, 50))}"
            calls.append(call)
        alt = ",".join("ACGT"[k % 4] * (1 + k // 4) for k in range(n_alt))
        fmt = "GT:DP" if kind == 3 else "GT"
        lines.append("\t".join(["1", str(pos), f"rs{i}", "N", alt, ".", "PASS", ".", fmt, *calls]))
    header = ["##fileformat=VCFv4.2", "##contig=<ID=1>",
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
              "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT",
                         *[f"S{s}" for s in range(n_samples)]])]
    path.write_text("\n".join(header + lines) + "\n")
    return path


@pytest.mark.parametrize("chunk_records", [64, 4096])
def test_vcf_text_decoder_agrees_with_htslib(tmp_path, rng, monkeypatch, chunk_records):
    from genofast.io import _vcf_chunks

    # Small chunks make records straddle chunk and word boundaries (split sites add columns).
    monkeypatch.setattr(_vcf_chunks, "_CHUNK_BYTES", 3 * 7 * chunk_records)
    for phased in (True, False):
        p = random_vcf(tmp_path / f"r{phased}.vcf", rng, phased=phased)
        sites = cyvcf2_calls(p)
        expected = split_haplotypes(sites)
        m = io.read_vcf(p, multiallelic="split")
        assert isinstance(m, HaplotypeMatrix) == phased
        if phased:
            np.testing.assert_array_equal(m.to_numpy(), expected)
        dosage = np.where((expected[0::2] < 0) | (expected[1::2] < 0), -1, expected[0::2] + expected[1::2])
        np.testing.assert_array_equal(io.read_vcf(p, multiallelic="split", phased=False).to_numpy(), dosage)
        assert list(m.variants.position) == [s[0] for s in sites for _ in range(max(s[1], 1))]


def test_vcf_position_beyond_2_31(tmp_path):
    p = vcf(tmp_path, "1 3000000000 . A C . PASS . GT 0|1 1|1", "1 4294967297 . A C . PASS . GT 0|0 1|1")
    assert [s[0] for s in cyvcf2_calls(p)] == [3_000_000_000, 4_294_967_297]  # htslib's 64-bit start
    assert list(io.read_vcf(p).variants.position) == [3_000_000_000, 4_294_967_297]
    # Region queries go through htslib and the index (CSI, sized by the contig length: TBI
    # cannot hold such positions).
    gz = tmp_path / "x.vcf.gz"
    io.write_vcf(gz, io.read_vcf(p), contig_lengths={"1": 5_000_000_000})
    if shutil.which("tabix") is None:
        pytest.skip("tabix not installed")
    subprocess.run(["tabix", "-C", "-p", "vcf", str(gz)], check=True)
    assert list(io.read_vcf(gz, region="1:2999999999-4294967297").variants.position) == [3_000_000_000,
                                                                                         4_294_967_297]


@pytest.mark.parametrize("record, columns", [("1 100 . A C . PASS . GT 0|1 1|1 0|0", 3),
                                             ("1 100 . A C . PASS . GT:DP 0|1:3 1|1:4 0|0:5", 3),
                                             ("1 100 . A C . PASS . GT 0|1", 1)])
def test_vcf_sample_columns_must_match_header(tmp_path, record, columns):
    p = vcf(tmp_path, "1 50 . A C . PASS . GT 0|1 1|1", record, "1 150 . A C . PASS . GT 0|1 1|1")
    with pytest.raises(FormatError, match=rf"x.vcf, line 6: malformed record: site 1:100 has {columns} sample "
                                          r"columns, the header names 2$"):
        io.read_vcf(p)


def test_vcf_lone_dot_is_missing(tmp_path):
    p = vcf(tmp_path, "1 100 . A C . PASS . GT . 1|1", "1 200 . A C . PASS . GT 0|1 .",
            "1 300 . A C . PASS . GT . .")
    h = io.read_vcf(p)
    np.testing.assert_array_equal(h.to_numpy(), [[-1, 0, -1], [-1, 1, -1], [1, -1, -1], [1, -1, -1]])
    np.testing.assert_array_equal(split_haplotypes(cyvcf2_calls(p)), h.to_numpy())
    np.testing.assert_array_equal(io.read_vcf(p, phased=False).to_numpy(), [[-1, 1, -1], [2, -1, -1]])
    # A lone allele that is not missing is a haploid call, still refused.
    with pytest.raises(FormatError, match="line 5: site 1:100, sample s2: only diploid"):
        io.read_vcf(vcf(tmp_path, "1 100 . A C . PASS . GT . 1", name="h.vcf"))


def test_vcf_phased_file_with_unphased_homozygotes(tmp_path):
    p = vcf(tmp_path, "1 100 . A C . PASS . GT 0/0 1|0", "1 200 . A C . PASS . GT 1/1 ./.",
            "1 300 . A C . PASS . GT 0|1 ./1")
    for phased in (None, True):
        h = io.read_vcf(p, phased=phased)
        assert isinstance(h, HaplotypeMatrix)
        np.testing.assert_array_equal(h.to_numpy(), [[0, 1, 0], [0, 1, 1], [1, -1, -1], [0, -1, 1]])
    u = vcf(tmp_path, "1 100 . A C . PASS . GT 0/0 1|0", "1 200 . A C . PASS . GT 1|1 0/1", name="u.vcf")
    assert isinstance(io.read_vcf(u), GenotypeMatrix)
    with pytest.raises(FormatError, match="u.vcf, line 6: site 1:200, sample s2: unphased genotype"):
        io.read_vcf(u, phased=True)


def test_vcf_duplicate_sample_names(tmp_path):
    p = tmp_path / "d.vcf"
    p.write_text(HEADER.replace("\ts2\n", "\ts1\n") + "1\t100\t.\tA\tC\t.\tPASS\t.\tGT\t0|1\t1|1\n")
    with pytest.raises(FormatError, match=r"d.vcf, line 4: sample 's1' appears more than once in the header$"):
        io.read_vcf(p)


def write_with_file_size_limit(target, matrix_npz, limit):
    """Run io.write(target, matrix) in a child process that may write at most ``limit`` bytes per file."""
    code = f"""
import resource, signal, sys
from genofast import io
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
m = io.load({str(matrix_npz)!r})
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
try:
    io.write({str(target)!r}, m)
except OSError as e:
    print(str(e))
    sys.exit(3)
"""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["x.vcf.gz", "x.vcf", "x.hapt", "x.hapt.gz", "x.npz", "x.bed"])
def test_failed_write_keeps_previous_output(tmp_path, rng, name):
    small = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (4, 10), dtype=np.uint8))
    big = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (40, 20_000), dtype=np.uint8))
    target = tmp_path / "out" / name
    io.write(target, small)
    outputs = sorted((tmp_path / "out").iterdir())
    before = {p.name: p.read_bytes() for p in outputs}
    assert max(map(len, before.values())) < 8000
    io.save(tmp_path / "big.npz", big)
    done = write_with_file_size_limit(target, tmp_path / "big.npz", 8000)
    assert done.returncode == 3, done.stderr[-2000:]
    assert str(target) in done.stdout and "\n" not in done.stdout.strip()
    assert {p.name: p.read_bytes() for p in sorted((tmp_path / "out").iterdir())} == before  # no temporary left
    back = io.read(target)
    np.testing.assert_array_equal(back.to_numpy(), small.to_numpy() if name != "x.bed"
                                  else small.to_genotypes().to_numpy())


@pytest.mark.parametrize("name", ["x.vcf.gz", "x.vcf", "x.hapt", "x.bed"])
@pytest.mark.parametrize("bad", ["a b", "a\tb", "a\nb", ""])
def test_writers_refuse_ids_that_do_not_read_back(tmp_path, name, bad):
    ids = ["s0_A", "s0_B", f"{bad}_A", f"{bad}_B"] if name.endswith((".vcf", ".vcf.gz")) else ["s0", "s1", bad, "s3"]
    h = HaplotypeMatrix.from_numpy(np.zeros((4, 3), dtype=np.uint8), ids=ids)
    m = h if name != "x.bed" else GenotypeMatrix.from_numpy(np.zeros((4, 3), dtype=np.int8), ids=ids)
    with pytest.raises(ValueError, match="cannot be written") as e:
        io.write(tmp_path / name, m)
    assert repr(bad) in str(e.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", ["x.vcf.gz", "x.hapt", "x.bed"])
def test_writers_refuse_repeated_ids(tmp_path, name):
    ids = ["s0_A", "s0_B", "s0_A", "s0_B"] if name == "x.vcf.gz" else ["s0", "s1", "s0", "s3"]
    h = HaplotypeMatrix.from_numpy(np.zeros((4, 3), dtype=np.uint8), ids=ids)
    m = h if name != "x.bed" else GenotypeMatrix.from_numpy(np.zeros((4, 3), dtype=np.int8), ids=ids)
    with pytest.raises(ValueError, match="'s0' appears more than once"):
        io.write(tmp_path / name, m)
    assert os.listdir(tmp_path) == []


def damaged_copies(path, tmp_path):
    """Copies of a compressed file: cut in the middle, cut just before the end, and with bytes overwritten."""
    data = path.read_bytes()
    out = {}
    for label, damaged in (("cut-middle", data[: len(data) // 2]), ("cut-end", data[:-28]),
                           ("overwritten", data[: len(data) // 2] + b"\x00" * 64 + data[len(data) // 2 + 64:])):
        p = tmp_path / f"{label}-{path.name}"
        p.write_bytes(damaged)
        out[label] = p
    return out


def compressed_inputs(tmp_path, rng):
    h = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (60, 3000), dtype=np.uint8),
                                   ids=[f"S{i // 2}_{'AB'[i % 2]}" for i in range(60)])
    files = {}
    for name in ("x.vcf.gz", "x.hapt.gz", "x.npz"):
        io.write(tmp_path / name, h)
        files[name] = tmp_path / name
    plain = tmp_path / "x.vcf"
    io.write_vcf(plain, h)
    with open(plain, "rb") as f, gzip.open(tmp_path / "gzip.vcf.gz", "wb") as g:  # gzip, not BGZF
        g.write(f.read())
    files["gzip.vcf.gz"] = tmp_path / "gzip.vcf.gz"
    if shutil.which("bcftools"):
        subprocess.run(["bcftools", "view", "-Ob", "-o", str(tmp_path / "x.bcf"), str(files["x.vcf.gz"])],
                       check=True)
        files["x.bcf"] = tmp_path / "x.bcf"
    return h, files


def test_damaged_compressed_input_is_a_format_error(tmp_path, rng):
    h, files = compressed_inputs(tmp_path, rng)
    (tmp_path / "damaged").mkdir()
    for name, path in files.items():
        assert io.read(path).to_numpy().shape == (60, 3000)  # intact
        for label, p in damaged_copies(path, tmp_path / "damaged").items():
            if label == "cut-end" and name == "gzip.vcf.gz":
                continue  # only the CRC and size are cut; every record reads
            with pytest.raises(FormatError) as e:
                io.read(p)
            assert str(p) in str(e.value) and "\n" not in str(e.value), (name, label, str(e.value))


def test_damaged_plink_and_legend(tmp_path, rng):
    g = GenotypeMatrix.from_numpy(rng.integers(-1, 3, (10, 100)).astype(np.int8))
    io.write_plink(tmp_path / "x", g)
    bed = tmp_path / "x.bed"
    bed.write_bytes(bed.read_bytes()[:-5])
    with pytest.raises(FormatError, match="x.bed"):
        io.read_plink(bed)
    (tmp_path / "x.fam").write_bytes(b"f\xff i 0 0 0 -9\n")
    with pytest.raises(FormatError, match=r"x.fam, line 1: not a text file"):
        io.read_plink(bed)
    legend = tmp_path / "x.legend.gz"
    legend.write_bytes(gzip.compress(b"id position a0 a1\n" + b"1:5 5 A C\n" * 2000)[:-30])
    with pytest.raises(FormatError, match="x.legend.gz"):
        io.read_hapt(files_hapt(tmp_path, rng), legend=legend)


def files_hapt(tmp_path, rng):
    p = tmp_path / "l.hapt"
    io.write_hapt(p, HaplotypeMatrix.from_numpy(rng.integers(0, 2, (2, 2000), dtype=np.uint8)))
    return p


def test_region_read_over_a_damaged_block(tmp_path, rng):
    if shutil.which("tabix") is None:
        pytest.skip("tabix not installed")
    h = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (60, 3000), dtype=np.uint8))
    p = tmp_path / "r.vcf.gz"
    io.write_vcf(p, h)
    subprocess.run(["tabix", "-p", "vcf", str(p)], check=True)  # also checks the output is valid BGZF
    np.testing.assert_array_equal(io.read_vcf(p, region="1:1001-2000").to_numpy(), h[:, 1000:2000].to_numpy())
    data = bytearray(p.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    p.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"r.vcf.gz: damaged data after record \d+: \[E::bgzf"):
        io.read_vcf(p, region="1:1-3000")


def test_bcf_reads_like_vcf(tmp_path, rng):
    if shutil.which("bcftools") is None:
        pytest.skip("bcftools not installed")
    p = random_vcf(tmp_path / "r.vcf", rng, phased=False)
    subprocess.run(["bcftools", "view", "-Ob", "-o", str(tmp_path / "r.bcf"), str(p)], check=True)
    a, b = io.read_vcf(p, multiallelic="split"), io.read_vcf(tmp_path / "r.bcf", multiallelic="split")
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    for f in ("chrom", "position", "id", "ref", "alt"):
        assert list(getattr(a.variants, f)) == list(getattr(b.variants, f))
    with pytest.raises(FormatError, match=r"r.bcf: record 1, site 1:\d+ is multi-allelic"):
        io.read_vcf(tmp_path / "r.bcf")


def test_chr20_whole_files_against_cyvcf2(shared_data):
    d = shared_data / "chr20_1kg"
    sites = cyvcf2_calls(d / "reference.vcf.gz")
    ref = io.read_vcf(d / "reference.vcf.gz", phased=True)
    np.testing.assert_array_equal(ref.to_numpy(), split_haplotypes(sites))
    assert list(ref.variants.position) == [s[0] for s in sites]
    sites = cyvcf2_calls(d / "unphased.vcf.gz")
    calls = np.array([s[2] for s in sites])  # sites x samples x 2
    dosage = np.where((calls < 0).any(axis=2), -1, calls.sum(axis=2)).T
    np.testing.assert_array_equal(io.read_vcf(d / "unphased.vcf.gz").to_numpy(), dosage)


def test_vcf_contig_lengths(tmp_path, rng):
    import cyvcf2

    h = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (4, 5), dtype=np.uint8))
    p = tmp_path / "c.vcf.gz"
    io.write_vcf(p, h, contig_lengths={"1": 248_956_422, "2": 5})
    assert "##contig=<ID=1,length=248956422>" in gzip.open(p, "rt").read()
    assert "ID=2" not in gzip.open(p, "rt").read()  # only contigs with variants
    assert cyvcf2.VCF(str(p)).seqlens == [248_956_422]
    assert io.contig_lengths(p) == {"1": 248_956_422}
    io.write_vcf(tmp_path / "n.vcf", h)
    assert "##contig=<ID=1>" in (tmp_path / "n.vcf").read_text() and io.contig_lengths(tmp_path / "n.vcf") == {}


def test_plink_round_trip(tmp_path, rng):
    d = rng.integers(-1, 3, (9, 77)).astype(np.int8)
    v = Variants(np.array(["1"] * 40 + ["2"] * 37), np.arange(1000, 1077, dtype=np.int64) * 3,
                 np.array([f"rs{i}" for i in range(77)]), np.array(["A"] * 77), np.array(["G"] * 76 + ["TT"]))
    g = GenotypeMatrix.from_numpy(d, ids=[f"ind{i}" for i in range(9)], variants=v)
    io.write(tmp_path / "x.bed", g)
    back = io.read_plink(tmp_path / "x")
    np.testing.assert_array_equal(back.to_numpy(), d)
    assert list(back.ids) == list(g.ids)
    for f in ("chrom", "position", "id", "ref", "alt"):
        assert list(getattr(back.variants, f)) == list(getattr(v, f))
    assert list(io.read_fam(tmp_path / "x.bed").family) == list(g.ids)  # each sample its own family
    families = [f"fam{i // 3}" for i in range(9)]
    io.write_plink(tmp_path / "f", back, family_ids=io.read_fam(tmp_path / "x").family)
    io.write_plink(tmp_path / "f", back, family_ids=families)
    assert list(io.read_fam(tmp_path / "f.fam").family) == families
    h = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (6, 70), dtype=np.uint8))
    io.write_plink(tmp_path / "h.bed", h)
    np.testing.assert_array_equal(io.read_plink(tmp_path / "h.bed").to_numpy(), h.to_genotypes().to_numpy())


def test_plink_accepts_written_fileset(tmp_path, rng):
    plink = shutil.which("plink1.9") or shutil.which("plink")
    if plink is None:
        pytest.skip("plink1.9 not installed")
    d = rng.integers(-1, 3, (13, 50)).astype(np.int8)  # 13 samples: a partly filled last byte
    g = GenotypeMatrix.from_numpy(d, ids=[f"ind{i}" for i in range(13)])
    io.write_plink(tmp_path / "x", g, family_ids=[f"f{i}" for i in range(13)])
    run = subprocess.run([plink, "--bfile", str(tmp_path / "x"), "--recode", "A", "--keep-allele-order",
                          "--allow-no-sex", "--out", str(tmp_path / "y")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]
    rows = [line.split() for line in (tmp_path / "y.raw").read_text().splitlines()]
    header, rows = rows[0], rows[1:]
    assert [r[:2] for r in rows] == [[f"f{i}", f"ind{i}"] for i in range(13)]
    counted = [c.rsplit("_", 1)[1] for c in header[6:]]
    raw = np.array([[-1 if x == "NA" else int(x) for x in r[6:]] for r in rows])
    # plink counts the allele named in each column header: ours is alt ("C" in placeholder metadata).
    expected = np.where(d < 0, -1, np.where(np.array(counted) == "C", d, 2 - d))
    assert counted == ["C"] * 50
    np.testing.assert_array_equal(raw, expected)


@pytest.mark.parametrize("suffix", [".vcf", ".vcf.gz"])
def test_written_vcf_read_by_htslib(tmp_path, rng, suffix):
    h = HaplotypeMatrix.from_numpy(rng.integers(-1, 2, (6, 5000)).astype(np.int8))
    g = GenotypeMatrix.from_numpy(rng.integers(-1, 3, (3, 5000)).astype(np.int8))
    io.write_vcf(tmp_path / f"h{suffix}", h)
    io.write_vcf(tmp_path / f"g{suffix}", g)
    sites = cyvcf2_calls(tmp_path / f"h{suffix}")
    np.testing.assert_array_equal(split_haplotypes(sites), h.to_numpy())
    assert all(s[3].all() for s in sites)  # every call written phased
    sites = cyvcf2_calls(tmp_path / f"g{suffix}")
    calls = np.array([s[2] for s in sites])
    np.testing.assert_array_equal(np.where((calls < 0).any(axis=2), -1, calls.sum(axis=2)).T, g.to_numpy())
    assert not any(s[3].any() for s in sites)
