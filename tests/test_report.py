import re


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
