"""PLINK 1 binary filesets (bed/bim/fam) through bed-reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..matrix import GenotypeMatrix, Variants
from ._files import FormatError, existing

_CHUNK_SNPS = 8192  # a multiple of 32 keeps chunks word aligned


def read_plink(path) -> GenotypeMatrix:
    """Read a PLINK 1 fileset (``x.bed`` or its prefix ``x``) into a :class:`GenotypeMatrix`.

    Dosages count allele 1 of the .bim (its 5th column, PLINK's A1), which
    genofast records as ``alt``; allele 2 becomes ``ref``. Missing calls stay
    missing. Read in chunks of SNPs, so memory stays near the packed size.
    """
    from bed_reader import open_bed

    from .. import kernels

    path = Path(path)
    bed_path = path if path.suffix == ".bed" else path.with_name(path.name + ".bed")
    existing(bed_path)
    for ext in (".bim", ".fam"):
        existing(bed_path.with_suffix(ext))
    fam = _columns(bed_path.with_suffix(".fam"), 6)
    bim = _columns(bed_path.with_suffix(".bim"), 6)
    try:
        pos = bim[3].astype(np.int64)
    except ValueError:
        raise FormatError(bed_path.with_suffix(".bim"), "base-pair positions (column 4) must be integers") from None
    # Metadata is parsed here because .bim/.fam in the wild are separated by
    # any whitespace, which bed-reader's own parser does not accept.
    props = {"fid": fam[0], "iid": fam[1], "chromosome": bim[0], "sid": bim[1], "bp_position": pos,
             "allele_1": bim[4], "allele_2": bim[5]}
    try:
        with open_bed(bed_path, count_A1=True, iid_count=len(fam[1]), sid_count=len(bim[1]), properties=props,
                      skip_format_check=False) as bed:
            n, s = bed.iid_count, bed.sid_count
            if n == 0 or s == 0:
                raise FormatError(bed_path, f"empty fileset ({n} samples, {s} SNPs)")
            words = np.empty((n, kernels.genotype_words(s)), dtype=np.uint64)
            for j0 in range(0, s, _CHUNK_SNPS):
                j1 = min(s, j0 + _CHUNK_SNPS)
                d = bed.read(index=np.s_[:, j0:j1], dtype="int8")
                d[d == -127] = -1
                words[:, j0 // 32 : j0 // 32 + kernels.genotype_words(j1 - j0)] = kernels.pack_genotypes(d)
    except FormatError:
        raise
    except Exception as e:  # bed-reader reports truncation and bad magic as assorted errors
        raise FormatError(bed_path, f"cannot read PLINK fileset: {e}") from None
    return GenotypeMatrix(words, s, fam[1], Variants(bim[0], pos, bim[1], bim[5], bim[4]))


def _columns(path, n_cols: int) -> list[np.ndarray]:
    """Whitespace-separated columns of a .fam or .bim file, checked line by line."""
    rows = []
    with open(path) as f:
        for lineno, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != n_cols:
                raise FormatError(path, f"expected {n_cols} columns, got {len(fields)}", lineno)
            rows.append(fields)
    if not rows:
        return [np.array([], dtype=str) for _ in range(n_cols)]
    return [np.array(c) for c in zip(*rows)]
