"""Scoring of imputed genotypes, the imputed-VCF writer and Beagle on any cohort, against independent references."""

import shutil

import numpy as np
import pytest

from genofast.impute.beagle import impute_genotypes_with_beagle, impute_with_beagle
from genofast.impute.result import Imputed
from genofast.impute.scoring import concordance, dosage_r2, most_frequent_genotype
from genofast.io import read_vcf, write_imputed_vcf
from genofast.matrix import GenotypeMatrix, HaplotypeMatrix, Variants
from genofast.phasing import mask_calls

needs_beagle = pytest.mark.skipif(shutil.which("beagle") is None, reason="beagle is not installed")


def one_hot(dosages):
    return (np.asarray(dosages)[..., None] == np.arange(3)).astype(np.float32)


def random_imputed(rng, n_samples=7, n_snps=9, missing=0.4, phased=False):
    """Random probabilities at missing calls, one-hot at observed ones; optionally haplotypes matching the calls."""
    truth = rng.integers(0, 3, (n_samples, n_snps))
    observed = np.where(rng.random(truth.shape) < missing, -1, truth)
    p = rng.dirichlet([0.5, 0.5, 0.5], truth.shape).astype(np.float32)
    p = np.where(observed[..., None] >= 0, one_hot(observed), p)
    ids = [f"s{i}" for i in range(n_samples)]
    imputed = Imputed(p, GenotypeMatrix.from_numpy(observed, ids=ids))
    if not phased:
        return imputed
    calls = imputed.calls
    flip = rng.random(calls.shape) < 0.5
    first = np.where(calls == 1, flip, calls == 2).astype(np.int8)
    haplotypes = np.empty((2 * n_samples, n_snps), np.int8)
    haplotypes[0::2], haplotypes[1::2] = first, calls - first
    return Imputed(p, imputed.observed, haplotypes)


# --- concordance -----------------------------------------------------------------------------------------------------

TRUTH = np.array([[0, 1, 2], [2, -1, 0]])
CALLS = np.array([[0, 2, 2], [1, 1, 0]])
MASK = np.array([[True, True, False], [True, True, True]])


def test_concordance_hand_computed():
    # scored: (0,0) right, (0,1) wrong, (1,0) wrong, (1,2) right; (1,1) has no truth
    assert concordance(TRUTH, CALLS, MASK) == 0.5
    assert concordance(GenotypeMatrix.from_numpy(TRUTH), GenotypeMatrix.from_numpy(CALLS), MASK) == 0.5
    assert concordance(TRUTH, Imputed(one_hot(CALLS), GenotypeMatrix.from_numpy(CALLS)), MASK) == 0.5
    assert concordance(TRUTH, TRUTH, TRUTH >= 0) == 1.0


def test_concordance_errors():
    with pytest.raises(ValueError, match="shapes differ"):
        concordance(TRUTH, CALLS[:, :2], MASK)
    with pytest.raises(ValueError, match="no call to score"):
        concordance(TRUTH, CALLS, np.zeros_like(MASK))
    with pytest.raises(ValueError, match="no call to score"):  # hides only a call without truth
        concordance(TRUTH, CALLS, np.array([[False] * 3, [False, True, False]]))
    with pytest.raises(ValueError, match="boolean"):
        concordance(TRUTH, CALLS, MASK.astype(int))
    unfilled = np.array([[0, -1, 2], [-1, 1, 0]])
    with pytest.raises(ValueError, match=r"2 hidden calls are still missing .*first: sample 0, SNP 1"):
        concordance(TRUTH, unfilled, MASK)


# --- most frequent genotype ------------------------------------------------------------------------------------------

