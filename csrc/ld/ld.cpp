#include "ld.hpp"

#include "../common/bits.hpp"
#include "../hamming/hamming.hpp"  // the run-time SIMD level every CPU kernel follows

namespace genofast {
namespace {

// popcount(x AND y) over n words, one variant per SIMD level: the portable
// builtin (the reference), the POPCNT instruction (every AVX2 CPU has it), and
// AVX-512 VPOPCNTDQ eight words at a time.
int64_t and_popcount_scalar(const uint64_t* x, const uint64_t* y, std::size_t n) {
    int64_t c = 0;
    for (std::size_t w = 0; w < n; ++w) c += __builtin_popcountll(x[w] & y[w]);
    return c;
}

#if defined(__x86_64__) || defined(_M_X64)
}  // namespace
}  // namespace genofast
#include <immintrin.h>
namespace genofast {
namespace {

__attribute__((target("popcnt"))) int64_t and_popcount_popcnt(const uint64_t* x, const uint64_t* y, std::size_t n) {
    int64_t c = 0;
    for (std::size_t w = 0; w < n; ++w) c += __builtin_popcountll(x[w] & y[w]);
    return c;
}

__attribute__((target("avx512f,avx512vpopcntdq"))) int64_t and_popcount_avx512(const uint64_t* x, const uint64_t* y,
                                                                               std::size_t n) {
    __m512i acc = _mm512_setzero_si512();
    std::size_t w = 0;
    for (; w + 8 <= n; w += 8)
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_and_si512(_mm512_loadu_si512(x + w),
                                                                        _mm512_loadu_si512(y + w))));
    int64_t c = _mm512_reduce_add_epi64(acc);
    for (; w < n; ++w) c += __builtin_popcountll(x[w] & y[w]);
    return c;
}

using AndPopcountFn = int64_t (*)(const uint64_t*, const uint64_t*, std::size_t);

AndPopcountFn and_popcount_fn(Simd level) {
    switch (level) {
        case Simd::avx512: return and_popcount_avx512;
        case Simd::avx2: return and_popcount_popcnt;
        default: return and_popcount_scalar;
    }
}
#else
using AndPopcountFn = int64_t (*)(const uint64_t*, const uint64_t*, std::size_t);
AndPopcountFn and_popcount_fn(Simd) { return and_popcount_scalar; }
#endif

// In-place transpose of a 64 x 64 bit matrix (bit c of a[r] <-> bit r of
// a[c]): swap the off-diagonal blocks of size 32, then 16, ... within each.
void transpose64(uint64_t* a) {
    uint64_t m = 0x00000000FFFFFFFFULL;
    for (unsigned j = 32; j != 0; j >>= 1, m ^= m << j)
        for (unsigned k = 0; k < 64; k = ((k | j) + 1) & ~j) {
            const uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;
            a[k] ^= t << j;
            a[k | j] ^= t;
        }
}

}  // namespace

void snp_planes_cpu(const uint64_t* words, const uint64_t* missing, std::size_t n_rows, std::size_t n_snps,
                    bool genotypes, uint64_t* planes) {
    const std::size_t rw = (n_rows + 63) / 64, per = genotypes ? 32 : 64;
    const std::size_t nw = genotypes ? genotype_words(n_snps) : haplotype_words(n_snps), plane = n_snps * rw;
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t t = 0; t < std::ptrdiff_t(rw * nw); ++t) {
        const std::size_t rb = std::size_t(t) / nw, w = std::size_t(t) % nw;
        uint64_t x[64], y[64];  // haplotypes: allele, called; genotypes: low and high code bits
        for (std::size_t i = 0; i < 64; ++i) {
            const std::size_t r = rb * 64 + i;
            if (r >= n_rows) {
                x[i] = y[i] = 0;
            } else if (genotypes) {
                const uint64_t v = words[r * nw + w];
                x[i] = compress_even_bits(v);
                y[i] = compress_even_bits(v >> 1);
            } else {
                x[i] = words[r * nw + w];
                y[i] = missing ? ~missing[r * nw + w] : ~uint64_t(0);
            }
        }
        transpose64(x);
        transpose64(y);
        const uint64_t valid = n_rows - rb * 64 >= 64 ? ~uint64_t(0) : (uint64_t(1) << (n_rows - rb * 64)) - 1;
        for (std::size_t c = 0; c < per && w * per + c < n_snps; ++c) {
            uint64_t* out = planes + (w * per + c) * rw + rb;
            if (genotypes) {  // codes 0, 1, 2 and 3 = missing
                out[0] = x[c] ^ y[c];
                out[plane] = y[c] & ~x[c];
                out[2 * plane] = ~(x[c] & y[c]) & valid;
            } else {
                out[0] = x[c];
                out[plane] = y[c];
            }
        }
    }
}

void pair_counts_cpu(const uint64_t* planes, std::size_t n_planes, std::size_t n_columns, std::size_t nw,
                     const int64_t* pairs, std::size_t n_pairs, int64_t* counts) {
    const std::size_t stride = n_columns * nw, p = n_planes;
    const AndPopcountFn and_popcount = and_popcount_fn(simd_active());
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t k = 0; k < std::ptrdiff_t(n_pairs); ++k) {
        const uint64_t* x = planes + std::size_t(pairs[2 * k]) * nw;
        const uint64_t* y = planes + std::size_t(pairs[2 * k + 1]) * nw;
        int64_t* out = counts + std::size_t(k) * p * p;
        for (std::size_t a = 0; a < p; ++a)
            for (std::size_t b = 0; b < p; ++b) out[a * p + b] = and_popcount(x + a * stride, y + b * stride, nw);
    }
}

}  // namespace genofast
