"""Yelmen ``.hapt``: one haplotype a line, ``tag id a1 a2 ... aS``, alleles 0/1, space separated.

genofast keeps the file's 0/1 coding as it is; which allele 1 stands for is
the file's convention (see its legend).
"""

from __future__ import annotations

import gzip

import numpy as np

from ..matrix import HaplotypeMatrix, Variants
from ._files import FormatError, atomic_path, check_ids, read_lines

_ALLELE_CODES = np.frombuffer(b"01", dtype=np.uint8)


def _parse_alleles(rest: str, n_snps: int | None, path, lineno: int) -> np.ndarray:
    """Alleles of one line (the text after tag and id)."""
    raw = rest.rstrip("\r\n").strip(" \t")
    b = np.frombuffer(raw.encode(), dtype=np.uint8)
    # Fast path: single-character fields separated by single spaces.
    if b.size % 2 == 1 and (b[1::2] == ord(" ")).all():
        vals = b[::2] - ord("0")
    else:
        fields = raw.split()
        if any(len(f) != 1 for f in fields):
            bad = next(f for f in fields if len(f) != 1)
            raise FormatError(path, f"allele {bad!r} is not 0 or 1", lineno)
        vals = np.frombuffer("".join(fields).encode(), dtype=np.uint8) - ord("0")
    if vals.size and vals.max() > 1:
        j = int(np.argmax(vals > 1))
        raise FormatError(path, f"allele {chr(vals[j] + ord('0'))!r} at SNP {j + 1} is not 0 or 1", lineno)
    if n_snps is not None and vals.size != n_snps:
        raise FormatError(path, f"{vals.size} alleles, expected {n_snps} as on the first line (ragged rows)", lineno)
    return vals


def read_legend(path) -> Variants:
    """A ``.legend`` file (``id position a0 a1`` with a header line) as variant metadata."""
    ids, pos, a0, a1 = [], [], [], []
    header = None
    for lineno, line in read_lines(path):
        if lineno == 1:
            header = line.split()
            if header[:2] != ["id", "position"]:
                raise FormatError(path, f"expected a header 'id position a0 a1', got {' '.join(header)!r}", 1)
            continue
        fields = line.split()
        if len(fields) != 4:
            raise FormatError(path, f"expected 4 fields, got {len(fields)}", lineno)
        ids.append(fields[0])
        try:
            pos.append(int(fields[1]))
        except ValueError:
            raise FormatError(path, f"position {fields[1]!r} is not an integer", lineno) from None
        a0.append(fields[2])
        a1.append(fields[3])
    if header is None:
        raise FormatError(path, "empty legend; expected a header 'id position a0 a1'")
    chrom = np.array([i.split(":", 1)[0] if ":" in i else "." for i in ids])
    return Variants(chrom, np.array(pos, dtype=np.int64), np.array(ids), np.array(a0), np.array(a1))


def read_hapt(path, legend=None) -> HaplotypeMatrix:
    """Read a ``.hapt`` (or ``.hapt.gz``) file into a :class:`HaplotypeMatrix`.

    ``legend`` optionally names a ``.legend`` file with the SNPs' metadata.
    Raises :class:`~genofast.io._files.FormatError` (a ValueError) naming the
    file and line for short lines, non-0/1 alleles, ragged rows and damaged
    or truncated gzip data.
    """
    rows, ids = [], []
    n_snps = None
    for lineno, line in read_lines(path):
        if not line.strip():
            continue
        parts = line.split(maxsplit=2)
        if len(parts) < 3:
            raise FormatError(path, "expected a tag, a haplotype id and alleles", lineno)
        vals = _parse_alleles(parts[2], n_snps, path, lineno)
        n_snps = vals.size
        rows.append(vals)
        ids.append(parts[1])
    if not rows:
        raise FormatError(path, "no haplotypes in file")
    variants = read_legend(legend) if legend is not None else None
    if variants is not None and len(variants) != n_snps:
        raise FormatError(legend, f"{len(variants)} SNPs in legend but {n_snps} in {path}")
    return HaplotypeMatrix.from_numpy(np.stack(rows), ids=np.array(ids), variants=variants)


def write_hapt(path, haplotypes: HaplotypeMatrix, tag: str = "AG") -> None:
    """Write a :class:`HaplotypeMatrix` as ``.hapt`` (gzipped when the name ends in .gz), atomically.

    Haplotype ids with whitespace, and repeated ids, are refused: the file
    would not read back as the same haplotypes.
    """
    if haplotypes.has_missing:
        raise ValueError(".hapt cannot store missing alleles; impute them first")
    if any(c.isspace() for c in tag):
        raise ValueError(f"tag {tag!r} must not contain whitespace")
    check_ids(haplotypes.ids, "haplotype id")
    alleles = haplotypes.to_numpy()
    with atomic_path(path) as tmp:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(tmp, "wb") as f:
            chars = _ALLELE_CODES[alleles]
            line = np.full((alleles.shape[0], 2 * alleles.shape[1]), ord(" "), dtype=np.uint8)
            line[:, ::2] = chars
            line[:, -1] = ord("\n")
            for hid, row in zip(haplotypes.ids, line):
                f.write(f"{tag} {hid} ".encode())
                f.write(row.tobytes())
