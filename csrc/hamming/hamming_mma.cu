// CUDA tensor-core nearest neighbours and histograms (sm_80 and newer): the
// kernel around the block logic of hamming_mma.cuh. Persistent blocks walk
// the plan's items; temporaries are O(m + n) (popcounts, keys) plus, for
// k > 1, the splits' lists (splits x m x k keys).
#include <cuda_runtime.h>

#include <climits>
#include <stdexcept>

#include "../common/cuda_check.cuh"
#include "../common/device_helpers.cuh"
#include "hamming.hpp"
#include "hamming_mma.cuh"

namespace genofast {
namespace {

using mma::Mode;
using mma::Plan;
using mma::Shared;

__device__ __forceinline__ void mma_and_popc(int32_t (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile(
        "mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc "
        "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
    __trap();  // the host refuses devices below sm_80
#endif
}

// AND-popcounts of tile (i0, j0) into the warp's accumulators, and the
// tile's row popcounts into shared memory.
__device__ void tile_counts(Shared& sh, const Plan& p, const uint64_t* a, const uint64_t* b, const int32_t* pop_a,
                            const int32_t* pop_b, std::size_t i0, std::size_t j0, int32_t (&acc)[2][8][4]) {
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
#pragma unroll
    for (int mt = 0; mt < 2; ++mt)
#pragma unroll
        for (int nt = 0; nt < 8; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) acc[mt][nt][e] = 0;
    if (tid < mma::kTile) sh.pa[tid] = i0 + tid < p.m ? pop_a[i0 + tid] : 0;
    else sh.pb[tid - mma::kTile] = j0 + tid - mma::kTile < p.n ? pop_b[j0 + tid - mma::kTile] : 0;
    const int r0 = mma::warp_row0(warp), c0 = mma::kSlab * mma::warp_slab(warp);
    for (std::size_t w0 = 0; w0 < p.nw; w0 += mma::kChunkWords) {
        mma::stage_chunk(tid, sh.u.stage, a, b, p, i0, j0, w0);
        __syncthreads();
        const int steps = mma::chunk_steps(p, w0);
        for (int step = 0; step < steps; ++step) {
            uint32_t fb[8][2];
#pragma unroll
            for (int nt = 0; nt < 8; ++nt) mma::load_b(sh.u.stage, c0 + 8 * nt, step, lane, fb[nt]);
#pragma unroll
            for (int mt = 0; mt < 2; ++mt) {
                uint32_t fa[4];
                mma::load_a(sh.u.stage, r0 + 16 * mt, step, lane, fa);
#pragma unroll
                for (int nt = 0; nt < 8; ++nt) mma_and_popc(acc[mt][nt], fa, fb[nt]);
            }
        }
        __syncthreads();
    }
}

template <Mode M, int K>
__global__ void __launch_bounds__(mma::kThreads) mma_kernel(Plan p, const uint64_t* a, const uint64_t* b,
                                                            const int32_t* pop_a, const int32_t* pop_b,
                                                            uint64_t* keys, int32_t* column_min, uint64_t* partial,
                                                            unsigned long long* hist, std::size_t n_bins) {
    extern __shared__ __align__(16) unsigned char smem[];
    Shared& sh = *reinterpret_cast<Shared*>(smem);
    uint32_t* bins = reinterpret_cast<uint32_t*>(smem + sizeof(Shared));
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    auto flush = [&] {
        __syncthreads();
        for (std::size_t x = tid; x < n_bins; x += mma::kThreads) {
            if (bins[x]) atomicAdd(hist + x, (unsigned long long)bins[x]);
            bins[x] = 0;
        }
        __syncthreads();
    };
    if (M == Mode::hist) {
        for (std::size_t x = tid; x < n_bins; x += mma::kThreads) bins[x] = 0;
        __syncthreads();
    }
    long long since_flush = 0;
    for (std::size_t item = blockIdx.x; item < p.items; item += gridDim.x) {
        std::size_t I, first, last, split;
        if (!mma::decode_item(p, item, I, first, last, split)) continue;
        const std::size_t i0 = I * mma::kTile;
        uint64_t list[K];
        for (int c = 0; c < K; ++c) list[c] = kNoKey;
        for (std::size_t J = first; J < last; ++J) {
            const std::size_t j0 = J * mma::kTile;
            int32_t acc[2][8][4];
            tile_counts(sh, p, a, b, pop_a, pop_b, i0, j0, acc);
            uint64_t row_best = kNoKey;
            for (int h = 0; h < 2; ++h) {
                if (mma::warp_slab(warp) == h) mma::write_slab(sh, warp, lane, acc);
                __syncthreads();
                const std::size_t js = j0 + h * mma::kSlab;
                if (M == Mode::top1) mma::epilogue_top1(p, sh, tid, i0, js, row_best, keys, column_min);
                if (M == Mode::topk) mma::epilogue_topk<K>(p, sh, tid, i0, js, list, column_min);
                if (M == Mode::hist) mma::epilogue_hist(p, sh, tid, i0, js, bins);
                __syncthreads();
            }
            if (M == Mode::top1 && tid < mma::kTile && row_best != kNoKey)
                mma::atomic_min_u64(keys + i0 + tid, row_best);
            if (M == Mode::hist && ++since_flush == mma::kFlushTiles) flush(), since_flush = 0;
        }
        if (M == Mode::topk) {
            mma::park_list<K>(sh, tid, list);
            __syncthreads();
            mma::merge_list<K>(p, sh, tid, i0, split, list, partial);
            __syncthreads();
        }
    }
    if (M == Mode::hist) flush();
}

__global__ void popcount_kernel(const uint64_t* x, std::size_t rows, std::size_t nw, int32_t* out) {
    const std::size_t r = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (r < rows) out[r] = mma::row_popcount(x, r, nw);
}

__global__ void finish_kernel(Plan p, const uint64_t* partial, int32_t* distances, int64_t* indices) {
    const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (i < p.m) mma::finish_row(p, i, partial, distances, indices);
}

// An attribute of the current device; errors name this path.
int attribute(cudaDeviceAttr attr) { return device_attribute(attr, "tensor-core Hamming"); }

int sm_count() { return attribute(cudaDevAttrMultiProcessorCount); }

void require_sm80() {
    if (attribute(cudaDevAttrComputeCapabilityMajor) < 8)
        throw std::invalid_argument("the tensor-core Hamming path needs an sm_80 or newer GPU (1-bit AND MMA)");
}

// Stream-ordered scratch, freed when the call ends.
struct Scratch {
    void* p = nullptr;
    cudaStream_t st;
    Scratch(std::size_t bytes, cudaStream_t s) : st(s) {
        if (bytes) check_cuda(cudaMallocAsync(&p, bytes, st), "tensor-core Hamming scratch");
    }
    ~Scratch() {
        if (p) cudaFreeAsync(p, st);
    }
    template <class T>
    T* as() const { return static_cast<T*>(p); }
};

template <Mode M, int K>
void launch(const Plan& p, std::size_t smem, const uint64_t* a, const uint64_t* b, const int32_t* pa,
            const int32_t* pb, uint64_t* keys, int32_t* colmin, uint64_t* partial, unsigned long long* hist,
            std::size_t n_bins, cudaStream_t st) {
    auto kernel = mma_kernel<M, K>;
    check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
               "tensor-core Hamming (shared memory)");
    int per_sm = 0;
    check_cuda(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, mma::kThreads, smem),
               "tensor-core Hamming (occupancy)");
    const std::size_t sms = std::size_t(sm_count());
    const unsigned grid = unsigned(std::min<std::size_t>(p.items, sms * std::size_t(std::max(per_sm, 1))));
    kernel<<<grid, mma::kThreads, smem, st>>>(p, a, b, pa, pb, keys, colmin, partial, hist, n_bins);
    check_launch("tensor-core Hamming");
}

// Row popcounts of A (and of B unless self) into one scratch buffer.
int32_t* popcounts(const Scratch& s, const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                   std::size_t nw, bool self, cudaStream_t st) {
    int32_t* pa = s.as<int32_t>();
    popcount_kernel<<<blocks_for(m), kThreads, 0, st>>>(a, m, nw, pa);
    if (!self) popcount_kernel<<<blocks_for(n), kThreads, 0, st>>>(b, n, nw, pa + m);
    check_launch("tensor-core Hamming (popcounts)");
    return pa;
}

}  // namespace

void nearest_neighbors_mma_cuda(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                                std::size_t n_words, bool self, int k, int32_t* distances, int64_t* indices,
                                int32_t* column_min, void* stream) {
    if (k < 1 || k > mma::kMaxK) throw std::invalid_argument("on CUDA, k must be between 1 and 32");
    if (n >= (std::size_t(1) << 32)) throw std::invalid_argument("at most 2^32 - 1 reference rows are supported");
    require_sm80();
    cudaStream_t st = cuda_stream(stream);
    if (self) b = a, n = m;
    if (column_min) fill_async(column_min, n, INT_MAX, st, "nearest_neighbors (column minima)");
    if (m == 0 || n == 0) return;
    const Plan p = mma::make_plan(m, n, n_words, self, k, false, sm_count());
    Scratch pops((m + (self ? 0 : n)) * sizeof(int32_t), st);
    const int32_t* pa = popcounts(pops, a, m, b, n, n_words, self, st);
    const int32_t* pb = self ? pa : pa + m;
    Scratch lists(p.splits * m * std::size_t(k) * sizeof(uint64_t), st);
    uint64_t* keys = lists.as<uint64_t>();
    const std::size_t smem = sizeof(Shared);
    if (p.mode == Mode::top1) {
        check_cuda(cudaMemsetAsync(keys, 0xFF, m * sizeof(uint64_t), st), "nearest_neighbors");
        launch<Mode::top1, 1>(p, smem, a, b, pa, pb, keys, column_min, nullptr, nullptr, 0, st);
    } else if (k <= 4) {
        launch<Mode::topk, 4>(p, smem, a, b, pa, pb, nullptr, column_min, keys, nullptr, 0, st);
    } else if (k <= 8) {
        launch<Mode::topk, 8>(p, smem, a, b, pa, pb, nullptr, column_min, keys, nullptr, 0, st);
    } else if (k <= 16) {
        launch<Mode::topk, 16>(p, smem, a, b, pa, pb, nullptr, column_min, keys, nullptr, 0, st);
    } else {
        launch<Mode::topk, 32>(p, smem, a, b, pa, pb, nullptr, column_min, keys, nullptr, 0, st);
    }
    finish_kernel<<<blocks_for(m), kThreads, 0, st>>>(p, keys, distances, indices);
    check_launch("nearest_neighbors (finish)");
}

std::size_t mma_histogram_max_bins() {
    const std::size_t optin = std::size_t(attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin));
    return optin > sizeof(Shared) ? (optin - sizeof(Shared)) / sizeof(uint32_t) : 0;
}

