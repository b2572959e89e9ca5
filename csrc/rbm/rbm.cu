#include <cuda_runtime.h>

#include <stdexcept>

#include "../common/cuda_check.cuh"
#include "rbm.cuh"

namespace genofast {
namespace {

// One thread per unit.
__global__ void rbm_units_kernel(const float* pre, const float* bias, std::size_t n, std::size_t m, UnitKind kind,
                                 uint64_t seed, uint64_t step, uint64_t first_row, float* sample, float* mean) {
    const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (i >= n * m) return;
    // keyed by the element's index in the whole matrix, so a row block draws what the whole would
    const UnitDraw d = draw_unit(pre[i] + bias[i % m], kind, philox_u32(seed, step, first_row * m + i));
    sample[i] = d.sample;
    if (mean) mean[i] = d.mean;
}

// Packs sampled binary states row by row: one thread per output word.
__global__ void pack_states_kernel(const float* sample, std::size_t n, std::size_t m, uint64_t* packed) {
    const std::size_t nw = haplotype_words(m);
    const std::size_t t = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (t >= n * nw) return;
    const std::size_t r = t / nw, w = t % nw;
    uint64_t word = 0;
    for (std::size_t c = 64 * w; c < m && c < 64 * w + 64; ++c) word |= uint64_t(sample[r * m + c] != 0.0f) << (c & 63);
    packed[t] = word;
}

}  // namespace

void rbm_units_cuda(const float* pre, const float* bias, std::size_t n, std::size_t m, UnitKind kind, uint64_t seed,
                    uint64_t step, uint64_t first_row, float* sample, float* mean, uint64_t* packed, void* stream) {
    if (packed && kind != UnitKind::bernoulli) throw std::invalid_argument("only binary units can be bit-packed");
    if (n * m == 0) return;
    cudaStream_t st = cuda_stream(stream);
    rbm_units_kernel<<<blocks_for(n * m), kThreads, 0, st>>>(pre, bias, n, m, kind, seed, step, first_row, sample, mean);
    check_launch("rbm_units");
    if (packed) {
        pack_states_kernel<<<blocks_for(n * haplotype_words(m)), kThreads, 0, st>>>(sample, n, m, packed);
        check_launch("rbm_units (packing)");
    }
}

}  // namespace genofast
