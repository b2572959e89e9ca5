#include <cuda_runtime.h>

#include "../common/cuda_check.cuh"
#include "../common/device_helpers.cuh"
#include "bitpack.cuh"
#include "bitpack.hpp"

namespace genofast {
namespace {

__global__ void pack_haplotypes_kernel(const uint8_t* alleles, std::size_t n_rows, std::size_t n_snps,
                                       uint64_t* words) {
    WarpWord ww;
    if (!warp_word(n_rows, haplotype_words(n_snps), 64, ww)) return;
    uint32_t half[2];
    for (int h = 0; h < 2; ++h) {
        const std::size_t c = ww.col0 + 32 * h + ww.lane;
        half[h] = __ballot_sync(0xFFFFFFFFu, c < n_snps && (alleles[ww.row * n_snps + c] & 1));
    }
    if (ww.lane == 0) words[ww.word] = uint64_t(half[0]) | (uint64_t(half[1]) << 32);
}

__global__ void unpack_haplotypes_kernel(const uint64_t* words, std::size_t n_rows, std::size_t n_snps,
                                         uint8_t* alleles) {
    WarpWord ww;
    if (!warp_word(n_rows, haplotype_words(n_snps), 64, ww)) return;
    const uint64_t w = words[ww.word];
    for (int h = 0; h < 2; ++h) {
        const std::size_t c = ww.col0 + 32 * h + ww.lane;
        if (c < n_snps) alleles[ww.row * n_snps + c] = uint8_t((w >> (32 * h + ww.lane)) & 1);
    }
}

__global__ void pack_genotypes_kernel(const int8_t* dosages, std::size_t n_rows, std::size_t n_snps,
                                      uint64_t* words) {
    WarpWord ww;
    if (!warp_word(n_rows, genotype_words(n_snps), 32, ww)) return;
    const std::size_t c = ww.col0 + ww.lane;
    const unsigned code = c < n_snps ? unsigned(uint8_t(dosages[ww.row * n_snps + c]) & 3) : 0;  // -1 -> 3
    const uint32_t lo = __ballot_sync(0xFFFFFFFFu, code & 1), hi = __ballot_sync(0xFFFFFFFFu, code & 2);
    if (ww.lane == 0) words[ww.word] = spread_even_bits(lo) | (spread_even_bits(hi) << 1);
}

__global__ void unpack_genotypes_kernel(const uint64_t* words, std::size_t n_rows, std::size_t n_snps,
                                        int8_t* dosages) {
    WarpWord ww;
    if (!warp_word(n_rows, genotype_words(n_snps), 32, ww)) return;
    const std::size_t c = ww.col0 + ww.lane;
    if (c >= n_snps) return;
    const int code = int((words[ww.word] >> (2 * ww.lane)) & 3);
    dosages[ww.row * n_snps + c] = code == kGenotypeMissing ? int8_t(-1) : int8_t(code);
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
    pack_haplotypes_kernel<<<warps_for(n), kThreads, 0, cuda_stream(stream)>>>(alleles, n_rows, n_snps, words);
    check_launch("pack_haplotypes");
}

void unpack_haplotypes_cuda(const uint64_t* words, std::size_t n_rows, std::size_t n_snps, uint8_t* alleles,
                            void* stream) {
    const std::size_t n = n_rows * haplotype_words(n_snps);
    if (n == 0) return;
    unpack_haplotypes_kernel<<<warps_for(n), kThreads, 0, cuda_stream(stream)>>>(words, n_rows, n_snps, alleles);
    check_launch("unpack_haplotypes");
}

void pack_genotypes_cuda(const int8_t* dosages, std::size_t n_rows, std::size_t n_snps, uint64_t* words,
                         void* stream) {
    const std::size_t n = n_rows * genotype_words(n_snps);
    if (n == 0) return;
    pack_genotypes_kernel<<<warps_for(n), kThreads, 0, cuda_stream(stream)>>>(dosages, n_rows, n_snps, words);
    check_launch("pack_genotypes");
}

void unpack_genotypes_cuda(const uint64_t* words, std::size_t n_rows, std::size_t n_snps, int8_t* dosages,
                           void* stream) {
    const std::size_t n = n_rows * genotype_words(n_snps);
    if (n == 0) return;
    unpack_genotypes_kernel<<<warps_for(n), kThreads, 0, cuda_stream(stream)>>>(words, n_rows, n_snps, dosages);
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
