// CPU emulation of the tensor-core kernel (hamming_mma.cu): the same plan,
// items, staging, fragment loads, slabs, epilogues and merges, run thread by
// thread between the kernel's barriers, with the 1-bit MMA replaced by a
// model of its fragment layout (PTX ISA, mma.m16n8k256 .b1). Tests compare it
// with the CPU path, so the GPU kernel's logic is checked where no GPU is.
#include <algorithm>
#include <climits>
#include <memory>
#include <stdexcept>
#include <vector>

#include "hamming.hpp"
#include "hamming_mma.cuh"

namespace genofast {
namespace {

using mma::Mode;
using mma::Plan;
using mma::Shared;

using Acc = int32_t[2][8][4];

// The model of mma.m16n8k256.row.col.s32.b1.b1.s32.and.popc for one warp:
// lane L = 4g + t holds A rows g (registers 0, 2) and g + 8 (1, 3), bits
// 32t.. of the step's first (0, 1) and second (2, 3) 128; B column g, the
// same bits (registers 0, 1); C element e at row g + 8 (e / 2), column
// 2t + e % 2.
void mma_warp(const uint32_t (&a)[32][4], const uint32_t (&b)[32][2], int32_t (&c)[32][4]) {
    for (int lane = 0; lane < 32; ++lane)
        for (int e = 0; e < 4; ++e) {
            const int row = (lane >> 2) + 8 * (e >> 1), col = 2 * (lane & 3) + (e & 1);
            int32_t s = 0;
            for (int half = 0; half < 2; ++half)
                for (int t = 0; t < 4; ++t)
                    s += popcount64(a[(row & 7) * 4 + t][(row >> 3) + 2 * half] & b[col * 4 + t][half]);
            c[lane][e] += s;
        }
}

struct Block {
    const Plan& p;
    const uint64_t *a, *b;
    const int32_t *pop_a, *pop_b;
    std::unique_ptr<Shared> sh{new Shared()};
    std::vector<uint32_t> bins;
    std::unique_ptr<Acc[]> acc{new Acc[mma::kThreads]};  // 64 KiB: on the heap, whatever the caller's stack

    Block(const Plan& plan, const uint64_t* a_, const uint64_t* b_, const int32_t* pa, const int32_t* pb,
          std::size_t n_bins)
        : p(plan), a(a_), b(b_), pop_a(pa), pop_b(pb), bins(n_bins, 0) {}

    void tile_counts(std::size_t i0, std::size_t j0) {
        std::fill(&acc[0][0][0][0], &acc[0][0][0][0] + mma::kThreads * 2 * 8 * 4, 0);
        for (int r = 0; r < mma::kTile; ++r) {
            sh->pa[r] = i0 + r < p.m ? pop_a[i0 + r] : 0;
            sh->pb[r] = j0 + r < p.n ? pop_b[j0 + r] : 0;
        }
        for (std::size_t w0 = 0; w0 < p.nw; w0 += mma::kChunkWords) {
            for (int tid = 0; tid < mma::kThreads; ++tid) mma::stage_chunk(tid, sh->u.stage, a, b, p, i0, j0, w0);
            for (int step = 0; step < mma::chunk_steps(p, w0); ++step)
                for (int warp = 0; warp < mma::kThreads / 32; ++warp)
                    for (int mt = 0; mt < 2; ++mt)
                        for (int nt = 0; nt < 8; ++nt) {
                            uint32_t fa[32][4], fb[32][2];
                            int32_t c[32][4];
                            for (int lane = 0; lane < 32; ++lane) {
                                mma::load_a(sh->u.stage, mma::warp_row0(warp) + 16 * mt, step, lane, fa[lane]);
                                mma::load_b(sh->u.stage, mma::kSlab * mma::warp_slab(warp) + 8 * nt, step, lane,
                                            fb[lane]);
                                for (int e = 0; e < 4; ++e) c[lane][e] = acc[warp * 32 + lane][mt][nt][e];
                            }
                            mma_warp(fa, fb, c);
                            for (int lane = 0; lane < 32; ++lane)
                                for (int e = 0; e < 4; ++e) acc[warp * 32 + lane][mt][nt][e] = c[lane][e];
                        }
        }
    }

