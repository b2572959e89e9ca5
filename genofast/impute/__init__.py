"""Imputation of missing genotypes.

Unphased cohorts (seed 000): :class:`UNetImputer` trains the thesis'
iterative U-Net and returns :class:`Imputed` genotype probabilities;
:func:`mask_calls` hides observed calls to score it with :func:`concordance`
against :func:`most_frequent_genotype` and Beagle
(:func:`impute_genotypes_with_beagle`); :func:`dosage_r2` is the per-SNP
quality written to VCF INFO.

Reference panels (seed 001): :func:`panel_benchmark` imputes untyped sites
with Beagle from a real panel, artificial panels learnt from it, and both,
scored per allele-frequency bin (:func:`panel_scores`, :func:`typed_sites`).

Trios (seed 004): :func:`simulate_trios` and :func:`mask_offspring` make the
G1–G4 x NA10–NA90 data, :func:`read_pedigree` and :func:`trios_from_genotypes`
bring users' own, :func:`impute_trios` fills the children's untyped SNPs with
AdaBoost, LogitBoost, TotalBoost or Mendel's rules, and
:func:`imputation_accuracy` scores the result.
"""

from .boosting import LEARNERS, LogitBoost, TotalBoost, make_learner, solve_edge_lp
from .pedigree import Pedigree, impute_trio_file, read_pedigree, trios_from_genotypes
from ..phasing import mask_calls
from .beagle import BeagleRun, impute_genotypes_with_beagle
from .panel import PanelBenchmark, impute_from_panel, panel_benchmark, panel_scores, typed_sites
from .result import Imputed
from .scoring import concordance, dosage_r2, most_frequent_genotype
from .trio_boost import TrioImputation, impute_trios
from .unet import UNetImputer
from .trios import (DESIGNS, MISSING_RATES, Trios, TrioSimulation, imputation_accuracy, mask_offspring,
                    mendelian_dosage, simulate_trios, transmitted_alleles, window_neighbours)

__all__ = ["BeagleRun", "DESIGNS", "Imputed", "LEARNERS", "UNetImputer", "concordance", "dosage_r2",
           "impute_genotypes_with_beagle", "mask_calls", "most_frequent_genotype", "LogitBoost", "MISSING_RATES",
           "PanelBenchmark", "Pedigree", "TotalBoost", "TrioImputation", "impute_from_panel", "panel_benchmark",
           "panel_scores", "typed_sites",
           "TrioSimulation", "Trios", "impute_trio_file", "impute_trios", "imputation_accuracy", "make_learner",
           "mask_offspring", "mendelian_dosage", "read_pedigree", "simulate_trios", "solve_edge_lp",
           "transmitted_alleles", "trios_from_genotypes", "window_neighbours"]
