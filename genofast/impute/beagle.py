"""Beagle 5.4: phasing, and the population-based imputation baseline (any unphased cohort, or trios).

:func:`phase_with_beagle` phases an unphased cohort into haplotypes (what
the generative models train on); :func:`impute_genotypes_with_beagle` fills
the missing calls of any cohort; :func:`impute_with_beagle` runs it on trios.

Beagle 5 does not read pedigrees; given fathers, mothers and children as one
unphased VCF it phases everyone and fills the sporadic missing calls from
the haplotypes it shares with the others (a child's are copies of its
parents'). Output calls are hard (GT): Beagle prints dosages only for
markers imputed from a reference panel, not for sporadic missing calls.
Needs the ``beagle`` command (Debian/Ubuntu: ``apt-get install beagle``)
or ``java`` and a jar given as ``jar=``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..matrix import GenotypeMatrix, HaplotypeMatrix
from .trios import Trios


def beagle_command(jar: str | None = None) -> list[str]:
    """The command that starts Beagle, or a clear error saying how to get it."""
    if jar:
        if not Path(jar).is_file():
            raise FileNotFoundError(f"no such Beagle jar: {jar}")
        return ["java", "-jar", str(jar)]
    exe = shutil.which("beagle")
    if exe is None:
        raise FileNotFoundError("the beagle command is not installed (apt-get install beagle), or pass jar=")
    return [exe]


def run_beagle(args: list[str], out: Path) -> tuple[float, float]:
    """Run one Beagle command writing ``out``.vcf.gz; (seconds, peak MiB of the Java process), or an error
    with the end of its log."""
    with open(f"{out}.console.txt", "w+") as console:
        t0 = time.perf_counter()
        process = subprocess.Popen(args, stdout=console, stderr=subprocess.STDOUT)
        try:
            # wait4 gives this child's own peak memory; getrusage(RUSAGE_CHILDREN) only the largest child so far.
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # interrupted: do not leave Java running
            process.kill()
            process.wait()
            raise
        seconds = time.perf_counter() - t0
        process.returncode = os.waitstatus_to_exitcode(status)
        console.seek(0)
        printed = console.read()
    if process.returncode != 0:
        log = Path(f"{out}.log")
        detail = log.read_text() if log.is_file() and log.stat().st_size else printed
        raise RuntimeError(f"Beagle failed (exit {process.returncode}):\n{detail[-2000:]}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


@dataclass(frozen=True)
class BeagleRun:
    """Genotypes after Beagle filled their missing calls, and what the run cost.

    ``calls`` is samples x SNPs int8 dosages in the input's sample order;
    ``seconds`` is the wall time of the Beagle process; ``peak_mib`` its peak
    resident memory (the Java process, from the kernel's accounting of that
    one child: ``os.wait4``).
    """

    calls: np.ndarray
    seconds: float
    peak_mib: float


def _beagle(genotypes: GenotypeMatrix, seed: int, nthreads: int, jar, workdir):
    """Beagle run on ``genotypes``: (its phased output as haplotypes in the input's sample order, seconds, peak
    MiB), after checking that it wrote back the samples and SNPs it was given."""
    from ..io import read_vcf, write_vcf

    cmd = beagle_command(jar)
    genotypes = genotypes.to("cpu")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        vcf = Path(tmp) / "input.vcf.gz"
        write_vcf(vcf, genotypes)
        out = Path(tmp) / "beagle"
        seconds, peak = run_beagle([*cmd, f"gt={vcf}", f"out={out}", f"nthreads={nthreads}", f"seed={seed}"], out)
        result = read_vcf(f"{out}.vcf.gz", phased=True)
    written, returned = list(map(str, genotypes.ids)), [str(i).rsplit("_", 1)[0] for i in result.ids[::2]]
    if sorted(written) != sorted(returned):
        lost = sorted(set(written) - set(returned))[:5]
        extra = sorted(set(returned) - set(written))[:5]
        raise RuntimeError(f"Beagle returned other samples than it was given (missing {lost}, unexpected {extra})")
    if result.n_snps != genotypes.n_snps or not np.array_equal(result.variants.position, genotypes.variants.position):
        raise RuntimeError(f"Beagle returned {result.n_snps} SNPs for {genotypes.n_snps}, or at other positions")
    order = {s: k for k, s in enumerate(returned)}
    rows = np.array([[2 * order[s], 2 * order[s] + 1] for s in written], dtype=np.int64).reshape(-1)
    return result[rows], seconds, peak


def impute_genotypes_with_beagle(genotypes: GenotypeMatrix, *, seed: int = 0, nthreads: int = 1,
                                 jar: str | None = None, workdir=None) -> BeagleRun:
    """Fill the missing calls of unphased genotypes with Beagle 5.4, without a reference panel.

    Beagle phases the cohort and fills sporadic missing calls from the
    haplotypes the samples share; it keeps observed calls as they were.
    ``workdir`` is where the temporary files go (default: the system's).
    Errors say whether Beagle is missing, failed (with the end of its log) or
    wrote back other samples or SNPs than it was given.
    """
    haplotypes, seconds, peak = _beagle(genotypes, seed, nthreads, jar, workdir)
    return BeagleRun(haplotypes.to_genotypes().to_numpy().astype(np.int8), seconds, peak)


@dataclass(frozen=True)
class PhasedRun:
    """Haplotypes Beagle phased, rows 2i and 2i + 1 the two of sample i in the input's order, and the run's cost
    (as :class:`BeagleRun`)."""

    haplotypes: HaplotypeMatrix
    seconds: float
    peak_mib: float


def phase_with_beagle(genotypes: GenotypeMatrix, *, seed: int = 0, nthreads: int = 1, jar: str | None = None,
                      workdir=None) -> PhasedRun:
    """Phase unphased genotypes with Beagle 5.4, without a reference panel: the haplotypes the generative models
    train on. Missing calls come back filled (Beagle imputes them while phasing); every called genotype is kept,
    so the two haplotypes of a sample sum to its dosage wherever it was called. Errors as
    :func:`impute_genotypes_with_beagle`'s."""
    haplotypes, seconds, peak = _beagle(genotypes, seed, nthreads, jar, workdir)
    return PhasedRun(haplotypes, seconds, peak)


def impute_with_beagle(trios: Trios, *, seed: int = 0, nthreads: int = 2, jar: str | None = None,
                       workdir=None) -> tuple[np.ndarray, float]:
    """Children's genotypes after Beagle 5.4 phases and fills all trio members together.

    Returns ``(child dosages families x SNPs, seconds Beagle ran)``; observed
    child calls come back as Beagle wrote them (Beagle keeps called genotypes).
    """
    ids = np.concatenate([trios.father_ids, trios.mother_ids, trios.child_ids]).astype(str)
    if len(set(ids)) != len(ids):
        raise ValueError("trio sample ids repeat (a parent in two families?); Beagle needs each sample once")
    g = np.concatenate([trios.father, trios.mother, trios.child])
    run = impute_genotypes_with_beagle(GenotypeMatrix.from_numpy(g, ids=ids, variants=trios.variants), seed=seed,
                                       nthreads=nthreads, jar=jar, workdir=workdir)
    n = len(trios.child_ids)
    return run.calls[2 * n:].astype(np.float64), run.seconds
