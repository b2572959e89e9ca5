// Philox4x32-10 (Salmon et al., SC'11), one header for host and device.
// A draw is keyed by (seed, stream, counter), so results never depend on the
// number of threads or the launch shape: stream is usually a row, counter a
// position within it.
#pragma once
#include <cstdint>

#include "bits.hpp"

namespace genofast {

struct Philox4 {
    uint32_t v[4];
};

GF_HD void philox_mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
    const uint64_t p = uint64_t(a) * uint64_t(b);
    hi = uint32_t(p >> 32);
    lo = uint32_t(p);
}

// Raw Philox4x32 with 10 rounds: counter (4 words), key (2 words).
GF_HD Philox4 philox4x32_10(Philox4 ctr, uint32_t k0, uint32_t k1) {
    for (int round = 0; round < 10; ++round) {
        uint32_t hi0, lo0, hi1, lo1;
        philox_mulhilo(0xD2511F53u, ctr.v[0], hi0, lo0);
        philox_mulhilo(0xCD9E8D57u, ctr.v[2], hi1, lo1);
        ctr = Philox4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return ctr;
}

// 128 random bits for (seed, stream, counter).
GF_HD Philox4 philox(uint64_t seed, uint64_t stream, uint64_t counter) {
    Philox4 ctr{{uint32_t(counter), uint32_t(counter >> 32), uint32_t(stream), uint32_t(stream >> 32)}};
    return philox4x32_10(ctr, uint32_t(seed), uint32_t(seed >> 32));
}

// 32 random bits: word `i` of the stream (four per Philox call).
GF_HD uint32_t philox_u32(uint64_t seed, uint64_t stream, uint64_t i) {
    return philox(seed, stream, i >> 2).v[i & 3];
}

// Uniform float in [0, 1) from 32 random bits (24-bit mantissa, never 1.0).
GF_HD float u32_to_unit_float(uint32_t x) { return float(x >> 8) * (1.0f / 16777216.0f); }

}  // namespace genofast