    void write_slab(int h) {
        for (int tid = 0; tid < mma::kThreads; ++tid)
            if (mma::warp_slab(tid >> 5) == h) mma::write_slab(*sh, tid >> 5, tid & 31, acc[tid]);
    }
};

template <int K>
void run(const Plan& p, int grid, Block& blk, uint64_t* keys, int32_t* column_min, uint64_t* partial,
         int64_t* hist) {
    for (int block = 0; block < grid; ++block) {
        std::fill(blk.bins.begin(), blk.bins.end(), 0u);
        for (std::size_t item = block; item < p.items; item += grid) {
            std::size_t I, first, last, split;
            if (!mma::decode_item(p, item, I, first, last, split)) continue;
            const std::size_t i0 = I * mma::kTile;
            auto lists = std::make_unique<uint64_t[][K]>(mma::kThreads);
            std::fill(&lists[0][0], &lists[0][0] + mma::kThreads * K, kNoKey);
            for (std::size_t J = first; J < last; ++J) {
                const std::size_t j0 = J * mma::kTile;
                blk.tile_counts(i0, j0);
                std::vector<uint64_t> row_best(mma::kThreads, kNoKey);
                for (int h = 0; h < 2; ++h) {
                    blk.write_slab(h);
                    const std::size_t js = j0 + h * mma::kSlab;
                    for (int tid = 0; tid < mma::kThreads; ++tid) {
                        if (p.mode == Mode::top1)
                            mma::epilogue_top1(p, *blk.sh, tid, i0, js, row_best[tid], keys, column_min);
                        if (p.mode == Mode::topk) {
                            mma::epilogue_topk<K>(p, *blk.sh, tid, i0, js, lists[tid], column_min);
                        }
                        if (p.mode == Mode::hist) mma::epilogue_hist(p, *blk.sh, tid, i0, js, blk.bins.data());
                    }
                }
                if (p.mode == Mode::top1)
                    for (int tid = 0; tid < mma::kTile; ++tid)
                        if (row_best[tid] != kNoKey) mma::atomic_min_u64(keys + i0 + tid, row_best[tid]);
            }
            if (p.mode == Mode::topk) {
                for (int tid = 0; tid < mma::kThreads; ++tid)
                    mma::park_list<K>(*blk.sh, tid, lists[tid]);
                for (int tid = 0; tid < mma::kThreads; ++tid)
                    mma::merge_list<K>(p, *blk.sh, tid, i0, split,
                                       lists[tid], partial);
            }
        }
        if (hist)
            for (std::size_t x = 0; x < blk.bins.size(); ++x) hist[x] += blk.bins[x];
    }
}

std::vector<int32_t> popcounts(const uint64_t* x, std::size_t rows, std::size_t nw) {
    std::vector<int32_t> out(rows);
    for (std::size_t r = 0; r < rows; ++r) out[r] = mma::row_popcount(x, r, nw);
    return out;
}

}  // namespace

void nearest_neighbors_mma_emulated(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                                    std::size_t n_words, bool self, int k, int32_t* distances, int64_t* indices,
                                    int32_t* column_min, int n_sms, int grid) {
    if (k < 1 || k > mma::kMaxK) throw std::invalid_argument("k must be between 1 and 32");
    if (self) b = a, n = m;
    if (column_min) std::fill(column_min, column_min + n, INT_MAX);
    if (m == 0 || n == 0) return;
    const Plan p = mma::make_plan(m, n, n_words, self, k, false, n_sms);
    const std::vector<int32_t> pa = popcounts(a, m, n_words), pb = popcounts(b, n, n_words);
    std::vector<uint64_t> keys(p.splits * m * std::size_t(k), kNoKey);
    Block blk(p, a, b, pa.data(), pb.data(), 0);
    const int g = int(std::min<std::size_t>(std::size_t(grid), p.items));
    if (k == 1) run<1>(p, g, blk, keys.data(), column_min, keys.data(), nullptr);
    else if (k <= 4) run<4>(p, g, blk, nullptr, column_min, keys.data(), nullptr);
    else if (k <= 8) run<8>(p, g, blk, nullptr, column_min, keys.data(), nullptr);
    else if (k <= 16) run<16>(p, g, blk, nullptr, column_min, keys.data(), nullptr);
    else run<32>(p, g, blk, nullptr, column_min, keys.data(), nullptr);
    for (std::size_t i = 0; i < m; ++i) mma::finish_row(p, i, keys.data(), distances, indices);
}

void hamming_histogram_mma_emulated(const uint64_t* a, std::size_t m, const uint64_t* b, std::size_t n,
                                    std::size_t n_words, bool self, int64_t* hist, std::size_t n_bins, int grid) {
    if (n_bins < n_words * 64 + 1) throw std::invalid_argument("histogram needs n_words * 64 + 1 bins");
    std::fill(hist, hist + n_bins, 0);
    if (self) b = a, n = m;
    if (m == 0 || n == 0) return;
    const Plan p = mma::make_plan(m, n, n_words, self, 1, true, 1);
    const std::vector<int32_t> pa = popcounts(a, m, n_words), pb = popcounts(b, n, n_words);
    Block blk(p, a, b, pa.data(), pb.data(), n_bins);
    run<1>(p, int(std::min<std::size_t>(std::size_t(grid), p.items)), blk, nullptr, nullptr, nullptr, hist);
}

}  // namespace genofast
