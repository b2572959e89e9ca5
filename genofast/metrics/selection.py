"""Selection scans on artificial genomes: does a scan run on AGs find the signals of the real data?

Yelmen et al. 2021 (Fig. 4) trained models on one population (Estonians), ran
XP-EHH and PBS on the real haplotypes and on the AGs, each against the same
real comparison populations (YRI; YRI and JPT), and compared the scores: r =
0.887 (RBM) and 0.902 (GAN) for XP-EHH, 0.755 and 0.923 for PBS. Here the
synthetic sets stand in for one *focal* population of a labelled real cohort;
comparison populations always come from the real data. The statistics are
scikit-allel's (Sabeti et al. 2007 for XP-EHH, Voight et al. 2006 for iHS,
Yi et al. 2010 for PBS), computed per chromosome on phased haplotypes with
base-pair positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..matrix import HaplotypeMatrix
from ._dense import _pearson

SCANS = ("XP-EHH", "iHS", "PBS")


@dataclass(frozen=True)
class Scan:
    """One statistic along the genome for the real focal population and each synthetic stand-in.

    Per-SNP statistics (XP-EHH, iHS) are also summarised per window of SNPs,
    the same windows as PBS, so that peaks can be ranked and compared.
    """

    name: str  # "XP-EHH", "iHS" or "PBS"
    label: str  # what was compared, e.g. "XP-EHH: A vs B"
    positions: np.ndarray  # bp position of each score (window middle for PBS)
    real: np.ndarray  # standardised scores of the real focal population (NaN where undefined)
    synthetic: dict  # set name -> scores on the same positions
    window_start: np.ndarray  # bp of the first and last SNP of each window
    window_stop: np.ndarray
    real_windows: np.ndarray  # window score: max XP-EHH, max |iHS|, PBS
    synthetic_windows: dict
    r: dict  # set name -> Pearson r of the scores over positions where both are defined
    top_overlap: dict  # set name -> share of the real top windows that are also top windows of the set
    n_top: int  # how many windows count as "top"

    def window_rank(self, position: int, name: str | None = None, flank: int = 0) -> int:
        """Rank (1 = highest) of the best window within ``flank`` bp of ``position``, real (None) or a synthetic set.

        A sweep leaves its footprint over tens to hundreds of kb, and the SNPs
        nearest the selected site are often lost to low diversity, so the peak
        can sit beside the site: ``flank`` says how near counts. Windows
        without a score rank last. Raises when no window is that near.
        """
        values = self.real_windows if name is None else self.synthetic_windows[name]
        inside = np.flatnonzero((self.window_start <= position + flank) & (self.window_stop >= position - flank))
        if inside.size == 0:
            raise ValueError(f"no {self.name} window contains position {position}")
        order = _descending_rank(values)
        return int(order[inside].min())

    def real_top_rank(self, name: str) -> int:
        """Rank in synthetic set ``name`` of the window that ranks first in the real set (1: same top window)."""
        best = int(np.argmin(_descending_rank(self.real_windows)))
        return int(_descending_rank(self.synthetic_windows[name])[best])


@dataclass(frozen=True)
class SelectionScans:
    """XP-EHH, iHS and PBS of a focal population, real vs each synthetic stand-in."""

    focal: str
    references: tuple  # comparison populations (real): XP-EHH uses the first, PBS the first two
    scans: dict  # scan name -> Scan
    n_real: int  # real focal haplotypes
    n_synthetic: dict  # set name -> haplotypes

    def table(self) -> dict:
        """set name -> {"XP-EHH r": ..., "XP-EHH top overlap": ..., ...} for the report's summary."""
        out = {}
        for scan in self.scans.values():
            for name in scan.r:
                row = out.setdefault(name, {})
                row[f"{scan.name} r"] = scan.r[name]
                row[f"{scan.name} top overlap"] = scan.top_overlap[name]
        return out


def _descending_rank(values: np.ndarray) -> np.ndarray:
    """1-based rank of each value from the highest; NaN ranks last; ties keep the earlier window first."""
    key = np.where(np.isnan(values), -np.inf, values)
    order = np.argsort(-key, kind="stable")
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(1, len(values) + 1)
    return rank


def _top_overlap(real: np.ndarray, other: np.ndarray, n_top: int) -> float:
    top_real = set(np.argsort(-np.nan_to_num(real, nan=-np.inf), kind="stable")[:n_top])
    top_other = set(np.argsort(-np.nan_to_num(other, nan=-np.inf), kind="stable")[:n_top])
    return len(top_real & top_other) / n_top


