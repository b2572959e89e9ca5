// Activation, mean and sampling of one RBM unit, shared by CPU and CUDA.
#pragma once
#include <math.h>

#include "../common/bits.hpp"
#include "../common/philox.hpp"
#include "rbm.hpp"

namespace genofast {

// Uniform in the open interval (0, 1): log and quantiles stay finite.
GF_HD double open_unit(uint32_t x) { return (double(x >> 8) + 0.5) * (1.0 / 16777216.0); }

GF_HD double normal_cdf(double x) { return 0.5 * erfc(-x * 0.70710678118654752440); }

// Standard normal quantile: Acklam's rational approximation, relative error
// below 1.2e-9, far finer than the float32 samples it produces.
GF_HD double normal_quantile(double p) {
    const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                         1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                         6.680131188771972e+01,  -1.328068155288572e+01};
    const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                         -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                         3.754408661907416e+00};
    double x;
    if (p < 0.02425) {
        const double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        const double q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        const double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    return x;
}

struct UnitDraw {
    float sample, mean;
};

// Bernoulli: mean sigmoid(x). Rectified Gaussian N(x, 1) on [0, inf):
// mean x + phi(x)/Phi(x), sample x - Phi^{-1}(u Phi(x)); far in the left tail
// (x < -35, where Phi(x) nears the double range) the law is exponential with rate -x, used directly there.
// The rectified unit's mean costs an exp and a division, and a Gibbs sweep asks only for samples: it is
// computed when ``want_mean`` (the sample does not depend on it).
GF_HD UnitDraw draw_unit(float xf, UnitKind kind, uint32_t random_bits, bool want_mean) {
    if (kind == UnitKind::bernoulli) {  // float is ample for a probability compared with a 24-bit uniform
        const float p = 1.0f / (1.0f + expf(-xf));
        return UnitDraw{u32_to_unit_float(random_bits) < p ? 1.0f : 0.0f, p};
    }
    const double x = xf, u = open_unit(random_bits);
    if (x < -35.0) {
        const double t = -x;
        return UnitDraw{float(-log(u) / t), want_mean ? float(1.0 / t - 2.0 / (t * t * t)) : 0.0f};
    }
    const double cdf = normal_cdf(x);
    const double s = x - normal_quantile(u * cdf);
    const double mean = want_mean ? x + 0.39894228040143267794 * exp(-x * x / 2) / cdf : 0.0;
    return UnitDraw{float(s > 0 ? s : 0), float(mean)};
}

}  // namespace genofast
