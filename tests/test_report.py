import re

import numpy as np

import pytest

import genofast
from genofast.models import Bernoulli
from genofast.report import SECTIONS


def test_report_has_every_section_and_figure(tmp_path, rng):
    from genofast.simulate import simulate

    h = simulate(300, 400, seed=2).haplotypes
    train, holdout = h[:240], h[240:]
    syn = {"bernoulli": Bernoulli().fit(train).sample(240, seed=1), "copy": train[::-1]}
    r = genofast.evaluate(train, syn, out=tmp_path / "r.html", holdout=holdout, n_splits=2)
    page = (tmp_path / "r.html").read_text()
    for s in SECTIONS:
        assert f'id="{s}"' in page
    alts = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', page)
    assert alts == ["allele frequency scatter", "LD heatmaps", "LD decay", "PCA", "distances", "8-mers", "3-point",
                    "radar chart", "privacy-utility"]
    # the copy set is all exact copies with AATS 0 and leaks membership; the baseline loses LD
    assert r.table["copy"]["exact copies"] == 240 and r.table["copy"]["AATS"] == 0.0
    assert r.table["copy"]["MIA AUC"] > 0.9
    assert r.table["bernoulli"]["LD decay r"] < r.table["copy"]["LD decay r"]
    assert r.table["bernoulli"]["AF r"] > 0.95
    assert set(r.table) == {"bernoulli", "copy"}



def test_report_on_unphased_genotypes(tmp_path, rng):
    """A real set of unphased genotypes: every statistic but the haplotype motifs, on dosages, distances as allele
    differences; synthetic haplotypes are paired into individuals (rows 2i, 2i+1), as to_genotypes() does."""
    from scipy.spatial.distance import cdist

    from genofast import GenotypeMatrix, metrics
    from genofast.simulate import simulate

    h = simulate(300, 400, seed=2).haplotypes
    real, holdout = h[:200].to_genotypes(), h[200:].to_genotypes()
    hap = Bernoulli().fit(h[:200]).sample(200, seed=1)
    r = genofast.evaluate(real, {"paired": hap, "genotypes": hap.to_genotypes()}, out=tmp_path / "r.html",
                          holdout=holdout, n_splits=2)
    assert r.table["paired"] == r.table["genotypes"]
    row = r.table["genotypes"]
    assert "8-mer r" not in row and "4-mer r" not in row and 0 <= row["aggregate score"] <= 1
    g, s = real.to_numpy(), hap.to_genotypes().to_numpy()
    assert row["AF r"] == pytest.approx(np.corrcoef(g.mean(0) / 2, s.mean(0) / 2)[0, 1])
    d_ts, d_tt, d_ss = cdist(g, s, "cityblock"), cdist(g, g, "cityblock"), cdist(s, s, "cityblock")
    np.fill_diagonal(d_tt, np.inf)
    np.fill_diagonal(d_ss, np.inf)
    assert row["AATS"] == pytest.approx(((d_ts.min(1) > d_tt.min(1)).mean() + (d_ts.min(0) > d_ss.min(1)).mean()) / 2)
    assert row["privacy loss"] == pytest.approx(metrics.privacy_loss(real, holdout, hap.to_genotypes()))
    page = (tmp_path / "r.html").read_text()
    assert 'id="kmers"' not in page and "100 individuals x 400 SNPs" in page and "allele differences" in page
    assert "paired into 100 individuals" in page
    with pytest.raises(ValueError, match="real set phased haplotypes: pass the real set as genotypes"):
        genofast.evaluate(h[:200], real)
    with pytest.raises(ValueError, match="has 199 haplotypes, an odd number"):
        genofast.evaluate(real, hap[:199])
    with pytest.raises(ValueError, match="selection scans need phased haplotypes"):
        genofast.evaluate(real, hap, scans=object())  # refused before any scan is read
    # per population: labels per individual, synthetic ones by the nearest real individual (L1)
    labels = np.repeat(["A", "B"], 50)
    r = genofast.evaluate(real, hap, populations=labels, classifiers=False)
    nearest = cdist(s, g, "cityblock").argmin(1)
    for p in ("A", "B"):
        row = r.populations["synthetic"][p]
        assert row["synthetic share"] == pytest.approx(np.mean(labels[nearest] == p))
        assert np.isnan(row["8-mer r"]) and 0 <= row["AATS"] <= 1
    with pytest.raises(ValueError, match="101 population labels for 100 real individuals"):
        genofast.evaluate(real, hap, populations=np.zeros(101, int))
    assert isinstance(real, GenotypeMatrix)


def test_evaluate_averages_the_privacy_loss_over_subsamples(rng):
    from genofast import HaplotypeMatrix, metrics

    pop = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (150, 50), dtype=np.uint8))
    train, holdout, syn = pop[:90], pop[90:120], pop[120:]
    r = genofast.evaluate(train, syn, holdout=holdout, classifiers=False, privacy_subsamples=4)
    # the same draws of 30 of the 90 training rows as the metric's (seeds 0-3)
    want = np.mean([metrics.privacy_loss(train, holdout, syn, seed=s) for s in range(4)])
    assert r.table["synthetic"]["privacy loss"] == pytest.approx(want)
    with pytest.raises(ValueError, match="privacy_subsamples must be an integer at least 1, got 0"):
        genofast.evaluate(train, syn, holdout=holdout, privacy_subsamples=0)

