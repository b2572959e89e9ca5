// Linkage statistics from SNP-major bit planes: for each pair of SNPs, the
// popcounts of the AND of every pair of their planes (an allele, a dosage or
// a called bit over the haplotypes or samples), from which genofast.metrics
// forms r². Pairs of SNPs, never the SNP x SNP matrix.
//
// planes: n_planes x n_columns x nw words (C order), plane a of column c at
// (a * n_columns + c) * nw; pairs: n_pairs x 2 column indices, validated by
// the caller; counts: n_pairs x n_planes x n_planes, counts[k][a][b] =
// popcount(plane a of column pairs[k][0] AND plane b of column pairs[k][1]).
#pragma once
#include <cstddef>
#include <cstdint>

namespace genofast {

constexpr int kMaxPlanes = 4;

// SNP-major bit planes of a packed row-major matrix (the bit transpose):
// haplotypes (1 bit a call, `missing` optional, same shape) give 2 planes,
// the allele and the called bit; genotypes (2 bits a call) give 3, dosage >= 1,
// dosage 2 and called. planes: n_planes x n_snps x ceil(n_rows / 64) words;
// bits past the last row are 0 in every plane.
void snp_planes_cpu(const uint64_t* words, const uint64_t* missing, std::size_t n_rows, std::size_t n_snps,
                    bool genotypes, uint64_t* planes);
void snp_planes_cuda(const uint64_t* words, const uint64_t* missing, std::size_t n_rows, std::size_t n_snps,
                     bool genotypes, uint64_t* planes, void* stream);

void pair_counts_cpu(const uint64_t* planes, std::size_t n_planes, std::size_t n_columns, std::size_t nw,
                     const int64_t* pairs, std::size_t n_pairs, int64_t* counts);

void pair_counts_cuda(const uint64_t* planes, std::size_t n_planes, std::size_t n_columns, std::size_t nw,
                      const int64_t* pairs, std::size_t n_pairs, int64_t* counts, void* stream);

}  // namespace genofast
