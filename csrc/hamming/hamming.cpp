#include "hamming.hpp"

#include "hamming.cuh"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

namespace genofast {
namespace {

constexpr std::size_t kBlock = 64;  // rows per cache block, for A and B alike

std::atomic<int> g_simd{-1};

// Rows copied with the stride rounded up to 8 words and the row count to 4,
// zero filled, so micro-kernels need no tail handling (zeros add no distance).
struct Padded {
    std::vector<uint64_t> data;
    std::size_t rows = 0, rows_pad = 0, wp = 0;
    Padded(const uint64_t* x, std::size_t n, std::size_t nw)
        : rows(n), rows_pad((n + 3) / 4 * 4), wp(std::max<std::size_t>(8, (nw + 7) / 8 * 8)) {
        data.assign(rows_pad * wp, 0);
        for (std::size_t r = 0; r < n; ++r) std::copy(x + r * nw, x + (r + 1) * nw, data.begin() + r * wp);
    }
    const uint64_t* row(std::size_t r) const { return data.data() + r * wp; }
    std::size_t n_blocks() const { return (rows + kBlock - 1) / kBlock; }
    std::size_t block_rows(std::size_t blk) const { return std::min(kBlock, rows - blk * kBlock); }
    std::size_t block_rows_pad(std::size_t blk) const { return std::min(kBlock, rows_pad - blk * kBlock); }
};

// Visits every block pair (I, J) of A x B (only J >= I in self mode) on the
// OpenMP team; consume(thread, I, J, distances, ldo) gets the 64 x 64 block.
template <class Consume>
void for_each_block(const Padded& A, const Padded& B, bool self, Consume&& consume) {
    const BlockDistanceFn fn = block_distance_fn(simd_active());
    std::vector<std::pair<uint32_t, uint32_t>> pairs;
    const std::size_t na = A.n_blocks(), nb = B.n_blocks();
    for (std::size_t I = 0; I < na; ++I)
        for (std::size_t J = self ? I : 0; J < nb; ++J) pairs.emplace_back(uint32_t(I), uint32_t(J));
#pragma omp parallel
    {
        std::vector<uint32_t> buf(kBlock * kBlock);
        const int t = omp_get_thread_num();
        // Consecutive pairs share the A block; chunks keep it hot in cache.
#pragma omp for schedule(dynamic, 4)
        for (std::ptrdiff_t p = 0; p < std::ptrdiff_t(pairs.size()); ++p) {
            const std::size_t I = pairs[p].first, J = pairs[p].second;
            fn(A.row(I * kBlock), A.block_rows_pad(I), B.row(J * kBlock), B.block_rows_pad(J), A.wp, buf.data(),
               kBlock);
            consume(t, I, J, buf.data(), kBlock);
        }
    }
}

void check_inputs(std::size_t n, std::size_t n_words) {
    if (n >= (std::size_t(1) << 32)) throw std::invalid_argument("at most 2^32 - 1 reference rows are supported");
    if (n_words * 64 >= (std::size_t(1) << 31)) throw std::invalid_argument("too many SNPs for 32-bit distances");
}

}  // namespace

Simd simd_active() {
    const int v = g_simd.load();
    return v < 0 ? simd_supported() : Simd(v);
}

void set_simd(Simd level) {
    if (int(level) > int(simd_supported())) throw std::invalid_argument("this CPU does not support that SIMD level");
    g_simd.store(int(level));
}

void nearest_neighbors_cpu(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                           std::size_t n_words, bool self, int k, int32_t* distances, int64_t* indices,
                           int32_t* column_min) {
    check_inputs(n, n_words);
    if (k < 1) throw std::invalid_argument("k must be at least 1");
    if (m == 0) {
        if (column_min) std::fill(column_min, column_min + n, std::numeric_limits<int32_t>::max());
        return;
    }
    const Padded A(a, m, n_words);
    const int n_threads = omp_get_max_threads();
    // A row's list is updated from many blocks (and in self mode both rows of
    // a pair from one distance), so each thread keeps its own lists, merged
    // at the end: O(threads * (m + n) * k) memory, no locks in the hot loop.
    std::vector<uint64_t> keys(std::size_t(n_threads) * m * k, kNoKey);
    std::vector<uint32_t> colmin;
    if (column_min && !self) colmin.assign(std::size_t(n_threads) * n, std::numeric_limits<uint32_t>::max());
    const BlockTop1Fn top1 = block_top1_fn(simd_active());
    auto update = [&](const Padded& B) {
        return [&, top1](int t, std::size_t I, std::size_t J, const uint32_t* d, std::size_t ldo) {
            uint64_t* tk = keys.data() + std::size_t(t) * m * k;
            const std::size_t mi = A.block_rows(I), nj = B.block_rows(J), i0 = I * kBlock, j0 = J * kBlock;
            const bool triangle = self && I == J;
            uint32_t* cm = colmin.empty() ? nullptr : colmin.data() + std::size_t(t) * n + j0;
            if (k == 1) {
                top1(d, ldo, mi, nj, triangle, i0, j0, tk + i0, self ? tk + j0 : nullptr, cm);
                return;
            }
            for (std::size_t i = 0; i < mi; ++i)
                for (std::size_t j = triangle ? i + 1 : 0; j < nj; ++j) {
                    push_key(tk + (i0 + i) * k, k, make_key(d[i * ldo + j], j0 + j));
                    if (self) push_key(tk + (j0 + j) * k, k, make_key(d[i * ldo + j], i0 + i));
                }
            if (cm) top1(d, ldo, mi, nj, false, i0, j0, nullptr, nullptr, cm);
        };
    };
    if (self) {
        for_each_block(A, A, true, update(A));
    } else {
        const Padded B(b, n, n_words);
        for_each_block(A, B, false, update(B));
    }
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(m); ++i) {
        uint64_t* out = keys.data() + i * k;  // thread 0's list becomes the result
        for (int t = 1; t < n_threads; ++t) {
            const uint64_t* other = keys.data() + (std::size_t(t) * m + i) * k;
            for (int q = 0; q < k && other[q] != kNoKey; ++q) push_key(out, k, other[q]);
        }
    }
    if (!colmin.empty())
        for (std::size_t j = 0; j < n; ++j) {
            uint32_t v = colmin[j];
            for (int t = 1; t < n_threads; ++t) v = std::min(v, colmin[std::size_t(t) * n + j]);
            column_min[j] = int32_t(v);
        }
    for (std::size_t i = 0; i < m * std::size_t(k); ++i) {
        distances[i] = int32_t(keys[i] >> 32);
        indices[i] = int64_t(keys[i] & 0xFFFFFFFFULL);
    }
}

