#include "rbm.hpp"

#include <stdexcept>

#include "rbm.cuh"

namespace genofast {

void rbm_units_cpu(const float* pre, const float* bias, std::size_t n, std::size_t m, UnitKind kind, uint64_t seed,
                   uint64_t step, float* sample, float* mean, uint64_t* packed) {
    if (packed && kind != UnitKind::bernoulli) throw std::invalid_argument("only binary units can be bit-packed");
    const std::size_t nw = haplotype_words(m);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t r = 0; r < std::ptrdiff_t(n); ++r) {
        uint64_t word = 0;
        for (std::size_t c = 0; c < m; ++c) {
            const std::size_t i = std::size_t(r) * m + c;
            const UnitDraw d = draw_unit(double(pre[i]) + double(bias[c]), kind, philox_u32(seed, step, i));
            sample[i] = d.sample;
            if (mean) mean[i] = d.mean;
            if (packed) {
                word |= uint64_t(d.sample != 0.0f) << (c & 63);
                if ((c & 63) == 63 || c + 1 == m) {
                    packed[std::size_t(r) * nw + (c >> 6)] = word;
                    word = 0;
                }
            }
        }
    }
}

}  // namespace genofast
