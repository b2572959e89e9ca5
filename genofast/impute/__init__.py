"""Imputation of missing genotypes.

Trios (seed 004): :func:`simulate_trios` and :func:`mask_offspring` make the
G1–G4 x NA10–NA90 data, :func:`read_pedigree` and :func:`trios_from_genotypes`
bring users' own, :func:`impute_trios` fills the children's untyped SNPs with
AdaBoost, LogitBoost, TotalBoost or Mendel's rules, and
:func:`imputation_accuracy` scores the result.
"""

from .boosting import LEARNERS, LogitBoost, TotalBoost, make_learner, solve_edge_lp
from .pedigree import Pedigree, impute_trio_file, read_pedigree, trios_from_genotypes
from .trio_boost import TrioImputation, impute_trios
from .trios import (DESIGNS, MISSING_RATES, Trios, TrioSimulation, imputation_accuracy, mask_offspring,
                    mendelian_dosage, simulate_trios, transmitted_alleles, window_neighbours)

__all__ = ["DESIGNS", "LEARNERS", "LogitBoost", "MISSING_RATES", "Pedigree", "TotalBoost", "TrioImputation",
           "TrioSimulation", "Trios", "impute_trio_file", "impute_trios", "imputation_accuracy", "make_learner",
           "mask_offspring", "mendelian_dosage", "read_pedigree", "simulate_trios", "solve_edge_lp",
           "transmitted_alleles", "trios_from_genotypes", "window_neighbours"]