void pairwise_hamming_cpu(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                          std::size_t n_words, int32_t* out) {
    check_inputs(n, n_words);
    if (m == 0 || n == 0) return;
    const Padded A(a, m, n_words), B(b, n, n_words);
    for_each_block(A, B, false, [&](int, std::size_t I, std::size_t J, const uint32_t* d, std::size_t ldo) {
        for (std::size_t i = 0; i < A.block_rows(I); ++i)
            for (std::size_t j = 0; j < B.block_rows(J); ++j)
                out[(I * kBlock + i) * n + J * kBlock + j] = int32_t(d[i * ldo + j]);
    });
}

void hamming_histogram_cpu(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                           std::size_t n_words, bool self, int64_t* hist, std::size_t n_bins) {
    check_inputs(n, n_words);
    if (n_bins < n_words * 64 + 1) throw std::invalid_argument("histogram needs n_words * 64 + 1 bins");
    std::fill(hist, hist + n_bins, 0);
    if (m == 0 || (!self && n == 0)) return;
    const int n_threads = omp_get_max_threads();
    std::vector<int64_t> local(std::size_t(n_threads) * n_bins, 0);
    const Padded A(a, m, n_words);
    auto count = [&](const Padded& B) {
        return [&](int t, std::size_t I, std::size_t J, const uint32_t* d, std::size_t ldo) {
            int64_t* h = local.data() + std::size_t(t) * n_bins;
            for (std::size_t i = 0; i < A.block_rows(I); ++i)
                for (std::size_t j = (self && I == J) ? i + 1 : 0; j < B.block_rows(J); ++j) ++h[d[i * ldo + j]];
        };
    };
    if (self) {
        for_each_block(A, A, true, count(A));
    } else {
        const Padded B(b, n, n_words);
        for_each_block(A, B, false, count(B));
    }
    for (int t = 0; t < n_threads; ++t)
        for (std::size_t d = 0; d < n_bins; ++d) hist[d] += local[std::size_t(t) * n_bins + d];
}

}  // namespace genofast
