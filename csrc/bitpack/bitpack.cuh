// Per-word packing logic shared by the CPU and CUDA paths.
#pragma once
#include <cstring>

#include "../common/bits.hpp"

namespace genofast {

// Packs n <= 64 alleles (bytes in {0,1}) into one word, LSB first.
GF_HD uint64_t pack_haplotype_word(const uint8_t* a, int n) {
    uint64_t w = 0;
    for (int i = 0; i < n; ++i) w |= uint64_t(a[i] & 1) << i;
    return w;
}

GF_HD void unpack_haplotype_word(uint64_t w, uint8_t* a, int n) {
    for (int i = 0; i < n; ++i) a[i] = uint8_t((w >> i) & 1);
}

// Dosage -1 (missing) -> code 3; 0/1/2 -> itself.
GF_HD uint64_t pack_genotype_word(const int8_t* d, int n) {
    uint64_t w = 0;
    for (int i = 0; i < n; ++i) w |= uint64_t(uint8_t(d[i]) & 3) << (2 * i);
    return w;
}

GF_HD void unpack_genotype_word(uint64_t w, int8_t* d, int n) {
    for (int i = 0; i < n; ++i) {
        const int code = int((w >> (2 * i)) & 3);
        d[i] = code == kGenotypeMissing ? int8_t(-1) : int8_t(code);
    }
}

// Genotype bit planes of haplotype word w for individual i (rows 2i, 2i+1).
GF_HD GenotypePlanes genotype_from_haplotype_words(uint64_t a, uint64_t b, uint64_t missing) {
    GenotypePlanes p;
    p.lo = (a ^ b) | missing;  // dosage 1 = code 01
    p.hi = (a & b) | missing;  // dosage 2 = code 10, missing = 11
    return p;
}

}  // namespace genofast
