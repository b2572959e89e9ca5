"""Put two data sets on the same SNPs with the same allele 1 before comparing them.

Files from different tools code the same site differently: PLINK makes A1 the
minor allele unless told otherwise, so a fileset made from a VCF can have REF
and ALT swapped at a fraction of its sites, and the dosage there is 2 minus the
VCF's. Comparing such sets column by column gives wrong numbers without a
word. :func:`align` matches SNPs by (chromosome, position, REF, ALT), flips
the ones whose alleles are swapped, reorders them to the reference's order and
refuses what cannot be matched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels
from .matrix import GenotypeMatrix, HaplotypeMatrix, Variants


@dataclass(frozen=True)
class Alignment:
    """How a set was matched to the reference SNPs."""

    n_snps: int  # SNPs of the aligned result
    flipped: int  # SNPs whose alleles were swapped (allele 1 <-> 0, dosage d -> 2 - d)
    reordered: bool  # SNP order changed
    dropped_reference: int  # reference SNPs missing from the other set (only with on_mismatch="intersect")
    dropped_other: int  # SNPs of the other set missing from the reference
    by_order: bool  # no SNP metadata on one side: matched by column order

    def describe(self, name: str = "set") -> str:
        if self.by_order:
            return f"{name}: no SNP metadata, matched to the reference by column order"
        parts = [f"{name}: {self.n_snps} SNPs matched by chromosome, position and alleles"]
        if self.flipped:
            parts.append(f"{self.flipped} with REF/ALT swapped (flipped)")
        if self.reordered:
            parts.append("reordered")
        if self.dropped_reference or self.dropped_other:
            parts.append(f"{self.dropped_reference} reference and {self.dropped_other} other SNPs without a match "
                         "left out")
        return ", ".join(parts)


def has_metadata(variants: Variants) -> bool:
    """False for the placeholder metadata of data read without any (positions 1..n, ids snp1..snpn)."""
    placeholder = Variants.numbered(len(variants))
    return not all(np.array_equal(np.asarray(getattr(variants, f)).astype(str), getattr(placeholder, f).astype(str))
                   for f in ("chrom", "position", "id", "ref", "alt"))


def _keys(v: Variants, swap: bool = False) -> list[tuple]:
    ref, alt = (v.alt, v.ref) if swap else (v.ref, v.alt)
    return list(zip(np.asarray(v.chrom).astype(str), np.asarray(v.position).astype(np.int64).tolist(),
                    np.char.upper(np.asarray(ref).astype(str)), np.char.upper(np.asarray(alt).astype(str))))


def first_difference(a: Variants, b: Variants) -> int | None:
    """The first SNP at which two SNP lists differ in chromosome, position or alleles (None: the same list)."""
    ka, kb = _keys(a), _keys(b)
    j = next((i for i, (x, y) in enumerate(zip(ka, kb)) if x != y), None)
    return min(len(ka), len(kb)) if j is None and len(ka) != len(kb) else j


def _index(keys: list[tuple], name: str) -> dict:
    index = {}
    for i, k in enumerate(keys):
        if k in index:
            raise ValueError(f"{name}: SNP {k[0]}:{k[1]} {k[2]}>{k[3]} appears twice; cannot match SNPs unambiguously")
        index[k] = i
    return index


def match(reference: Variants, other: Variants, *, names=("reference", "other"),
          on_mismatch: str = "error") -> tuple[np.ndarray, np.ndarray, np.ndarray, Alignment]:
    """Column indices (reference, other) of matching SNPs and which of them are flipped.

    ``on_mismatch="error"`` (default) refuses sets whose SNPs differ, naming
    the first unmatched SNP; ``"intersect"`` keeps the SNPs both sets have.
    """
    if on_mismatch not in ("error", "intersect"):
        raise ValueError(f"on_mismatch must be 'error' or 'intersect', got {on_mismatch!r}")
    n_ref, n_other = len(reference), len(other)
    same = n_ref == n_other and all(
        np.array_equal(np.asarray(getattr(reference, f)).astype(str), np.asarray(getattr(other, f)).astype(str))
        for f in ("chrom", "position", "ref", "alt"))
    if same or not has_metadata(reference) or not has_metadata(other):
        if n_ref != n_other:
            raise ValueError(f"{names[0]} has {n_ref} SNPs but {names[1]} has {n_other}, and one of them has no SNP "
                             "metadata to match them by (give positions, e.g. a legend)")
        idx = np.arange(n_ref)
        return idx, idx, np.zeros(n_ref, bool), Alignment(n_ref, 0, False, 0, 0, not same)
    ref_index = _index(_keys(reference), names[0])
    other_keys, other_swapped = _keys(other), _keys(other, swap=True)
    _index(other_keys, names[1])
    ri, oi, flip = [], [], []
    unmatched = []
    for j, (k, ks) in enumerate(zip(other_keys, other_swapped)):
        i = ref_index.get(k)
        swapped = i is None
        if swapped:
            i = ref_index.get(ks)
        if i is None:
            unmatched.append(j)
            continue
        ri.append(i)
        oi.append(j)
        flip.append(swapped and k != ks)
    ri, oi, flip = np.array(ri, dtype=np.int64), np.array(oi, dtype=np.int64), np.array(flip, dtype=bool)
    missing_ref = n_ref - len(ri)
    if on_mismatch == "error" and (unmatched or missing_ref):
        if unmatched:
            k = other_keys[unmatched[0]]
            first = f"first: {names[1]} SNP {k[0]}:{k[1]} {k[2]}>{k[3]} is not in {names[0]}"
        else:
            k = _keys(reference)[int(np.setdiff1d(np.arange(n_ref), ri)[0])]
            first = f"first: {names[0]} SNP {k[0]}:{k[1]} {k[2]}>{k[3]} is not in {names[1]}"
        raise ValueError(f"{len(unmatched)} SNPs of {names[1]} and {missing_ref} of {names[0]} cannot be matched by "
                         f"chromosome, position and alleles ({first}); pass on_mismatch='intersect' to keep the "
                         "shared SNPs")
    if len(ri) == 0:
        raise ValueError(f"{names[0]} and {names[1]} share no SNP (matched by chromosome, position and alleles)")
    order = np.argsort(ri, kind="stable")
    ri, oi, flip = ri[order], oi[order], flip[order]
    reordered = not np.array_equal(oi, np.arange(n_other)) or not np.array_equal(ri, np.arange(n_ref))
    return ri, oi, flip, Alignment(len(ri), int(flip.sum()), reordered, missing_ref, len(unmatched), False)


def flip(matrix, snps: np.ndarray):
    """Swap allele 1 and allele 0 at the given SNPs (haplotypes: bit flip; genotypes: d -> 2 - d); missing stays."""
    snps = np.asarray(snps, dtype=bool)
    if not snps.any():
        return matrix
    m = matrix.to("cpu")
    if isinstance(m, HaplotypeMatrix):
        row = kernels.pack_haplotypes(snps.reshape(1, -1).astype(np.uint8))
        toggle = row if m.missing is None else row & ~m.missing
        return HaplotypeMatrix(m.words ^ toggle, m.n_snps, m.missing, m.ids, m.variants)
    # 2-bit codes 0=00, 1=01, 2=10, 3=11: 0 <-> 2 is a toggle of the high bit where the low bit is 0.
    low = kernels.pack_genotypes(snps.reshape(1, -1).astype(np.int8))  # code 1 = low bit at flipped SNPs
    toggle = ~m.words & low
    return GenotypeMatrix(m.words ^ (toggle << np.uint64(1)), m.n_snps, m.ids, m.variants)


def align_to(variants: Variants, matrix, *, name: str = "data", reference_name: str = "reference",
             on_mismatch: str = "error"):
    """``matrix`` with its SNPs matched, flipped and ordered to ``variants``; returns (matrix, Alignment).

    With ``on_mismatch="intersect"`` only shared SNPs are kept, and the
    reference columns kept are ``Alignment``-described; use :func:`align` when
    both sides must be cut to the same SNPs.
    """
    ri, oi, flipped, info = match(variants, matrix.variants, names=(reference_name, name), on_mismatch=on_mismatch)
    out = matrix
    if info.reordered or len(oi) != matrix.n_snps:
        out = matrix[:, oi]
    out = flip(out, flipped)
    if not info.by_order:  # carry the reference's metadata, so REF/ALT now read as the reference's
        out = type(out)(*_fields(out, variants[ri]))
    return out, info


def align(reference, other, *, names=("reference", "other"), on_mismatch: str = "error"):
    """Both sets on the same SNPs, ``other`` flipped and reordered to ``reference``; returns (ref, other, Alignment)."""
    ri, oi, flipped, info = match(reference.variants, other.variants, names=names, on_mismatch=on_mismatch)
    ref = reference if len(ri) == reference.n_snps else reference[:, ri]
    out = other
    if info.reordered or len(oi) != other.n_snps:
        out = other[:, oi]
    out = flip(out, flipped)
    if not info.by_order:
        out = type(out)(*_fields(out, ref.variants))
    return ref, out, info


def _fields(m, variants: Variants) -> tuple:
    if isinstance(m, HaplotypeMatrix):
        return m.words, m.n_snps, m.missing, m.ids, variants
    return m.words, m.n_snps, m.ids, variants
