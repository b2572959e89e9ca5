// All-vs-all Hamming nearest neighbours on bit-packed haplotypes, with the
// top-k selection fused into the distance pass (no m x n matrix is stored).
//
// Inputs are packed rows (n_words uint64 each, tail bits zero). Results per
// query row: the k smallest distances and their reference indices, ordered by
// (distance, index) so ties go to the lower index. In self mode (B is A) the
// diagonal is excluded and the CPU computes one triangle only.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../common/bits.hpp"

namespace genofast {

// Highest SIMD level this CPU supports, and the level kernels use now
// (never above the supported one).
Simd simd_supported();
Simd simd_active();
void set_simd(Simd level);

// column_min (length n, may be null): per reference row, the minimum distance
// over all query rows (non-self mode only).
void nearest_neighbors_cpu(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                           std::size_t n_words, bool self, int k, int32_t* distances, int64_t* indices,
                           int32_t* column_min);

// Full m x n distance matrix, for small inputs.
void pairwise_hamming_cpu(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                          std::size_t n_words, int32_t* out);

// Counts of all pairwise distances, hist[d] for d in [0, n_bins). Self mode
// counts each unordered pair i < j once.
void hamming_histogram_cpu(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                           std::size_t n_words, bool self, int64_t* hist, std::size_t n_bins);

// CUDA twins (device pointers, `stream` a cudaStream_t or null). The GPU
// computes self mode over the full square with the diagonal skipped.
void nearest_neighbors_cuda(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                            std::size_t n_words, bool self, int k, int32_t* distances, int64_t* indices,
                            int32_t* column_min, void* stream);
void hamming_histogram_cuda(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                            std::size_t n_words, bool self, int64_t* hist, std::size_t n_bins, void* stream);

// Tensor-core twins (sm_80+, 1-bit AND MMA; hamming_mma.cu): same results
// as the popcount path. The histogram keeps per-block bins in shared memory,
// so n_bins is capped at mma_histogram_max_bins() on the current device.
void nearest_neighbors_mma_cuda(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                                std::size_t n_words, bool self, int k, int32_t* distances, int64_t* indices,
                                int32_t* column_min, void* stream);
void hamming_histogram_mma_cuda(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                                std::size_t n_words, bool self, int64_t* hist, std::size_t n_bins, void* stream);
std::size_t mma_histogram_max_bins();

// CPU emulation of the tensor-core kernels, block by block (tests): `n_sms`
// sizes the top-k splits as the GPU would, `grid` is the number of
// persistent blocks.
void nearest_neighbors_mma_emulated(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                                    std::size_t n_words, bool self, int k, int32_t* distances, int64_t* indices,
                                    int32_t* column_min, int n_sms, int grid);
void hamming_histogram_mma_emulated(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                                    std::size_t n_words, bool self, int64_t* hist, std::size_t n_bins, int grid);

// Distances of a 4-row-aligned block of A rows against B rows, row stride
// `wp` words (a multiple of 8, zero padded). out is ma x nb, stride ldo.
using BlockDistanceFn = void (*)(const uint64_t* a, std::size_t ma, const uint64_t* b, std::size_t nb,
                                 std::size_t wp, uint32_t* out, std::size_t ldo);
BlockDistanceFn block_distance_fn(Simd level);

// The k = 1 epilogue of a block of distances d (mi x nj, stride ldo; block
// rows i0.., columns j0..). Each output may be null:
//   row_keys[i]  <- min(row_keys[i], key(d[i][j], j0 + j)) over j
//   col_keys[j]  <- min(col_keys[j], key(d[i][j], i0 + i)) over i
//   col_min[j]   <- min(col_min[j], d[i][j]) over i
// `triangle` keeps only pairs with j > i (the diagonal block in self mode).
using BlockTop1Fn = void (*)(const uint32_t* d, std::size_t ldo, std::size_t mi, std::size_t nj, bool triangle,
                             std::size_t i0, std::size_t j0, uint64_t* row_keys, uint64_t* col_keys,
                             uint32_t* col_min);
BlockTop1Fn block_top1_fn(Simd level);

}  // namespace genofast