void hamming_histogram_mma_cuda(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                                std::size_t n_words, bool self, int64_t* hist, std::size_t n_bins, void* stream) {
    if (n_bins < n_words * 64 + 1) throw std::invalid_argument("histogram needs n_words * 64 + 1 bins");
    require_sm80();
    if (n_bins > mma_histogram_max_bins())
        throw std::invalid_argument("too many SNPs for the tensor-core histogram's shared-memory bins; "
                                    "use the popcount path");
    cudaStream_t st = cuda_stream(stream);
    check_cuda(cudaMemsetAsync(hist, 0, n_bins * sizeof(int64_t), st), "hamming_histogram");
    if (self) b = a, n = m;
    if (m == 0 || n == 0) return;
    const Plan p = mma::make_plan(m, n, n_words, self, 1, true, sm_count());
    Scratch pops((m + (self ? 0 : n)) * sizeof(int32_t), st);
    const int32_t* pa = popcounts(pops, a, m, b, n, n_words, self, st);
    launch<Mode::hist, 1>(p, sizeof(Shared) + n_bins * sizeof(uint32_t), a, b, pa, self ? pa : pa + m, nullptr,
                          nullptr, nullptr, reinterpret_cast<unsigned long long*>(hist), n_bins, st);
}

}  // namespace genofast
