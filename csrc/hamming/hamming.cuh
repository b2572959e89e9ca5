// Top-k list logic shared by the CPU driver and the CUDA kernel: a key orders
// candidates by (distance, index) with one integer compare, so ties always go
// to the lower index whatever order candidates arrive in.
#pragma once
#include "../common/bits.hpp"

namespace genofast {

constexpr uint64_t kNoKey = ~uint64_t(0);

GF_HD uint64_t make_key(uint32_t d, std::size_t j) { return (uint64_t(d) << 32) | uint64_t(j); }

// Keeps the k smallest keys of one row, sorted ascending.
GF_HD void push_key(uint64_t* keys, int k, uint64_t key) {
    if (key >= keys[k - 1]) return;
    int p = k - 1;
    while (p > 0 && keys[p - 1] > key) {
        keys[p] = keys[p - 1];
        --p;
    }
    keys[p] = key;
}

}  // namespace genofast