def test_most_frequent_genotype_hand_computed():
    g = np.array([[0, 1, -1, 2],
                  [1, 1, 2, -1],
                  [-1, 2, 2, 0],
                  [1, -1, 0, -1]])
    # SNP 0: 0,1,1 -> 1; SNP 1: 1,1,2 -> 1; SNP 2: 2,2,0 -> 2; SNP 3: 2,0 tie -> 0
    expected = np.array([[0, 1, 2, 2],
                         [1, 1, 2, 0],
                         [1, 2, 2, 0],
                         [1, 1, 0, 0]])
    imputed = most_frequent_genotype(GenotypeMatrix.from_numpy(g))
    np.testing.assert_array_equal(imputed.calls, expected)
    np.testing.assert_array_equal(imputed.probabilities, one_hot(expected))
    np.testing.assert_array_equal(imputed.observed.to_numpy(), g)
    np.testing.assert_array_equal(most_frequent_genotype(g).calls, expected)


def test_most_frequent_genotype_refuses_snp_without_calls():
    variants = Variants(np.full(3, "1"), np.arange(1, 4), np.array(["rs1", "rs2", "rs3"]), np.full(3, "A"),
                        np.full(3, "G"))
    g = GenotypeMatrix.from_numpy(np.array([[0, -1, 1], [1, -1, 1]]), variants=variants)
    with pytest.raises(ValueError, match=r"SNP 1 \(rs2\) has no observed call"):
        most_frequent_genotype(g)


# --- dosage r2 -------------------------------------------------------------------------------------------------------

def naive_dosage_r2(imputed, calls="imputed"):
    """DR2 one SNP at a time, written as variance of expected dosage over implied variance; with calls="all" over
    every sample, an observed call one-hot."""
    g = imputed.observed.to_numpy()
    out = []
    for j in range(g.shape[1]):
        missing = g[:, j] < 0
        if not missing.any():
            out.append(np.nan)
            continue
        p = imputed.probabilities[:, j].astype(np.float64)
        p = np.where(missing[:, None], p, one_hot(np.maximum(g[:, j], 0))) if calls == "all" else p[missing]
        d = p[:, 1] + 2 * p[:, 2]
        e = p[:, 1] + 4 * p[:, 2]
        implied = np.sum(e - d.mean() ** 2)
        out.append(np.nan if implied == 0 else min(1.0, max(0.0, np.sum((d - d.mean()) ** 2) / implied)))
    return np.array(out)


@pytest.mark.parametrize("seed", range(5))
def test_dosage_r2_matches_naive(seed):
    rng = np.random.default_rng(seed)
    imputed = random_imputed(rng, n_samples=int(rng.integers(1, 30)), n_snps=int(rng.integers(1, 40)),
                             missing=float(rng.random()))
    np.testing.assert_allclose(dosage_r2(imputed), naive_dosage_r2(imputed), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dosage_r2(imputed, calls="all"), naive_dosage_r2(imputed, "all"), rtol=1e-9,
                               atol=1e-12)


def test_dosage_r2_over_all_samples_by_hand():
    # observed 0 and 2, one imputed call P = (0.5, 0, 0.5): d = 1, e = 2. Over the three samples: Σd = 3, Σd² = 5,
    # Σe = 6, (Σd)²/n = 3, DR2 = (5 - 3) / (6 - 3) = 2/3. Over the imputed call alone: (1 - 1) / (2 - 1) = 0, as
    # for any single uncertain call, which is why the VCF writes the former.
    observed = GenotypeMatrix.from_numpy(np.array([[0], [2], [-1]]))
    imputed = Imputed(np.array([[[1.0, 0, 0]], [[0, 0, 1.0]], [[0.5, 0, 0.5]]]), observed)
    assert dosage_r2(imputed)[0] == 0.0
    assert dosage_r2(imputed, calls="all")[0] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="calls must be 'imputed' or 'all', got 'some'"):
        dosage_r2(imputed, calls="some")


