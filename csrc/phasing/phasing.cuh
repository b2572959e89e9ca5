// Per-word phasing logic, shared by the CPU and CUDA paths. Each function
// handles the 64 calls of one haplotype word as bit planes.
#pragma once
#include "../common/bits.hpp"
#include "../common/philox.hpp"

namespace genofast {

struct CallClasses {
    uint64_t hom0, het, hom2, missing;
};

// Tail bits past n_snps have code 0 and so read as hom0; callers' haplotype
// tails are zero, which makes them consistent and never counted.
GF_HD CallClasses classify(GenotypePlanes g) {
    return CallClasses{~g.lo & ~g.hi, g.lo & ~g.hi, g.hi & ~g.lo, g.lo & g.hi};
}

// Random bits of haplotype word w of individual i; `salt` separates the
// operations so that two of them with one seed draw independently.
GF_HD uint64_t phase_bits(uint64_t seed, uint64_t salt, std::size_t i, std::size_t w) {
    const Philox4 r = philox(seed, (uint64_t(salt) << 48) ^ uint64_t(i), w);
    return uint64_t(r.v[0]) | (uint64_t(r.v[1]) << 32);
}

constexpr uint64_t kSaltPhase = 1, kSaltReconcile = 2;

struct HaplotypePair {
    uint64_t a, b, missing;
};

GF_HD HaplotypePair random_phase_word(GenotypePlanes g, uint64_t r) {
    const CallClasses c = classify(g);
    return HaplotypePair{c.hom2 | (c.het & r), c.hom2 | (c.het & ~r), c.missing};
}

// Returns (hap corrected, other, missing); *conflicts gets the calls where hap
// contradicted an observed homozygous genotype.
GF_HD HaplotypePair complement_word(GenotypePlanes g, uint64_t h, uint64_t hm, int* conflicts, uint64_t valid) {
    const CallClasses c = classify(g);
    h &= ~hm;
    *conflicts = popcount64(((c.hom0 & h) | (c.hom2 & ~h & ~hm)) & valid);
    const uint64_t missing = c.missing | (c.het & hm);
    return HaplotypePair{c.hom2 | (c.het & h), c.hom2 | (c.het & ~h & ~hm), missing};
}

GF_HD HaplotypePair reconcile_word(GenotypePlanes g, uint64_t a, uint64_t b, uint64_t r, int* conflicts) {
    const CallClasses c = classify(g);
    const uint64_t het_conflict = c.het & ~(a ^ b);
    *conflicts = popcount64((c.hom0 & (a | b)) | (c.hom2 & ~(a & b)) | het_conflict);
    const uint64_t keep = c.het & ~het_conflict;
    return HaplotypePair{c.hom2 | (keep & a) | (het_conflict & r) | (c.missing & a),
                         c.hom2 | (keep & b) | (het_conflict & ~r) | (c.missing & b), 0};
}

// P(dosage 0), P(1), P(2) of allele "1" given two independent haplotypes.
GF_HD void merge_probabilities(float pa, float pb, float* out) {
    out[0] = (1.0f - pa) * (1.0f - pb);
    out[1] = pa * (1.0f - pb) + (1.0f - pa) * pb;
    out[2] = pa * pb;
}

}  // namespace genofast
