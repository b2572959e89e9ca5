"""Dense views of haplotype and genotype matrices for the statistics: row chunks, checks, correlation."""

from __future__ import annotations

import numpy as np

from ..matrix import GenotypeMatrix, HaplotypeMatrix

_CHUNK_ROWS = 2048
_PAIR_BLOCK = 16384


def _matrix(x) -> HaplotypeMatrix | GenotypeMatrix:
    """A packed matrix on the CPU; a plain array is read as haplotypes (-1 = missing); a VCF Zarr cohort
    (:class:`genofast.io.ZarrCohort`) as it is, read chunk by chunk by :func:`_chunks`."""
    from ..io.zarr import ZarrCohort

    if isinstance(x, (HaplotypeMatrix, GenotypeMatrix)):
        return x.to("cpu")
    if isinstance(x, ZarrCohort):
        return x
    return HaplotypeMatrix.from_numpy(np.asarray(x))


def _haplotypes(x, what: str) -> HaplotypeMatrix:
    m = _matrix(x)
    if isinstance(m, GenotypeMatrix):
        raise ValueError(f"{what} needs phased haplotypes, got unphased genotypes ({m.n_samples} samples); "
                         "phase them first")
    return m


def _same_kind(sets, names) -> None:
    """Refuse to compare haplotypes with unphased genotypes (their distances and statistics differ in kind)."""
    geno = [isinstance(x, GenotypeMatrix) for x in sets]
    if any(geno) and not all(geno):
        raise ValueError(f"the {names[geno.index(True)]} set holds unphased genotypes and the "
                         f"{names[geno.index(False)]} set haplotypes: compare like with like "
                         "(HaplotypeMatrix.to_genotypes() pairs rows 2i, 2i+1 into individuals)")


def _ploidy(m) -> int:
    return 2 if isinstance(m, GenotypeMatrix) else 1


def _chunks(h, columns=None):
    """(values, called) row chunks: values are alleles or dosages with 0 where missing, called is boolean.

    Chunks keep memory bounded on large cohorts; missing calls are never a value.
    """
    for r0 in range(0, len(h), _CHUNK_ROWS):
        a = h[r0 : r0 + _CHUNK_ROWS].to_numpy()
        if columns is not None:
            a = a[:, columns]
        called = a >= 0
        yield np.where(called, a, 0).astype(np.int8), called


def _check_same_snps(real, synthetic) -> None:
    if real.n_snps != synthetic.n_snps:
        raise ValueError(f"real has {real.n_snps} SNPs but synthetic has {synthetic.n_snps}")
    for name, h in (("real", real), ("synthetic", synthetic)):
        if len(h) == 0:
            raise ValueError(f"the {name} set is empty")


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r over the entries where both are defined (NaN where fewer than 2 or no spread)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if x.size < 2 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])
