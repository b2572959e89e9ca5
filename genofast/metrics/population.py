"""Population structure: statistics per population label, and UMAP / Isomap views of real vs synthetic.

A model can serve one ancestry well and another badly while its cohort-wide
numbers look fine; splitting every statistic by population label shows it.
Synthetic haplotypes carry no label unless the model was conditioned on one,
so by default each takes the label of its nearest real haplotype (Hamming
distance): the share of each label in the synthetic set then also tells
whether a population was over- or under-generated.
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import kernels
from ..matrix import HaplotypeMatrix
from . import quality
from ._dense import _ploidy, _same_kind

MIN_PER_POPULATION = 5  # fewer haplotypes than this in a population give no statistics (NaN)


def read_labels(path, column: str = "super_pop") -> dict:
    """Labels from a table: sample -> label.

    Reads a tab-separated file with a header (``sample``, then label columns,
    as 1000 Genomes panels and yelmen805's ``labels.tsv``) and returns the
    ``column`` label; a headerless two-column CSV (``key,label``, as
    HumanOrigins' ``HO_superpopulations``, population -> super-population);
    or an EIGENSTRAT ``.ind`` file (sample, sex, population; whitespace-separated),
    sample -> population.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8").splitlines()
    if not text:
        raise ValueError(f"{path}: empty label file")
    if path.name.lower().endswith(".ind"):
        out = {}
        for line, r in enumerate((t.split() for t in text), start=1):
            if len(r) != 3:
                raise ValueError(f"{path}, line {line}: expected 'sample sex population', got {len(r)} fields")
            out[r[0]] = r[2]
        return out
    if "\t" in text[0]:
        rows = list(csv.reader(text, delimiter="\t"))
        header = rows[0]
        if column not in header:
            raise ValueError(f"{path}: no column {column!r} in the header {header}")
        c = header.index(column)
        out = {}
        for line, r in enumerate(rows[1:], start=2):
            if len(r) != len(header):
                raise ValueError(f"{path}, line {line}: {len(r)} fields, the header has {len(header)}")
            out[r[0]] = r[c]
        return out
    out = {}
    for line, r in enumerate(csv.reader(text), start=1):
        if len(r) != 2:
            raise ValueError(f"{path}, line {line}: expected 'key,label', got {len(r)} fields")
        out[r[0].strip()] = r[1].strip()
    return out


def haplotype_labels(ids, labels: dict) -> np.ndarray:
    """The label of each haplotype id: its own entry, or its individual's (the id before the last '_').

    Haplotype ids like ``HG00096_A`` / ``HG00096_B`` (hapt files) take the
    label of sample ``HG00096``. An id with neither is an error naming it.
    """
    out = []
    for hid in np.asarray(ids).astype(str):
        if hid in labels:
            out.append(labels[hid])
            continue
        sample = hid.rsplit("_", 1)[0]
        if sample not in labels:
            raise ValueError(f"haplotype {hid!r}: neither it nor sample {sample!r} has a label")
        out.append(labels[sample])
    return np.array(out)


def split(haplotypes: HaplotypeMatrix, labels) -> dict:
    """label -> the haplotypes with that label, labels in order of first appearance."""
    labels = np.asarray(labels).astype(str)
    if labels.shape != (len(haplotypes),):
        raise ValueError(f"{labels.size} labels for {len(haplotypes)} haplotypes")
    return {p: haplotypes[np.flatnonzero(labels == p)] for p in dict.fromkeys(labels)}


def assign(real: HaplotypeMatrix, labels, synthetic: HaplotypeMatrix) -> np.ndarray:
    """Label each synthetic haplotype with the label of its nearest real haplotype (Hamming; ties to the lower row).
    Unphased genotypes: each individual with its nearest real individual's (L1 on dosages)."""
    labels = np.asarray(labels).astype(str)
    if labels.shape != (len(real),):
        raise ValueError(f"{labels.size} labels for {len(real)} real haplotypes")
    _same_kind((real, synthetic), ("real", "synthetic"))
    _, idx = kernels.nearest_neighbors(quality.distance_bits(synthetic), quality.distance_bits(real), 1)
    return labels[np.asarray(idx).reshape(-1)]


def statistics(real: HaplotypeMatrix, synthetic: HaplotypeMatrix, tie: str = "strict", seed: int = 0) -> dict:
    """The report's cheap statistics for one population: AF, LD level, 8-mers, AATS, copies, distances."""
    from . import privacy

    af = quality.compare_allele_frequencies(real, synthetic)
    decay = quality.ld_decay(real, synthetic, seed=seed, max_pairs=20_000)
    ld = quality.ld_fidelity(real, synthetic, decay, max_pairs=20_000, seed=seed)
    aats = privacy.aats(real, synthetic, tie)
    dist = quality.distance_distributions(real, synthetic)

    def mean(counts):
        return float(np.average(np.arange(counts.size), weights=counts)) if counts.sum() else np.nan

    return {
        "AF r": af.r,
        "AF r (real freq <= 0.2)": af.r_low,
        "LD r² window r": ld.window_r,
        "LD level score": ld.level_score,
        # haplotype motifs: none for unphased genotypes
        "8-mer r": (quality.kmer_correlation(real, synthetic, 8) if real.n_snps >= 8 and _ploidy(real) == 1
                    else np.nan),
        "AATS": aats.aats,
        "exact copies": privacy.copies(real, synthetic).count,
        "mean distance real": mean(dist.within_real),
        "mean distance synthetic": mean(dist.within_synthetic),
        "mean distance between": mean(dist.between),
    }


def per_population(real: HaplotypeMatrix, labels, synthetic: HaplotypeMatrix, synthetic_labels=None,
                   tie: str = "strict", seed: int = 0) -> dict:
    """population -> statistics of that population's real vs synthetic haplotypes.

    ``synthetic_labels`` default to nearest-real-neighbour labels (:func:`assign`).
    Each row also gives the population's share of the real and of the
    synthetic set; a population with fewer than ``MIN_PER_POPULATION``
    haplotypes on either side has shares only.
    """
    labels = np.asarray(labels).astype(str)
    syn_labels = (assign(real, labels, synthetic) if synthetic_labels is None
                  else np.asarray(synthetic_labels).astype(str))
    if syn_labels.shape != (len(synthetic),):
        raise ValueError(f"{syn_labels.size} synthetic labels for {len(synthetic)} synthetic haplotypes")
    reals, syns = split(real, labels), split(synthetic, syn_labels)
    out = {}
    for p, r in reals.items():
        s = syns.get(p)
        row = {"real share": len(r) / len(real), "synthetic share": (len(s) if s is not None else 0) / len(synthetic)}
        if s is not None and min(len(r), len(s)) >= MIN_PER_POPULATION:
            row.update(statistics(r, s, tie, seed))
        out[p] = row
    for p in syns.keys() - reals.keys():  # only possible with given synthetic labels
        out[p] = {"real share": 0.0, "synthetic share": len(syns[p]) / len(synthetic)}
    return out


@dataclass(frozen=True)
class Embedding:
    """2-D coordinates of a method fitted on real haplotypes, synthetic ones projected with it."""

    method: str
    real: np.ndarray  # n_real x 2
    synthetic: np.ndarray  # n_synthetic x 2


def _umap(n_neighbors: int, seed: int):
    with warnings.catch_warnings():
        # umap-learn warns at import that its optional TensorFlow-based ParametricUMAP is unavailable.
        warnings.filterwarnings("ignore", message="Tensorflow not installed", category=ImportWarning)
        import umap
    # A fixed random_state makes UMAP deterministic, which needs one thread.
    return umap.UMAP(n_components=2, n_neighbors=n_neighbors, random_state=seed, n_jobs=1)


def embed(real, synthetic, method: str = "umap", n_neighbors: int = 15, max_fit: int = 2000, n_pcs: int = 50,
          seed: int = 0) -> Embedding:
    """UMAP or Isomap fitted on the real haplotypes; the synthetic ones are projected with the fitted map.

    Fitting on real data only and projecting the synthetic set (Montserrat et
    al. 2019) keeps the map a property of the real cohort: synthetic
    haplotypes that fall where no real ones are, are visibly off. Haplotypes
    are first reduced to ``n_pcs`` real principal components (missing calls
    take the real SNP mean); at most ``max_fit`` real haplotypes (a seeded
    subsample) fit the map, which then places all of them. Deterministic for
    a given ``seed``.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import Isomap

    if method not in ("umap", "isomap"):
        raise ValueError(f"method must be 'umap' or 'isomap', got {method!r}")
    real, synthetic = quality._matrix(real), quality._matrix(synthetic)
    quality._check_same_snps(real, synthetic)
    if len(real) <= n_neighbors:
        raise ValueError(f"{method} with {n_neighbors} neighbours needs more than {n_neighbors} real haplotypes")
    means = quality._real_means(real)
    xr, xs = quality._mean_imputed(real, means), quality._mean_imputed(synthetic, means)
    k = int(min(n_pcs, xr.shape[0] - 1, xr.shape[1]))
    pca = PCA(n_components=k, svd_solver="full", random_state=seed).fit(xr)
    xr, xs = pca.transform(xr), pca.transform(xs)
    rng = np.random.default_rng(seed)
    fit = np.sort(rng.choice(len(xr), max_fit, replace=False)) if len(xr) > max_fit else np.arange(len(xr))
    if method == "umap":
        model = _umap(n_neighbors, seed).fit(xr[fit])
    else:
        # The dense eigensolver: ARPACK starts from an unseeded random vector.
        model = Isomap(n_neighbors=n_neighbors, n_components=2, eigen_solver="dense").fit(xr[fit])
    return Embedding(method, np.asarray(model.transform(xr)), np.asarray(model.transform(xs)))