def test_dosage_r2_certain_calls_and_nothing_imputed():
    observed = np.array([[-1, 0, -1, 1], [-1, 1, -1, 1], [2, 2, -1, 1]])
    filled = np.array([[0, 0, 1, 1], [2, 1, 1, 1], [2, 2, 1, 1]])
    r2 = dosage_r2(Imputed(one_hot(filled), GenotypeMatrix.from_numpy(observed)))
    assert r2[0] == 1.0  # certain imputed calls that vary
    assert np.isnan(r2[1]) and np.isnan(r2[3])  # nothing imputed
    assert np.isnan(r2[2])  # certain and all equal: 0 / 0


# --- imputed VCF -----------------------------------------------------------------------------------------------------

def read_back(path):
    import cyvcf2

    gt, ds, gp, info = [], [], [], []
    vcf = cyvcf2.VCF(str(path))
    for v in vcf:
        gt.append(np.array(v.genotypes))
        ds.append(v.format("DS")[:, 0])
        gp.append(v.format("GP"))
        info.append((v.INFO.get("AF"), v.INFO.get("DR2"), v.INFO.get("IMP")))
    samples = vcf.samples
    vcf.close()
    return samples, np.array(gt).transpose(1, 0, 2), np.array(ds).T, np.array(gp).transpose(1, 0, 2), info


@pytest.mark.parametrize("name", ["imputed.vcf.gz", "imputed.vcf"])
def test_write_imputed_vcf_reads_back(tmp_path, name):
    rng = np.random.default_rng(3)
    imputed = random_imputed(rng, n_samples=11, n_snps=23)
    observed = imputed.observed.to_numpy()
    observed[:, 5] = imputed.calls[:, 5]  # one site with nothing imputed: no DR2, no IMP
    p = np.where(observed[..., None] >= 0, one_hot(observed), imputed.probabilities)
    imputed = Imputed(p, GenotypeMatrix.from_numpy(observed, ids=imputed.observed.ids))
    write_imputed_vcf(tmp_path / name, imputed)
    samples, gt, ds, gp, info = read_back(tmp_path / name)
    is_observed = observed >= 0
    assert samples == list(imputed.observed.ids)
    assert not gt[..., 2].any()  # unphased
    np.testing.assert_array_equal(gt[..., 0] + gt[..., 1], imputed.calls)
    np.testing.assert_allclose(ds, imputed.dosage, atol=5e-4 + 1e-6)
    np.testing.assert_allclose(gp, imputed.probabilities, atol=5e-4 + 1e-6)
    np.testing.assert_array_equal(ds[is_observed], observed[is_observed])  # observed calls exact
    np.testing.assert_array_equal(gp[is_observed], one_hot(observed[is_observed]))
    r2 = dosage_r2(imputed, calls="all")
    for j, (af, dr2, imp) in enumerate(info):
        assert af == pytest.approx(imputed.dosage[:, j].mean() / 2, abs=5e-5 + 1e-7)
        assert imp is (True if (~is_observed[:, j]).any() else None)
        assert dr2 is None if np.isnan(r2[j]) else dr2 == pytest.approx(r2[j], abs=5e-4 + 1e-7)
    np.testing.assert_array_equal(read_vcf(tmp_path / name, phased=False).to_numpy(), imputed.calls)


def test_write_imputed_vcf_phased(tmp_path):
    imputed = random_imputed(np.random.default_rng(4), n_samples=6, n_snps=10, phased=True)
    write_imputed_vcf(tmp_path / "phased.vcf.gz", imputed)
    _, gt, ds, _, _ = read_back(tmp_path / "phased.vcf.gz")
    assert gt[..., 2].all()
    np.testing.assert_array_equal(gt[..., 0], imputed.phased[0::2])
    np.testing.assert_array_equal(gt[..., 1], imputed.phased[1::2])
    np.testing.assert_allclose(ds, imputed.dosage, atol=5e-4 + 1e-6)
    inconsistent = imputed.phased.copy()
    inconsistent[0, 0] = 1 - inconsistent[0, 0]
    with pytest.raises(ValueError, match="phased haplotypes of sample 0 at SNP 0"):
        write_imputed_vcf(tmp_path / "bad.vcf.gz", Imputed(imputed.probabilities, imputed.observed, inconsistent))
    assert not (tmp_path / "bad.vcf.gz").exists()


