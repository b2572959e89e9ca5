#include "rbm.hpp"

#include <algorithm>
#include <stdexcept>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "../hamming/hamming.hpp"  // simd_active()
#include "rbm.cuh"

namespace genofast {

namespace {

// Element i of this block is element e = first_row * m + i of the whole
// matrix; one Philox call feeds four consecutive elements (element e uses
// word e & 3 of counter e >> 2, exactly as philox_u32 and the CUDA kernel
// do), so any row block draws what the whole matrix would.
struct Block {
    const float* pre;
    const float* bias;
    std::size_t m;
    UnitKind kind;
    uint64_t seed, step, e0, e1;
    float* sample;
    float* mean;
};

GF_MATH void draw_scalar(const Block& b, uint64_t lo, uint64_t hi, std::size_t c, const Philox4& r) {
    for (uint64_t e = lo; e < hi; ++e) {
        const std::size_t i = std::size_t(e - b.e0);
        const Draw<float> d = draw_unit(b.pre[i] + b.bias[c], b.kind, r.v[e & 3], b.mean != nullptr);
        b.sample[i] = d.sample;
        if (b.mean) b.mean[i] = d.mean;
        if (++c == b.m) c = 0;
    }
}

// The column of group g's first element in this block. One division per run of
// groups, not per unit: a modulo per element cost as much as the draw itself.
GF_MATH std::size_t first_column(const Block& b, uint64_t g) { return std::size_t(std::max(4 * g, b.e0) - b.e0) % b.m; }

// Group g's units (those inside the block) one by one, from column c; returns the next group's column.
GF_MATH std::size_t draw_group(const Block& b, uint64_t g, std::size_t c) {
    const uint64_t lo = std::max(4 * g, b.e0), hi = std::min(4 * g + 4, b.e1);
    draw_scalar(b, lo, hi, c, philox(b.seed, b.step, g));
    return (c + std::size_t(hi - lo)) % b.m;
}

// The vector paths: Philox for four groups, then their units as the lanes of
// GCC vectors (8 floats for Bernoulli units, 4 doubles for rectified ones;
// GF_MATH's attributes already assume GCC or Clang), with the same operations
// as the one-unit draw (unit_math.hpp), so the same bits. One body, compiled
// twice: for the baseline instruction set (SSE2 on x86-64, NEON on aarch64)
// and for AVX2. Block edges and runs' tails go one group at a time (draw_group).
typedef double dv __attribute__((vector_size(32)));
typedef long dmask __attribute__((vector_size(32)));  // what comparing dvs gives
typedef float fv __attribute__((vector_size(32)));
typedef int fmask __attribute__((vector_size(32)));

}  // namespace

template <>
struct Lanes<dv> {
    GF_MATH static dv splat(double c) { return dv{} + c; }
    GF_MATH static dv sel(dmask m, dv a, dv b) { return m ? a : b; }
    GF_MATH static dv sqrt(dv a) {
        for (int k = 0; k < 4; ++k) a[k] = __builtin_sqrt(a[k]);
        return a;
    }
    GF_MATH static bool any(dmask m) { return (m[0] | m[1] | m[2] | m[3]) != 0; }
    GF_MATH static dv pow2(dv t) { return (dv)(((dmask)t + 1023) << 52); }
    GF_MATH static void split(dv x, dv& m, dv& e) {
        const dmask b = (dmask)x;
        m = (dv)((b & 0x000FFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        e = (dv)((b >> 52) | 0x4330000000000000L) - (4503599627370496.0 + 1023.0);
    }
};

template <>
struct Lanes<fv> {
    GF_MATH static fv splat(float c) { return fv{} + c; }
    GF_MATH static fv sel(fmask m, fv a, fv b) { return m ? a : b; }
    GF_MATH static fv pow2(fv t) { return (fv)(((fmask)t + 127) << 23); }
};

namespace {

// Philox4x32-10 of counters g..g+3: out[4 j + k] is word k of philox(seed, stream, g + j).
// GCC's generic vectors have no 32 x 32 -> 64-bit multiply (it strength-reduces
// a constant one to shifts and adds), so the baseline path calls the scalar one.
GF_MATH void philox_4groups(uint64_t seed, uint64_t stream, uint64_t g, uint32_t* out) {
    for (int j = 0; j < 4; ++j) {
        const Philox4 r = philox(seed, stream, g + uint64_t(j));
        for (int k = 0; k < 4; ++k) out[4 * j + k] = r.v[k];
    }
}

#if defined(__x86_64__)
// The same with AVX2, one counter per 64-bit lane. A lane's high half
// carries junk that the multiplies ignore and the output drops.
__attribute__((target("avx2"))) inline void philox_x4(uint64_t seed, uint64_t stream, uint64_t g, uint32_t* out) {
    __m256i w0 = _mm256_set_epi64x(int64_t(uint32_t(g + 3)), int64_t(uint32_t(g + 2)), int64_t(uint32_t(g + 1)),
                                   int64_t(uint32_t(g)));
    __m256i w1 = _mm256_set_epi64x(int64_t((g + 3) >> 32), int64_t((g + 2) >> 32), int64_t((g + 1) >> 32),
                                   int64_t(g >> 32));
    __m256i w2 = _mm256_set1_epi64x(int64_t(uint32_t(stream))), w3 = _mm256_set1_epi64x(int64_t(stream >> 32));
    const __m256i m0 = _mm256_set1_epi64x(0xD2511F53), m1 = _mm256_set1_epi64x(0xCD9E8D57);
    uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
    for (int round = 0; round < 10; ++round) {
        const __m256i p0 = _mm256_mul_epu32(w0, m0), p1 = _mm256_mul_epu32(w2, m1);
        w0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), w1), _mm256_set1_epi64x(k0));
        w2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), w3), _mm256_set1_epi64x(k1));
        w1 = p1;
        w3 = p0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    alignas(32) uint64_t w[4][4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[0]), w0);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[1]), w1);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[2]), w2);
    _mm256_store_si256(reinterpret_cast<__m256i*>(w[3]), w3);
    for (int j = 0; j < 4; ++j)
        for (int k = 0; k < 4; ++k) out[4 * j + k] = uint32_t(w[k][j]);
}
#endif

