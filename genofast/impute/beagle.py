"""Beagle 5.4 as the population-based baseline: the same trio data, no pedigree.

Beagle 5 does not read pedigrees; given fathers, mothers and children as one
unphased VCF it phases everyone and fills the sporadic missing calls from
the haplotypes it shares with the others (a child's are copies of its
parents'). Output calls are hard (GT): Beagle prints dosages only for
markers imputed from a reference panel, not for sporadic missing calls.
Needs the ``beagle`` command (Debian/Ubuntu: ``apt-get install beagle``)
or ``java`` and a jar given as ``jar=``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from ..matrix import GenotypeMatrix
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


def impute_with_beagle(trios: Trios, *, seed: int = 0, nthreads: int = 2, jar: str | None = None,
                       workdir=None) -> tuple[np.ndarray, float]:
    """Children's genotypes after Beagle 5.4 phases and fills all trio members together.

    Returns ``(child dosages families x SNPs, seconds Beagle ran)``; observed
    child calls come back as Beagle wrote them (Beagle keeps called genotypes).
    """
    from ..io import read_vcf, write_vcf

    cmd = beagle_command(jar)
    ids = np.concatenate([trios.father_ids, trios.mother_ids, trios.child_ids]).astype(str)
    if len(set(ids)) != len(ids):
        raise ValueError("trio sample ids repeat (a parent in two families?); Beagle needs each sample once")
    g = np.concatenate([trios.father, trios.mother, trios.child])
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        vcf = Path(tmp) / "trios.vcf.gz"
        write_vcf(vcf, GenotypeMatrix.from_numpy(g, ids=ids, variants=trios.variants))
        out = Path(tmp) / "imputed"
        t0 = time.perf_counter()
        run = subprocess.run([*cmd, f"gt={vcf}", f"out={out}", f"nthreads={nthreads}", f"seed={seed}"],
                             capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if run.returncode != 0:
            log = Path(f"{out}.log")
            detail = log.read_text()[-2000:] if log.is_file() else run.stderr[-2000:]
            raise RuntimeError(f"Beagle failed (exit {run.returncode}):\n{detail}")
        result = read_vcf(f"{out}.vcf.gz", phased=False)
    order = {s: k for k, s in enumerate(map(str, result.ids))}
    rows = np.array([order[s] for s in trios.child_ids.astype(str)])
    return result.to_numpy()[rows].astype(np.float64), seconds