def test_write_imputed_vcf_failure_leaves_nothing(tmp_path):
    imputed = random_imputed(np.random.default_rng(5), n_samples=4, n_snps=6)
    spaced = Imputed(imputed.probabilities, GenotypeMatrix.from_numpy(imputed.observed.to_numpy(),
                                                                      ids=["a", "b c", "d", "e"]))
    with pytest.raises(ValueError, match="'b c' cannot be written"):
        write_imputed_vcf(tmp_path / "out.vcf.gz", spaced)
    p = imputed.probabilities.copy()
    sample, snp = np.argwhere(imputed.observed.to_numpy() < 0)[-1]
    p[sample, snp, 1] = np.nan
    (tmp_path / "old.vcf").write_text("kept")
    with pytest.raises(ValueError, match=f"sample {sample} at SNP {snp} is not a finite number"):
        write_imputed_vcf(tmp_path / "old.vcf", Imputed(p, imputed.observed))
    assert sorted(f.name for f in tmp_path.iterdir()) == ["old.vcf"]
    assert (tmp_path / "old.vcf").read_text() == "kept"


# --- Beagle ----------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def haplotypes():
    from genofast.simulate import simulate

    return simulate(n_haplotypes=198, n_snps=500, seed=3).haplotypes


@pytest.fixture(scope="module")
def cohort(haplotypes):
    return haplotypes.to_genotypes()


@needs_beagle
def test_beagle_beats_most_frequent_genotype(cohort, tmp_path):
    masked, mask = mask_calls(cohort, 0.1, seed=1)
    run = impute_genotypes_with_beagle(masked, seed=1, nthreads=1, workdir=tmp_path)
    observed = masked.to_numpy()
    assert run.calls.shape == cohort.shape and run.calls.dtype == np.int8
    assert (run.calls >= 0).all()
    np.testing.assert_array_equal(run.calls[observed >= 0], observed[observed >= 0])
    beagle = concordance(cohort, run.calls, mask)
    baseline = concordance(cohort, most_frequent_genotype(masked), mask)
    assert beagle > baseline + 0.05, (beagle, baseline)
    assert run.seconds > 0 and run.peak_mib > 10
    assert list(tmp_path.iterdir()) == []  # temporary files are gone


@needs_beagle
def test_beagle_keeps_sample_order_and_reports_failure(cohort):
    small = cohort[:12, :60]
    order = np.random.default_rng(0).permutation(12)
    shuffled = GenotypeMatrix.from_numpy(small.to_numpy()[order], ids=small.ids[order], variants=small.variants)
    masked, _ = mask_calls(shuffled, 0.05, seed=2)
    calls = impute_genotypes_with_beagle(masked).calls
    observed = masked.to_numpy()
    np.testing.assert_array_equal(calls[observed >= 0], observed[observed >= 0])
    with pytest.raises(RuntimeError, match=r"Beagle failed \(exit 1\):\n.*nthreads"):
        impute_genotypes_with_beagle(masked, nthreads=0)
    with pytest.raises(FileNotFoundError, match="no such Beagle jar"):
        impute_genotypes_with_beagle(masked, jar="/nonexistent/beagle.jar")


