// The elementwise half of an RBM Gibbs sweep: after the GEMM (done by the
// caller's BLAS), add the bias, apply the unit's activation, draw a sample
// with Philox and optionally bit-pack the sampled states. Random numbers are
// keyed by (seed, step, element), so a chain's trajectory depends only on the
// seed and the step counter, never on threads or launch shape.
#pragma once
#include <cstddef>
#include <cstdint>

namespace genofast {

enum class UnitKind : int {
    bernoulli = 0,  // p(u = 1) = sigmoid(x)
    relu = 1,       // rectified Gaussian: u | x ~ N(x, 1) truncated to u >= 0
};

// pre, sample and mean are n x m row-major; bias has m entries. The n rows are
// rows first_row... of a larger matrix (a shard of it on one process), and
// draw that matrix's random numbers. mean and
// packed (n x ceil(m / 64) words, Bernoulli units only) may be null.
void rbm_units_cpu(const float* pre, const float* bias, std::size_t n, std::size_t m, UnitKind kind, uint64_t seed,
                   uint64_t step, uint64_t first_row, float* sample, float* mean, uint64_t* packed);
void rbm_units_cuda(const float* pre, const float* bias, std::size_t n, std::size_t m, UnitKind kind, uint64_t seed,
                    uint64_t step, uint64_t first_row, float* sample, float* mean, uint64_t* packed,
                    void* stream);

}  // namespace genofast
