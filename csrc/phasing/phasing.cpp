#include "phasing.hpp"

#include <algorithm>
#include <cstdint>

#include "phasing.cuh"

namespace genofast {

void random_phase_cpu(const uint64_t* genotypes, std::size_t n, std::size_t n_snps, uint64_t seed, uint64_t* hap_a,
                      uint64_t* hap_b, uint64_t* missing) {
    const std::size_t hw = haplotype_words(n_snps), gw = genotype_words(n_snps);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(n); ++i)
        for (std::size_t w = 0; w < hw; ++w) {
            const HaplotypePair p =
                random_phase_word(genotype_planes(genotypes + i * gw, gw, w), phase_bits(seed, kSaltPhase, i, w));
            hap_a[i * hw + w] = p.a;
            hap_b[i * hw + w] = p.b;
            missing[i * hw + w] = p.missing;
        }
}

int64_t complement_cpu(const uint64_t* genotypes, const uint64_t* hap, const uint64_t* hap_missing, std::size_t n,
                       std::size_t n_snps, uint64_t* hap_out, uint64_t* other, uint64_t* missing) {
    const std::size_t hw = haplotype_words(n_snps), gw = genotype_words(n_snps);
    int64_t total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(n); ++i)
        for (std::size_t w = 0; w < hw; ++w) {
            int c = 0;
            const uint64_t valid = w + 1 == hw ? tail_mask(n_snps) : ~uint64_t(0);
            const HaplotypePair p = complement_word(genotype_planes(genotypes + i * gw, gw, w), hap[i * hw + w],
                                                    hap_missing ? hap_missing[i * hw + w] : 0, &c, valid);
            hap_out[i * hw + w] = p.a;
            other[i * hw + w] = p.b;
            missing[i * hw + w] = p.missing;
            total += c;
        }
    return total;
}

int64_t reconcile_cpu(const uint64_t* genotypes, const uint64_t* hap_a, const uint64_t* hap_b, std::size_t n,
                      std::size_t n_snps, uint64_t seed, uint64_t* out_a, uint64_t* out_b) {
    const std::size_t hw = haplotype_words(n_snps), gw = genotype_words(n_snps);
    int64_t total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(n); ++i)
        for (std::size_t w = 0; w < hw; ++w) {
            int c = 0;
            const HaplotypePair p = reconcile_word(genotype_planes(genotypes + i * gw, gw, w), hap_a[i * hw + w],
                                                   hap_b[i * hw + w], phase_bits(seed, kSaltReconcile, i, w), &c);
            out_a[i * hw + w] = p.a;
            out_b[i * hw + w] = p.b;
            total += c;
        }
    return total;
}

int64_t merge_cpu(const float* p_a, const float* p_b, std::size_t n, float* out) {
    // Validation rides along with the one pass over memory; the comparisons
    // are false for NaN, so NaN counts as out of range.
    int64_t first_bad = INT64_MAX;
#pragma omp parallel for schedule(static) reduction(min : first_bad)
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(n); ++i) {
        const float a = p_a[i], b = p_b[i];
        if (!(a >= 0.0f && a <= 1.0f && b >= 0.0f && b <= 1.0f)) first_bad = std::min<int64_t>(first_bad, i);
        merge_probabilities(a, b, out + 3 * i);
    }
    return first_bad == INT64_MAX ? -1 : first_bad;
}

}  // namespace genofast
