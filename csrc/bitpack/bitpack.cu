#include <cuda_runtime.h>

#include "../common/cuda_check.cuh"
#include "bitpack.cuh"
#include "bitpack.hpp"

namespace genofast {
namespace {

// One thread per output word: simple and bandwidth-bound either way.
__global__ void pack_haplotypes_kernel(const uint8_t* alleles, std::size_t n_rows, std::size_t n_snps,
                                       uint64_t* words) {
    const std::size_t nw = haplotype_words(n_snps);
    const std::size_t t = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (t >= n_rows * nw) return;
    const std::size_t r = t / nw, w = t % nw;
    const int n = int(min(std::size_t(64), n_snps - 64 * w));
    words[t] = pack_haplotype_word(alleles + r * n_snps + 64 * w, n);
}

__global__ void unpack_haplotypes_kernel(const uint64_t* words, std::size_t n_rows, std::size_t n_snps,
                                         uint8_t* alleles) {
    const std::size_t nw = haplotype_words(n_snps);
    const std::size_t t = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (t >= n_rows * nw) return;
    const std::size_t r = t / nw, w = t % nw;
    const int n = int(min(std::size_t(64), n_snps - 64 * w));
    unpack_haplotype_word(words[t], alleles + r * n_snps + 64 * w, n);
}

__global__ void pack_genotypes_kernel(const int8_t* dosages, std::size_t n_rows, std::size_t n_snps,
                                      uint64_t* words) {
    const std::size_t nw = genotype_words(n_snps);
    const std::size_t t = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (t >= n_rows * nw) return;
    const std::size_t r = t / nw, w = t % nw;
    const int n = int(min(std::size_t(32), n_snps - 32 * w));
    words[t] = pack_genotype_word(dosages + r * n_snps + 32 * w, n);
}

__global__ void unpack_genotypes_kernel(const uint64_t* words, std::size_t n_rows, std::size_t n_snps,
                                        int8_t* dosages) {
    const std::size_t nw = genotype_words(n_snps);
    const std::size_t t = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (t >= n_rows * nw) return;
    const std::size_t r = t / nw, w = t % nw;
    const int n = int(min(std::size_t(32), n_snps - 32 * w));
    unpack_genotype_word(words[t], dosages + r * n_snps + 32 * w, n);
}

__global__ void haplotypes_to_genotypes_kernel(const uint64_t* haplotypes, const uint64_t* missing,
                                               std::size_t n_individuals, std::size_t n_snps,
                                               uint64_t* genotypes) {
    const std::size_t hw = haplotype_words(n_snps), gw = genotype_words(n_snps);
    const std::size_t t = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (t >= n_individuals * hw) return;
    const std::size_t i = t / hw, w = t % hw;
    const uint64_t a = haplotypes[2 * i * hw + w], b = haplotypes[(2 * i + 1) * hw + w];
    const uint64_t m = missing ? (missing[2 * i * hw + w] | missing[(2 * i + 1) * hw + w]) : 0;
    store_genotype_planes(genotypes + i * gw, gw, w, genotype_from_haplotype_words(a, b, m));
}

}  // namespace

void pack_haplotypes_cuda(const uint8_t* alleles, std::size_t n_rows, std::size_t n_snps, uint64_t* words,
                          void* stream) {
    const std::size_t n = n_rows * haplotype_words(n_snps);
    if (n == 0) return;
    pack_haplotypes_kernel<<<blocks_for(n), kThreads, 0, cuda_stream(stream)>>>(alleles, n_rows, n_snps, words);
    check_launch("pack_haplotypes");
}

void unpack_haplotypes_cuda(const uint64_t* words, std::size_t n_rows, std::size_t n_snps, uint8_t* alleles,
                            void* stream) {
    const std::size_t n = n_rows * haplotype_words(n_snps);
    if (n == 0) return;
    unpack_haplotypes_kernel<<<blocks_for(n), kThreads, 0, cuda_stream(stream)>>>(words, n_rows, n_snps, alleles);
    check_launch("unpack_haplotypes");
}

void pack_genotypes_cuda(const int8_t* dosages, std::size_t n_rows, std::size_t n_snps, uint64_t* words,
                         void* stream) {
    const std::size_t n = n_rows * genotype_words(n_snps);
    if (n == 0) return;
    pack_genotypes_kernel<<<blocks_for(n), kThreads, 0, cuda_stream(stream)>>>(dosages, n_rows, n_snps, words);
    check_launch("pack_genotypes");
}

void unpack_genotypes_cuda(const uint64_t* words, std::size_t n_rows, std::size_t n_snps, int8_t* dosages,
                           void* stream) {
    const std::size_t n = n_rows * genotype_words(n_snps);
    if (n == 0) return;
    unpack_genotypes_kernel<<<blocks_for(n), kThreads, 0, cuda_stream(stream)>>>(words, n_rows, n_snps, dosages);
    check_launch("unpack_genotypes");
}

void haplotypes_to_genotypes_cuda(const uint64_t* haplotypes, const uint64_t* missing, std::size_t n_individuals,
                                  std::size_t n_snps, uint64_t* genotypes, void* stream) {
    const std::size_t n = n_individuals * haplotype_words(n_snps);
    if (n == 0) return;
    haplotypes_to_genotypes_kernel<<<blocks_for(n), kThreads, 0, cuda_stream(stream)>>>(
        haplotypes, missing, n_individuals, n_snps, genotypes);
    check_launch("haplotypes_to_genotypes");
}

}  // namespace genofast