def _windows(n: int, size: int, step: int) -> np.ndarray:
    """Starts of the SNP windows scikit-allel's PBS uses: every ``step`` SNPs while a whole window fits."""
    return np.arange(0, n - size + 1, step) if n >= size else np.zeros(0, dtype=np.int64)


def _window_max(values: np.ndarray, starts: np.ndarray, size: int) -> np.ndarray:
    out = np.full(len(starts), np.nan)
    for w, s in enumerate(starts):
        v = values[s : s + size]
        if np.isfinite(v).any():
            out[w] = np.nanmax(v)
    return out


def _alleles(h: HaplotypeMatrix, name: str) -> np.ndarray:
    """SNPs x haplotypes int8, the layout scikit-allel's HaplotypeArray expects."""
    if h.has_missing:
        raise ValueError(f"the {name} haplotypes have missing alleles; EHH-based scans need complete haplotypes "
                         "(impute them first)")
    return np.ascontiguousarray(h.to_numpy().T.astype(np.int8))


def _allele_counts(a: np.ndarray) -> np.ndarray:
    ones = a.sum(axis=1, dtype=np.int64)
    return np.stack([a.shape[1] - ones, ones], axis=1)


def _chromosome_scores(kind, focal, refs, pos, size, step):
    """Per-SNP (XP-EHH, iHS) or per-window (PBS) scores of one chromosome, before standardisation."""
    import allel

    # Monomorphic SNPs and windows give 0/0 inside scikit-allel; their NaN is
    # the answer ("undefined"), not an error.
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "XP-EHH":
            return allel.xpehh(focal, refs[0], pos, use_threads=False)
        if kind == "iHS":
            return allel.ihs(focal, pos, use_threads=False)
        return allel.pbs(_allele_counts(focal), _allele_counts(refs[0]), _allele_counts(refs[1]), size,
                         window_step=step)


def _scan(kind, focal, refs, pos, chrom, size, step):
    """Standardised scores over all chromosomes (per SNP, or per window for PBS) and the SNP windows."""
    import allel

    raw, starts = [], []
    for c in dict.fromkeys(chrom):  # chromosomes in file order
        idx = np.flatnonzero(chrom == c)
        s = _windows(idx.size, size, step)
        starts.append(idx[s])
        raw.append(_chromosome_scores(kind, focal[idx], [r[idx] for r in refs], pos[idx], size, step)
                   if kind != "PBS" or s.size else np.zeros(0))
    raw, starts = np.concatenate(raw).astype(np.float64), np.concatenate(starts).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "XP-EHH":
            raw = allel.standardize(raw)
        elif kind == "iHS":
            # iHS depends on the derived-allele frequency, so it is standardised within frequency bins.
            raw, _ = allel.standardize_by_allele_count(raw, focal.sum(axis=1), n_bins=50, diagnostics=False)
    return raw, starts


