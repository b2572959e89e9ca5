"""``evaluate``: every statistic of real vs synthetic haplotypes, and a self-contained HTML report."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import metrics
from ..io._files import atomic_path
from ..matrix import HaplotypeMatrix
from ..metrics import quality

SECTIONS = ("summary", "allele-frequencies", "linkage-disequilibrium", "pca", "distances", "kmers",
            "three-point", "classifiers", "privacy", "overview")


@dataclass
class Evaluation:
    """Numbers per synthetic set (``table``: name -> statistic -> value) and the raw results behind them."""

    table: dict
    details: dict = field(repr=False)
    report: Path | None = None

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame(self.table).T


def evaluate(real, synthetic, out=None, holdout=None, *, ld_snps: int = 200, n_triplets: int = 5000,
             classifiers: bool = True, n_splits: int = 5, seed: int = 0, tie: str = "strict") -> Evaluation:
    """Compare a real set with one or several synthetic sets and optionally write an HTML report.

    Parameters
    ----------
    real : HaplotypeMatrix, the training (or reference) haplotypes.
    synthetic : a HaplotypeMatrix, or a dict name -> HaplotypeMatrix for several models side by side.
    out : path of the HTML report (written atomically), or None for numbers only.
    holdout : optional real haplotypes not used in training, for privacy loss and membership inference.
    ld_snps : size of the LD heatmap region (the first SNPs of the first chromosome).
    """
    if isinstance(synthetic, HaplotypeMatrix):
        synthetic = {"synthetic": synthetic}
    if not synthetic:
        raise ValueError("no synthetic set to evaluate")
    real = real.to("cpu")
    chrom0 = real.variants.chrom[0]
    region = np.flatnonzero(real.variants.chrom == chrom0)[:ld_snps]
    real_ld = quality.ld_matrix(real, region)
    triplets = quality.sample_triplets(real.n_snps, n_triplets, seed=seed) if real.n_snps >= 3 else None
    c3_real = quality.three_point_correlations(real, triplets) if triplets is not None else None
    k4_real, k8_real = quality.kmer_frequencies(real, 4), quality.kmer_frequencies(real, 8)
    details, table = {}, {}
    for name, syn in synthetic.items():
        syn = syn.to("cpu")
        if syn.n_snps != real.n_snps:
            raise ValueError(f"synthetic set {name!r} has {syn.n_snps} SNPs, real has {real.n_snps}")
        d = {
            "af": quality.compare_allele_frequencies(real, syn),
            "ld_matrix": quality.ld_matrix(syn, region),
            "ld_decay": quality.ld_decay(real, syn, seed=seed),
            "pca": quality.pca(real, syn, seed=seed),
            "distances": quality.distance_distributions(real, syn),
            "kmer4": (k4_real.ravel(), quality.kmer_frequencies(syn, 4).ravel()),
            "kmer8": (k8_real.ravel(), quality.kmer_frequencies(syn, 8).ravel()),
            "aats": metrics.aats(real, syn, tie),
            "copies": metrics.copies(real, syn),
        }
        if triplets is not None:
            d["three_point"] = (c3_real, quality.three_point_correlations(syn, triplets))
        if classifiers:
            d["classifiers"] = quality.classifier_scores(real, syn, n_splits=n_splits, seed=seed)
        if holdout is not None:
            d["privacy_loss"] = metrics.privacy_loss(real, holdout, syn, tie)
            d["mia"] = metrics.membership_inference(real, holdout, syn)
        details[name] = d
        table[name] = _row(d)
    result = Evaluation(table, details)
    if out is not None:
        result.report = Path(out)
        _write_report(result.report, real, real_ld, details, table, tie)
    return result


def _corr(pair) -> float:
    x, y = pair
    return quality._pearson(np.asarray(x), np.asarray(y))


def _row(d: dict) -> dict:
    row = {
        "AF r": d["af"].r,
        "AF r (real freq <= 0.2)": d["af"].r_low,
        "fixed SNPs real": d["af"].fixed_real,
        "fixed SNPs synthetic": d["af"].fixed_synthetic,
        "LD decay r": d["ld_decay"].r,
        "4-mer r": _corr(d["kmer4"]),
        "8-mer r": _corr(d["kmer8"]),
        "AATS": d["aats"].aats,
        "AA_truth": d["aats"].aa_truth,
        "AA_syn": d["aats"].aa_syn,
        "exact copies": d["copies"].count,
    }
    if "three_point" in d:
        row["3-point r"] = _corr(d["three_point"])
    if "classifiers" in d:
        for k, v in d["classifiers"].accuracy.items():
            row[f"{k} accuracy"] = v
    if "privacy_loss" in d:
        row["privacy loss"] = d["privacy_loss"]
        row["MIA AUC"] = d["mia"].auc
    return row


def scores(row: dict) -> dict:
    """Normalised scores in [0, 1] (1 best) for the radar chart."""
    clip = lambda v: float(np.clip(np.nan_to_num(v), 0, 1))  # noqa: E731
    s = {"allele freq.": clip(row["AF r"]), "LD decay": clip(row["LD decay r"]), "8-mers": clip(row["8-mer r"])}
    if "3-point r" in row:
        s["3-point"] = clip(row["3-point r"])
    acc = [v for k, v in row.items() if k.endswith("accuracy")]
    if acc:
        s["indistinguishable"] = clip(1 - 2 * np.mean([abs(0.5 - a) for a in acc]))
    s["privacy (AATS)"] = clip(1 - 2 * abs(row["AATS"] - 0.5))
    return s


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _table(table: dict) -> str:
    cols = list(dict.fromkeys(k for row in table.values() for k in row))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for name, row in table.items():
        cells = []
        for c in cols:
            v = row.get(c, "")
            cells.append(f"<td>{v:.3f}</td>" if isinstance(v, float) else f"<td>{v}</td>")
        body.append(f"<tr><th>{html.escape(name)}</th>{''.join(cells)}</tr>")
    return f"<table><tr><th>set</th>{head}</tr>{''.join(body)}</table>"


def _write_report(path: Path, real: HaplotypeMatrix, real_ld, details: dict, table: dict, tie: str) -> None:
    from . import figures

    radar_scores = {n: scores(r) for n, r in table.items()}
    utility = {n: (r["AATS"], float(np.mean([v for k, v in radar_scores[n].items() if k != "privacy (AATS)"])))
               for n, r in table.items()}
    pick = lambda keys: {n: {k: r[k] for k in keys if k in r} for n, r in table.items()}  # noqa: E731
    sec = []

    def section(anchor, title, text, *content):
        sec.append(f'<section id="{anchor}"><h2>{html.escape(title)}</h2><p>{text}</p>{"".join(content)}</section>')

    section("summary", "Summary", f"Real set: {real.n_haplotypes} haplotypes x {real.n_snps} SNPs. "
            "Synthetic sets: " + ", ".join(f"{n} ({d['aats'].d_syn_real.size} haplotypes)" for n, d in details.items()) + ".",
            _table(table))
    section("allele-frequencies", "Allele frequencies",
            "Frequency of allele 1 per SNP, real vs synthetic; r over all SNPs and over SNPs with real frequency "
            "at most 0.2.", _img(figures.allele_frequencies(details), "allele frequency scatter"),
            _table(pick(["AF r", "AF r (real freq <= 0.2)", "fixed SNPs real", "fixed SNPs synthetic"])))
    section("linkage-disequilibrium", "Linkage disequilibrium",
            f"r² between the first {real_ld.shape[0]} SNPs of chromosome {real.variants.chrom[0]} (real above the "
            "diagonal, synthetic below), and mean r² by distance (50 log-spaced bins, pairs within chromosomes).",
            _img(figures.ld_heatmaps(real_ld, details), "LD heatmaps"),
            _img(figures.ld_decay(details), "LD decay"))
    section("pca", "Principal components", "PCA fitted on the real haplotypes; synthetic ones projected onto the "
            "same axes (PC1-PC2, PC3-PC4, PC5-PC6).", _img(figures.pca(details), "PCA"))
    section("distances", "Pairwise Hamming distances", "Distribution of all pairwise distances within the real "
            "set, within the synthetic set and between them.", _img(figures.distances(details), "distances"))
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
                "from synthetic haplotypes (balanced classes, 67/33 split, mean of several splits); 0.5 means "
                "indistinguishable.", _table(pick([k for k in next(iter(table.values())) if "accuracy" in k])))
    section("privacy", "Privacy", f"Nearest-neighbour adversarial accuracy (tie rule: {tie}); 0.5 is ideal, "
            "values near 0 mean the synthetic set copies real haplotypes. Privacy loss and membership inference "
            "appear when a held-out real set is given.",
            _table(pick(["AATS", "AA_truth", "AA_syn", "exact copies", "privacy loss", "MIA AUC"])))
    section("overview", "Overview", "Normalised scores per set (1 best) and the privacy-utility trade-off.",
            _img(figures.radar(radar_scores), "radar chart"), _img(figures.privacy_utility(utility), "privacy-utility"))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>genofast evaluation</title>
<style>
body {{ font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
nav a {{ margin-right: 1em; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
img {{ max-width: 100%; display: block; margin: 1em 0; }}
section {{ border-top: 1px solid #ddd; margin-top: 2em; }}
</style></head><body>
<h1>How real are these artificial genomes?</h1>
<nav>{''.join(f'<a href="#{s}">{s.replace("-", " ")}</a>' for s in SECTIONS)}</nav>
{''.join(sec)}
</body></html>
"""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(page)