def test_user_strings_are_escaped_and_scripts_forbidden(tmp_path, rng):
    import numpy as np

    from genofast import HaplotypeMatrix, Variants

    n = 60
    v = Variants(np.full(n, "<script>alert(1)</script>"), np.arange(1, n + 1) * 100,
                 np.array([f"s{i}" for i in range(n)]), np.full(n, "A"), np.full(n, "G"))
    real = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (40, n)), variants=v)
    syn = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (40, n)), variants=v)
    names = {"<script>alert(2)</script>": syn, "x<img src=x onerror=alert(3)>.hapt": syn}
    genofast.evaluate(real, names, out=tmp_path / "r.html", classifiers=False)
    page = (tmp_path / "r.html").read_text()
    assert "<script" not in page and "<img src=x" not in page and "onerror=alert(3)>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;script&gt;alert(2)" in page
    assert "x&lt;img src=x onerror=alert(3)&gt;.hapt" in page
    assert re.search(r'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:',
                     page)


def test_report_states_missing_rate(tmp_path, rng):
    import numpy as np

    from genofast import HaplotypeMatrix

    a = rng.integers(0, 2, (50, 40)).astype(np.int8)
    a[:, :10][rng.random((50, 10)) < 0.2] = -1
    real = HaplotypeMatrix.from_numpy(a)
    syn = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (50, 40)))
    r = genofast.evaluate(real, {"s": syn}, out=tmp_path / "r.html", classifiers=False)
    expect = 100 * (a < 0).mean()
    assert r.missing_rates["real"] == pytest.approx((a < 0).mean()) and r.missing_rates["s"] == 0
    assert f"real {expect:.2f}%" in (tmp_path / "r.html").read_text()
    # frequencies over called alleles, not missing read as a value
    np.testing.assert_allclose(r.details["s"]["af"].real, np.where(a >= 0, a, 0).sum(0) / (a >= 0).sum(0))


def _row(**kw):
    row = {"AF r": 0.9, "AF r (real freq <= 0.2)": 0.8, "LD level score": 0.6, "LD r² window r": 0.7, "8-mer r": 0.5,
           "AATS": 0.6, "exact copies share": 0.0}
    row.update(kw)
    return row


def test_aggregate_score_on_hand_made_rows():
    from genofast.report import scoring

    row = _row()
    u, p = scoring.utility_privacy(row)
    assert u == pytest.approx((0.8 + 0.6 + 0.7 + 0.5) / 4) and p == pytest.approx(0.8)  # 1 - 2 |0.6 - 0.5|
    assert scoring.aggregate(row) == pytest.approx(2 * 0.65 * 0.8 / 1.45)
    # optional columns join their side: classifiers and 3-point realism, holdout privacy (the lowest counts)
    full = _row(**{"3-point r": -0.2, "MLP accuracy": 0.7, "kNN accuracy": 0.5, "privacy loss": 0.1,
                   "MIA AUC": 0.55})
    u, p = scoring.utility_privacy(full)
    assert u == pytest.approx((0.8 + 0.6 + 0.7 + 0.5 + 0.0 + 0.8) / 6)  # 3-point clipped to 0; 1 - 2 * 0.1
    assert p == pytest.approx(0.8)  # min(AATS 0.8, copies 1, loss 0.8, membership 0.9)
    # a copier has no privacy and scores 0 however realistic; perfect on every axis scores 1
    assert scoring.aggregate(_row(**{"exact copies share": 1.0, "AATS": 0.0})) == 0.0
    perfect = _row(**{"AF r (real freq <= 0.2)": 1.0, "LD level score": 1.0, "LD r² window r": 1.0, "8-mer r": 1.0,
                      "AATS": 0.5})
    assert scoring.aggregate(perfect) == 1.0
    # NaN low-frequency r (no such SNPs) falls back to r over all SNPs
    assert scoring.realism(_row(**{"AF r (real freq <= 0.2)": float("nan")}))["allele freq."] == 0.9


def test_report_population_and_selection_sections(tmp_path):
    from genofast.metrics import selection_scans
    from genofast.simulate import simulate

    sim = simulate(180, 300, seed=4)
    h, pops = sim.haplotypes, sim.populations
    a = np.flatnonzero(pops == "A")
    syn = {"bernoulli": Bernoulli().fit(h).sample(180, seed=2), "copy": h[::-1]}
    scans = selection_scans(h, pops, {"bernoulli": syn["bernoulli"][:60], "copy": h[a[::-1]]}, focal="A")
    r = genofast.evaluate(h, syn, out=tmp_path / "r.html", populations=pops, scans=scans, classifiers=False)
    page = (tmp_path / "r.html").read_text()
    for s in ("populations", "selection"):
        assert f'id="{s}"' in page
    assert 'id="structure"' not in page  # UMAP/Isomap only when asked
    assert "SNP positions are unknown" not in page and r.positions_known
    assert set(r.populations["copy"]) == {"A", "B", "C"}
    assert r.populations["copy"]["B"]["exact copies"] == 60 and r.populations["copy"]["B"]["AATS"] == 0.0
    assert r.table["copy"]["XP-EHH r"] == pytest.approx(1.0) and r.table["copy"]["aggregate score"] == 0.0
    assert 0 < r.table["bernoulli"]["aggregate score"] < 1
    alts = re.findall(r'<img alt="([^"]+)"', page)
    assert {"per-population statistics", "XP-EHH scan", "iHS scan", "PBS scan"} <= set(alts)


