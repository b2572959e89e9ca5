#include <cuda_runtime.h>

#include <cstdint>

#include "../common/cuda_check.cuh"
#include "phasing.cuh"
#include "phasing.hpp"

namespace genofast {
namespace {

// One thread per haplotype word throughout.
__global__ void random_phase_kernel(const uint64_t* genotypes, std::size_t n, std::size_t n_snps, uint64_t seed,
                                    uint64_t* hap_a, uint64_t* hap_b, uint64_t* missing) {
    const std::size_t hw = haplotype_words(n_snps), gw = genotype_words(n_snps);
    const std::size_t t = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (t >= n * hw) return;
    const std::size_t i = t / hw, w = t % hw;
    const HaplotypePair p =
        random_phase_word(genotype_planes(genotypes + i * gw, gw, w), phase_bits(seed, kSaltPhase, i, w));
    hap_a[t] = p.a;
    hap_b[t] = p.b;
    missing[t] = p.missing;
}

// Adds the warp's counts with one atomic: one per thread (62.5M on 20,000 x
// 200,000 genotypes) would serialise on the single counter. Every lane of the
// warp must call it.
__device__ void add_count(unsigned long long* count, int c) {
    for (int offset = 16; offset > 0; offset >>= 1) c += __shfl_down_sync(0xFFFFFFFFu, c, offset);
    if (threadIdx.x % 32 == 0 && c) atomicAdd(count, (unsigned long long)c);
}

__global__ void complement_kernel(const uint64_t* genotypes, const uint64_t* hap, const uint64_t* hap_missing,
                                  std::size_t n, std::size_t n_snps, uint64_t* hap_out, uint64_t* other,
                                  uint64_t* missing, unsigned long long* count) {
    const std::size_t hw = haplotype_words(n_snps), gw = genotype_words(n_snps);
    const std::size_t t = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    int c = 0;
    if (t < n * hw) {
        const std::size_t i = t / hw, w = t % hw;
        const uint64_t valid = w + 1 == hw ? tail_mask(n_snps) : ~uint64_t(0);
        const HaplotypePair p = complement_word(genotype_planes(genotypes + i * gw, gw, w), hap[t],
                                                hap_missing ? hap_missing[t] : 0, &c, valid);
        hap_out[t] = p.a;
        other[t] = p.b;
        missing[t] = p.missing;
    }
    add_count(count, c);
}

__global__ void reconcile_kernel(const uint64_t* genotypes, const uint64_t* hap_a, const uint64_t* hap_b,
                                 std::size_t n, std::size_t n_snps, uint64_t seed, uint64_t* out_a, uint64_t* out_b,
                                 unsigned long long* count) {
    const std::size_t hw = haplotype_words(n_snps), gw = genotype_words(n_snps);
    const std::size_t t = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    int c = 0;
    if (t < n * hw) {
        const std::size_t i = t / hw, w = t % hw;
        const HaplotypePair p = reconcile_word(genotype_planes(genotypes + i * gw, gw, w), hap_a[t], hap_b[t],
                                               phase_bits(seed, kSaltReconcile, i, w), &c);
        out_a[t] = p.a;
        out_b[t] = p.b;
    }
    add_count(count, c);
}

__global__ void merge_kernel(const float* p_a, const float* p_b, std::size_t first, std::size_t n, float* out) {
    const std::size_t t = first + blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (t < n) merge_probabilities(p_a[t], p_b[t], out + 3 * t);
}

// Four elements per thread with 128-bit loads and stores (16-byte aligned
// buffers): the 12 outputs are three float4s, where one float per element
// would store at a 12-byte stride.
__global__ void merge4_kernel(const float4* p_a, const float4* p_b, std::size_t n4, float4* out) {
    const std::size_t t = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (t >= n4) return;
    const float4 a = p_a[t], b = p_b[t];
    float r[12];
    merge_probabilities(a.x, b.x, r);
    merge_probabilities(a.y, b.y, r + 3);
    merge_probabilities(a.z, b.z, r + 6);
    merge_probabilities(a.w, b.w, r + 9);
    out[3 * t] = make_float4(r[0], r[1], r[2], r[3]);
    out[3 * t + 1] = make_float4(r[4], r[5], r[6], r[7]);
    out[3 * t + 2] = make_float4(r[8], r[9], r[10], r[11]);
}

// The count comes back through a small device buffer; the copy synchronises
// the stream, which callers expect since they return the count.
struct DeviceCounter {
    unsigned long long* p = nullptr;
    cudaStream_t st;
    explicit DeviceCounter(cudaStream_t stream) : st(stream) {
        check_cuda(cudaMallocAsync(reinterpret_cast<void**>(&p), sizeof(*p), st), "counter");
        check_cuda(cudaMemsetAsync(p, 0, sizeof(*p), st), "counter");
    }
    int64_t read() {
        unsigned long long h = 0;
        check_cuda(cudaMemcpyAsync(&h, p, sizeof(h), cudaMemcpyDeviceToHost, st), "counter");
        check_cuda(cudaStreamSynchronize(st), "counter");
        return int64_t(h);
    }
    ~DeviceCounter() { cudaFreeAsync(p, st); }
};

}  // namespace

void random_phase_cuda(const uint64_t* genotypes, std::size_t n, std::size_t n_snps, uint64_t seed, uint64_t* hap_a,
                       uint64_t* hap_b, uint64_t* missing, void* stream) {
    const std::size_t total = n * haplotype_words(n_snps);
    if (total == 0) return;
    random_phase_kernel<<<blocks_for(total), kThreads, 0, cuda_stream(stream)>>>(genotypes, n, n_snps, seed, hap_a,
                                                                                 hap_b, missing);
    check_launch("random_phase");
}

int64_t complement_cuda(const uint64_t* genotypes, const uint64_t* hap, const uint64_t* hap_missing, std::size_t n,
                        std::size_t n_snps, uint64_t* hap_out, uint64_t* other, uint64_t* missing, void* stream) {
    const std::size_t total = n * haplotype_words(n_snps);
    if (total == 0) return 0;
    cudaStream_t st = cuda_stream(stream);
    DeviceCounter count(st);
    complement_kernel<<<blocks_for(total), kThreads, 0, st>>>(genotypes, hap, hap_missing, n, n_snps, hap_out, other,
                                                              missing, count.p);
    check_launch("complement");
    return count.read();
}

int64_t reconcile_cuda(const uint64_t* genotypes, const uint64_t* hap_a, const uint64_t* hap_b, std::size_t n,
                       std::size_t n_snps, uint64_t seed, uint64_t* out_a, uint64_t* out_b, void* stream) {
    const std::size_t total = n * haplotype_words(n_snps);
    if (total == 0) return 0;
    cudaStream_t st = cuda_stream(stream);
    DeviceCounter count(st);
    reconcile_kernel<<<blocks_for(total), kThreads, 0, st>>>(genotypes, hap_a, hap_b, n, n_snps, seed, out_a, out_b,
                                                             count.p);
    check_launch("reconcile");
    return count.read();
}

void merge_cuda(const float* p_a, const float* p_b, std::size_t n, float* out, void* stream) {
    if (n == 0) return;
    cudaStream_t st = cuda_stream(stream);
    const auto aligned = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; };
    std::size_t first = 0;
    if (aligned(p_a) && aligned(p_b) && aligned(out) && n >= 4) {
        const std::size_t n4 = n / 4;
        merge4_kernel<<<blocks_for(n4), kThreads, 0, st>>>(reinterpret_cast<const float4*>(p_a),
                                                           reinterpret_cast<const float4*>(p_b), n4,
                                                           reinterpret_cast<float4*>(out));
        first = 4 * n4;
    }
    if (first < n) merge_kernel<<<blocks_for(n - first), kThreads, 0, st>>>(p_a, p_b, first, n, out);
    check_launch("merge");
}

}  // namespace genofast
