"""Bit packing: haplotypes (1 bit per allele) and genotypes (2 bits per dosage, with missing); csrc/bitpack."""

from __future__ import annotations

import numpy as np

from .. import _core
from ._common import (_as_2d, _check_values, _check_words, _empty_like_words, _ptr, _require_cuda, _stream, _torch,
                      genotype_words, haplotype_words, is_cuda)


def pack_haplotypes(alleles):
    """Pack a rows x SNPs array of alleles in {0,1} into uint64 words (1 bit each)."""
    alleles = _as_2d(alleles, "haplotypes")
    n, s = alleles.shape
    if is_cuda(alleles):
        _require_cuda()
        torch = _torch()
        if alleles.dtype != torch.uint8:
            alleles = alleles.to(torch.uint8)
        if bool(((alleles > 1)).any()):
            raise ValueError("haplotype allele not in {0,1}")
        out = torch.empty((n, haplotype_words(s)), dtype=torch.int64, device=alleles.device)
        _core.pack_haplotypes_cuda(_ptr(alleles), n, s, _ptr(out), _stream(alleles))
        return out
    if alleles.dtype != np.uint8:
        if alleles.dtype != np.bool_:
            _check_values(alleles, 0, 1, "haplotype allele not in {0,1}")
        alleles = alleles.astype(np.uint8)
    return _core.pack_haplotypes(np.ascontiguousarray(alleles))


def unpack_haplotypes(words, n_snps: int):
    """Unpack haplotype words to a rows x n_snps uint8 array of alleles."""
    words = _check_words(words, "haplotypes", n_snps)
    if is_cuda(words):
        _require_cuda()
        out = _empty_like_words(words, (words.shape[0], n_snps), np.uint8, "uint8")
        _core.unpack_haplotypes_cuda(_ptr(words), words.shape[0], n_snps, _ptr(out), _stream(words))
        return out
    return _core.unpack_haplotypes(words, n_snps)


def pack_genotypes(dosages):
    """Pack a rows x SNPs array of dosages {0,1,2}, -1 = missing, into 2-bit codes."""
    dosages = _as_2d(dosages, "genotypes")
    n, s = dosages.shape
    if is_cuda(dosages):
        _require_cuda()
        torch = _torch()
        if bool(((dosages < -1) | (dosages > 2)).any()):
            raise ValueError("genotype dosage not in {-1,0,1,2}")
        dosages = dosages.to(torch.int8).contiguous()
        out = torch.empty((n, genotype_words(s)), dtype=torch.int64, device=dosages.device)
        _core.pack_genotypes_cuda(_ptr(dosages), n, s, _ptr(out), _stream(dosages))
        return out
    if dosages.dtype != np.int8:
        _check_values(dosages, -1, 2, "genotype dosage not in {-1,0,1,2}")
        dosages = dosages.astype(np.int8)
    return _core.pack_genotypes(np.ascontiguousarray(dosages))


def unpack_genotypes(words, n_snps: int):
    """Unpack genotype words to a rows x n_snps int8 array (-1 = missing)."""
    words = _check_words(words, "genotypes", n_snps, per_word=32)
    if is_cuda(words):
        _require_cuda()
        out = _empty_like_words(words, (words.shape[0], n_snps), np.int8, "int8")
        _core.unpack_genotypes_cuda(_ptr(words), words.shape[0], n_snps, _ptr(out), _stream(words))
        return out
    return _core.unpack_genotypes(words, n_snps)


def haplotypes_to_genotypes(words, n_snps: int, missing=None):
    """Genotype words of individuals formed by haplotype rows (2i, 2i+1)."""
    words = _check_words(words, "haplotypes", n_snps)
    if words.shape[0] % 2:
        raise ValueError(f"an even number of haplotypes is needed to form individuals, got {words.shape[0]}")
    if missing is not None:
        missing = _check_words(missing, "missing", n_snps)
        if missing.shape != words.shape:
            raise ValueError("missing mask and haplotypes differ in shape")
    if is_cuda(words):
        _require_cuda()
        out = _empty_like_words(words, (words.shape[0] // 2, genotype_words(n_snps)), np.uint64, "int64")
        _core.haplotypes_to_genotypes_cuda(_ptr(words), _ptr(missing), words.shape[0] // 2, n_snps, _ptr(out),
                                           _stream(words))
        return out
    return _core.haplotypes_to_genotypes(words, missing, n_snps)
