// Batched phasing operations on packed genotypes (2 bits/call, one row per
// individual) and packed haplotypes (1 bit/allele, one row per individual
// and haplotype, with a missing mask of the same shape). Random choices are
// Philox draws keyed by (seed, individual, word): the same on any thread count
// and on CPU and CUDA.
#pragma once
#include <cstddef>
#include <cstdint>

namespace genofast {

// Heterozygous calls split at random, homozygous copied, missing kept.
void random_phase_cpu(const uint64_t* genotypes, std::size_t n, std::size_t n_snps, uint64_t seed, uint64_t* hap_a,
                      uint64_t* hap_b, uint64_t* missing);
// other = dosage - hap; homozygous calls force both haplotypes to dosage/2.
// Returns the number of observed calls where hap contradicted the genotype.
int64_t complement_cpu(const uint64_t* genotypes, const uint64_t* hap, const uint64_t* hap_missing, std::size_t n,
                       std::size_t n_snps, uint64_t* hap_out, uint64_t* other, uint64_t* missing);
// Repairs a predicted pair so hap_a + hap_b equals every observed dosage;
// heterozygous conflicts are re-split at random. Returns the conflict count.
int64_t reconcile_cpu(const uint64_t* genotypes, const uint64_t* hap_a, const uint64_t* hap_b, std::size_t n,
                      std::size_t n_snps, uint64_t seed, uint64_t* out_a, uint64_t* out_b);
// Genotype probabilities (dosage 0, 1, 2) from two allele probabilities.
// Returns the first index where p_a or p_b is outside [0, 1] or NaN, or -1.
int64_t merge_cpu(const float* p_a, const float* p_b, std::size_t n, float* out);

void random_phase_cuda(const uint64_t* genotypes, std::size_t n, std::size_t n_snps, uint64_t seed, uint64_t* hap_a,
                       uint64_t* hap_b, uint64_t* missing, void* stream);
int64_t complement_cuda(const uint64_t* genotypes, const uint64_t* hap, const uint64_t* hap_missing, std::size_t n,
                        std::size_t n_snps, uint64_t* hap_out, uint64_t* other, uint64_t* missing, void* stream);
int64_t reconcile_cuda(const uint64_t* genotypes, const uint64_t* hap_a, const uint64_t* hap_b, std::size_t n,
                       std::size_t n_snps, uint64_t seed, uint64_t* out_a, uint64_t* out_b, void* stream);
void merge_cuda(const float* p_a, const float* p_b, std::size_t n, float* out, void* stream);

}  // namespace genofast
