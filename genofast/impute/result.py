"""What a genotype imputer returns: probabilities per call, with the observed calls kept as they were."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..matrix import GenotypeMatrix


@dataclass(frozen=True)
class Imputed:
    """Imputed diploid genotypes.

    ``probabilities`` (samples x SNPs x 3, float32) holds P(dosage 0, 1, 2) per
    call; at calls observed in ``observed`` it is one-hot on the observed
    dosage, so anything derived from it leaves observed calls untouched.
    ``phased`` optionally holds the imputer's phased haplotypes (rows 2i, 2i+1
    = sample i), hard calls consistent with :attr:`calls`.
    """

    probabilities: np.ndarray
    observed: GenotypeMatrix
    phased: np.ndarray | None = None

    def __post_init__(self):
        p = self.probabilities
        if p.ndim != 3 or p.shape[2] != 3 or p.shape[:2] != self.observed.shape:
            raise ValueError(f"probabilities of shape {p.shape} do not match genotypes of shape "
                             f"{self.observed.shape} (expected samples x SNPs x 3)")

    @property
    def dosage(self) -> np.ndarray:
        """Expected allele-1 count per call (float32), DS in a VCF."""
        return (self.probabilities[..., 1] + 2 * self.probabilities[..., 2]).astype(np.float32)

    @property
    def calls(self) -> np.ndarray:
        """Most probable dosage per call (int8, 0/1/2), GT in a VCF."""
        return self.probabilities.argmax(axis=2).astype(np.int8)

    def genotypes(self) -> GenotypeMatrix:
        """The hard calls as a GenotypeMatrix with the input's ids and variants."""
        return GenotypeMatrix.from_numpy(self.calls, ids=self.observed.ids, variants=self.observed.variants)
