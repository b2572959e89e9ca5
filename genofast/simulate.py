"""Realistic demo and test cohorts simulated with msprime, so nothing is downloaded.

Three populations: an ancestral one splits into A and BC 5,000 generations
ago and BC into B and C 1,500 generations ago, with a recombination map that
has one hotspot; mutations under a biallelic model; SNPs kept above a minor
allele frequency and thinned to the requested count. :func:`simulate_sweep`
adds a selective sweep in population A, for selection scans.
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
    sweep_position: int | None = None  # 1-based bp of the selected site (simulate_sweep only)


def simulate(n_haplotypes: int = 1000, n_snps: int = 3000, seed: int = 1, min_maf: float = 0.01,
             sequence_length: float | None = None) -> Simulation:
    """Simulate ``n_haplotypes`` (a multiple of 6, split over three populations) x ``n_snps`` SNPs.

    The region is ``sequence_length`` bp long, by default 1 kb per SNP (at
    least 1 Mb): dense enough for the short-range LD that models must learn.
    """
    import msprime

    if n_haplotypes < 6 or n_haplotypes % 6:
        raise ValueError(f"n_haplotypes must be a positive multiple of 6 (3 populations x diploids), "
                         f"got {n_haplotypes}")
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
    return _snps(ts, n_haplotypes, n_snps, min_maf)


def simulate_sweep(n_haplotypes=(600, 200, 200), n_snps: int = 2000, seed: int = 1, selection: float = 0.02,
                   end_frequency: float = 0.9, min_maf: float = 0.01, sequence_length: float = 2e6) -> Simulation:
    """The three-population cohort of :func:`simulate` with a selective sweep in population A.

    ``n_haplotypes`` gives the haplotypes of A, B and C (each even). A beneficial
    allele at the middle of the region arose in A and rose to ``end_frequency``
    (selection coefficient ``selection``), ending at the present, under msprime's
    structured coalescent (``SweepGenicSelection``).

    msprime runs a sweep only in a single-population model, so the history is
    simulated in two steps: back to the A/BC split (5,000 generations), A alone
    with the sweep and B, C with their own split, each stopped there; then the
    lineages left are merged into the ancestral population and simulated to
    the end from that state. The result has the demography of :func:`simulate`.
    """
    import msprime
    import tskit

    sizes = [int(n) for n in n_haplotypes]
    if len(sizes) != 3 or any(n < 2 or n % 2 for n in sizes):
        raise ValueError(f"n_haplotypes must give an even count >= 2 for each of A, B, C, got {n_haplotypes}")
    if not 0 < end_frequency < 1 or selection <= 0:
        raise ValueError("end_frequency must be in (0, 1) and selection positive")
    n_size, split = 10_000, 5_000
    L = float(sequence_length)
    hot = L / 3
    rates = msprime.RateMap(position=[0, hot, hot + 10_000, L], rate=[1e-8, 5e-6, 1e-8])
    dem = msprime.Demography()
    for name in (*POPULATIONS, "BC", "ABC"):
        dem.add_population(name=name, initial_size=n_size)
    dem.add_population_split(time=1_500, derived=["B", "C"], ancestral="BC")
    dem.add_population_split(time=split, derived=["A", "BC"], ancestral="ABC")
    site = int(L // 2)
    sweep = msprime.SweepGenicSelection(position=site, start_frequency=1 / (2 * n_size), end_frequency=end_frequency,
                                        s=selection, dt=1e-6)
    alone = msprime.Demography.isolated_model([n_size])
    ts_a = msprime.sim_ancestry(samples=sizes[0] // 2, demography=alone, model=[sweep, msprime.StandardCoalescent()],
                                recombination_rate=rates, end_time=split, random_seed=seed)
    ts_bc = msprime.sim_ancestry(samples={"B": sizes[1] // 2, "C": sizes[2] // 2}, demography=dem,
                                 recombination_rate=rates, end_time=split, random_seed=seed + 1)
    tables = tskit.TableCollection(sequence_length=L)
    tables.time_units = "generations"
    tables.populations.metadata_schema = ts_bc.tables.populations.metadata_schema
    for p in ts_bc.tables.populations:
        tables.populations.append(p)
    ancestral = POPULATIONS.index("A"), len(POPULATIONS) + 1  # A, then ABC where the lineages go on
    for part, population in ((ts_a.tables, lambda p: ancestral[0]), (ts_bc.tables, lambda p: p)):
        offset = tables.nodes.num_rows
        for node in part.nodes:
            # The lineages still open at the split continue in ABC.
            pop = ancestral[1] if node.time >= split else population(node.population)
            tables.nodes.add_row(flags=node.flags, time=node.time, population=pop)
        for e in part.edges:
            tables.edges.add_row(e.left, e.right, e.parent + offset, e.child + offset)
    tables.sort()
    ts = msprime.sim_ancestry(initial_state=tables, demography=dem, recombination_rate=rates, random_seed=seed + 2)
    ts = msprime.sim_mutations(ts, rate=1.25e-8, random_seed=seed, model=msprime.BinaryMutationModel(),
                               discrete_genome=True)
    sim = _snps(ts, sum(sizes), n_snps, min_maf)
    return Simulation(sim.haplotypes, sim.populations, site + 1)


def _snps(ts, n_haplotypes: int, n_snps: int, min_maf: float) -> Simulation:
    """SNPs above ``min_maf`` at distinct positions, thinned evenly to ``n_snps``, as a labelled cohort."""
    # Streamed site by site: a whole genotype matrix of a large cohort (sites x haplotypes, int32) would not fit.
    positions = ts.tables.sites.position.astype(np.int64)
    counts = np.fromiter((int(np.count_nonzero(v.genotypes)) for v in ts.variants(copy=False)), np.int64,
                         ts.num_sites)
    freq = counts / ts.num_samples
    keep = np.flatnonzero((np.minimum(freq, 1 - freq) >= min_maf) & (np.diff(positions, prepend=-1) > 0))
    if keep.size < n_snps:
        raise ValueError(f"only {keep.size} SNPs pass MAF >= {min_maf}; use a longer sequence_length")
    keep = keep[np.linspace(0, keep.size - 1, n_snps).round().astype(int)]
    alleles = np.empty((ts.num_samples, n_snps), np.uint8)
    wanted = iter(enumerate(keep))
    j, site = next(wanted)
    for v in ts.variants(copy=False):
        if v.site.id == site:
            alleles[:, j] = v.genotypes
            j, site = next(wanted, (None, -1))
            if j is None:
                break
    pos = positions[keep] + 1  # VCF positions are 1-based
    variants = Variants(np.full(n_snps, "1"), pos, np.array([f"1:{p}" for p in pos]), np.full(n_snps, "A"),
                        np.full(n_snps, "G"))
    pops = np.array([POPULATIONS[ts.node(int(u)).population] for u in ts.samples()])
    ids = np.array([f"{pops[2 * i]}{i}_{h}" for i in range(n_haplotypes // 2) for h in "AB"])
    return Simulation(HaplotypeMatrix.from_numpy(alleles, ids=ids, variants=variants), pops)
