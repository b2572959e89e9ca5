"""Scoring imputed genotypes: concordance at hidden calls, the most-frequent-genotype baseline, dosage r².

The usual check of an imputer hides some observed calls
(:func:`genofast.phasing.mask_calls`), imputes them, and counts how many it
got right (:func:`concordance`); :func:`most_frequent_genotype` is the
baseline every imputer must beat. :func:`dosage_r2` estimates, without the
truth, how well each SNP was imputed (Beagle's DR2).
"""

from __future__ import annotations

import numpy as np

from ..matrix import GenotypeMatrix
from .result import Imputed

_BLOCK_CALLS = 1 << 22  # calls per block of SNPs, so temporaries stay tens of MB on large cohorts


def _dosages(x, what: str) -> np.ndarray:
    if isinstance(x, Imputed):
        return x.calls
    if isinstance(x, GenotypeMatrix):
        return x.to("cpu").to_numpy()
    x = np.asarray(x)
    if x.ndim != 2 or x.dtype.kind not in "iu":
        raise ValueError(f"{what} must be a GenotypeMatrix, an Imputed or a 2-D integer array of dosages, "
                         f"got {x.dtype} with shape {x.shape}")
    return x


def concordance(truth, imputed, mask) -> float:
    """Share of the hidden calls that the imputer called right.

    Parameters
    ----------
    truth : GenotypeMatrix or samples x SNPs integer dosages (-1 missing),
        the calls before masking.
    imputed : :class:`Imputed` (its hard calls), GenotypeMatrix or integer
        dosages after imputation.
    mask : boolean samples x SNPs, True at the hidden calls (as returned by
        :func:`genofast.phasing.mask_calls`). Hidden calls whose truth is
        missing are left out.

    Returns the fraction of scored calls whose imputed dosage equals the true one.
    """
    truth = _dosages(truth, "truth")
    calls = _dosages(imputed, "imputed")
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError(f"mask must be a boolean array (True = hidden call), got {mask.dtype}")
    if not truth.shape == calls.shape == mask.shape:
        raise ValueError(f"shapes differ: truth {truth.shape}, imputed {calls.shape}, mask {mask.shape} "
                         "(all samples x SNPs)")
    scored = mask & (truth >= 0)
    if not scored.any():
        raise ValueError("no call to score: the mask hides no call whose true dosage is known")
    unfilled = scored & (calls < 0)
    if unfilled.any():
        sample, snp = np.argwhere(unfilled)[0]
        raise ValueError(f"{int(unfilled.sum())} hidden calls are still missing after imputation "
                         f"(first: sample {sample}, SNP {snp})")
    return float(np.mean(calls[scored] == truth[scored]))


def most_frequent_genotype(genotypes) -> Imputed:
    """Fill each missing call with its SNP's most frequent observed dosage (ties go to the lower dosage).

    The baseline of the imputation experiments; observed calls are kept.
    ``genotypes`` is a GenotypeMatrix or samples x SNPs integer dosages (-1
    missing). A SNP with no observed call at all is an error.
    """
    if not isinstance(genotypes, GenotypeMatrix):
        genotypes = GenotypeMatrix.from_numpy(_dosages(genotypes, "genotypes"))
    from ..metrics.quality import genotype_counts

    genotypes = genotypes.to("cpu")
    g = genotypes.to_numpy()
    counts = genotype_counts(genotypes)
    empty = (counts.sum(axis=0) == 0) & (g.shape[0] > 0)
    if empty.any():
        j = int(np.argmax(empty))
        raise ValueError(f"SNP {j} ({genotypes.variants.id[j]}) has no observed call to take the most frequent "
                         f"genotype from ({int(empty.sum())} such SNPs)")
    mode = counts.argmax(axis=0).astype(np.int8)  # argmax takes the first maximum: the lower dosage
    filled = np.where(g < 0, mode, g)
    probabilities = np.zeros(g.shape + (3,), dtype=np.float32)
    np.put_along_axis(probabilities, filled[..., None].astype(np.intp), 1.0, axis=2)
    return Imputed(probabilities, genotypes)


def dosage_r2(imputed: Imputed, calls: str = "imputed") -> np.ndarray:
    """Estimated squared correlation between imputed and true dosage, per SNP (Beagle's DR2).

    With ``d = P(1) + 2 P(2)`` the expected dosage and ``e = P(1) + 4 P(2)``
    its expected square, over ``n`` calls of a SNP::

        DR2 = (Σd² − (Σd)²/n) / (Σe − (Σd)²/n)

    i.e. the variance of the expected dosages over the variance the
    probabilities imply; 1 when every call is certain. ``calls="imputed"``:
    over the calls missing in ``imputed.observed`` (how well the imputer
    did where it had to, when many calls of a SNP were hidden);
    ``calls="all"``: over every sample, observed calls counted as certain,
    as Beagle reports it for a site, and as :func:`genofast.io.write_imputed_vcf`
    writes it. A SNP with a few sporadic missing calls scores about 0 over its
    imputed calls alone (exactly 0 over a single uncertain call: one dosage
    has no variance) whatever their quality, so the "all" form is the one to
    filter sites on. Clipped to [0, 1]; NaN where no call was imputed or the
    denominator is 0 (all calls certain and equal).

    Reference: Browning & Browning (2009), Am J Hum Genet 84:210, and Beagle's DR2.
    """
    if calls not in ("imputed", "all"):
        raise ValueError(f"calls must be 'imputed' or 'all', got {calls!r}")
    n_samples, n_snps = imputed.observed.shape
    observed = imputed.observed.to("cpu")
    out = np.full(n_snps, np.nan)
    step = max(1, _BLOCK_CALLS // max(1, n_samples))
    for j0 in range(0, n_snps, step):
        j1 = min(n_snps, j0 + step)
        obs = observed[:, j0:j1].to_numpy()
        samples, snps = np.nonzero(obs < 0)
        out[j0:j1] = imputed_dosage_r2(imputed.probabilities[samples, j0 + snps], snps, j1 - j0,
                                       observed=obs.T if calls == "all" else None)
    return out


def imputed_dosage_r2(probabilities: np.ndarray, snps: np.ndarray, n_snps: int, observed=None) -> np.ndarray:
    """:func:`dosage_r2` from the imputed calls: their probabilities (calls x 3) and SNP (0 .. n_snps-1); with
    ``observed`` (SNPs x samples, -1 where missing), every sample's call counted, the observed ones as certain.
    NaN at a SNP with no imputed call either way."""
    p = np.asarray(probabilities, dtype=np.float64)
    d = p[:, 1] + 2 * p[:, 2]
    e = p[:, 1] + 4 * p[:, 2]
    n_imputed = np.bincount(snps, minlength=n_snps)
    n = n_imputed.astype(np.float64)
    sum_d, sum_d2, sum_e = (np.bincount(snps, x, n_snps) for x in (d, d * d, e))
    if observed is not None:
        o = np.where(observed >= 0, observed, 0).astype(np.float64)  # a certain call: d = o, d² = e = o²
        n = n + (observed >= 0).sum(axis=1)
        sum_d = sum_d + o.sum(axis=1)
        sum_d2 = sum_d2 + (o * o).sum(axis=1)
        sum_e = sum_e + (o * o).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_term = sum_d**2 / n
        numerator = sum_d2 - mean_term
        denominator = sum_e - mean_term
        r2 = np.where((n_imputed > 0) & (denominator > 0), numerator / denominator, np.nan)
    return np.clip(r2, 0.0, 1.0)
