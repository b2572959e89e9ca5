"""The HTML page of an :class:`~genofast.report.Evaluation`: sections of text, tables and PNG figures.

Rendered through an autoescaping jinja2 template under a Content-Security-Policy
that allows no script, so no user string (set, file, sample, population or
chromosome name) reaches the page raw.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from ..io._files import atomic_path
from ..matrix import GenotypeMatrix
from . import scoring as scores

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>genofast evaluation</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
img { max-width: 100%; display: block; margin: 1em 0; }
section { border-top: 1px solid #ddd; margin-top: 2em; }
.warning { background: #fff3cd; border: 1px solid #e0c060; padding: 0.5em; }
.scroll { overflow-x: auto; }
</style></head><body>
<h1>{{ title }}</h1>
<nav>{% for s in sections %}<a href="#{{ s.anchor }}">{{ s.anchor.replace("-", " ") }}</a>{% endfor %}</nav>
{% for s in sections %}<section id="{{ s.anchor }}"><h2>{{ s.title }}</h2>
{% for w in s.warnings %}<p class="warning">{{ w }}</p>{% endfor %}
{% for p in s.text %}<p>{{ p }}</p>{% endfor %}
{% for item in s.content %}{% if item.png %}<img alt="{{ item.alt }}" src="data:image/png;base64,{{ item.png }}">
{% else %}{% if item.caption %}<h3>{{ item.caption }}</h3>{% endif %}<div class="scroll"><table>
<tr><th>{{ item.corner }}</th>{% for c in item.columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for name, cells in item.rows %}<tr><th>{{ name }}</th>{% for v in cells %}<td>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table></div>
{% endif %}{% endfor %}</section>
{% endfor %}</body></html>
"""


def _img(png: bytes, alt: str) -> dict:
    return {"png": base64.b64encode(png).decode(), "alt": alt}


def _cell(v) -> str:
    return f"{v:.3f}" if isinstance(v, (float, np.floating)) else str(v)


def _table(table: dict, corner: str = "set", caption: str = "", transpose: bool = False) -> dict:
    """Rows are the outer keys (sets); ``transpose`` puts statistics in rows, for many statistics and few sets."""
    cols = list(dict.fromkeys(k for row in table.values() for k in row))
    if transpose:
        rows = [(c, [_cell(row.get(c, "")) for row in table.values()]) for c in cols]
        return {"png": None, "columns": list(table), "rows": rows, "corner": corner, "caption": caption}
    rows = [(name, [_cell(row.get(c, "")) for c in cols]) for name, row in table.items()]
    return {"png": None, "columns": cols, "rows": rows, "corner": corner, "caption": caption}


