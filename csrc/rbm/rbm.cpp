#include "rbm.hpp"

#include <stdexcept>

#include "rbm.cuh"

namespace genofast {

void rbm_units_cpu(const float* pre, const float* bias, std::size_t n, std::size_t m, UnitKind kind, uint64_t seed,
                   uint64_t step, float* sample, float* mean, uint64_t* packed) {
    if (packed && kind != UnitKind::bernoulli) throw std::invalid_argument("only binary units can be bit-packed");
    const std::size_t total = n * m, groups = (total + 3) / 4;
    // One Philox call feeds four consecutive units (element i uses word i & 3
    // of counter i >> 2, exactly as philox_u32 and the CUDA kernel do). Small
    // layers stay on the calling thread, where starting a team would cost
    // about as much as the work.
    const bool big = total >= (std::size_t(1) << 14);
#pragma omp parallel for schedule(static) if (big)
    for (std::ptrdiff_t g = 0; g < std::ptrdiff_t(groups); ++g) {
        const Philox4 r = philox(seed, step, uint64_t(g));
        // one division per group, not per unit: a modulo per element cost as much as the draw itself
        std::size_t c = (4 * std::size_t(g)) % m;
        for (std::size_t t = 0; t < 4; ++t) {
            const std::size_t i = 4 * std::size_t(g) + t;
            if (i >= total) break;
            const UnitDraw d = draw_unit(pre[i] + bias[c], kind, r.v[t]);
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
