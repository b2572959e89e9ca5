// Device-side pieces several .cu files share (internal linkage: each file
// gets its own copy of the kernels).
#pragma once
#include <cstddef>
#include <cstdint>

#include "cuda_check.cuh"

namespace genofast {
namespace {

__global__ void fill_kernel(int32_t* x, std::size_t n, int32_t v) {
    const std::size_t t = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (t < n) x[t] = v;
}

// x[0..n) = v on the stream.
void fill_async(int32_t* x, std::size_t n, int32_t v, cudaStream_t st, const char* what) {
    if (n == 0) return;
    fill_kernel<<<blocks_for(n), kThreads, 0, st>>>(x, n, v);
    check_launch(what);
}

// One warp per packed word: lane l works on the word's l-th column (and,
// for 64 columns a word, its (32 + l)-th), so the unpacked side is accessed
// coalesced, and words are built from warp ballots.
struct WarpWord {
    std::size_t word, row, col0;
    int lane;
};

// This warp's word of an n_rows x nw packed matrix of `per_word` columns a
// word; false (for the whole warp) past the last word.
__device__ bool warp_word(std::size_t n_rows, std::size_t nw, int per_word, WarpWord& ww) {
    ww.word = (blockIdx.x * std::size_t(blockDim.x) + threadIdx.x) / 32;
    ww.lane = threadIdx.x % 32;
    if (ww.word >= n_rows * nw) return false;
    ww.row = ww.word / nw;
    ww.col0 = std::size_t(per_word) * (ww.word - ww.row * nw);
    return true;
}

// Blocks for one warp per word.
unsigned warps_for(std::size_t words) { return blocks_for(words * 32); }

}  // namespace
}  // namespace genofast
