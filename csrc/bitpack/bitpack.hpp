// Bit-packing of haplotypes (1 bit/allele) and genotypes (2 bits/call).
// Arrays are C-contiguous, one row per haplotype or individual. CPU versions
// validate values and throw std::invalid_argument naming row and SNP; the
// CUDA launchers expect validated input (genofast.kernels checks first).
#pragma once
#include <cstddef>
#include <cstdint>

namespace genofast {

void pack_haplotypes_cpu(const uint8_t* alleles, std::size_t n_rows, std::size_t n_snps, uint64_t* words);
void unpack_haplotypes_cpu(const uint64_t* words, std::size_t n_rows, std::size_t n_snps, uint8_t* alleles);
void pack_genotypes_cpu(const int8_t* dosages, std::size_t n_rows, std::size_t n_snps, uint64_t* words);
void unpack_genotypes_cpu(const uint64_t* words, std::size_t n_rows, std::size_t n_snps, int8_t* dosages);
// Rows 2i and 2i+1 of `haplotypes` are individual i; a call is missing where
// either allele is (missing may be null).
void haplotypes_to_genotypes_cpu(const uint64_t* haplotypes, const uint64_t* missing, std::size_t n_individuals,
                                 std::size_t n_snps, uint64_t* genotypes);

void pack_haplotypes_cuda(const uint8_t* alleles, std::size_t n_rows, std::size_t n_snps, uint64_t* words,
                          void* stream);
void unpack_haplotypes_cuda(const uint64_t* words, std::size_t n_rows, std::size_t n_snps, uint8_t* alleles,
                            void* stream);
void pack_genotypes_cuda(const int8_t* dosages, std::size_t n_rows, std::size_t n_snps, uint64_t* words,
                         void* stream);
void unpack_genotypes_cuda(const uint64_t* words, std::size_t n_rows, std::size_t n_snps, int8_t* dosages,
                           void* stream);
void haplotypes_to_genotypes_cuda(const uint64_t* haplotypes, const uint64_t* missing, std::size_t n_individuals,
                                  std::size_t n_snps, uint64_t* genotypes, void* stream);

}  // namespace genofast
