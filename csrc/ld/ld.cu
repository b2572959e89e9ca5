#include <cuda_runtime.h>

#include "../common/bits.hpp"
#include "../common/cuda_check.cuh"
#include "ld.hpp"

namespace genofast {
namespace {

// One warp per pair: the lanes stride over the words, so each plane column is
// read coalesced, and every plane pair's count is summed by warp shuffles.
template <int P>
__global__ void pair_counts_kernel(const uint64_t* planes, std::size_t n_columns, std::size_t nw,
                                   const int64_t* pairs, std::size_t n_pairs, int64_t* counts) {
    const std::size_t k = (blockIdx.x * std::size_t(blockDim.x) + threadIdx.x) / 32;
    const int lane = threadIdx.x % 32;
    if (k >= n_pairs) return;
    const std::size_t stride = n_columns * nw;
    const uint64_t* x = planes + std::size_t(pairs[2 * k]) * nw;
    const uint64_t* y = planes + std::size_t(pairs[2 * k + 1]) * nw;
    unsigned long long acc[P * P] = {};
    for (std::size_t w = lane; w < nw; w += 32) {
        uint64_t xa[P], yb[P];
        for (int a = 0; a < P; ++a) {
            xa[a] = x[a * stride + w];
            yb[a] = y[a * stride + w];
        }
        for (int a = 0; a < P; ++a)
            for (int b = 0; b < P; ++b) acc[a * P + b] += unsigned(popcount64(xa[a] & yb[b]));
    }
    for (int i = 0; i < P * P; ++i) {
        for (int off = 16; off > 0; off /= 2) acc[i] += __shfl_down_sync(0xFFFFFFFFu, acc[i], off);
        if (lane == 0) counts[k * P * P + i] = int64_t(acc[i]);
    }
}

// One thread per output word (SNP, block of 64 rows): neighbouring threads
// take neighbouring SNPs, so a warp reads the same input words.
__global__ void snp_planes_kernel(const uint64_t* words, const uint64_t* missing, std::size_t n_rows,
                                  std::size_t n_snps, bool genotypes, uint64_t* planes) {
    const std::size_t rw = (n_rows + 63) / 64;
    const std::size_t t = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (t >= rw * n_snps) return;
    const std::size_t rb = t / n_snps, snp = t % n_snps, plane = n_snps * rw;
    const std::size_t nw = genotypes ? genotype_words(n_snps) : haplotype_words(n_snps);
    uint64_t a = 0, b = 0, called = 0;
    for (std::size_t i = 0; i < 64 && rb * 64 + i < n_rows; ++i) {
        const std::size_t r = rb * 64 + i;
        if (genotypes) {
            const unsigned code = unsigned(words[r * nw + snp / 32] >> (2 * (snp % 32))) & 3;
            a |= uint64_t(code == 1 || code == 2) << i;
            b |= uint64_t(code == 2) << i;
            called |= uint64_t(code != 3) << i;
        } else {
            a |= ((words[r * nw + snp / 64] >> (snp % 64)) & 1) << i;
            called |= uint64_t(!(missing && ((missing[r * nw + snp / 64] >> (snp % 64)) & 1))) << i;
        }
    }
    uint64_t* out = planes + snp * rw + rb;
    out[0] = a;
    if (genotypes) {
        out[plane] = b;
        out[2 * plane] = called;
    } else {
        out[plane] = called;
    }
}

template <int P>
void launch(const uint64_t* planes, std::size_t n_columns, std::size_t nw, const int64_t* pairs, std::size_t n_pairs,
            int64_t* counts, cudaStream_t st) {
    pair_counts_kernel<P><<<blocks_for(n_pairs * 32), kThreads, 0, st>>>(planes, n_columns, nw, pairs, n_pairs,
                                                                         counts);
}

}  // namespace

void snp_planes_cuda(const uint64_t* words, const uint64_t* missing, std::size_t n_rows, std::size_t n_snps,
                     bool genotypes, uint64_t* planes, void* stream) {
    const std::size_t n = (n_rows + 63) / 64 * n_snps;
    if (n == 0) return;
    snp_planes_kernel<<<blocks_for(n), kThreads, 0, cuda_stream(stream)>>>(words, missing, n_rows, n_snps, genotypes,
                                                                          planes);
    check_launch("snp_planes");
}

void pair_counts_cuda(const uint64_t* planes, std::size_t n_planes, std::size_t n_columns, std::size_t nw,
                      const int64_t* pairs, std::size_t n_pairs, int64_t* counts, void* stream) {
    if (n_pairs == 0) return;
    const cudaStream_t st = cuda_stream(stream);
    switch (n_planes) {
        case 1: launch<1>(planes, n_columns, nw, pairs, n_pairs, counts, st); break;
        case 2: launch<2>(planes, n_columns, nw, pairs, n_pairs, counts, st); break;
        case 3: launch<3>(planes, n_columns, nw, pairs, n_pairs, counts, st); break;
        default: launch<4>(planes, n_columns, nw, pairs, n_pairs, counts, st); break;
    }
    check_launch("pair_counts");
}

}  // namespace genofast
