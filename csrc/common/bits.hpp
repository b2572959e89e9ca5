// Word layout shared by every kernel (see DESIGN.md, "Data model").
//
// Haplotypes: 1 bit per allele, SNP j of a row at word j >> 6, bit j & 63.
// Genotypes:  2 bits per call, SNP j at word j >> 5, bits 2*(j & 31) and above;
//             code 0/1/2 = dosage of allele 1, code 3 = missing.
// Tail bits past n_snps are zero in every row and every kernel keeps them zero.
#pragma once
#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define GF_HD __host__ __device__ __forceinline__
#else
#define GF_HD inline
#endif

namespace genofast {

constexpr int kGenotypeMissing = 3;

GF_HD std::size_t haplotype_words(std::size_t n_snps) { return (n_snps + 63) / 64; }
GF_HD std::size_t genotype_words(std::size_t n_snps) { return (n_snps + 31) / 32; }

GF_HD int popcount64(uint64_t x) {
#if defined(__CUDA_ARCH__)
    return __popcll(x);
#else
    return __builtin_popcountll(x);
#endif
}

// Mask of the valid bits in the last haplotype word of a row.
GF_HD uint64_t tail_mask(std::size_t n_snps) {
    const unsigned r = n_snps & 63;
    return r == 0 ? ~uint64_t(0) : ((uint64_t(1) << r) - 1);
}

// Even bits of x gathered into the low 32 bits (bit 2i -> bit i).
GF_HD uint32_t compress_even_bits(uint64_t x) {
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return static_cast<uint32_t>(x);
}

// Inverse of compress_even_bits: bit i -> bit 2i.
GF_HD uint64_t spread_even_bits(uint32_t v) {
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

// The 64 genotype calls of haplotype-word w of a row, as bit planes:
// lo = low code bits, hi = high code bits (bit i = SNP 64*w + i).
struct GenotypePlanes {
    uint64_t lo, hi;
};

GF_HD GenotypePlanes genotype_planes(const uint64_t* row, std::size_t n_gwords, std::size_t w) {
    const uint64_t g0 = row[2 * w];
    const uint64_t g1 = 2 * w + 1 < n_gwords ? row[2 * w + 1] : 0;
    GenotypePlanes p;
    p.lo = uint64_t(compress_even_bits(g0)) | (uint64_t(compress_even_bits(g1)) << 32);
    p.hi = uint64_t(compress_even_bits(g0 >> 1)) | (uint64_t(compress_even_bits(g1 >> 1)) << 32);
    return p;
}

// Writes bit planes back as genotype words (inverse of genotype_planes).
GF_HD void store_genotype_planes(uint64_t* row, std::size_t n_gwords, std::size_t w, GenotypePlanes p) {
    row[2 * w] = spread_even_bits(uint32_t(p.lo)) | (spread_even_bits(uint32_t(p.hi)) << 1);
    if (2 * w + 1 < n_gwords)
        row[2 * w + 1] = spread_even_bits(uint32_t(p.lo >> 32)) | (spread_even_bits(uint32_t(p.hi >> 32)) << 1);
}

// CPU instruction sets the popcount kernels can use, best first.
enum class Simd { scalar = 0, avx2 = 1, avx512 = 2 };

}  // namespace genofast
