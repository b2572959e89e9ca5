"""``genofast info``, ``simulate`` and ``evaluate``: looking at data and judging synthetic sets."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._common import (LEGEND, SEED, SIMULATE_BYTES, SIMULATE_SECONDS, SIMULATION_SEEDS, SIM_SEED, THREADS,
                      WRITE_BYTES, _check_legend, _check_output, _check_time, _chromosomes, _is_hapt, _read,
                      _read_haplotypes, _summary, _warn_copies, command, console)


@command
def info(files: List[Path] = typer.Argument(None, help="Data files to describe (.hapt, .vcf, .bed, .geno, .npz)."),
         legend: Optional[Path] = LEGEND, threads: Optional[int] = THREADS):
    """Build and device information, and the shape and missingness of data files."""
    from .. import __version__, kernels

    _check_legend(legend, files or [])
    cuda = kernels.has_cuda()
    console.print(f"genofast {__version__}: CUDA compiled={cuda.compiled}, devices={cuda.device_count}, "
                  f"SIMD={kernels.simd_level()} (supported {kernels.simd_supported()}), threads={kernels.threads()}")
    for f in files or []:
        m = _read(f, legend)
        size = m.shape[0] * m.shape[1]
        missing = m.n_missing / size if size else 0.0  # counted on the packed words; unpacking costs 8-14x
        where = _chromosomes(m.variants) if _has_positions(f, m, legend) else \
            "no SNP positions" + (" (a .hapt has none: give --legend)" if _is_hapt(f) else "")
        console.print(f"{f}: {type(m).__name__}, {m.shape[0]} rows x {m.shape[1]} SNPs, "
                      f"missing {100 * missing:.2f}%, {where}")


def _has_positions(path: Path, m, legend: Optional[Path]) -> bool:
    from ..align import has_metadata

    return legend is not None if _is_hapt(path) else has_metadata(m.variants)


@command
def simulate(out: Path = typer.Option(Path("simulated"), "--out", help="Output folder."),
             haplotypes: int = typer.Option(1002, help="Haplotypes (a multiple of 6)."),
             snps: int = typer.Option(3000, help="SNPs kept (MAF >= 1%)."),
             seed: int = SIM_SEED, threads: Optional[int] = THREADS):
    """Simulate three populations with msprime; write simulated.vcf.gz, simulated.hapt and populations.txt."""
    from .. import io
    from ..models._base import check_int
    from ..simulate import simulate as run

    check_int(haplotypes, "--haplotypes", 6)
    if haplotypes % 6:
        raise ValueError(f"--haplotypes must be a multiple of 6 (3 populations of diploids), got {haplotypes}")
    check_int(snps, "--snps", 1)
    check_int(seed, "--seed", *SIMULATION_SEEDS)
    _check_output(out, folder=True)
    _check_simulation_size(haplotypes, snps, "--haplotypes and --snps")
    with console.status("simulating with msprime"):
        sim = run(haplotypes, snps, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    io.write_vcf(out / "simulated.vcf.gz", sim.haplotypes)
    io.write_hapt(out / "simulated.hapt", sim.haplotypes, tag="Sim")
    (out / "populations.txt").write_text("".join(f"{i}\t{p}\n" for i, p in zip(sim.haplotypes.ids, sim.populations)))
    console.print(f"wrote {sim.haplotypes.n_haplotypes} haplotypes x {sim.haplotypes.n_snps} SNPs to {out}/")


def _check_simulation_size(haplotypes: int, snps: int, options: str) -> None:
    from ..models._base import available_memory, check_memory

    what = f"simulating {haplotypes} haplotypes x {snps} SNPs"
    per_allele = max(SIMULATE_BYTES, WRITE_BYTES["vcf"])  # the simulation is freed before the VCF is written
    fit = int(available_memory() / (per_allele * haplotypes))
    check_memory(haplotypes * snps * per_allele, what, f"lower {options} (about {fit:,} SNPs fit at {haplotypes} "
                                                       "haplotypes)")
    _check_time(haplotypes * snps * SIMULATE_SECONDS, what, f"lower {options}")


@command
def evaluate(real: Path = typer.Argument(..., help="Real (training) haplotypes; or unphased genotypes (.bed, "
                                          "EIGENSTRAT, unphased VCF), and then every set is compared as genotypes, "
                                          "synthetic haplotypes paired into individuals (rows 2i, 2i+1)."),
             synthetic: List[Path] = typer.Argument(..., help="One or more synthetic sets."),
             out: Path = typer.Option(Path("report.html"), "--out", help="HTML report."),
             holdout: Optional[Path] = typer.Option(None, help="Held-out real data, for privacy loss."),
             no_classifiers: bool = typer.Option(False, "--no-classifiers", help="Skip the real-vs-synthetic "
                                                 "classifiers."),
             labels: Optional[Path] = typer.Option(None, help="Population labels of the real samples (tsv with "
                                                   "a header: sample, then super_pop; or an EIGENSTRAT .ind): "
                                                   "per-population statistics."),
             embeddings: bool = typer.Option(False, "--embeddings", help="Add UMAP and Isomap views beside the "
                                             "PCA (slower)."),
             trace: Optional[List[Path]] = typer.Option(None, "--trace", help="A model checkpoint (repeatable) "
                                                        "whose training trace the report draws: every "
                                                        "evaluation's criteria, the privacy loss with train "
                                                        "--holdout, the kept epoch marked."),
             privacy_subsamples: int = typer.Option(1, help="Average the privacy loss over this many seeded draws "
                                                    "of the larger of the real and held-out sets."),
             legend: Optional[Path] = LEGEND,
             seed: int = SEED, threads: Optional[int] = THREADS):
    """Compare synthetic sets with real data: statistics, privacy and an HTML report."""
    from ..matrix import GenotypeMatrix
    from ..models._base import check_int, check_seed
    from ..report import evaluate as run

    check_seed(seed, "--seed")
    check_int(privacy_subsamples, "--privacy-subsamples")
    _check_output(out)
    _check_legend(legend, [real, holdout, *synthetic])
    names = _set_names(synthetic)
    training = _trained(trace or [])
    r = _read(real, legend)
    # against haplotypes every set must be phased (the reader names the first unphased call); against
    # unphased genotypes any set goes, haplotypes being paired into individuals by evaluate
    read = _read if isinstance(r, GenotypeMatrix) else _read_haplotypes
    held = read(holdout, legend) if holdout else None
    syn = {name: read(p, legend) for name, p in zip(names, synthetic)}
    if isinstance(r, GenotypeMatrix):
        console.print(f"note: {real} holds unphased genotypes: every set is compared as genotypes")
    populations = None
    if labels is not None:
        from ..metrics.population import haplotype_labels, read_labels

        populations = haplotype_labels(r.ids, read_labels(labels))
    with console.status("evaluating") as status:
        result = run(r, syn, out=out, holdout=held, classifiers=not no_classifiers, seed=seed, populations=populations,
                     embeddings=embeddings, privacy_subsamples=privacy_subsamples, training=training,
                     stage=lambda what: status.update(f"evaluating: {what}"))
    for note in getattr(result, "alignment_notes", {}).values():
        console.print(f"note: {note}")
    _summary(result.table)
    _warn_copies(result.table)
    console.print(f"report: {out}")


def _trained(paths: List[Path]) -> dict:
    """``--trace`` checkpoints by distinct name (as the synthetic sets are named), each with a trace to draw."""
    from ..models import load

    models = {}
    for name, path in zip(_set_names(paths), paths):
        m = load(path)
        if not getattr(m, "trace", None):
            raise ValueError(f"--trace {path}: the {m.kind} model holds no training trace (trained with "
                             "--eval-every 0, or a model without evaluations)")
        models[name] = m
    return models


def _set_names(paths: List[Path]) -> List[str]:
    """A distinct name per synthetic file: its stem, else parent/stem, else a #2, #3 suffix.

    Two sets under one name would share a row of the table, and one of them
    would vanish from the report.
    """
    stems = [p.name.split(".")[0] for p in paths]
    names = [s if stems.count(s) == 1 else f"{p.parent.name or '.'}/{s}" for p, s in zip(paths, stems)]
    seen: dict = {}
    for i, name in enumerate(names):
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[i] = f"{name}#{seen[name]}"
    renamed = [f"{p} as {name!r}" for p, s, name in zip(paths, stems, names) if name != s]
    if renamed:
        console.print(f"note: synthetic sets share a name; reporting {', '.join(renamed)}")
    return names
