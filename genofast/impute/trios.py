"""Parent–offspring trios: their genotypes, simulation, masking, Mendelian rules and windows.

A trio is a father, a mother and their child. Parents are genotyped at every
SNP, the child at a low-density subset; the other child calls are missing
(-1) and are the ones to impute. Simulated trios follow the design of
seed 004 (G1–G4: 100 or 500 trios x 5k or 10k SNPs over five chromosomes of
1 Morgan): unrelated founders drawn by msprime from a livestock-like
population, each child made of one recombined gamete from each parent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..matrix import Variants

# Seed 004, Methods: G1–G4 as (trios, SNPs), missing rates NA10–NA90, window 10 for 5k/10k SNPs (22 for 1k).
DESIGNS = {"G1": (100, 5_000), "G2": (100, 10_000), "G3": (500, 5_000), "G4": (500, 10_000)}
MISSING_RATES = {"NA10": 0.1, "NA30": 0.3, "NA50": 0.5, "NA70": 0.7, "NA90": 0.9}
BP_PER_MORGAN = 100_000_000  # uniform 1 cM/Mb, the map Beagle assumes when it is given none


@dataclass(frozen=True)
class Trios:
    """Genotypes of ``n_trios`` families at ``n_snps`` SNPs: dosages 0/1/2 of allele 1, -1 missing.

    Row ``i`` of ``father``, ``mother`` and ``child`` is family ``i``. SNPs are
    sorted by position within each chromosome and each chromosome is one
    contiguous block of columns (windows never cross a chromosome end).
    """

    father: np.ndarray
    mother: np.ndarray
    child: np.ndarray
    variants: Variants
    father_ids: np.ndarray
    mother_ids: np.ndarray
    child_ids: np.ndarray

    def __post_init__(self):
        shape = np.shape(self.child)
        for name in ("father", "mother", "child"):
            a = getattr(self, name)
            if a.ndim != 2 or a.shape != shape:
                raise ValueError(f"trios: {name} has shape {a.shape}, expected {shape} (families x SNPs)")
            if a.size and (a.min() < -1 or a.max() > 2):
                row, col = np.argwhere((a < -1) | (a > 2))[0]
                raise ValueError(f"trios: {name} of family {row} has dosage {a[row, col]} at SNP {col}; "
                                 "diploid dosages are 0, 1, 2 or -1 (missing)")
        if len(self.variants) != shape[1]:
            raise ValueError(f"trios: {len(self.variants)} variants for {shape[1]} SNPs")
        for name in ("father_ids", "mother_ids", "child_ids"):
            if len(getattr(self, name)) != shape[0]:
                raise ValueError(f"trios: {name} has {len(getattr(self, name))} entries for {shape[0]} families")
        chromosome_blocks(self.variants)  # checks order

    @property
    def n_trios(self) -> int:
        return self.child.shape[0]

    @property
    def n_snps(self) -> int:
        return self.child.shape[1]

    def with_child(self, child: np.ndarray) -> "Trios":
        return replace(self, child=np.asarray(child, dtype=np.int8))


def chromosome_blocks(variants: Variants) -> np.ndarray:
    """Chromosome number (0, 1, ...) of each SNP; raises if a chromosome is split or unsorted."""
    chrom = np.asarray(variants.chrom).astype(str)
    pos = np.asarray(variants.position)
    if chrom.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, chrom[1:] != chrom[:-1]])
    names = chrom[starts]
    if len(set(names)) != len(names):
        again = next(n for i, n in enumerate(names) if n in names[:i])
        raise ValueError(f"variants: chromosome {again} appears in more than one block; sort the SNPs by chromosome")
    block = np.cumsum(np.r_[True, chrom[1:] != chrom[:-1]]) - 1
    bad = np.flatnonzero((np.diff(pos) < 0) & (block[1:] == block[:-1]))
    if bad.size:
        j = bad[0] + 1
        raise ValueError(f"variants: SNP {variants.id[j]} ({chrom[j]}:{pos[j]}) comes after position {pos[j - 1]}; "
                         "sort the SNPs by position")
    return block


def window_neighbours(block: np.ndarray, size: int) -> np.ndarray:
    """Column index of the ``size`` flanking SNPs of every SNP, -1 past a chromosome end.

    Seed 004: a window of size L holds L/2 SNPs on each side of the target,
    truncated at chromosome ends (the missing slots stay -1 so that a
    feature keeps its meaning: column ``c`` is always the same offset).
    Columns are offsets -L/2..-1 then 1..L/2.
    """
    if size < 2 or size % 2:
        raise ValueError(f"window size must be an even number >= 2, got {size}")
    half = size // 2
    offsets = np.r_[np.arange(-half, 0), np.arange(1, half + 1)]
    j = np.arange(block.size)[:, None] + offsets[None, :]
    inside = (j >= 0) & (j < block.size)
    jc = np.clip(j, 0, max(block.size - 1, 0))
    same = inside & (block[jc] == block[:, None])
    return np.where(same, jc, -1)


def transmitted_alleles(trios: Trios) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The allele each parent passed on, where the trio's genotypes tell it.

    Returns ``(father, mother, mendel_error)``: int8 arrays of 0/1 where known
    and -1 where not (child or parent missing, or all three heterozygous), and
    a boolean array of calls that no pair of transmitted alleles explains;
    those count as unknown.
    """
    f, m, c = (np.asarray(a, dtype=np.int16) for a in (trios.father, trios.mother, trios.child))
    known = (f >= 0) & (m >= 0) & (c >= 0)
    f_hom, m_hom = (f == 0) | (f == 2), (m == 0) | (m == 2)
    # A homozygous parent passes its only allele; the child's other allele is then the other parent's.
    tf = np.where(f_hom, f // 2, -1)
    tm = np.where(m_hom, m // 2, -1)
    tm = np.where(known & f_hom & (m == 1), c - f // 2, tm)
    tf = np.where(known & m_hom & (f == 1), c - m // 2, tf)
    both = known & (f == 1) & (m == 1) & (c != 1)  # a homozygous child of two heterozygotes got c/2 from each
    tf = np.where(both, c // 2, tf)
    tm = np.where(both, c // 2, tm)
    error = known & ((f_hom & m_hom & (c != f // 2 + m // 2))
                     | (f_hom & (m == 1) & ((tm < 0) | (tm > 1)))
                     | (m_hom & (f == 1) & ((tf < 0) | (tf > 1))))
    tf[error] = -1
    tm[error] = -1
    return tf.astype(np.int8), tm.astype(np.int8), error


def allele_frequency(trios: Trios) -> np.ndarray:
    """Frequency of allele 1 per SNP over the parents' called alleles (parents are the founders)."""
    g = np.concatenate([trios.father, trios.mother]).astype(np.float64)
    called = g >= 0
    n = called.sum(0)
    return np.divide((g * called).sum(0), 2 * n, out=np.full(g.shape[1], 0.5), where=n > 0)


def mendelian_dosage(trios: Trios) -> np.ndarray:
    """Child dosage expected from the parents' genotypes alone (Mendel's rules), observed calls kept.

    Each parent passes half its dosage on average; a parent with a missing
    call passes allele 1 with the population frequency. Homozygous parents
    give exact calls, a heterozygote contributes 0.5.
    """
    p = allele_frequency(trios)
    tf = np.where(trios.father >= 0, trios.father / 2, p)
    tm = np.where(trios.mother >= 0, trios.mother / 2, p)
    return np.where(trios.child >= 0, trios.child, tf + tm)


def mask_offspring(trios: Trios, missing_rate: float, seed: int) -> Trios:
    """Hide ``round(missing_rate * n_snps)`` child calls per family, chosen uniformly (seed 004's NA levels)."""
    if not 0.0 <= missing_rate < 1.0:
        raise ValueError(f"missing_rate must be in [0, 1), got {missing_rate}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7A5C]))
    n_hide = int(round(missing_rate * trios.n_snps))
    keys = rng.random(trios.child.shape)
    # The n_hide smallest random keys of a row are a uniform draw without replacement, for all rows at once.
    hide = np.argpartition(keys, n_hide - 1, axis=1)[:, :n_hide] if n_hide else np.zeros((trios.n_trios, 0), int)
    child = trios.child.copy()
    np.put_along_axis(child, hide, -1, axis=1)
    return trios.with_child(child)


def imputation_accuracy(imputed: np.ndarray, truth: np.ndarray, untyped: np.ndarray) -> tuple[float, int, int]:
    """Seed 004's accuracy: per SNP, correlation of imputed and true dosages over the children it was untyped in.

    Returns ``(mean correlation, SNPs scored, SNPs skipped)``. A SNP whose true
    genotypes do not vary among those children has no correlation and is
    skipped; one whose imputed values do not vary while the truth does scores 0
    (it explained none of the variation). SNPs untyped in fewer than 2 children are skipped.
    """
    imputed, truth, untyped = np.asarray(imputed, float), np.asarray(truth, float), np.asarray(untyped, bool)
    n = untyped.sum(0)
    w = untyped.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mi = (imputed * w).sum(0) / n
        mt = (truth * w).sum(0) / n
        di, dt = (imputed - mi) * w, (truth - mt) * w
        vi, vt = (di * di).sum(0), (dt * dt).sum(0)
        r = (di * dt).sum(0) / np.sqrt(vi * vt)
    scored = (n >= 2) & (vt > 1e-12)
    r = np.where(vi > 1e-12, r, 0.0)
    if not scored.any():
        return float("nan"), 0, int(untyped.any(0).sum())
    return float(r[scored].mean()), int(scored.sum()), int(untyped.any(0).sum() - scored.sum())


# ---------------------------------------------------------------------------------------------- simulation


@dataclass(frozen=True)
class TrioSimulation:
    """Simulated trios with nothing missing, and the crossovers of each meiosis (families x 2 parents x chromosomes)."""

    trios: Trios
    crossovers: np.ndarray


def founder_haplotypes(n_haplotypes: int, n_snps_per_chromosome: int, n_chromosomes: int, seed: int, *,
                       population_size: float = 100, ancestral_size: float = 1000, bottleneck_generations: float = 100,
                       mutation_rate: float = 2.5e-8, min_maf: float = 0.05):
    """Founder haplotypes of a livestock-like population, one msprime run per 1-Morgan chromosome.

    Seed 004 bred a historic population for 50 generations and a reference
    population for 50 more from it; here the last ``bottleneck_generations``
    have effective size ``population_size`` (100, typical of cattle breeds)
    and the time before ``ancestral_size``. The small recent size is what
    gives long-range LD. Mutation rate 2.5e-8 as in the seed; SNPs with minor
    allele frequency >= ``min_maf`` evenly thinned to the count asked for,
    allele 1 = the minor allele (seed: "the allele with low frequency as 1").

    Returns ``(haplotypes n_haplotypes x n_snps int8, chromosome names, positions)``.
    """
    import msprime

    dem = msprime.Demography()
    dem.add_population(name="pop", initial_size=population_size)
    dem.add_population_parameters_change(time=bottleneck_generations, initial_size=ancestral_size, population="pop")
    seeds = np.random.SeedSequence([seed, 0x51A]).generate_state(2 * n_chromosomes)
    haps, chroms, positions = [], [], []
    for c in range(n_chromosomes):
        ts = msprime.sim_ancestry(samples=n_haplotypes // 2, ploidy=2, demography=dem, sequence_length=BP_PER_MORGAN,
                                  recombination_rate=1.0 / BP_PER_MORGAN, random_seed=int(seeds[2 * c]) + 1)
        ts = msprime.sim_mutations(ts, rate=mutation_rate, random_seed=int(seeds[2 * c + 1]) + 1,
                                   model=msprime.BinaryMutationModel(), discrete_genome=True)
        keep, pos = [], []
        for v in ts.variants():
            freq = v.genotypes.mean()
            if min(freq, 1 - freq) >= min_maf:
                keep.append(v.genotypes.astype(np.int8) if freq <= 0.5 else (1 - v.genotypes).astype(np.int8))
                pos.append(int(v.site.position) + 1)  # 1-based like VCF
        if len(keep) < n_snps_per_chromosome:
            raise ValueError(f"chromosome {c + 1}: only {len(keep)} SNPs with MAF >= {min_maf}; "
                             f"{n_snps_per_chromosome} asked for")
        pick = np.linspace(0, len(keep) - 1, n_snps_per_chromosome).round().astype(int)
        haps.append(np.stack([keep[i] for i in pick], axis=1))
        positions.append(np.asarray(pos, dtype=np.int64)[pick])
        chroms.append(np.full(n_snps_per_chromosome, str(c + 1)))
    return np.concatenate(haps, axis=1), np.concatenate(chroms), np.concatenate(positions)


def gamete(haplotype_a: np.ndarray, haplotype_b: np.ndarray, morgans: np.ndarray, length_morgans: float,
           rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """One meiosis on one chromosome: a gamete copying ``a`` or ``b`` and switching at each crossover.

    Crossovers are a Poisson process (no interference, Haldane's map) with
    mean ``length_morgans``; the first copied haplotype is a fair coin.
    ``morgans`` are the SNP positions on the genetic map. Returns the gamete
    and its number of crossovers.
    """
    n = rng.poisson(length_morgans)
    points = np.sort(rng.uniform(0.0, length_morgans, n))
    start = rng.integers(2)
    copies_b = (np.searchsorted(points, morgans, side="right") + start) % 2 == 1
    return np.where(copies_b, haplotype_b, haplotype_a).astype(np.int8), int(n)


def simulate_trios(n_trios: int, n_snps: int, seed: int, *, n_chromosomes: int = 5, length_morgans: float = 1.0,
                   **population) -> TrioSimulation:
    """Simulate ``n_trios`` unrelated parent pairs and one child each, typed at all ``n_snps`` SNPs.

    Founders come from :func:`founder_haplotypes` (``population`` passes its
    options on); each parent gives the child one gamete per chromosome
    (:func:`gamete`). Same seed, same trios.
    """
    if n_trios < 1 or n_snps < n_chromosomes or n_snps % n_chromosomes:
        raise ValueError(f"need n_trios >= 1 and n_snps a multiple of n_chromosomes={n_chromosomes}, "
                         f"got {n_trios} trios and {n_snps} SNPs")
    haps, chrom, pos = founder_haplotypes(4 * n_trios, n_snps // n_chromosomes, n_chromosomes, seed, **population)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x3E10]))
    block = np.repeat(np.arange(n_chromosomes), n_snps // n_chromosomes)
    morgans = pos / BP_PER_MORGAN * length_morgans
    # Founder haplotype rows 4i, 4i+1 are the father of family i and 4i+2, 4i+3 the mother.
    child = np.empty((n_trios, n_snps), dtype=np.int8)
    crossovers = np.zeros((n_trios, 2, n_chromosomes), dtype=np.int64)
    for i in range(n_trios):
        for parent in range(2):
            a, b = haps[4 * i + 2 * parent], haps[4 * i + 2 * parent + 1]
            for c in range(n_chromosomes):
                cols = block == c
                g, crossovers[i, parent, c] = gamete(a[cols], b[cols], morgans[cols], length_morgans, rng)
                child[i, cols] = g if parent == 0 else child[i, cols] + g
    father = haps[0::4] + haps[1::4]
    mother = haps[2::4] + haps[3::4]
    variants = Variants(chrom, pos, np.array([f"c{c}_{p}" for c, p in zip(chrom, pos)]), np.full(n_snps, "A"),
                        np.full(n_snps, "G"))
    fam = np.arange(1, n_trios + 1)
    ids = [np.array([f"{who}{i}" for i in fam]) for who in ("fa", "mo", "ch")]
    trios = Trios(father.astype(np.int8), mother.astype(np.int8), child, variants, *ids)
    return TrioSimulation(trios, crossovers)
