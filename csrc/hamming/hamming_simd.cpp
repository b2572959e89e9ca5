// SIMD micro-kernels for block distances. Each is compiled for its own
// instruction set through a target attribute and chosen at run time, so the
// shipped binary never needs -march=native.
#include "hamming.hpp"

namespace genofast {

namespace {

// 4 x 4 register tile, portable popcount: the fallback and the reference the
// SIMD tiles are tested against.
void block_scalar(const uint64_t* a, std::size_t ma, const uint64_t* b, std::size_t nb, std::size_t wp,
                  uint32_t* out, std::size_t ldo) {
    for (std::size_t i = 0; i < ma; i += 4)
        for (std::size_t j = 0; j < nb; j += 4) {
            uint32_t acc[4][4] = {};
            for (std::size_t w = 0; w < wp; ++w)
                for (int r = 0; r < 4; ++r)
                    for (int c = 0; c < 4; ++c)
                        acc[r][c] += uint32_t(__builtin_popcountll(a[(i + r) * wp + w] ^ b[(j + c) * wp + w]));
            for (int r = 0; r < 4; ++r)
                for (int c = 0; c < 4; ++c) out[(i + r) * ldo + j + c] = acc[r][c];
        }
}

}  // namespace
}  // namespace genofast

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

namespace genofast {
namespace {

// AVX-512 VPOPCNTDQ: eight words per instruction, 4 x 4 tile = 16 of the 32
// zmm registers as accumulators.
__attribute__((target("avx512f,avx512vpopcntdq"))) void block_avx512(const uint64_t* a, std::size_t ma,
                                                                      const uint64_t* b, std::size_t nb,
                                                                      std::size_t wp, uint32_t* out,
                                                                      std::size_t ldo) {
    for (std::size_t i = 0; i < ma; i += 4)
        for (std::size_t j = 0; j < nb; j += 4) {
            __m512i acc[4][4];
            for (int r = 0; r < 4; ++r)
                for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_setzero_si512();
            for (std::size_t w = 0; w < wp; w += 8) {
                __m512i va[4], vb[4];
                for (int r = 0; r < 4; ++r) va[r] = _mm512_loadu_si512(a + (i + r) * wp + w);
                for (int c = 0; c < 4; ++c) vb[c] = _mm512_loadu_si512(b + (j + c) * wp + w);
                for (int r = 0; r < 4; ++r)
                    for (int c = 0; c < 4; ++c)
                        acc[r][c] = _mm512_add_epi64(acc[r][c], _mm512_popcnt_epi64(_mm512_xor_si512(va[r], vb[c])));
            }
            for (int r = 0; r < 4; ++r)
                for (int c = 0; c < 4; ++c) out[(i + r) * ldo + j + c] = uint32_t(_mm512_reduce_add_epi64(acc[r][c]));
        }
}

// AVX2 has no vector popcount: nibble lookup with vpshufb, bytes summed by
// vpsadbw. A 2 x 4 tile keeps accumulators and operands within 16 registers.
__attribute__((target("avx2"))) inline __m256i popcount256(__m256i v) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2,
                                         2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0F);
    const __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(v, low));
    const __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
    return _mm256_sad_epu8(_mm256_add_epi8(lo, hi), _mm256_setzero_si256());
}

__attribute__((target("avx2"))) inline uint32_t hsum256(__m256i v) {
    const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return uint32_t(_mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1));
}

__attribute__((target("avx2"))) void block_avx2(const uint64_t* a, std::size_t ma, const uint64_t* b,
                                                std::size_t nb, std::size_t wp, uint32_t* out, std::size_t ldo) {
    for (std::size_t i = 0; i < ma; i += 2)
        for (std::size_t j = 0; j < nb; j += 4) {
            __m256i acc[2][4];
            for (int r = 0; r < 2; ++r)
                for (int c = 0; c < 4; ++c) acc[r][c] = _mm256_setzero_si256();
            for (std::size_t w = 0; w < wp; w += 4) {
                __m256i va[2], vb[4];
                for (int r = 0; r < 2; ++r)
                    va[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + (i + r) * wp + w));
                for (int c = 0; c < 4; ++c)
                    vb[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + (j + c) * wp + w));
                for (int r = 0; r < 2; ++r)
                    for (int c = 0; c < 4; ++c)
                        acc[r][c] = _mm256_add_epi64(acc[r][c], popcount256(_mm256_xor_si256(va[r], vb[c])));
            }
            for (int r = 0; r < 2; ++r)
                for (int c = 0; c < 4; ++c) out[(i + r) * ldo + j + c] = hsum256(acc[r][c]);
        }
}

}  // namespace

Simd simd_supported() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq")) return Simd::avx512;
    if (__builtin_cpu_supports("avx2")) return Simd::avx2;
    return Simd::scalar;
}

BlockDistanceFn block_distance_fn(Simd level) {
    switch (level) {
        case Simd::avx512: return block_avx512;
        case Simd::avx2: return block_avx2;
        default: return block_scalar;
    }
}

}  // namespace genofast

#else  // not x86-64: the portable tile only

namespace genofast {
Simd simd_supported() { return Simd::scalar; }
BlockDistanceFn block_distance_fn(Simd) { return block_scalar; }
}  // namespace genofast

#endif
