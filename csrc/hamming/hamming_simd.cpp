// SIMD micro-kernels for block distances. Each is compiled for its own
// instruction set through a target attribute and chosen at run time, so the
// shipped binary never needs -march=native.
#include "hamming.hpp"

#include <algorithm>

#include "hamming.cuh"

namespace genofast {

namespace {

void top1_scalar(const uint32_t* d, std::size_t ldo, std::size_t mi, std::size_t nj, bool triangle, std::size_t i0,
                 std::size_t j0, uint64_t* row_keys, uint64_t* col_keys, uint32_t* col_min) {
    for (std::size_t i = 0; i < mi; ++i) {
        uint64_t best = row_keys ? row_keys[i] : 0;
        for (std::size_t j = triangle ? i + 1 : 0; j < nj; ++j) {
            const uint32_t v = d[i * ldo + j];
            if (row_keys) best = std::min(best, make_key(v, j0 + j));
            if (col_keys) col_keys[j] = std::min(col_keys[j], make_key(v, i0 + i));
            if (col_min) col_min[j] = std::min(col_min[j], v);
        }
        if (row_keys) row_keys[i] = best;
    }
}

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

// Horizontal sums of eight accumulators at once (rows r and r+1 of a tile,
// four columns each), by a transpose-and-add tree: about a third of the
// instructions of eight separate reductions, which matters when rows are
// only a few words long.
__attribute__((target("avx512f"))) inline void store_sums(const __m512i* v, uint32_t* row0, uint32_t* row1) {
    __m512i t[4];
    for (int p = 0; p < 4; ++p)
        t[p] = _mm512_add_epi64(_mm512_unpacklo_epi64(v[2 * p], v[2 * p + 1]),
                                _mm512_unpackhi_epi64(v[2 * p], v[2 * p + 1]));
    const __m512i u0 = _mm512_add_epi64(_mm512_shuffle_i64x2(t[0], t[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                        _mm512_shuffle_i64x2(t[0], t[1], _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i u1 = _mm512_add_epi64(_mm512_shuffle_i64x2(t[2], t[3], _MM_SHUFFLE(2, 0, 2, 0)),
                                        _mm512_shuffle_i64x2(t[2], t[3], _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i sums = _mm512_add_epi64(_mm512_shuffle_i64x2(u0, u1, _MM_SHUFFLE(2, 0, 2, 0)),
                                          _mm512_shuffle_i64x2(u0, u1, _MM_SHUFFLE(3, 1, 3, 1)));
    const __m256i s32 = _mm512_cvtepi64_epi32(sums);  // lanes: row0 c0..c3, row1 c0..c3
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row0), _mm256_castsi256_si128(s32));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row1), _mm256_extracti128_si256(s32, 1));
}

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
            store_sums(acc[0], out + i * ldo + j, out + (i + 1) * ldo + j);
            store_sums(acc[2], out + (i + 2) * ldo + j, out + (i + 3) * ldo + j);
        }
}

// k = 1 epilogue, 16 columns per vector. Rows: vector minimum, then the
// first column holding it. Columns: running minimum over rows with the row
// that first reached it (strict < keeps the lowest row on ties), then one
// 64-bit key minimum per column.
__attribute__((target("avx512f"))) void top1_avx512(const uint32_t* d, std::size_t ldo, std::size_t mi,
                                                     std::size_t nj, bool triangle, std::size_t i0, std::size_t j0,
                                                     uint64_t* row_keys, uint64_t* col_keys, uint32_t* col_min) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i none = _mm512_set1_epi32(-1);
    const std::size_t nv = (nj + 15) / 16;
    __m512i cmin[4], carg[4];  // nj <= 64
    for (std::size_t v = 0; v < nv; ++v) {
        cmin[v] = none;
        carg[v] = _mm512_setzero_si512();
    }
    for (std::size_t i = 0; i < mi; ++i) {
        const uint32_t* row = d + i * ldo;
        const __m512i vi = _mm512_set1_epi32(int(i));
        __m512i rmin = none;
        __mmask16 valid[4];
        for (std::size_t v = 0; v < nv; ++v) {
            const __m512i col = _mm512_add_epi32(lane, _mm512_set1_epi32(int(16 * v)));
            valid[v] = _mm512_cmplt_epu32_mask(col, _mm512_set1_epi32(int(nj)));
            if (triangle) valid[v] &= _mm512_cmpgt_epu32_mask(col, vi);
            const __m512i x = _mm512_mask_loadu_epi32(none, valid[v], row + 16 * v);
            rmin = _mm512_min_epu32(rmin, x);
            const __mmask16 better = _mm512_cmplt_epu32_mask(x, cmin[v]);
            cmin[v] = _mm512_mask_mov_epi32(cmin[v], better, x);
            carg[v] = _mm512_mask_mov_epi32(carg[v], better, vi);
        }
        if (row_keys) {
            const uint32_t m = _mm512_reduce_min_epu32(rmin);
            if (m != 0xFFFFFFFFu && make_key(m, j0) < row_keys[i]) {
                const __m512i vm = _mm512_set1_epi32(int(m));
                for (std::size_t v = 0; v < nv; ++v) {
                    const __mmask16 hit = _mm512_mask_cmpeq_epu32_mask(valid[v], _mm512_loadu_si512(row + 16 * v), vm);
                    if (hit) {
                        row_keys[i] = std::min(row_keys[i], make_key(m, j0 + 16 * v + __builtin_ctz(hit)));
                        break;
                    }
                }
            }
        }
    }
    for (std::size_t v = 0; v < nv; ++v) {
        alignas(64) uint32_t mins[16], args[16];
        _mm512_store_si512(mins, cmin[v]);
        _mm512_store_si512(args, carg[v]);
        for (int l = 0; l < 16 && 16 * v + l < nj; ++l) {
            const std::size_t j = 16 * v + l;
            if (mins[l] == 0xFFFFFFFFu) continue;  // no valid row (triangle's first column)
            if (col_keys) col_keys[j] = std::min(col_keys[j], make_key(mins[l], i0 + args[l]));
            if (col_min) col_min[j] = std::min(col_min[j], mins[l]);
        }
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

BlockTop1Fn block_top1_fn(Simd level) { return level == Simd::avx512 ? top1_avx512 : top1_scalar; }

}  // namespace genofast

#else  // not x86-64: the portable tile only

namespace genofast {
Simd simd_supported() { return Simd::scalar; }
BlockDistanceFn block_distance_fn(Simd) { return block_scalar; }
BlockTop1Fn block_top1_fn(Simd) { return top1_scalar; }
}  // namespace genofast

#endif
