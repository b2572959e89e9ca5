"""Realistic demo and test cohorts simulated with msprime, so nothing is downloaded.

Three populations: an ancestral one splits into A and BC 5,000 generations
ago and BC into B and C 1,500 generations ago, with a recombination map that
has one hotspot; mutations under a biallelic model; SNPs kept above a minor
allele frequency and thinned to the requested count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matrix import HaplotypeMatrix, Variants

POPULATIONS = ("A", "B", "C")


@dataclass(frozen=True)
class Simulation:
    haplotypes: HaplotypeMatrix  # rows 2i, 2i+1 are individual i
    populations: np.ndarray  # population of each haplotype row


def simulate(n_haplotypes: int = 1000, n_snps: int = 3000, seed: int = 1, min_maf: float = 0.01,
             sequence_length: float | None = None) -> Simulation:
    """Simulate ``n_haplotypes`` (a multiple of 6, split over three populations) x ``n_snps`` SNPs.

    The region is ``sequence_length`` bp long, by default 1 kb per SNP (at
    least 1 Mb): dense enough for the short-range LD that models must learn.
    """
    import msprime

    if n_haplotypes < 6 or n_haplotypes % 6:
        raise ValueError(f"n_haplotypes must be a positive multiple of 6 (3 populations x diploids), got {n_haplotypes}")
    if n_snps < 1:
        raise ValueError(f"n_snps must be positive, got {n_snps}")
    dem = msprime.Demography()
    for name in (*POPULATIONS, "BC", "ABC"):
        dem.add_population(name=name, initial_size=10_000)
    dem.add_population_split(time=1_500, derived=["B", "C"], ancestral="BC")
    dem.add_population_split(time=5_000, derived=["A", "BC"], ancestral="ABC")
    L = float(sequence_length or max(1e6, 1000.0 * n_snps))
    hot = L / 3
    rates = msprime.RateMap(position=[0, hot, hot + 10_000, L], rate=[1e-8, 5e-6, 1e-8])
    per_pop = n_haplotypes // 6
    ts = msprime.sim_ancestry(samples={p: per_pop for p in POPULATIONS}, ploidy=2, demography=dem,
                              recombination_rate=rates, random_seed=seed)
    ts = msprime.sim_mutations(ts, rate=1.25e-8, random_seed=seed, model=msprime.BinaryMutationModel(),
                               discrete_genome=True)
    g = ts.genotype_matrix()  # sites x haplotypes
    positions = ts.tables.sites.position.astype(np.int64)
    freq = g.mean(axis=1)
    keep = np.flatnonzero((np.minimum(freq, 1 - freq) >= min_maf) & (np.diff(positions, prepend=-1) > 0))
    if keep.size < n_snps:
        raise ValueError(f"only {keep.size} SNPs pass MAF >= {min_maf}; use a longer sequence_length")
    keep = keep[np.linspace(0, keep.size - 1, n_snps).round().astype(int)]
    alleles = np.ascontiguousarray(g[keep].T)
    pos = positions[keep] + 1  # VCF positions are 1-based
    variants = Variants(np.full(n_snps, "1"), pos, np.array([f"1:{p}" for p in pos]), np.full(n_snps, "A"),
                        np.full(n_snps, "G"))
    pops = np.array([POPULATIONS[ts.node(int(u)).population] for u in ts.samples()])
    ids = np.array([f"{pops[2 * i]}{i}_{h}" for i in range(n_haplotypes // 2) for h in "AB"])
    return Simulation(HaplotypeMatrix.from_numpy(alleles, ids=ids, variants=variants), pops)
