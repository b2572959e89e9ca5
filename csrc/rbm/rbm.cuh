// Activation, mean and sampling of one RBM unit, shared by CPU and CUDA.
#pragma once
#include <math.h>

#include "../common/bits.hpp"
#include "../common/philox.hpp"
#include "rbm.hpp"
#include "unit_math.hpp"

namespace genofast {

// Uniform in the open interval (0, 1): log and quantiles stay finite.
GF_HD double open_unit(uint32_t x) { return (double(x >> 8) + 0.5) * (1.0 / 16777216.0); }

// One unit from 32 random bits: Bernoulli units compare a uniform in [0, 1),
// rectified ones invert with one in (0, 1) (see unit_math.hpp for the laws).
GF_HD Draw<float> draw_unit(float x, UnitKind kind, uint32_t random_bits, bool want_mean) {
    if (kind == UnitKind::bernoulli) return draw_bernoulli<float>(x, u32_to_unit_float(random_bits));
    const Draw<double> d = draw_rectified<double>(x, open_unit(random_bits), want_mean);
    return Draw<float>{float(d.sample), float(d.mean)};
}

}  // namespace genofast
