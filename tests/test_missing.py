"""Missing alleles in the statistics: never counted as a value (frequencies and r² over called alleles)."""

import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from genofast import GenotypeMatrix, HaplotypeMatrix, io
from genofast.metrics import privacy, quality

import reference


def ref_frequencies(a: np.ndarray, ploidy: int = 1) -> np.ndarray:
    called = a >= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(called, a, 0).sum(0) / (ploidy * called.sum(0))


def ref_r2(a: np.ndarray) -> np.ndarray:
    """Pairwise-complete r², one pair at a time with numpy."""
    p = a.shape[1]
    out = np.zeros((p, p))
    for i in range(p):
        for j in range(p):
            both = (a[:, i] >= 0) & (a[:, j] >= 0)
            x, y = a[both, i].astype(float), a[both, j].astype(float)
            if both.sum() >= 2 and x.std() > 0 and y.std() > 0:
                out[i, j] = np.corrcoef(x, y)[0, 1] ** 2
    return out


def test_hand_made_frequencies_skip_missing():
    np.testing.assert_array_equal(quality.allele_frequencies(HaplotypeMatrix.from_numpy([[1, -1], [1, 0]])),
                                  [1.0, 0.0])
    g = GenotypeMatrix.from_numpy([[0, 2, -1], [1, -1, -1]])
    f = quality.allele_frequencies(g)  # dosage / 2 over called samples; nothing called -> NaN
    np.testing.assert_array_equal(f[:2], [0.25, 1.0])
    assert np.isnan(f[2])
    np.testing.assert_array_equal(quality.missing_fraction(g), [0, 0.5, 1])


def test_shared_missing_calls_do_not_make_linkage():
    # both SNPs are 1 wherever called and missing at the same haplotypes: no variation, so no LD
    a = np.array([[1, 1], [1, 1], [-1, -1], [-1, -1], [1, 1]])
    assert quality.ld_matrix(a)[0, 1] == 0.0
    assert quality.pair_r2(a, np.array([[0, 1]]))[0] == 0.0