@needs_beagle
def test_phase_with_beagle_keeps_every_called_genotype_in_sample_order(cohort, haplotypes):
    """Beagle's haplotypes sum to each sample's dosage wherever it was called, fill what was missing, keep the
    input's sample order (shuffled here) and SNPs, and phase better than chance: switch errors against the
    simulated truth, counted between consecutive heterozygous sites."""
    from genofast.impute.beagle import phase_with_beagle

    order = np.random.default_rng(1).permutation(len(cohort))
    shuffled = GenotypeMatrix.from_numpy(cohort.to_numpy()[order], ids=cohort.ids[order], variants=cohort.variants)
    masked, _ = mask_calls(shuffled, 0.02, seed=3)
    run = phase_with_beagle(masked, seed=1)
    h = run.haplotypes
    assert h.n_haplotypes == 2 * len(cohort) and not h.has_missing
    assert [str(i).rsplit("_", 1)[0] for i in h.ids[::2]] == list(map(str, shuffled.ids))
    np.testing.assert_array_equal(h.variants.position, cohort.variants.position)
    observed, phased = masked.to_numpy(), h.to_genotypes().to_numpy()
    np.testing.assert_array_equal(phased[observed >= 0], observed[observed >= 0])
    truth = haplotypes.to_numpy().reshape(len(cohort), 2, -1)[order]
    got = h.to_numpy().reshape(len(cohort), 2, -1)
    switches = sites = 0
    for t, g in zip(truth, got):
        het = np.flatnonzero((t[0] != t[1]) & (g[0] != g[1]))
        same = t[0, het] == g[0, het]  # which of Beagle's haplotypes carries truth's first one, site by site
        switches += int((same[1:] != same[:-1]).sum())
        sites += max(het.size - 1, 0)
    assert switches / sites < 0.2, switches / sites  # random phasing: 0.5


@needs_beagle
def test_trio_beagle_returns_children(haplotypes):
    from genofast.impute import Trios, mask_offspring

    h = haplotypes[:, :80].to_numpy().astype(np.int8)  # rows 2i, 2i+1: individual i
    fathers, mothers = np.arange(0, 16, 2), np.arange(16, 32, 2)
    child = h[fathers] + h[mothers + 1]  # one haplotype from each parent
    ids = [np.array([f"{who}{i}" for i in range(8)]) for who in ("father", "mother", "child")]
    trios = Trios(h[fathers] + h[fathers + 1], h[mothers] + h[mothers + 1], child, haplotypes.variants[:80], *ids)
    masked = mask_offspring(trios, 0.2, seed=1)
    dosage, seconds = impute_with_beagle(masked, seed=1, nthreads=1)
    assert dosage.shape == trios.child.shape and dosage.dtype == np.float64 and seconds > 0
    kept = masked.child >= 0
    np.testing.assert_array_equal(dosage[kept], masked.child[kept])
    assert set(np.unique(dosage)) <= {0.0, 1.0, 2.0}


# --- reference panels ------------------------------------------------------------------------------------------------


def test_typed_sites_and_panel_scores_by_hand():
    from genofast.impute import panel_scores, typed_sites

    panel = Variants(np.array(["1"] * 4), np.array([10, 20, 20, 40]), np.array(["."] * 4), np.array(["A", "C", "C", "G"]),
                     np.array(["G", "T", "A", "T"]))
    array = Variants(np.array(["1", "1", "2"]), np.array([20, 40, 10]), np.array(["."] * 3), np.array(["C", "T", "A"]),
                     np.array(["A", "G", "G"]))
    # 20 C>A is typed; 40 is typed with swapped alleles (G>T vs T>G), so not the same site; 2:10 is not 1:10
    np.testing.assert_array_equal(typed_sites(panel, array), [False, False, True, False])

    truth = np.array([[0, 1, 2, 1], [2, 1, 0, -1], [1, 0, 1, 2]])
    dosages = np.array([[0.1, 1.2, 2, 0.7], [1.8, 0.9, 0, 2.0], [1.0, 0.2, 1, 1.9]], np.float32)
    calls = np.array([[0, 1, 2, 1], [2, 2, 0, 2], [1, 0, 1, 2]])
    maf = np.array([0.005, 0.03, 0.3, 0.4])
    rows = panel_scores(dosages, calls, truth, maf, np.array([True, True, False, True]), bins=(0, 0.01, 0.05, 0.5))
    assert [r["bin"] for r in rows] == ["(0, 0.01]", "(0.01, 0.05]", "(0.05, 0.5]"]
    assert [r["sites"] for r in rows] == [1, 1, 1]
    # site 0: calls all right; r of (0.1, 1.8, 1.0) with (0, 2, 1)
    r = np.corrcoef([0.1, 1.8, 1.0], [0, 2, 1])[0, 1]
    assert rows[0]["concordance"] == 1 and rows[0]["r2"] == pytest.approx(r * r)
    # site 1: one wrong call of three; site 2 (typed) is left out; site 3: the missing truth is not scored
    assert rows[1]["concordance"] == pytest.approx(2 / 3)
    r = np.corrcoef([1.2, 0.9, 0.2], [1, 1, 0])[0, 1]
    assert rows[1]["r2"] == pytest.approx(r * r)
    assert rows[2]["concordance"] == 1
    r = np.corrcoef([0.7, 1.9], [1, 2])[0, 1]
    assert rows[2]["r2"] == pytest.approx(r * r)