def _render(sections: list[dict], title: str = "How real are these artificial genomes?") -> str:
    """The page; every user string (set, file, chromosome names) is escaped by the template engine."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_PAGE).render(sections=sections, title=title)


def write_panel_page(result, path) -> None:
    """The page of a :class:`~genofast.impute.panel.PanelBenchmark`: figure, table and Beagle times."""
    text = ["Untyped sites of the targets imputed by Beagle from each reference panel, scored against the "
            "targets' true genotypes per minor-allele-frequency bin of the real panel (sites per bin in "
            "brackets): genotype concordance / aggregate dosage r². The real panel is the bar to reach.",
            "Beagle seconds: " + ", ".join(f"{n} {t:.0f}" for n, t in result.seconds.items()) + "."]
    section = {"anchor": "panels", "title": "Artificial genomes as reference panels", "text": text,
               "content": [_img(result.figure(), "imputation accuracy by allele frequency"),
                           _table(result.table(), corner="panel")], "warnings": []}
    page = _render([section], title="Imputation from artificial reference panels")
    with atomic_path(Path(path)) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")


HEADLINE = ("aggregate score", "AF r", "AF r (real freq <= 0.2)", "LD decay r", "LD r² MAD by distance",
            "LD level score", "LD r² window r", "8-mer r", "3-point r", "AATS", "exact copies", "privacy loss",
            "MIA AUC", "XP-EHH r", "iHS r", "PBS r")


def write_report(result, real, real_ld, tie: str, labels) -> None:
    from . import figures

    table, details = result.table, result.details
    utility = {n: (r["AATS"], *scores.utility_privacy(r), r["aggregate score"]) for n, r in table.items()}
    pick = lambda keys: {n: {k: r[k] for k in keys if k in r} for n, r in table.items()}  # noqa: E731
    sec = []

    def section(anchor, title, text, *content, warnings=()):
        sec.append({"anchor": anchor, "title": title, "text": [text] if isinstance(text, str) else text,
                    "content": content, "warnings": list(warnings)})

    no_positions = [] if result.positions_known else [
        "SNP positions are unknown (placeholder metadata): distances between SNPs are differences of their index, "
        "not base pairs, so LD decay and the LD-by-distance numbers bin SNP pairs by how many SNPs apart they are."]
    geno = isinstance(real, GenotypeMatrix)
    unit = "individuals" if geno else "haplotypes"  # what a row is
    rates = ", ".join(f"{n} {100 * r:.2f}%" for n, r in result.missing_rates.items())
    missing = (
        f"Missing calls: {rates}. The sets are unphased genotypes (dosages 0, 1, 2): allele frequencies are "
        "dosage / 2 over called individuals, r² the squared correlation of dosages over individuals called at "
        "both SNPs, 3-point correlations over individuals called at all three SNPs; PCA and classifiers replace a "
        "missing call by the real SNP mean. Distances count the allele copies in which two individuals differ (L1 "
        "on dosages), a missing call at the set's most frequent dosage. Haplotype motifs (k-mers) need phased "
        "haplotypes and are left out." if geno else
        f"Missing alleles: {rates}. Frequencies and r² are computed over called alleles (r² over haplotypes "
        "called at both SNPs), k-mers over haplotypes called across the window, 3-point correlations over "
        "haplotypes called at all three SNPs; PCA and classifiers replace a missing allele by the real SNP mean; "
        "distances and privacy metrics by the set's major allele.")
    summary = [f"Real set: {len(real)} {unit} x {real.n_snps} SNPs. Synthetic sets: "
               + ", ".join(f"{n} ({d['aats'].d_syn_real.size} {unit})" for n, d in details.items()) + ".",
               missing,
               *result.alignment_notes.values(),
               "Headline numbers below (every number is in its section); the aggregate score is defined in the "
               "overview."]
    copies = [f"Privacy: synthetic set {n!r} holds {r['exact copies']} exact copies of real (training) {unit} "
              f"({100 * r['exact copies share']:.1f}%); do not release it as is."
              for n, r in table.items() if r.get("exact copies", 0) > 0]
    section("summary", "Summary", summary, _table(pick(HEADLINE), corner="statistic", transpose=True),
            warnings=copies + no_positions)
    section("allele-frequencies", "Allele frequencies",
            "Frequency of allele 1 per SNP, real vs synthetic; r over all SNPs and over SNPs with real frequency "
            "at most 0.2.", _img(figures.allele_frequencies(details), "allele frequency scatter"),
            _table(pick(["AF r", "AF r (real freq <= 0.2)", "fixed SNPs real", "fixed SNPs synthetic"])))
    section("linkage-disequilibrium", "Linkage disequilibrium",
            [f"r² between the first {real_ld.shape[0]} SNPs of chromosome {real.variants.chrom[0]} (real above the "
             "diagonal, synthetic below), and mean r² by distance (50 log-spaced bins, pairs within chromosomes).",
             "LD decay r correlates the two curves and ignores their level: a set whose LD is uniformly too weak "
             "can still score near 1. The magnitude is in the other columns: the mean absolute difference of mean "
             "r² per distance bin (0 best), the LD level score 1 − that difference / the mean real r² per bin, and "
             "the Pearson r of the r² of every SNP pair within non-overlapping 50-SNP windows, real vs synthetic."],
            _img(figures.ld_heatmaps(real_ld, details), "LD heatmaps"),
            _img(figures.ld_decay(details), "LD decay"),
            _table(pick(["LD decay r", "LD r² MAD by distance", "LD level score", "LD r² window r"])),
            warnings=no_positions)
    section("pca", "Principal components", f"PCA fitted on the real {unit}; synthetic ones projected onto the "
            "same axes (PC1-PC2, PC3-PC4, PC5-PC6).", _img(figures.pca(details), "PCA"))
    if all("umap" in d for d in details.values()):
        section("structure", "UMAP and Isomap", f"Fitted on the real {unit} (after reduction to 50 real "
                f"principal components), synthetic {unit} projected with the fitted map; real in circles, "
                "synthetic in crosses" + (", coloured by population (synthetic: label of the nearest real "
                "haplotype unless given)." if labels is not None else "."),
                _img(figures.embeddings(details, labels), "UMAP and Isomap"))
    section("distances", "Pairwise distances (allele differences)" if geno else "Pairwise Hamming distances",
            "Distribution of all pairwise distances within the real set, within the synthetic set and between "
            "them.", _img(figures.distances(details), "distances"))
    if all("kmer8" in d for d in details.values()):
        section("kmers", "Haplotype motifs (k-mers)", "Frequencies of the 2^k motifs in non-overlapping windows of "
                "k SNPs, real vs synthetic (8-mers shown).",
                _img(figures.scatter_pairs(details, "kmer8", "8-mer frequency"), "8-mers"),
                _table(pick(["4-mer r", "8-mer r"])))
    if all("three_point" in d for d in details.values()):
        section("three-point", "3-point correlations", "Connected 3-point correlations of SNP triplets within "
                "20 consecutive SNPs, real vs synthetic on the same triplets.",
                _img(figures.scatter_pairs(details, "three_point", "3-point correlation"), "3-point"),
                _table(pick(["3-point r"])))
    if all("classifiers" in d for d in details.values()):
        section("classifiers", "Real-vs-synthetic classifiers", "Accuracy of classifiers told to separate real "
                f"from synthetic {unit} (balanced classes, 67/33 split, mean of several splits); 0.5 means "
                "indistinguishable. Far below 0.5 the sets are told apart too, by a classifier consistently wrong "
                "(seen with the linear model on many more SNPs than samples); the aggregate score counts the "
                "distance from 0.5 either way.",
                _table(pick([k for k in next(iter(table.values())) if "accuracy" in k])))
    section("privacy", "Privacy", f"Nearest-neighbour adversarial accuracy (tie rule: {tie}); 0.5 is ideal, "
            f"values near 0 mean the synthetic set copies real {unit}. Privacy loss and membership inference "
            "appear when a held-out real set is given.",
            _table(pick(["AATS", "AA_truth", "AA_syn", "exact copies", "privacy loss", "MIA AUC"])))
    if result.populations:
        section("populations", "Per population", "The statistics above within each population label: real "
                f"{unit} of a population against the synthetic {unit} labelled with it (by default the "
                f"label of the nearest real one, so the synthetic share shows over- or under-generated "
                f"populations). Populations with fewer than 5 {unit} on either side show shares only.",
                _img(figures.per_population(result.populations), "per-population statistics"),
                *(_table(rows, corner="population", caption=name) for name, rows in result.populations.items()))
    if result.scans is not None:
        _selection_section(section, result.scans)
    if result.training:
        section("training", "Training and model selection",
                "Selection criteria measured on fresh samples every few epochs while the model trained (AA_truth "
                "and AA_syn with their targets, the accuracies two disjoint halves of the real training set score "
                "against each other; AF, LD and 3-point r against the training set; the selection score, lower is "
                "better). The dashed line marks the kept epoch.",
                _img(figures.training_traces(result.training), "training traces"))
    section("overview", "Overview", ["Normalised scores per set (1 best) and the privacy-utility trade-off; each "
                                     "point is labelled with its aggregate score.", scores.DEFINITION],
            _img(figures.radar({n: scores.radar(r) for n, r in table.items()}), "radar chart"),
            _img(figures.privacy_utility(utility), "privacy-utility"),
            _table({n: {"utility U": u, "privacy P": p, "aggregate score": a} for n, (_, u, p, a) in utility.items()}))
    page = _render(sec)
    with atomic_path(Path(result.report)) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")


def _selection_section(section, scans) -> None:
    from . import figures

    rows = {}
    for scan in scans.scans.values():
        best = int(np.nanargmax(np.where(np.isnan(scan.real_windows), -np.inf, scan.real_windows)))
        for name in scan.r:
            rows.setdefault(name, {})
            rows[name][f"{scan.name} r"] = scan.r[name]
            rows[name][f"{scan.name} top overlap"] = scan.top_overlap[name]
            rows[name][f"{scan.name}: rank of real top window"] = scan.real_top_rank(name)
        where = f"{scan.window_start[best]:,}-{scan.window_stop[best]:,} bp"
        rows.setdefault("real", {})[f"{scan.name} top window"] = where
    text = [f"Selection scans on the focal population {scans.focal} ({scans.n_real} real haplotypes), run on the "
            "real haplotypes and on each synthetic set in their place, against real comparison populations "
            f"({', '.join(scans.references)}): XP-EHH (standardised), iHS (standardised per allele-count bin) and "
            "PBS on windows of SNPs (scikit-allel). r is the Pearson correlation of real and synthetic scores (per "
            "SNP for XP-EHH and iHS, per window for PBS); top overlap is the share of the real top windows (top "
            "1%, grey bands) that are also top windows of the synthetic set; the rank of the real top window "
            "in the synthetic scan is 1 when the synthetic set puts its strongest signal at the same place."]
    figs = [_img(figures.selection_scan(scan), f"{scan.name} scan") for scan in scans.scans.values()]
    section("selection", "Selection scans", text, _table(rows, corner="set", transpose=True), *figs)
