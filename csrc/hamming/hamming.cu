// CUDA nearest neighbours and distance histograms: popcount path (the
// tensor-core twins are in hamming_mma.cu).
// A block takes kQueries query rows and streams all reference rows through
// shared memory, kThreads rows at a time (one per thread) and kChunk words at
// a time; each thread keeps its own top-k per query in registers, merged by
// block-wide minimum at the end. Results are identical to the CPU's because
// both order candidates by the same (distance, index) key.
#include <cuda_runtime.h>

#include <climits>
#include <stdexcept>

#include "../common/cuda_check.cuh"
#include "../common/device_helpers.cuh"
#include "hamming.cuh"
#include "hamming.hpp"

namespace genofast {
namespace {

constexpr int kQueries = 8;
constexpr int kChunk = 16;

struct Tile {
    uint64_t a[kQueries][kChunk];
    uint64_t b[kThreads][kChunk + 1];  // +1: spreads rows over shared-memory banks
};

// Distances of this block's queries to reference row j0 + threadIdx.x.
__device__ void tile_distances(Tile& s, const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                               std::size_t nw, std::size_t q0, std::size_t j0, uint32_t (&acc)[kQueries]) {
    for (int q = 0; q < kQueries; ++q) acc[q] = 0;
    for (std::size_t w0 = 0; w0 < nw; w0 += kChunk) {
        for (int x = threadIdx.x; x < kQueries * kChunk; x += kThreads) {
            const int q = x / kChunk, w = x % kChunk;
            s.a[q][w] = (q0 + q < m && w0 + w < nw) ? a[(q0 + q) * nw + w0 + w] : 0;
        }
        for (int x = threadIdx.x; x < kThreads * kChunk; x += kThreads) {
            const int r = x / kChunk, w = x % kChunk;
            s.b[r][w] = (j0 + r < n && w0 + w < nw) ? b[(j0 + r) * nw + w0 + w] : 0;
        }
        __syncthreads();
#pragma unroll
        for (int w = 0; w < kChunk; ++w) {
            const uint64_t bv = s.b[threadIdx.x][w];
#pragma unroll
            for (int q = 0; q < kQueries; ++q) acc[q] += __popcll(s.a[q][w] ^ bv);
        }
        __syncthreads();
    }
}

template <int K>
__global__ void __launch_bounds__(kThreads) nearest_neighbors_kernel(const uint64_t* a, std::size_t m,
                                                                     const uint64_t* b, std::size_t n,
                                                                     std::size_t nw, bool self, int k,
                                                                     int32_t* distances, int64_t* indices,
                                                                     int32_t* column_min) {
    __shared__ Tile s;
    __shared__ uint64_t red[kThreads];
    const std::size_t q0 = std::size_t(blockIdx.x) * kQueries;
    uint64_t keys[kQueries][K];
    for (int q = 0; q < kQueries; ++q)
        for (int c = 0; c < K; ++c) keys[q][c] = kNoKey;
    for (std::size_t j0 = 0; j0 < n; j0 += kThreads) {
        uint32_t acc[kQueries];
        tile_distances(s, a, m, b, n, nw, q0, j0, acc);
        const std::size_t j = j0 + threadIdx.x;
        if (j >= n) continue;
        uint32_t best = UINT_MAX;
#pragma unroll
        for (int q = 0; q < kQueries; ++q) {
            if (q0 + q >= m || (self && q0 + q == j)) continue;
            push_key(keys[q], K, make_key(acc[q], j));
            best = min(best, acc[q]);
        }
        if (column_min && best != UINT_MAX) atomicMin(column_min + j, int(best));
    }
    // Merge: k rounds of a block-wide minimum over every thread's next key.
    for (int q = 0; q < kQueries; ++q) {
        int next = 0;
        for (int c = 0; c < k; ++c) {
            const uint64_t mine = next < K ? keys[q][next] : kNoKey;
            red[threadIdx.x] = mine;
            __syncthreads();
            for (int stride = kThreads / 2; stride > 0; stride >>= 1) {
                if (threadIdx.x < stride) red[threadIdx.x] = min(red[threadIdx.x], red[threadIdx.x + stride]);
                __syncthreads();
            }
            const uint64_t win = red[0];
            __syncthreads();
            if (mine == win && win != kNoKey) ++next;  // keys are unique, so one thread advances
            if (threadIdx.x == 0 && q0 + q < m) {
                distances[(q0 + q) * k + c] = win == kNoKey ? -1 : int32_t(win >> 32);
                indices[(q0 + q) * k + c] = win == kNoKey ? -1 : int64_t(win & 0xFFFFFFFFULL);
            }
        }
    }
}

// Counts go to per-block shared-memory bins (when they fit), added to the
// global histogram once per block: global atomics only per distinct distance.
__global__ void histogram_kernel(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                                 std::size_t nw, bool self, unsigned long long* hist, std::size_t n_bins,
                                 bool shared_bins) {
    __shared__ Tile s;
    extern __shared__ uint32_t bins[];
    if (shared_bins) {
        for (std::size_t x = threadIdx.x; x < n_bins; x += kThreads) bins[x] = 0;
        __syncthreads();
    }
    const std::size_t q0 = std::size_t(blockIdx.x) * kQueries;
    for (std::size_t j0 = 0; j0 < n; j0 += kThreads) {
        uint32_t acc[kQueries];
        tile_distances(s, a, m, b, n, nw, q0, j0, acc);
        const std::size_t j = j0 + threadIdx.x;
        if (j >= n) continue;
        for (int q = 0; q < kQueries; ++q)
            if (q0 + q < m && (!self || j > q0 + q)) {
                if (shared_bins) atomicAdd(bins + acc[q], 1u);
                else atomicAdd(hist + acc[q], 1ULL);
            }
    }
    if (!shared_bins) return;
    __syncthreads();
    for (std::size_t x = threadIdx.x; x < n_bins; x += kThreads)
        if (bins[x]) atomicAdd(hist + x, (unsigned long long)bins[x]);
}

template <int K>
void launch_nn(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n, std::size_t nw, bool self, int k,
               int32_t* distances, int64_t* indices, int32_t* column_min, cudaStream_t st) {
    const unsigned grid = unsigned((m + kQueries - 1) / kQueries);
    nearest_neighbors_kernel<K><<<grid, kThreads, 0, st>>>(a, m, b, n, nw, self, k, distances, indices, column_min);
}

}  // namespace

void nearest_neighbors_cuda(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                            std::size_t n_words, bool self, int k, int32_t* distances, int64_t* indices,
                            int32_t* column_min, void* stream) {
    if (k < 1 || k > 32) throw std::invalid_argument("on CUDA, k must be between 1 and 32");
    if (n >= (std::size_t(1) << 32)) throw std::invalid_argument("at most 2^32 - 1 reference rows are supported");
    cudaStream_t st = cuda_stream(stream);
    if (self) b = a, n = m;
    if (column_min) fill_async(column_min, n, INT_MAX, st, "nearest_neighbors (column minima)");
    if (m == 0) return;
    if (k == 1) launch_nn<1>(a, m, b, n, n_words, self, k, distances, indices, column_min, st);
    else if (k <= 2) launch_nn<2>(a, m, b, n, n_words, self, k, distances, indices, column_min, st);
    else if (k <= 4) launch_nn<4>(a, m, b, n, n_words, self, k, distances, indices, column_min, st);
    else if (k <= 8) launch_nn<8>(a, m, b, n, n_words, self, k, distances, indices, column_min, st);
    else if (k <= 16) launch_nn<16>(a, m, b, n, n_words, self, k, distances, indices, column_min, st);
    else launch_nn<32>(a, m, b, n, n_words, self, k, distances, indices, column_min, st);
    check_launch("nearest_neighbors");
}

void hamming_histogram_cuda(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                            std::size_t n_words, bool self, int64_t* hist, std::size_t n_bins, void* stream) {
    if (n_bins < n_words * 64 + 1) throw std::invalid_argument("histogram needs n_words * 64 + 1 bins");
    cudaStream_t st = cuda_stream(stream);
    check_cuda(cudaMemsetAsync(hist, 0, n_bins * sizeof(int64_t), st), "hamming_histogram");
    if (self) b = a, n = m;
    if (m == 0 || n == 0) return;
    const unsigned grid = unsigned((m + kQueries - 1) / kQueries);
    // A block counts at most kQueries * n pairs: u32 bins suffice below 2^32.
    const int optin = device_attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin, "hamming_histogram");
    const std::size_t bytes = n_bins * sizeof(uint32_t);
    const bool shared_bins = sizeof(Tile) + bytes <= std::size_t(optin) && kQueries * n < (std::size_t(1) << 32);
    if (shared_bins)
        check_cuda(cudaFuncSetAttribute(histogram_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)),
                   "hamming_histogram (shared memory)");
    histogram_kernel<<<grid, kThreads, shared_bins ? bytes : 0, st>>>(
        a, m, b, n, n_words, self, reinterpret_cast<unsigned long long*>(hist), n_bins, shared_bins);
    check_launch("hamming_histogram");
}

}  // namespace genofast