def selection_scans(real, populations, synthetic, focal=None, references=None, *, scans=SCANS,
                    window_size: int = 10, window_step: int = 5, top: float = 0.01) -> SelectionScans:
    """Run XP-EHH, iHS and PBS on the real focal population and on each synthetic set in its place.

    Parameters
    ----------
    real : HaplotypeMatrix of every real haplotype (all populations), with base-pair positions.
    populations : population label of each real haplotype row.
    synthetic : a HaplotypeMatrix or dict name -> HaplotypeMatrix standing in for the focal population
        (e.g. AGs of a model trained on it); aligned to the real SNPs by metadata.
    focal : the population the synthetic sets imitate (default: the first label).
    references : real comparison populations; XP-EHH uses the first, PBS the first two (default: the
        other labels in order of appearance). iHS needs none.
    scans : which of "XP-EHH", "iHS", "PBS" to run.
    window_size, window_step : PBS windows in SNPs (10 and 5 as in Yelmen et al. 2021); XP-EHH and
        iHS are summarised on the same windows (max XP-EHH, max |iHS|) to rank peaks.
    top : share of windows that count as top windows (at least one), 0.01 = the 99th percentile.

    Returns
    -------
    SelectionScans with, per scan, the standardised scores, the window summaries, the Pearson r of
    real vs synthetic scores (per SNP for XP-EHH and iHS, per window for PBS) and the overlap of the
    top windows.
    """
    from ..align import align, has_metadata

    if isinstance(synthetic, HaplotypeMatrix):
        synthetic = {"synthetic": synthetic}
    if not synthetic:
        raise ValueError("no synthetic set to scan")
    unknown = set(scans) - set(SCANS)
    if unknown:
        raise ValueError(f"unknown scans {sorted(unknown)}; choose from {SCANS}")
    if not 0 < top <= 1:
        raise ValueError(f"top must be in (0, 1], got {top}")
    if window_size < 1 or window_step < 1:
        raise ValueError("window_size and window_step must be positive")
    if not isinstance(real, HaplotypeMatrix):
        raise ValueError(f"selection scans need phased haplotypes (a HaplotypeMatrix), got {type(real).__name__}")
    real = real.to("cpu")
    if not has_metadata(real.variants):
        raise ValueError("the real set has no SNP positions (placeholder metadata); XP-EHH, iHS and PBS windows "
                         "need base-pair positions of contiguous SNPs")
    labels = np.asarray(populations).astype(str)
    if labels.shape != (real.n_haplotypes,):
        raise ValueError(f"{labels.size} population labels for {real.n_haplotypes} real haplotypes")
    order = list(dict.fromkeys(labels))
    focal = order[0] if focal is None else str(focal)
    if focal not in order:
        raise ValueError(f"focal population {focal!r} is not among the labels {order}")
    references = tuple(p for p in order if p != focal) if references is None else tuple(map(str, references))
    for p in references:
        if p not in order or p == focal:
            raise ValueError(f"reference population {p!r} must be a label other than the focal one")
    needs = max(1 if "XP-EHH" in scans else 0, 2 if "PBS" in scans else 0)
    if len(references) < needs:
        raise ValueError(f"{', '.join(s for s in scans if s != 'iHS')} need{'s' if needs == 1 else ''} {needs} "
                         f"comparison population(s); got {list(references)}")
    pos = np.asarray(real.variants.position, dtype=np.int64)
    chrom = np.asarray(real.variants.chrom).astype(str)
    for c in dict.fromkeys(chrom):
        if np.any(np.diff(pos[chrom == c]) <= 0):
            raise ValueError(f"positions on chromosome {c} must increase strictly for EHH-based scans")
    alleles = _alleles(real, "real")
    by_pop = {p: np.ascontiguousarray(alleles[:, labels == p]) for p in (focal, *references)}
    sets = {}
    for name, syn in synthetic.items():
        if not isinstance(syn, HaplotypeMatrix):
            raise ValueError(f"synthetic set {name!r} must be a HaplotypeMatrix")
        _, syn, _ = align(real, syn.to("cpu"), names=("real", f"synthetic set {name!r}"))
        sets[str(name)] = _alleles(syn, f"synthetic set {name!r}")
    refs = [by_pop[p] for p in references]
    results = {}
    for kind in (s for s in SCANS if s in scans):
        real_scores, starts = _scan(kind, by_pop[focal], refs, pos, chrom, window_size, window_step)
        syn_scores = {n: _scan(kind, a, refs, pos, chrom, window_size, window_step)[0] for n, a in sets.items()}
        stops = np.minimum(starts + window_size - 1, real.n_snps - 1)
        if kind == "PBS":
            where = (pos[starts] + pos[stops]) // 2
            real_w, syn_w = real_scores, syn_scores
        else:
            where = pos
            # The sign of iHS only says which allele sits on the long haplotypes; XP-EHH's sign says which population.
            fold = np.abs if kind == "iHS" else (lambda v: v)
            real_w = _window_max(fold(real_scores), starts, window_size)
            syn_w = {n: _window_max(fold(v), starts, window_size) for n, v in syn_scores.items()}
        n_top = max(1, int(round(top * len(starts))))
        against = {"XP-EHH": f": {focal} vs {references[0]}" if references else "", "iHS": f": {focal}",
                   "PBS": f": {focal} vs {', '.join(references[:2])}"}[kind]
        results[kind] = Scan(kind, kind + against, where, real_scores, syn_scores, pos[starts], pos[stops], real_w,
                             syn_w, {n: _pearson(real_scores, v) for n, v in syn_scores.items()},
                             {n: _top_overlap(real_w, v, n_top) for n, v in syn_w.items()}, n_top)
    return SelectionScans(focal, references, results, by_pop[focal].shape[1],
                          {n: a.shape[1] for n, a in sets.items()})
