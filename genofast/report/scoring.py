"""One number per model: the report's realism and privacy columns mapped to [0, 1] and combined.

The seeds (Yelmen et al. 2023, S7/S11 Fig) draw these scores as a radar;
:func:`aggregate` makes the radar a number for the summary table and the
privacy-utility plot. The definition (``DEFINITION``) is printed in the report.
"""

from __future__ import annotations

import numpy as np

DEFINITION = (
    "Aggregate score = harmonic mean of utility U and privacy P, 2·U·P / (U + P), so a model needs both: "
    "a copier (P = 0) and noise (U near 0) both score near 0. "
    "U is the mean of the realism scores, each clipped to [0, 1]: allele frequencies (Pearson r of SNPs with real "
    "frequency <= 0.2, as in the seeds' radar; r over all SNPs when there are none), LD level (1 − mean |Δ r²| per "
    "distance bin / mean real r² per bin), LD pairs (Pearson r of pairwise r² within 50-SNP windows), 8-mers (r of "
    "motif frequencies, for haplotypes), 3-point (r of 3-point correlations, when computed) and indistinguishability "
    "(1 − 2·mean |0.5 − classifier accuracy|, when computed). "
    "P is the lowest of the privacy scores: AATS (1 − 2·|AATS − 0.5|), no copies (1 − share of synthetic "
    "haplotypes that are exact copies of real ones) and, with a holdout, privacy loss (1 − 2·max(0, loss)) and "
    "membership inference (1 − 2·|AUC − 0.5|): one leak is enough to lose privacy."
)


def _clip(v) -> float:
    v = float(v)
    return float("nan") if np.isnan(v) else float(np.clip(v, 0, 1))


def realism(row: dict) -> dict:
    """Realism scores in [0, 1] (1 best) from a summary-table row; absent statistics are left out."""
    af = row.get("AF r (real freq <= 0.2)", np.nan)
    s = {"allele freq.": _clip(row["AF r"] if np.isnan(af) else af)}
    if "LD level score" in row:
        s["LD level"] = _clip(row["LD level score"])
    if "LD r² window r" in row:
        s["LD pairs"] = _clip(row["LD r² window r"])
    if "8-mer r" in row:  # haplotype motifs: absent for unphased genotypes
        s["8-mers"] = _clip(row["8-mer r"])
    if "3-point r" in row:
        s["3-point"] = _clip(row["3-point r"])
    acc = [v for k, v in row.items() if k.endswith("accuracy")]
    if acc:
        s["indistinguishable"] = _clip(1 - 2 * np.mean([abs(0.5 - a) for a in acc]))
    return s


def privacy(row: dict) -> dict:
    """Privacy scores in [0, 1] (1 best) from a summary-table row."""
    s = {"AATS": _clip(1 - 2 * abs(row["AATS"] - 0.5)), "no copies": _clip(1 - row["exact copies share"])}
    if "privacy loss" in row:
        s["privacy loss"] = _clip(1 - 2 * max(0.0, row["privacy loss"]))
    if "MIA AUC" in row:
        s["membership"] = _clip(1 - 2 * abs(row["MIA AUC"] - 0.5))
    return s


def utility_privacy(row: dict) -> tuple[float, float]:
    """(U, P): mean realism score and lowest privacy score; NaN scores are left out."""
    r = [v for v in realism(row).values() if not np.isnan(v)]
    p = [v for v in privacy(row).values() if not np.isnan(v)]
    return (float(np.mean(r)) if r else float("nan"), float(min(p)) if p else float("nan"))


def aggregate(row: dict) -> float:
    """The documented aggregate score (see ``DEFINITION``) of one summary-table row."""
    u, p = utility_privacy(row)
    if np.isnan(u) or np.isnan(p):
        return float("nan")
    return 0.0 if u + p == 0 else float(2 * u * p / (u + p))


def radar(row: dict) -> dict:
    """The radar's axes: every realism score and P."""
    return {**realism(row), "privacy": utility_privacy(row)[1]}
