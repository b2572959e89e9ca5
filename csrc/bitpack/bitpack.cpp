#include "bitpack.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "bitpack.cuh"

namespace genofast {
namespace {

[[noreturn]] void bad_value(const char* what, std::size_t row, std::size_t snp, int value) {
    throw std::invalid_argument(std::string(what) + " at row " + std::to_string(row) + ", SNP " +
                                std::to_string(snp) + ": got " + std::to_string(value));
}

// Eight bytes in {0,1} -> eight bits: byte i lands on bit 56+i of the product
// and no two partial products overlap, so there are no carries.
inline uint64_t pack8(uint64_t bytes) { return (bytes * 0x0102040810204080ULL) >> 56; }

struct ByteTable {
    uint64_t v[256];
    ByteTable() {
        for (int b = 0; b < 256; ++b) {
            uint64_t x = 0;
            for (int i = 0; i < 8; ++i) x |= uint64_t((b >> i) & 1) << (8 * i);
            v[b] = x;
        }
    }
};
const ByteTable kUnpack8;

}  // namespace

void pack_haplotypes_cpu(const uint8_t* alleles, std::size_t n_rows, std::size_t n_snps, uint64_t* words) {
    const std::size_t nw = haplotype_words(n_snps), full = n_snps / 64;
    bool bad = false;
#pragma omp parallel for schedule(static) reduction(|| : bad)
    for (std::ptrdiff_t r = 0; r < std::ptrdiff_t(n_rows); ++r) {
        const uint8_t* a = alleles + r * n_snps;
        uint64_t* out = words + r * nw;
        uint64_t any_high = 0;
        for (std::size_t w = 0; w < full; ++w) {
            uint64_t word = 0;
            for (int k = 0; k < 8; ++k) {
                uint64_t bytes;
                std::memcpy(&bytes, a + 64 * w + 8 * k, 8);
                any_high |= bytes;
                word |= pack8(bytes) << (8 * k);
            }
            out[w] = word;
        }
        if (full < nw) {
            const int n = int(n_snps - 64 * full);
            for (int i = 0; i < n; ++i) any_high |= a[64 * full + i];
            out[full] = pack_haplotype_word(a + 64 * full, n);
        }
        bad = bad || (any_high & 0xFEFEFEFEFEFEFEFEULL) != 0;
    }
    if (!bad) return;
    for (std::size_t r = 0; r < n_rows; ++r)
        for (std::size_t j = 0; j < n_snps; ++j)
            if (alleles[r * n_snps + j] > 1) bad_value("haplotype allele not in {0,1}", r, j, alleles[r * n_snps + j]);
}

void unpack_haplotypes_cpu(const uint64_t* words, std::size_t n_rows, std::size_t n_snps, uint8_t* alleles) {
    const std::size_t nw = haplotype_words(n_snps), full = n_snps / 64;
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t r = 0; r < std::ptrdiff_t(n_rows); ++r) {
        const uint64_t* in = words + r * nw;
        uint8_t* a = alleles + r * n_snps;
        for (std::size_t w = 0; w < full; ++w)
            for (int k = 0; k < 8; ++k) {
                const uint64_t bytes = kUnpack8.v[(in[w] >> (8 * k)) & 0xFF];
                std::memcpy(a + 64 * w + 8 * k, &bytes, 8);
            }
        if (full < nw) unpack_haplotype_word(in[full], a + 64 * full, int(n_snps - 64 * full));
    }
}

void pack_genotypes_cpu(const int8_t* dosages, std::size_t n_rows, std::size_t n_snps, uint64_t* words) {
    const std::size_t nw = genotype_words(n_snps);
    bool bad = false;
#pragma omp parallel for schedule(static) reduction(|| : bad)
    for (std::ptrdiff_t r = 0; r < std::ptrdiff_t(n_rows); ++r) {
        const int8_t* d = dosages + r * n_snps;
        bool row_bad = false;
        for (std::size_t j = 0; j < n_snps; ++j) row_bad |= d[j] < -1 || d[j] > 2;
        for (std::size_t w = 0; w < nw; ++w) {
            const int n = int(std::min<std::size_t>(32, n_snps - 32 * w));
            words[r * nw + w] = pack_genotype_word(d + 32 * w, n);
        }
        bad = bad || row_bad;
    }
    if (!bad) return;
    for (std::size_t r = 0; r < n_rows; ++r)
        for (std::size_t j = 0; j < n_snps; ++j) {
            const int v = dosages[r * n_snps + j];
            if (v < -1 || v > 2) bad_value("genotype dosage not in {-1,0,1,2}", r, j, v);
        }
}

void unpack_genotypes_cpu(const uint64_t* words, std::size_t n_rows, std::size_t n_snps, int8_t* dosages) {
    const std::size_t nw = genotype_words(n_snps);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t r = 0; r < std::ptrdiff_t(n_rows); ++r)
        for (std::size_t w = 0; w < nw; ++w) {
            const int n = int(std::min<std::size_t>(32, n_snps - 32 * w));
            unpack_genotype_word(words[r * nw + w], dosages + r * n_snps + 32 * w, n);
        }
}

void haplotypes_to_genotypes_cpu(const uint64_t* haplotypes, const uint64_t* missing, std::size_t n_individuals,
                                 std::size_t n_snps, uint64_t* genotypes) {
    const std::size_t hw = haplotype_words(n_snps), gw = genotype_words(n_snps);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(n_individuals); ++i) {
        const uint64_t* a = haplotypes + 2 * i * hw;
        const uint64_t* b = a + hw;
        for (std::size_t w = 0; w < hw; ++w) {
            const uint64_t m = missing ? (missing[2 * i * hw + w] | missing[(2 * i + 1) * hw + w]) : 0;
            store_genotype_planes(genotypes + i * gw, gw, w, genotype_from_haplotype_words(a[w], b[w], m));
        }
    }
}

}  // namespace genofast
