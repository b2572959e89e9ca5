#include <cuda_runtime.h>

#include <stdexcept>

#include "../common/cuda_check.cuh"
#include "../common/device_helpers.cuh"
#include "rbm.cuh"

namespace genofast {
namespace {

// One warp per 64 units of a row (a packed word): lane l takes units 64w + l
// and 64w + 32 + l, so loads and stores are coalesced, and the packed word is
// two warp ballots, in the same pass.
__global__ void rbm_units_kernel(const float* pre, const float* bias, std::size_t n, std::size_t m, UnitKind kind,
                                 uint64_t seed, uint64_t step, uint64_t first_row, float* sample, float* mean,
                                 uint64_t* packed) {
    WarpWord ww;
    if (!warp_word(n, haplotype_words(m), 64, ww)) return;
    uint32_t bits[2];
    for (int half = 0; half < 2; ++half) {
        const std::size_t c = ww.col0 + 32 * half + ww.lane;
        bool one = false;
        if (c < m) {
            const std::size_t i = ww.row * m + c;
            // keyed by the element's index in the whole matrix, so a row block draws what the whole would
            const Draw<float> d = draw_unit(pre[i] + bias[c], kind, philox_u32(seed, step, first_row * m + i),
                                            mean != nullptr);
            sample[i] = d.sample;
            if (mean) mean[i] = d.mean;
            one = d.sample != 0.0f;
        }
        bits[half] = __ballot_sync(0xFFFFFFFFu, one);
    }
    if (packed && ww.lane == 0) packed[ww.word] = uint64_t(bits[0]) | (uint64_t(bits[1]) << 32);
}

}  // namespace

void rbm_units_cuda(const float* pre, const float* bias, std::size_t n, std::size_t m, UnitKind kind, uint64_t seed,
                    uint64_t step, uint64_t first_row, float* sample, float* mean, uint64_t* packed, void* stream) {
    if (packed && kind != UnitKind::bernoulli) throw std::invalid_argument("only binary units can be bit-packed");
    if (n * m == 0) return;
    cudaStream_t st = cuda_stream(stream);
    rbm_units_kernel<<<warps_for(n * haplotype_words(m)), kThreads, 0, st>>>(pre, bias, n, m, kind, seed, step,
                                                                         first_row, sample, mean, packed);
    check_launch("rbm_units");
}

}  // namespace genofast
