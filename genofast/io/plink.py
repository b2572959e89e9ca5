"""PLINK 1 binary filesets (bed/bim/fam): read through bed-reader, written here.

genofast keeps one id per sample, PLINK's within-family id (.fam column 2).
Family ids are read with :func:`read_fam` and written with
``write_plink(..., family_ids=...)``; without them each sample is its own
family (family id = sample id, as ``plink --double-id`` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..matrix import GenotypeMatrix, HaplotypeMatrix, Variants
from ._files import DECOMPRESSION_ERRORS, FormatError, atomic_paths, check_ids, existing

_BED_MAGIC = bytes([0x6C, 0x1B, 0x01])  # PLINK 1 .bed, SNP-major
# .bed 2-bit codes by dosage of A1 (= alt) + 1: missing 01, 0 -> 11 (hom A2), 1 -> 10, 2 -> 00 (hom A1).
_BED_CODE = np.array([0b01, 0b11, 0b10, 0b00], dtype=np.uint8)

_CHUNK_SNPS = 8192  # a multiple of 32 keeps chunks word aligned


def _fileset(path) -> tuple[Path, Path, Path]:
    path = Path(path)
    bed = path if path.suffix == ".bed" else path.with_name(path.name + ".bed")
    return bed, bed.with_suffix(".bim"), bed.with_suffix(".fam")


def read_plink(path) -> GenotypeMatrix:
    """Read a PLINK 1 fileset (``x.bed`` or its prefix ``x``) into a :class:`GenotypeMatrix`.

    Dosages count allele 1 of the .bim (its 5th column, PLINK's A1), which
    genofast records as ``alt``; allele 2 becomes ``ref``. Missing calls stay
    missing. Read in chunks of SNPs, so memory stays near the packed size.
    """
    from bed_reader import open_bed

    from .. import kernels

    bed_path, _, _ = _fileset(path)
    for p in _fileset(path):
        existing(p)
    fam = _columns(bed_path.with_suffix(".fam"), 6)
    bim = _columns(bed_path.with_suffix(".bim"), 6)
    try:
        pos = bim[3].astype(np.int64)
    except (ValueError, OverflowError):  # OverflowError: a position past 2**63 (found by fuzzing)
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
    lineno = 0
    try:
        with open(path, "rb") as f:
            for lineno, line in enumerate(f, start=1):
                fields = line.decode().split()
                if not fields:
                    continue
                if len(fields) != n_cols:
                    raise FormatError(path, f"expected {n_cols} columns, got {len(fields)}", lineno)
                rows.append(fields)
    except UnicodeDecodeError:
        raise FormatError(path, "not a text file (bytes that are not UTF-8)", lineno) from None
    except DECOMPRESSION_ERRORS as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise FormatError(path, f"cannot read: {e}") from None
    if not rows:
        return [np.array([], dtype=str) for _ in range(n_cols)]
    return [np.array(c) for c in zip(*rows)]


@dataclass(frozen=True)
class Fam:
    """The six columns of a .fam file, as strings: family, sample (within-family id), father, mother, sex, phenotype."""

    family: np.ndarray
    sample: np.ndarray
    father: np.ndarray
    mother: np.ndarray
    sex: np.ndarray
    phenotype: np.ndarray


def read_fam(path) -> Fam:
    """The .fam of a PLINK fileset (``x.bed``, ``x.fam`` or prefix ``x``), e.g. to keep family ids on writing."""
    path = Path(path)
    fam = path if path.suffix == ".fam" else _fileset(path)[2]
    return Fam(*_columns(existing(fam), 6))


def write_plink(path, genotypes: GenotypeMatrix | HaplotypeMatrix, *, family_ids=None) -> None:
    """Write a PLINK 1 fileset ``x.bed``/``x.bim``/``x.fam`` (``path`` is ``x.bed`` or ``x``), atomically.

    A1 (.bim column 5) is the matrix's allele 1 (``alt``) and A2 its ``ref``,
    so :func:`read_plink` reads the same dosages back; missing calls stay
    missing. Haplotypes are written as their genotypes. ``family_ids``
    (one per sample) fills .fam column 1; by default each sample is its own
    family. Parents, sex and phenotype are written unknown (0 0 0 -9). All
    three files are complete before any replaces an existing one; ids with
    whitespace, and repeated sample ids, are refused.
    """
    if isinstance(genotypes, HaplotypeMatrix):
        genotypes = genotypes.to_genotypes()
    g = genotypes.to("cpu")
    samples = [str(i) for i in g.ids]
    check_ids(samples, "sample id")
    families = samples if family_ids is None else [str(f) for f in family_ids]
    if len(families) != len(samples):
        raise ValueError(f"{len(families)} family ids for {len(samples)} samples")
    check_ids(dict.fromkeys(families), "family id")
    v = g.variants
    for name, values in (("chromosome", v.chrom), ("variant id", v.id), ("allele", v.ref), ("allele", v.alt)):
        check_ids(dict.fromkeys(map(str, values)), name)
    bed, bim, fam = _fileset(path)
    with atomic_paths(bed, bim, fam) as (tmp_bed, tmp_bim, tmp_fam):
        with open(tmp_fam, "w") as f:
            f.writelines(f"{fid} {iid} 0 0 0 -9\n" for fid, iid in zip(families, samples))
        with open(tmp_bim, "w") as f:
            f.writelines(f"{c}\t{i}\t0\t{p}\t{a1}\t{a2}\n"
                         for c, i, p, a1, a2 in zip(v.chrom, v.id, v.position, v.alt, v.ref))
        with open(tmp_bed, "wb") as f:
            f.write(_BED_MAGIC)
            for j0 in range(0, g.n_snps, _CHUNK_SNPS):
                f.write(_bed_bytes(g[:, j0 : min(g.n_snps, j0 + _CHUNK_SNPS)].to_numpy()))


def _bed_bytes(dosages: np.ndarray) -> bytes:
    """SNP-major .bed records of a samples x SNPs dosage block: 4 samples a byte, first in the low bits."""
    n = dosages.shape[0]
    codes = np.zeros((dosages.shape[1], -(-n // 4) * 4), dtype=np.uint8)  # padding samples are code 00
    codes[:, :n] = _BED_CODE[dosages.T.astype(np.int16) + 1]
    return (codes[:, 0::4] | codes[:, 1::4] << 2 | codes[:, 2::4] << 4 | codes[:, 3::4] << 6).tobytes()
