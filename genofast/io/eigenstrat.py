"""EIGENSTRAT filesets (x.geno, x.snp, x.ind), the format of the Human Origins and AADR releases: read only.

The text .geno holds one line per SNP and one character per individual: 0, 1 or 2 copies of the allele in .snp
column 5, 9 for a missing call. genofast counts that allele, so it is recorded as ``alt`` and column 6 as ``ref``:
the same convention as :func:`~genofast.io.read_plink` with PLINK's A1, and convertf's PLINK <-> EIGENSTRAT
conversion keeps those columns, so both files of one data set read to the same matrix. The packed binary .geno
(a ``GENO`` or ``TGENO`` header) is refused: convertf turns it into text EIGENSTRAT or PLINK.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..matrix import GenotypeMatrix, Variants
from ._files import FormatError, check_ids, existing, read_line_blocks
from .plink import _columns

SUFFIXES = (".eigenstratgeno.gz", ".eigenstratgeno", ".geno.gz", ".geno")
_BLOCK_SNPS = 8192  # SNPs converted at once (a multiple of 32 keeps blocks word aligned)
_DOSAGE = np.full(256, -2, dtype=np.int8)  # byte -> dosage; -2 marks a byte that is not a call
_DOSAGE[[ord("0"), ord("1"), ord("2"), ord("9")]] = [0, 1, 2, -1]


def _fileset(path) -> tuple[Path, Path, Path]:
    path = Path(path)
    name = path.name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            stem = name[: -len(suffix)]
            return path, path.with_name(stem + ".snp"), path.with_name(stem + ".ind")
    raise ValueError(f"{path}: an EIGENSTRAT genotype file ends with .geno, .eigenstratgeno (optionally .gz)")


def read_eigenstrat(path) -> GenotypeMatrix:
    """Read an EIGENSTRAT fileset (``x.geno`` or ``x.eigenstratgeno``, optionally gzipped, beside ``x.snp`` and
    ``x.ind``) into a :class:`GenotypeMatrix`: dosages of the .snp column-5 allele (``alt``), sample ids from the
    .ind. Errors name the file, line and, for a bad call, the sample."""
    from .. import kernels

    geno, snp_path, ind_path = _fileset(path)
    for p in (geno, snp_path, ind_path):
        existing(p)
    with open(geno, "rb") as f:
        head = f.read(5)
    if head.startswith(b"GENO") or head.startswith(b"TGENO"):  # (a gzip stream starts otherwise)
        raise FormatError(geno, "packed (binary) EIGENSTRAT is not supported; convert it to text EIGENSTRAT or "
                          "PLINK with convertf")
    snp = _columns(snp_path, 6)
    ind = _columns(ind_path, 3)
    ids, n, s = ind[0], len(ind[0]), len(snp[0])
    if n == 0 or s == 0:
        raise FormatError(geno, f"empty fileset ({n} individuals in {ind_path.name}, {s} SNPs in {snp_path.name})")
    check_ids(ids, f"individual id in {ind_path.name}")
    try:
        pos = snp[3].astype(np.int64)
    except (ValueError, OverflowError):
        raise FormatError(snp_path, "base-pair positions (column 4) must be integers") from None
    words = np.empty((n, kernels.genotype_words(s)), dtype=np.uint64)
    pending, first = [], 0  # lines of the block being filled, index of its first SNP
    for lineno, lines in read_line_blocks(geno):
        for k, line in enumerate(lines):
            line = line.rstrip(b"\r")
            if not line:
                continue
            at = lineno + k
            if first + len(pending) >= s:
                raise FormatError(geno, f"more SNP lines than the {s} SNPs of {snp_path.name}", at)
            if len(line) != n:
                raise FormatError(geno, f"{len(line)} calls, expected {n} (one character per individual of "
                                  f"{ind_path.name})", at)
            pending.append((at, line))
            if len(pending) == _BLOCK_SNPS:
                _store(words, pending, first, geno, ids)
                first, pending = first + len(pending), []
    if pending:
        _store(words, pending, first, geno, ids)
        first += len(pending)
    if first != s:
        raise FormatError(geno, f"{first} SNP lines, but {snp_path.name} lists {s} SNPs")
    return GenotypeMatrix(words, s, ids, Variants(snp[1], pos, snp[0], snp[5], snp[4]))


def _store(words: np.ndarray, lines: list, first: int, geno: Path, ids: np.ndarray) -> None:
    """Convert SNP lines ``first, first + 1, ...`` to dosages and pack them into their words."""
    from .. import kernels

    d = _DOSAGE[np.frombuffer(b"".join(line for _, line in lines), dtype=np.uint8).reshape(len(lines), -1)]
    bad = np.argwhere(d == -2)
    if len(bad):
        r, c = bad[0]
        raise FormatError(geno, f"individual {ids[c]} (column {c + 1}): call {chr(lines[r][1][c])!r} is not 0, 1, "
                          "2 or 9", lines[r][0])
    packed = kernels.pack_genotypes(np.ascontiguousarray(d.T))
    words[:, first // 32 : first // 32 + packed.shape[1]] = packed