@needs_beagle
def test_real_panel_imputes_untyped_sites(haplotypes, tmp_path):
    from genofast.impute import impute_from_panel, panel_benchmark
    from genofast.models import Bernoulli

    panel, rest = haplotypes[:150], haplotypes[150:]
    truth = rest.to_genotypes()
    typed = np.arange(0, truth.n_snps, 4)
    targets = truth[:, typed]
    run = impute_from_panel(targets, panel, seed=1, workdir=tmp_path)
    t = truth.to_numpy()
    assert run.dosages.shape == t.shape and list(tmp_path.iterdir()) == []
    np.testing.assert_array_equal(run.calls[:, typed], t[:, typed])  # typed calls come back as given
    untyped = np.setdiff1d(np.arange(t.shape[1]), typed)
    accuracy = (run.calls[:, untyped] == t[:, untyped]).mean()
    counts = np.stack([(panel.to_genotypes().to_numpy() == k).sum(0) for k in range(3)])
    baseline = (counts.argmax(0)[untyped] == t[:, untyped]).mean()  # the panel's most frequent genotype
    assert accuracy > baseline + 0.05, (accuracy, baseline)
    result = panel_benchmark(panel, targets, truth, {"Bernoulli": lambda h, s: Bernoulli().fit(h).sample(150, s)},
                             seed=1, workdir=tmp_path, progress=None)
    r2 = {(r["panel"], r["bin"]): r["r2"] for r in result.rows}
    common = "(0.2, 0.5]"
    # a panel of independent SNPs carries no linkage: the real panel imputes common sites far better
    assert r2[("real", common)] > r2[("Bernoulli AG", common)] + 0.2
    assert set(result.seconds) == {"real", "Bernoulli AG", "real + Bernoulli AG"}
    result.write(tmp_path / "panel.html")
    assert "Artificial genomes as reference panels" in (tmp_path / "panel.html").read_text()


def test_panel_inputs_are_checked_before_beagle_runs(haplotypes, tmp_path):
    from genofast.impute import impute_from_panel, panel_benchmark

    jar = tmp_path / "beagle.jar"  # never started: every check comes first
    jar.write_bytes(b"")
    panel, truth = haplotypes[:40, :30], haplotypes[40:60, :30].to_genotypes()
    with pytest.raises(ValueError, match="1 target sites are not in the panel"):
        impute_from_panel(haplotypes[40:60, :31].to_genotypes(), panel, jar=str(jar))
    holed = panel.to_numpy().astype(np.int8)
    holed[3, 4] = -1
    with pytest.raises(ValueError, match="fully called"):
        impute_from_panel(truth[:, :10], HaplotypeMatrix.from_numpy(holed, variants=panel.variants), jar=str(jar))
    with pytest.raises(ValueError, match="truth must hold the targets' samples"):
        panel_benchmark(panel, truth[:, :10], truth[:5], {}, jar=str(jar))
    with pytest.raises(ValueError, match="generator 'short' must return a HaplotypeMatrix of 40 x 30"):
        panel_benchmark(panel, truth[:, :10], truth, {"short": lambda h, s: h[:10]}, jar=str(jar), progress=None)