@settings(max_examples=60, deadline=None)
@given(arrays(np.int8, st.tuples(st.integers(2, 40), st.integers(2, 12)), elements=st.integers(-1, 1)))
def test_frequencies_and_ld_equal_numpy_over_called_alleles(a):
    h = HaplotypeMatrix.from_numpy(a)
    np.testing.assert_allclose(quality.allele_frequencies(h), ref_frequencies(a), equal_nan=True)
    expect = ref_r2(a)
    got = quality.ld_matrix(h)
    iu = np.triu_indices(a.shape[1], 1)
    np.testing.assert_allclose(got[iu], expect[iu], atol=1e-9)
    pairs = np.stack(iu, axis=1)
    np.testing.assert_allclose(quality.pair_r2(h, pairs), expect[iu], atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(arrays(np.int8, st.tuples(st.integers(2, 30), st.integers(2, 10)), elements=st.integers(-1, 2)))
def test_genotype_frequencies_and_ld_equal_numpy(d):
    g = GenotypeMatrix.from_numpy(d)
    np.testing.assert_allclose(quality.allele_frequencies(g), ref_frequencies(d, 2), equal_nan=True)
    iu = np.triu_indices(d.shape[1], 1)
    np.testing.assert_allclose(quality.ld_matrix(g)[iu], ref_r2(d)[iu], atol=1e-9)
    np.testing.assert_allclose(quality.pair_r2(g, np.stack(iu, axis=1)), ref_r2(d)[iu], atol=1e-9)


def test_kmers_and_three_point_use_complete_rows(rng):
    a = rng.integers(0, 2, (80, 12)).astype(np.int8)
    a[rng.random(a.shape) < 0.1] = -1
    k = 3
    got = quality.kmer_frequencies(a, k)
    for w in range(4):
        block = a[:, w * k : (w + 1) * k]
        rows = block[(block >= 0).all(1)]
        codes = (rows * (1 << np.arange(k))).sum(1)
        np.testing.assert_allclose(got[w], np.bincount(codes, minlength=8) / len(rows))
    triplets = np.array([[0, 1, 2], [3, 7, 11], [2, 5, 9]])
    c3 = quality.three_point_correlations(a, triplets)
    for t, (i, j, m) in enumerate(triplets):
        rows = a[(a[:, [i, j, m]] >= 0).all(1)][:, [i, j, m]].astype(float)
        c = rows - rows.mean(0)
        assert c3[t] == pytest.approx((c[:, 0] * c[:, 1] * c[:, 2]).mean())


def test_pca_and_distances_follow_the_documented_fill_rules(rng):
    from sklearn.decomposition import PCA

    a = rng.integers(0, 2, (60, 30)).astype(np.int8)
    a[rng.random(a.shape) < 0.05] = -1
    s = rng.integers(0, 2, (40, 30)).astype(np.int8)
    # PCA: missing -> real SNP mean
    means = ref_frequencies(a)
    filled = np.where(a >= 0, a, means).astype(np.float32)
    expect = PCA(n_components=3, svd_solver="full").fit(filled)
    got = quality.pca(a, s, n_components=3)
    np.testing.assert_allclose(np.abs(got.real), np.abs(expect.transform(filled)), rtol=1e-3, atol=1e-4)
    # distances and AATS: missing -> the set's major allele
    major = (means > 0.5).astype(np.int8)
    complete = np.where(a >= 0, a, major)
    d = quality.distance_distributions(a, s)
    ham = reference.hamming_matrix(complete, complete)
    expect_within = np.bincount(ham[np.triu_indices(60, 1)], minlength=31)
    np.testing.assert_array_equal(d.within_real[: expect_within.size], expect_within)
    r = privacy.aats(HaplotypeMatrix.from_numpy(a), HaplotypeMatrix.from_numpy(s))
    assert (r.aa_truth, r.aa_syn, r.aats) == pytest.approx(reference.aats(complete, s, True))


def test_statistics_that_need_haplotypes_say_so():
    g = GenotypeMatrix.from_numpy([[0, 1, 2, 1]] * 4)
    with pytest.raises(ValueError, match="needs phased haplotypes"):
        quality.kmer_frequencies(g, 2)
    with pytest.raises(ValueError, match="unphased genotypes and the synthetic set haplotypes"):
        privacy.aats(g, HaplotypeMatrix.from_numpy([[0, 1, 1, 1]] * 8))


@pytest.fixture(scope="module")
def chr20_with_missing(tmp_path_factory):
    """The first 400 sites of chr20 reference.vcf.gz with 5% '.|.' and 1% half-calls added (seeded)."""
    import gzip

    src = __import__("conftest").SHARED / "chr20_1kg" / "reference.vcf.gz"
    if not src.is_file():
        pytest.skip("shared data not present")
    if not shutil.which("bgzip"):
        pytest.skip("bgzip not installed")
    rng = np.random.default_rng(7)
    path = tmp_path_factory.mktemp("chr20") / "missing.vcf"
    with gzip.open(src, "rt") as f, open(path, "w") as out:
        n = 0
        for line in f:
            if line.startswith("#"):
                out.write(line)
                continue
            n += 1
            if n > 400:
                break
            fields = line.rstrip("\n").split("\t")
            gts = fields[9:]
            u = rng.random(len(gts))
            for i in np.flatnonzero(u < 0.06):
                if u[i] < 0.05:
                    gts[i] = ".|."
                else:
                    alleles = gts[i].split("|")
                    alleles[rng.integers(2)] = "."
                    gts[i] = "|".join(alleles)
            out.write("\t".join(fields[:9] + gts) + "\n")
    subprocess.run(["bgzip", "-f", str(path)], check=True)
    return path.with_name("missing.vcf.gz")


def test_chr20_frequencies_equal_bcftools(chr20_with_missing):
    if not shutil.which("bcftools"):
        pytest.skip("bcftools not installed")
    out = subprocess.run(f"bcftools +fill-tags {chr20_with_missing} -- -t AF | bcftools query -f '%AF\\n'",
                         shell=True, check=True, capture_output=True, text=True).stdout
    expect = np.array(out.split(), dtype=float)
    h = io.read_vcf(chr20_with_missing)
    assert isinstance(h, HaplotypeMatrix) and h.has_missing
    got = quality.allele_frequencies(h)
    assert np.abs(got - expect).max() <= 1e-6  # bcftools prints 6 significant digits


def test_chr20_genotype_r2_equals_plink(chr20_with_missing, tmp_path):
    plink = shutil.which("plink1.9") or shutil.which("plink")
    if not plink:
        pytest.skip("PLINK 1.9 not installed")
    subprocess.run([plink, "--vcf", str(chr20_with_missing), "--vcf-half-call", "missing", "--r2",
                    "--ld-window-r2", "0", "--ld-window", "999999", "--ld-window-kb", "999999", "--double-id",
                    "--out", str(tmp_path / "ld")], check=True, capture_output=True)
    g = io.read_vcf(chr20_with_missing, phased=False)
    assert isinstance(g, GenotypeMatrix) and g.has_missing
    r2 = quality.ld_matrix(g)
    column = {(int(p), i): j for j, (p, i) in enumerate(zip(g.variants.position, g.variants.id))}
    rows = [line.split() for line in (tmp_path / "ld.ld").read_text().splitlines()][1:]
    assert len(rows) > 10_000
    i = np.array([column[(int(r[1]), r[2])] for r in rows])
    j = np.array([column[(int(r[4]), r[5])] for r in rows])
    plink_r2 = np.array([float(r[6]) for r in rows])
    # PLINK prints 6 significant digits, so r² <= 1 is exact to 5e-7
    assert np.abs(r2[i, j] - plink_r2).max() <= 1e-6