// Groups g0..g1 with the units of four groups as vector lanes; philox16 is one of the two above.
template <class Philox16>
GF_MATH void groups_lanes(const Block& b, uint64_t g0, uint64_t g1, Philox16 philox16) {
    std::size_t c = first_column(b, g0);
    const bool bern = b.kind == UnitKind::bernoulli, want_mean = b.mean != nullptr;
    for (uint64_t g = g0; g < g1;) {
        const uint64_t lo = std::max(4 * g, b.e0), hi = std::min(4 * g + 16, b.e1);
        if (g + 4 > g1 || hi - lo < 16) {  // a run's tail, or a block's edge: one group alone
            c = draw_group(b, g++, c);
            continue;
        }
        const std::size_t i = std::size_t(lo - b.e0);
        uint32_t words[16];
        philox16(b.seed, b.step, g, words);
        float x[16];
        if (c + 16 <= b.m) {  // most runs of 16 stay in one row: contiguous bias, vector loads
            for (int k = 0; k < 16; ++k) x[k] = b.pre[i + k] + b.bias[c + k];
            c = c + 16 == b.m ? 0 : c + 16;
        } else {
            for (int k = 0; k < 16; ++k) {
                x[k] = b.pre[i + k] + b.bias[c];
                if (++c == b.m) c = 0;
            }
        }
        // the uniforms of u32_to_unit_float and open_unit, through signed conversions (exact: below 2^24),
        // which the vector units have
        int32_t top[16];
        for (int k = 0; k < 16; ++k) top[k] = int32_t(words[k] >> 8);
        if (bern) {
            for (int h = 0; h < 16; h += 8) {
                fv xv, uv;
                for (int k = 0; k < 8; ++k) xv[k] = x[h + k], uv[k] = float(top[h + k]) * (1.0f / 16777216.0f);
                const Draw<fv> d = draw_bernoulli<fv>(xv, uv);
                for (int k = 0; k < 8; ++k) b.sample[i + h + k] = d.sample[k];
                if (want_mean)
                    for (int k = 0; k < 8; ++k) b.mean[i + h + k] = d.mean[k];
            }
        } else {
            for (int h = 0; h < 16; h += 4) {
                dv xv, uv;
                for (int k = 0; k < 4; ++k)
                    xv[k] = x[h + k], uv[k] = (double(top[h + k]) + 0.5) * (1.0 / 16777216.0);
                const Draw<dv> d = draw_rectified<dv>(xv, uv, want_mean);
                for (int k = 0; k < 4; ++k) b.sample[i + h + k] = float(d.sample[k]);
                if (want_mean)
                    for (int k = 0; k < 4; ++k) b.mean[i + h + k] = float(d.mean[k]);
            }
        }
        g += 4;
    }
}

void groups_generic(const Block& b, uint64_t g0, uint64_t g1) { groups_lanes(b, g0, g1, philox_4groups); }

#if defined(__x86_64__)
__attribute__((target("avx2"))) void groups_avx2(const Block& b, uint64_t g0, uint64_t g1) {
    groups_lanes(b, g0, g1, philox_x4);
}
#endif

}  // namespace

void rbm_units_cpu(const float* pre, const float* bias, std::size_t n, std::size_t m, UnitKind kind, uint64_t seed,
                   uint64_t step, uint64_t first_row, float* sample, float* mean, uint64_t* packed) {
    if (packed && kind != UnitKind::bernoulli) throw std::invalid_argument("only binary units can be bit-packed");
    const std::size_t total = n * m;
    const uint64_t e0 = first_row * uint64_t(m), e1 = e0 + total;
    const Block b{pre, bias, m, kind, seed, step, e0, e1, sample, mean};
    void (*groups)(const Block&, uint64_t, uint64_t) = groups_generic;
#if defined(__x86_64__)
    if (simd_active() >= Simd::avx2) groups = groups_avx2;
#endif
    // Runs of 64 groups per task. Small layers (below 2^15 Bernoulli draws' worth;
    // a rectified draw costs about eight) stay on the calling thread, where
    // starting a team would cost about as much as the work.
    const uint64_t g0 = e0 >> 2, g1 = (e1 + 3) >> 2, run = 64;
    const std::ptrdiff_t n_runs = std::ptrdiff_t((g1 - g0 + run - 1) / run);
    const bool big = total * (kind == UnitKind::relu ? 8 : 1) >= (std::size_t(1) << 15);
#pragma omp parallel for schedule(static) if (big)
    for (std::ptrdiff_t k = 0; k < n_runs; ++k)
        groups(b, g0 + uint64_t(k) * run, std::min(g0 + (uint64_t(k) + 1) * run, g1));
    if (!packed) return;
    const std::size_t nw = haplotype_words(m);
#pragma omp parallel for schedule(static) if (big)
    for (std::ptrdiff_t row = 0; row < std::ptrdiff_t(n); ++row)
        for (std::size_t w = 0; w < nw; ++w) {
            uint64_t word = 0;
            for (std::size_t c = 64 * w; c < m && c < 64 * w + 64; ++c)
                word |= uint64_t(sample[std::size_t(row) * m + c] != 0.0f) << (c & 63);
            packed[std::size_t(row) * nw + w] = word;
        }
}

}  // namespace genofast
