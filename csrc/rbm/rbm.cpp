#include "rbm.hpp"

#include <algorithm>
#include <stdexcept>

#include "rbm.cuh"

namespace genofast {

void rbm_units_cpu(const float* pre, const float* bias, std::size_t n, std::size_t m, UnitKind kind, uint64_t seed,
                   uint64_t step, uint64_t first_row, float* sample, float* mean, uint64_t* packed) {
    if (packed && kind != UnitKind::bernoulli) throw std::invalid_argument("only binary units can be bit-packed");
    const std::size_t total = n * m;
    // Element i of this block is element e = first_row * m + i of the whole
    // matrix; one Philox call feeds four consecutive elements (element e uses
    // word e & 3 of counter e >> 2, exactly as philox_u32 and the CUDA kernel
    // do), so any row block draws what the whole matrix would. Small layers
    // stay on the calling thread, where starting a team would cost about as
    // much as the work; a rectified unit's draw costs about six Bernoulli ones.
    const uint64_t e0 = first_row * uint64_t(m), e1 = e0 + total;
    const uint64_t g0 = e0 >> 2, g1 = (e1 + 3) >> 2;
    const bool big = total * (kind == UnitKind::relu ? 6 : 1) >= (std::size_t(1) << 14);
#pragma omp parallel for schedule(static) if (big)
    for (std::ptrdiff_t gi = 0; gi < std::ptrdiff_t(g1 - g0); ++gi) {
        const uint64_t g = g0 + uint64_t(gi);
        const Philox4 r = philox(seed, step, g);
        const uint64_t lo = std::max(4 * g, e0), hi = std::min(4 * g + 4, e1);
        if (lo >= hi) continue;
        // one division per group, not per unit: a modulo per element cost as much as the draw itself
        std::size_t c = std::size_t(lo - e0) % m;
        for (uint64_t e = lo; e < hi; ++e) {
            const std::size_t i = std::size_t(e - e0);
            const UnitDraw d = draw_unit(pre[i] + bias[c], kind, r.v[e & 3], mean != nullptr);
            sample[i] = d.sample;
            if (mean) mean[i] = d.mean;
            if (++c == m) c = 0;
        }
    }
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
