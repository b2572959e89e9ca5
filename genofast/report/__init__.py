"""``evaluate``: every statistic of real vs synthetic haplotypes, and a self-contained HTML report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import metrics
from ..align import align, first_difference, has_metadata
from ..io.zarr import ZarrCohort
from ..matrix import GenotypeMatrix, HaplotypeMatrix
from ..metrics import population, quality
from . import scoring as _scores

# Every report of haplotypes has these; one of unphased genotypes has no "kmers" (motifs need phase).
SECTIONS = ("summary", "allele-frequencies", "linkage-disequilibrium", "pca", "distances", "kmers",
            "three-point", "classifiers", "privacy", "overview")
# Present only when asked for: labels given, embeddings=True, scans given, training traces given.
OPTIONAL_SECTIONS = ("populations", "structure", "selection", "training")


@dataclass
class Evaluation:
    """Numbers per synthetic set (``table``: name -> statistic -> value) and the raw results behind them."""

    table: dict
    details: dict = field(repr=False)
    report: Path | None = None
    missing_rates: dict = field(default_factory=dict)  # set name -> share of missing alleles
    alignment_notes: dict = field(default_factory=dict)  # set name -> how its SNPs were matched to the real set
    populations: dict = field(default_factory=dict)  # set name -> population -> statistics (labels given)
    positions_known: bool = True  # False: placeholder SNP metadata, LD distances are SNP index differences
    scans: object = None  # the SelectionScans shown in the report, if any
    training: dict = field(default_factory=dict)  # set name -> (trace rows, kept epoch) of its model's training

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame(self.table).T


def evaluate(real, synthetic, out=None, holdout=None, *, ld_snps: int = 200, n_triplets: int = 5000,
             classifiers: bool = True, n_splits: int = 5, seed: int = 0, tie: str = "strict", populations=None,
             synthetic_populations: dict | None = None, embeddings: bool = False, scans=None,
             training: dict | None = None, privacy_subsamples: int = 1, client=None, stage=None) -> Evaluation:
    """Compare a real set with one or several synthetic sets and optionally write an HTML report.

    Parameters
    ----------
    real : HaplotypeMatrix, the training (or reference) haplotypes; or, for a cohort larger than memory, an
        :class:`genofast.io.ZarrCohort`: its statistics then stream from the store and the distance-based
        ones (AATS, copies, distances, privacy loss, membership inference) run on ``genofast.distributed``
        (``client``: a ``distributed.Client``, default the current one or a local cluster). The synthetic
        sets must then hold the store's variants in its order; per-population statistics, embeddings and
        scans need an in-memory real set. Or a GenotypeMatrix of unphased genotypes: every set is then
        compared as genotypes (a set of haplotypes paired into individuals, rows 2i and 2i + 1): frequencies,
        r² and 3-point correlations of dosages, distances counting the allele copies two individuals differ in
        (L1 on dosages); no k-mers or selection scans.
    synthetic : a HaplotypeMatrix (or GenotypeMatrix), or a dict name -> matrix for several models side by side.
    out : path of the HTML report (written atomically), or None for numbers only.
    holdout : optional real haplotypes (or genotypes) not used in training, for privacy loss and membership
        inference.
    ld_snps : size of the LD heatmap region (the first SNPs of the first chromosome).
    populations : optional population label of each real haplotype: adds per-population statistics
        (:func:`genofast.metrics.population.per_population`) and colours the structure views.
    synthetic_populations : optional dict set name -> labels of its haplotypes (e.g. from a conditional
        model); by default a synthetic haplotype takes the label of its nearest real one.
    embeddings : also fit UMAP and Isomap on the real set and project the synthetic sets (tens of
        seconds: numba compiles UMAP on first use), shown beside the PCA.
    scans : a :class:`genofast.metrics.selection.SelectionScans` to show (run it on the whole labelled
        cohort with :func:`genofast.metrics.selection_scans`; it needs other populations than ``real``).
    training : optional dict set name -> the model that generated it, when trained with ``eval_every``:
        its ``trace`` (selection criteria per evaluation) is plotted over epochs, the kept epoch marked.
    privacy_subsamples : the privacy loss averaged over this many seeded draws of the larger of ``real`` and
        ``holdout`` (:func:`genofast.metrics.privacy_loss`'s ``subsamples``); one draw's estimate varies by about
        0.015 on a few thousand haplotypes.
    stage : optional callable, given a short description and how far the run is (e.g. ``"PCA (RBM), 3 of 23"``)
        as each lengthy statistic starts: ``genofast evaluate`` shows it beside its spinner.
    """
    from ..models._base import check_int

    check_int(privacy_subsamples, "privacy_subsamples")
    stage = stage or (lambda what: None)
    if isinstance(synthetic, (HaplotypeMatrix, GenotypeMatrix)):
        synthetic = {"synthetic": synthetic}
    if not synthetic:
        raise ValueError("no synthetic set to evaluate")
    cohort = isinstance(real, ZarrCohort)
    if cohort and (populations is not None or embeddings or scans is not None):
        raise ValueError("populations, embeddings and scans need the real set in memory, not a ZarrCohort")
    real = real if cohort else _samples(real, "real set")
    if len(real) == 0:
        raise ValueError("the real set is empty")
    geno = isinstance(real, GenotypeMatrix)
    if geno and scans is not None:
        raise ValueError("selection scans need phased haplotypes; the real set holds unphased genotypes")
    notes = {}
    sets = {}
    for name, syn in synthetic.items():
        syn = _samples(syn, f"synthetic set {name!r}", geno, notes)
        if cohort:
            _same_variants(real, syn, f"synthetic set {name!r}")
            sets[str(name)] = syn
            continue
        _, sets[str(name)], info = align(real, syn, names=("real", f"synthetic set {name!r}"))
        if info.flipped or info.reordered:
            notes[str(name)] = info.describe(f"synthetic set {name!r}")
    synthetic = sets
    if holdout is not None:
        if cohort:
            holdout = holdout if isinstance(holdout, ZarrCohort) else _samples(holdout, "holdout set", False)
            _same_variants(real, holdout, "holdout")
        else:
            _, holdout, info = align(real, _samples(holdout, "holdout set", geno, notes), names=("real", "holdout"))
            if info.flipped or info.reordered:
                notes["holdout"] = info.describe("holdout")
    privacy = _distance_metrics(cohort, client)
    labels = None
    if populations is not None:
        labels = np.asarray(populations).astype(str)
        if labels.shape != (len(real),):
            raise ValueError(f"{labels.size} population labels for {len(real)} real "
                             f"{'individuals' if geno else 'haplotypes'}")
    missing = {"real": _missing_rate(real), **({"holdout": _missing_rate(holdout)} if holdout is not None else {}),
               **{n: _missing_rate(s) for n, s in synthetic.items()}}
    chrom0 = real.variants.chrom[0]
    region = np.flatnonzero(real.variants.chrom == chrom0)[:ld_snps]
    triplets = quality.sample_triplets(real.n_snps, n_triplets, seed=seed) if real.n_snps >= 3 else None

    def plan(name, syn):
        """Each statistic of one synthetic set as (what ``stage`` hears, None for quick ones; result key; the
        computation, given the results so far), in order: listed first so that the stages can be counted."""
        steps = [(None, "af", lambda d: quality.compare_allele_frequencies(real, syn)),
                 (None, "ld_matrix", lambda d: quality.ld_matrix(syn, region)),
                 ("LD decay", "ld_decay", lambda d: quality.ld_decay(real, syn, seed=seed)),
                 ("PCA", "pca", lambda d: quality.pca(real, syn, seed=seed)),
                 ("distance histograms", "distances", lambda d: privacy.distance_distributions(real, syn))]
        if not geno:  # haplotype motifs: unphased genotypes have none
            steps += [("k-mers", "kmer4", lambda d: (k4_real.ravel(), quality.kmer_frequencies(syn, 4).ravel())),
                      (None, "kmer8", lambda d: (k8_real.ravel(), quality.kmer_frequencies(syn, 8).ravel()))]
        steps += [("AATS", "aats", lambda d: privacy.aats(real, syn, tie)),
                  (None, "copies", lambda d: privacy.copies(real, syn)),
                  ("LD fidelity", "ld_fidelity", lambda d: quality.ld_fidelity(real, syn, d["ld_decay"], seed=seed))]
        if labels is not None:
            given = (synthetic_populations or {}).get(name)
            if given is not None and len(given) != len(syn):
                raise ValueError(f"synthetic_populations[{name!r}] has {len(given)} labels for {len(syn)} "
                                 f"{'individuals' if geno else 'haplotypes'}")
            steps += [(None, "labels", lambda d: population.assign(real, labels, syn) if given is None
                       else np.asarray(given).astype(str)),
                      ("per-population statistics", "populations",
                       lambda d: population.per_population(real, labels, syn, d["labels"], tie, seed))]
        if embeddings:
            steps += [(method.upper(), method, lambda d, m=method: population.embed(real, syn, m, seed=seed))
                      for method in ("umap", "isomap")]
        if triplets is not None:
            steps.append(("3-point correlations", "three_point",
                          lambda d: (c3_real, quality.three_point_correlations(syn, triplets))))
        if classifiers:
            steps.append(("real-vs-synthetic classifiers", "classifiers",
                          lambda d: quality.classifier_scores(real, syn, n_splits=n_splits, seed=seed)))
        if holdout is not None:
            steps += [("privacy loss", "privacy_loss",
                       lambda d: privacy.privacy_loss(real, holdout, syn, tie, subsamples=privacy_subsamples)),
                      (None, "mia", lambda d: privacy.membership_inference(real, holdout, syn))]
        return steps

    for name, syn in synthetic.items():
        if syn.n_snps != real.n_snps:
            raise ValueError(f"synthetic set {name!r} has {syn.n_snps} SNPs, real has {real.n_snps}")
    plans = {name: plan(name, syn.to("cpu")) for name, syn in synthetic.items()}
    # the stages ``stage`` hears of: the real set's statistics, each set's announced ones, the report
    total = 1 + sum(what is not None for steps in plans.values() for what, _, _ in steps) + (out is not None)
    done = iter(range(1, total + 1))
    announce = lambda what: stage(f"{what}, {next(done)} of {total}")  # noqa: E731
    announce("statistics of the real set")
    real_ld = quality.ld_matrix(real, region)
    c3_real = quality.three_point_correlations(real, triplets) if triplets is not None else None
    k4_real, k8_real = (None, None) if geno else (quality.kmer_frequencies(real, 4), quality.kmer_frequencies(real, 8))
    details, table = {}, {}
    with metrics.privacy.shared_neighbours():  # the metrics below repeat the same nearest-neighbour searches
        for name, steps in plans.items():
            d = {}
            for what, key, fn in steps:
                if what is not None:
                    announce(f"{what} ({name})")
                d[key] = fn(d)
            details[name] = d
            table[name] = _row(d)
    if scans is not None:
        for name, row in scans.table().items():
            if name in table:
                table[name].update(row)
    for row in table.values():
        row["aggregate score"] = _scores.aggregate(row)
    result = Evaluation(table, details, missing_rates=missing, alignment_notes=notes,
                        populations={n: d["populations"] for n, d in details.items() if "populations" in d},
                        positions_known=has_metadata(real.variants), scans=scans, training=_traces(training))
    if out is not None:
        result.report = Path(out)
        from .page import write_report

        announce("writing the report")
        write_report(result, real, real_ld, tie, labels)
    return result


def _traces(training) -> dict:
    out = {}
    for name, model in (training or {}).items():
        trace = getattr(model, "trace", None)
        if not isinstance(trace, list) or not all(isinstance(r, dict) and "epoch" in r for r in trace):
            raise ValueError(f"training[{name!r}] has no trace of evaluations (train it with eval_every=...)")
        if trace:
            out[str(name)] = (trace, getattr(model, "best_epoch", None))
    return out


def _distance_metrics(cohort: bool, client):
    """The distance-based metrics: one process's, or genofast.distributed's for a cohort in a store."""
    import types
    from functools import partial

    if not cohort:
        return types.SimpleNamespace(aats=metrics.aats, copies=metrics.copies, privacy_loss=metrics.privacy_loss,
                                     membership_inference=metrics.membership_inference,
                                     distance_distributions=quality.distance_distributions)
    from .. import distributed as gd

    return types.SimpleNamespace(**{name: partial(getattr(gd, name), client=client) for name in (
        "aats", "copies", "privacy_loss", "membership_inference", "distance_distributions")})


def _same_variants(real, other, name: str) -> None:
    if other.n_snps != real.n_snps or first_difference(real.variants, other.variants) is not None:
        raise ValueError(f"the {name} does not hold the real store's {real.n_snps} variants in its order; "
                         "a store is compared as it is (match the sets with genofast.align first)")


def _samples(x, name: str, genotypes: bool | None = None, notes: dict | None = None):
    """A set of haplotypes or unphased genotypes, on the CPU. ``genotypes``: whether the real set holds unphased
    genotypes (None: ``x`` is the real set). Against genotypes a set of haplotypes is paired into individuals,
    rows 2i and 2i + 1 forming individual i, and ``notes`` says so; genotypes against haplotypes are refused."""
    if not isinstance(x, (HaplotypeMatrix, GenotypeMatrix)):
        raise ValueError(f"the {name} must be a HaplotypeMatrix or a GenotypeMatrix, got {type(x).__name__}")
    if isinstance(x, GenotypeMatrix) and genotypes is False:
        raise ValueError(f"the {name} holds unphased genotypes but the real set phased haplotypes: pass the real "
                         "set as genotypes (HaplotypeMatrix.to_genotypes()) to compare them as genotypes")
    if isinstance(x, HaplotypeMatrix) and genotypes:
        if x.n_haplotypes % 2:
            raise ValueError(f"the {name} has {x.n_haplotypes} haplotypes, an odd number: the real set holds "
                             "unphased genotypes, and haplotypes compared with them are paired into individuals")
        notes[f"{name} (paired)"] = (
            f"The {name} was paired into {x.n_haplotypes // 2} individuals (haplotypes 2i and 2i + 1) to compare "
            "with the real set's unphased genotypes.")
        x = x.to_genotypes()
    return x.to("cpu")


def _missing_rate(h) -> float:
    if isinstance(h, ZarrCohort):
        return float(quality.missing_fraction(h).mean())
    size = len(h) * h.n_snps
    return h.n_missing / size if size else 0.0


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
        "LD r² MAD by distance": d["ld_fidelity"].decay_mean_abs_diff,
        "LD level score": d["ld_fidelity"].level_score,
        "LD r² window r": d["ld_fidelity"].window_r,
        **({"4-mer r": _corr(d["kmer4"]), "8-mer r": _corr(d["kmer8"])} if "kmer4" in d else {}),  # haplotypes
        "AATS": d["aats"].aats,
        "AA_truth": d["aats"].aa_truth,
        "AA_syn": d["aats"].aa_syn,
        "exact copies": d["copies"].count,
        "exact copies share": d["copies"].count / max(1, d["aats"].d_syn_real.size),
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
    """Normalised scores in [0, 1] (1 best) for the radar chart: realism scores and privacy (see :mod:`.scoring`)."""
    return _scores.radar(row)
