// The math of one RBM unit draw, written once over a lane type V: a double
// (CUDA, and the CPU's unit-by-unit loop at block edges) or a vector of
// doubles (the CPU's vector paths, csrc/rbm/rbm.cpp). Only IEEE-exact
// operations are used (+ - * /, sqrt, comparisons, exponent bits); exp and
// log are evaluated here rather than by libm, whose vector and scalar
// versions differ in the last bits. So every path draws the same bits from
// the same random numbers (on CUDA when compiled without FMA contraction, as
// rbm.cu is).
#pragma once
#include <math.h>
#include <string.h>

#include "../common/bits.hpp"

#if defined(__CUDACC__)
#define GF_MATH GF_HD
#else  // inlined into the caller, so each SIMD variant compiles it for its own instruction set
#define GF_MATH inline __attribute__((always_inline))
#endif

namespace genofast {

// The bits of one type read as another: memcpy is legal on host and device alike, and compiles to a move.
template <class To, class From>
GF_MATH To bits_as(From x) {
    static_assert(sizeof(To) == sizeof(From), "a reinterpretation keeps the size");
    To y;
    memcpy(&y, &x, sizeof y);
    return y;
}

// Lane operations a V (double or float lanes) provides, beyond arithmetic and
// comparisons, each with the same result as the scalar versions below:
//   splat(c), sel(mask, a, b), sqrt(a), any(mask),
//   pow2(t): 2^y for t = y + 1.5 * 2^52 (float: 2^23), y integer-valued and 2^y normal,
//   split(x, m, e): x = m * 2^e with m in [1, 2), for a positive normal double x.
template <class V>
struct Lanes;

template <>
struct Lanes<double> {
    GF_MATH static double splat(double c) { return c; }
    GF_MATH static double sel(bool m, double a, double b) { return m ? a : b; }
    GF_MATH static double sqrt(double a) { return ::sqrt(a); }
    GF_MATH static bool any(bool m) { return m; }
    // t holds y + 2^51 in its low mantissa bits; y + 1023 is 2^y's exponent field
    GF_MATH static double pow2(double t) { return bits_as<double>((bits_as<uint64_t>(t) + 1023) << 52); }
    GF_MATH static void split(double x, double& m, double& e) {
        const uint64_t b = bits_as<uint64_t>(x);
        m = bits_as<double>((b & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
        e = bits_as<double>((b >> 52) | 0x4330000000000000ull) - (4503599627370496.0 + 1023.0);
    }
};

template <>
struct Lanes<float> {
    GF_MATH static float splat(float c) { return c; }
    GF_MATH static float sel(bool m, float a, float b) { return m ? a : b; }
    GF_MATH static float pow2(float t) { return bits_as<float>((bits_as<uint32_t>(t) + 127u) << 23); }
};

constexpr double kRoundMagic = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln 2 in 32 bits (n * kLn2Hi is exact), and the rest
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kSqrt2Pi = 2.50662827463100050242;

// c[0] + c[1] x + ... + c[N-1] x^(N-1) by Estrin's scheme: pairs, then pairs
// of pairs with x^2, x^4, ...; its dependency chains are log2(N) deep, not N
// (Horner's), so the pipelines, not latency, set a draw's cost.
template <class V, class T, int N>
GF_MATH V poly(V x, const T (&c)[N]) {
    V t[(N + 1) / 2];
    for (int i = 0; 2 * i < N; ++i) t[i] = 2 * i + 1 < N ? x * c[2 * i + 1] + c[2 * i] : x * T(0) + c[2 * i];
    V xp = x * x;
    for (int n = (N + 1) / 2; n > 1; n = (n + 1) / 2, xp = xp * xp)
        for (int i = 0; 2 * i < n; ++i) t[i] = 2 * i + 1 < n ? t[2 * i + 1] * xp + t[2 * i] : t[2 * i];
    return t[0];
}

// e^x for float x in [-87, 88] (callers clamp): as exp_lanes, to r^7
// (truncation below 6e-9, ample for a probability compared with a 24-bit uniform).
template <class V>
GF_MATH V expf_lanes(V x) {
    using L = Lanes<V>;
    const V t = x * 1.44269504f + 12582912.0f;  // 1.5 * 2^23
    const V n = t - 12582912.0f;
    const V r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;  // ln 2 in 16 bits, and the rest
    const float inv_fact[8] = {1.0f, 1.0f, 0.5f, 1.0f / 6.0f, 1.0f / 24.0f, 1.0f / 120.0f, 1.0f / 720.0f,
                               1.0f / 5040.0f};
    return poly(r, inv_fact) * L::pow2(t);
}

// e^x for x in [-708, 709] (callers clamp): x = n ln2 + r with |r| <= ln2 / 2,
// e^r by its Taylor series to r^10 (truncation below 3e-13: this exp and log
// serve Hart's and Acklam's approximations, a thousand times coarser).
template <class V>
GF_MATH V exp_lanes(V x) {
    using L = Lanes<V>;
    const V t = x * 1.44269504088896340736 + kRoundMagic;
    const V n = t - kRoundMagic;
    const V r = (x - n * kLn2Hi) - n * kLn2Lo;
    const double inv_fact[11] = {1.0,          1.0,           0.5,           1.0 / 6.0,      1.0 / 24.0,
                                 1.0 / 120.0,  1.0 / 720.0,   1.0 / 5040.0,  1.0 / 40320.0,  1.0 / 362880.0,
                                 1.0 / 3628800.0};
    return poly(r, inv_fact) * L::pow2(t);
}

// ln x for positive normal x: x = m 2^e with m in [sqrt(1/2), sqrt(2)), and
// ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, by its series to s^13
// (truncation below 2e-12).
template <class V>
GF_MATH V log_lanes(V x) {
    using L = Lanes<V>;
    V m, e;
    L::split(x, m, e);
    const auto big = m > 1.41421356237309504880;
    m = L::sel(big, m * 0.5, m);
    e = L::sel(big, e + 1.0, e);
    const V f = m - 1.0;
    const V s = f / (f + 2.0);
    const V z = s * s;
    const double odd[6] = {1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11, 1.0 / 13};
    const V two_s = s + s;
    return e * kLn2Hi + (two_s + (two_s * (poly(z, odd) * z) + e * kLn2Lo));
}

// Phi(-z) and phi(z) for z >= 0:
// Hart's rational approximation below z = 7.07 (relative error < 3e-9), the
// Mills-ratio continued fraction to 12 terms above (< 1e-13); z is clamped at
// 37, past which Phi(-z) is below 1e-299.
template <class V>
struct Tail {
    V cdf, density;  // Phi(-z), phi(z)
};

template <class V>
GF_MATH Tail<V> normal_tail(V z) {
    using L = Lanes<V>;
    z = L::sel(z < 37.0, z, L::splat(37.0));
    const V e = exp_lanes<V>(-0.5 * (z * z));
    const double pn[7] = {220.206867912376, 221.213596169931, 112.079291497871, 33.912866078383,
                          6.37396220353165, 0.700383064443688, 3.52624965998911e-02};
    const double pd[8] = {440.413735824752, 793.826512519948, 637.333633378831, 296.564248779674,
                          86.7807322029461, 16.064177579207,  1.75566716318264, 8.83883476483184e-02};
    // convergents P_k / Q_k of z + 1/(z + 2/(z + 3/(...))): the Mills ratio is Q/P
    const auto near = z < 7.07106781186547;
    V p0 = L::splat(1.0), p1 = z, q0 = L::splat(0.0), q1 = L::splat(1.0);
    if (L::any(z >= 7.07106781186547))  // rare: skipped when every lane is near
        for (int k = 1; k <= 12; ++k) {
            const V p2 = z * p1 + p0 * double(k), q2 = z * q1 + q0 * double(k);
            p0 = p1, p1 = p2, q0 = q1, q1 = q2;
        }
    // Phi(-z) / e = num / den near, Q / (P sqrt(2 pi)) far: one division
    const V ratio = L::sel(near, poly(z, pn), q1) / L::sel(near, poly(z, pd), p1 * kSqrt2Pi);
    return Tail<V>{e * ratio, e * (1.0 / kSqrt2Pi)};
}

// Acklam's rational approximation of the standard normal quantile (relative
// error below 1.2e-9), given p and 1 - p (each as accurate as the caller can).
template <class V>
GF_MATH V normal_quantile_lanes(V p, V one_minus_p) {
    using L = Lanes<V>;
    const double a[6] = {2.506628277459239e+00, -3.066479806614716e+01, 1.383577518672690e+02,
                         -2.759285104469687e+02, 2.209460984245205e+02, -3.969683028665376e+01};
    const double b[6] = {1.0, -1.328068155288572e+01, 6.680131188771972e+01, -1.556989798598866e+02,
                         1.615858368580409e+02, -5.447609879822406e+01};
    const double c[6] = {2.938163982698783e+00, 4.374664141464968e+00, -2.549732539343734e+00,
                         -2.400758277161838e+00, -3.223964580411365e-01, -7.784894002430293e-03};
    const double d[5] = {1.0, 3.754408661907416e+00, 2.445134137142996e+00, 3.224671290700398e-01,
                         7.784695709041462e-03};
    const auto lower = p < 0.02425, upper = one_minus_p < 0.02425;
    // one log serves both tails; the central lanes take a harmless value
    const V t = L::sel(lower, p, L::sel(upper, one_minus_p, L::splat(0.5)));
    const V q = L::sqrt(log_lanes<V>(t) * -2.0);
    const V x = p - 0.5, r = x * x;
    const V tn = poly(q, c);
    // one division for the three branches (-a / b is exactly -(a / b))
    const V num = L::sel(lower, tn, L::sel(upper, -tn, poly(r, a) * x));
    return num / L::sel(lower | upper, poly(q, d), poly(r, b));
}

template <class V>
struct Draw {
    V sample, mean;
};

// Bernoulli, in float lanes: mean sigmoid(x), sample u < mean.
template <class V>
GF_MATH Draw<V> draw_bernoulli(V x, V u) {
    using L = Lanes<V>;
    V y = L::sel(x > -88.0f, -x, L::splat(88.0f));
    y = L::sel(y > -87.0f, y, L::splat(-87.0f));
    const V p = 1.0f / (expf_lanes<V>(y) + 1.0f);
    return Draw<V>{L::sel(u < p, L::splat(1.0f), L::splat(0.0f)), p};
}

// Rectified Gaussian N(x, 1) on [0, inf): sample x - Phi^{-1}(u Phi(x)), mean
// x + phi(x) / Phi(x). Far in the left tail (x < -35, where Phi(x) nears the
// double range and the quantile's relative error would swamp the sample) the
// law is exponential with rate -x, used directly there (lanes needing it are
// rare: their log is taken only when some lane does). The mean costs a
// division, and a Gibbs sweep asks only for samples: it is computed when
// ``want_mean`` (the sample does not depend on it).
template <class V>
GF_MATH Draw<V> draw_rectified(V x, V u, bool want_mean) {
    using L = Lanes<V>;
    const auto neg = x < 0.0;
    const Tail<V> tail = normal_tail<V>(L::sel(neg, -x, x));
    const V p = u * L::sel(neg, tail.cdf, 1.0 - tail.cdf);
    const V one_minus_p = L::sel(neg, 1.0 - p, (1.0 - u) + u * tail.cdf);  // exact 1 - u for x > 0
    const V s = x - normal_quantile_lanes<V>(p, one_minus_p);
    Draw<V> d{L::sel(s > 0.0, s, L::splat(0.0)), L::splat(0.0)};
    if (want_mean) d.mean = x + tail.density / L::sel(neg, tail.cdf, 1.0 - tail.cdf);
    const auto far = x < -35.0;
    if (L::any(far)) {
        const V t = -x;
        d.sample = L::sel(far, -log_lanes<V>(u) / t, d.sample);
        if (want_mean) d.mean = L::sel(far, 1.0 / t - 2.0 / (t * t * t), d.mean);
    }
    return d;
}

}  // namespace genofast