def test_given_synthetic_populations_replace_nearest_neighbour_labels():
    from genofast.metrics import population
    from genofast.simulate import simulate

    sim = simulate(120, 200, seed=4)
    h, pops = sim.haplotypes, sim.populations
    syn = Bernoulli().fit(h).sample(90, seed=2)
    given = np.array(["A", "B", "C"] * 30)
    r = genofast.evaluate(h, {"s": syn, "t": syn}, populations=pops, synthetic_populations={"s": given},
                          classifiers=False)
    assert list(r.details["s"]["labels"]) == list(given)
    assert list(r.details["t"]["labels"]) == list(population.assign(h, pops, syn))  # the default: nearest real
    assert r.populations["s"]["A"] == pytest.approx(population.per_population(h, pops, syn, given)["A"], nan_ok=True)
    with pytest.raises(ValueError, match=r"synthetic_populations\['s'\] has 89 labels for 90 haplotypes"):
        genofast.evaluate(h, {"s": syn}, populations=pops, synthetic_populations={"s": given[:89]},
                          classifiers=False)


def test_report_warns_when_positions_are_unknown(tmp_path, rng):
    from genofast import HaplotypeMatrix

    a = rng.integers(0, 2, (40, 30))
    r = genofast.evaluate(HaplotypeMatrix.from_numpy(a), {"s": HaplotypeMatrix.from_numpy(a[::-1])},
                          out=tmp_path / "r.html", classifiers=False)
    assert not r.positions_known
    page = (tmp_path / "r.html").read_text()
    assert page.count("SNP positions are unknown") == 2  # summary and LD sections


def test_report_flags_planted_copies_in_the_summary(tmp_path, rng):
    real = genofast.HaplotypeMatrix.from_numpy((rng.random((40, 80)) < 0.3).astype(np.uint8))
    fresh = (rng.random((40, 80)) < 0.3).astype(np.uint8)
    planted = fresh.copy()
    planted[[3, 17]] = real.to_numpy()[[5, 9]]  # two training haplotypes copied verbatim
    result = genofast.evaluate(real, {"clean": genofast.HaplotypeMatrix.from_numpy(fresh),
                                      "leaky": genofast.HaplotypeMatrix.from_numpy(planted)},
                               out=tmp_path / "r.html", classifiers=False)
    assert result.table["leaky"]["exact copies"] == 2 and result.table["clean"]["exact copies"] == 0
    page = (tmp_path / "r.html").read_text()
    summary = page[page.index('id="summary"'):page.index('id="allele-frequencies"')]
    assert re.search(r'class="warning">Privacy: synthetic set (&#39;|\')leaky(&#39;|\') holds 2 exact copies', summary)
    assert "clean" not in re.findall(r'class="warning">([^<]*)', summary)[0]


def test_evaluate_names_each_lengthy_stage_as_it_starts(tmp_path, rng):
    from genofast import HaplotypeMatrix

    pop = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (150, 50), dtype=np.uint8))
    train, holdout, syn = pop[:90], pop[90:120], pop[120:]
    stages = []
    r = genofast.evaluate(train, {"s": syn}, out=tmp_path / "r.html", holdout=holdout, classifiers=False,
                          stage=stages.append)
    names = ["statistics of the real set", "LD decay (s)", "PCA (s)", "distance histograms (s)", "k-mers (s)",
             "AATS (s)", "LD fidelity (s)", "3-point correlations (s)", "privacy loss (s)", "writing the report"]
    assert stages == [f"{n}, {k} of 10" for k, n in enumerate(names, start=1)]
    # the count matches what runs, whichever statistics the options add or remove
    geno = pop.to_genotypes()
    for real, sets, options in ((geno[:45], {"a": geno[45:60], "b": pop[120:]},
                                 dict(populations=np.repeat(["X", "Y", "Z"], 15), n_splits=2)),
                                (train[:, :2], {"s": syn[:, :2]}, dict(classifiers=False, holdout=holdout[:, :2]))):
        seen = []
        genofast.evaluate(real, sets, stage=seen.append, **options)
        total = len(seen)
        assert [s.rsplit(", ", 1)[1] for s in seen] == [f"{k} of {total}" for k in range(1, total + 1)]
    plain = genofast.evaluate(train, {"s": syn}, holdout=holdout, classifiers=False)
    assert r.table["s"].keys() == plain.table["s"].keys()
    for k, v in plain.table["s"].items():
        assert r.table["s"][k] == v or (np.isnan(v) and np.isnan(r.table["s"][k])), k
