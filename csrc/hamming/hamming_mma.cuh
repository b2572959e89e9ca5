// Tensor-core nearest neighbours and histograms: the block logic shared by the
// CUDA kernel (hamming_mma.cu) and its CPU emulation (hamming_mma_emu.cpp),
// which runs these same functions thread by thread so the tiling, fragment
// indexing, epilogues and merges are tested where no GPU is present.
//
// Distances come from the 1-bit MMA m16n8k256 with AND + POPC:
// d(i, j) = |a_i| + |b_j| - 2 |a_i AND b_j|. A block of 8 warps computes a
// 128 x 128 tile (warp tile 32 x 64: 2 x 8 MMAs of 16 x 8), staging 1,024
// bits of 128 A rows and 128 B rows in shared memory at a time. The tile's
// distances go through shared memory in two 128 x 64 slabs, where the
// epilogue of the mode reads them:
//   top1 (k = 1):  per-row and per-column minimum keys of the tile, merged
//                  into global memory with 64-bit atomicMin (self mode visits
//                  only tiles on or above the diagonal: one triangle);
//   topk (k <= 32): a block owns 128 query rows and a range of column tiles
//                  (a "split"), keeps each row's top-k in registers, and
//                  writes it per split; a small kernel merges the splits;
//   hist:          counts in per-block shared-memory bins, flushed to global
//                  memory once per block (or every kFlushTiles tiles).
// Keys (distance << 32 | index) order ties by index, so results equal the
// CPU path's bit for bit whatever order blocks run in.
#pragma once
#include <algorithm>

#include "../common/bits.hpp"
#include "hamming.cuh"

namespace genofast {
namespace mma {

constexpr int kThreads = 256;              // 8 warps
constexpr int kTile = 128;                 // tile rows (A) and columns (B)
constexpr int kSlab = 64;                  // columns per epilogue slab
constexpr int kChunkWords = 16;            // words of a row staged at a time (4 MMA k-steps)
constexpr int kStride = kChunkWords + 2;   // row stride in words: 36 u32, fragment loads hit 32 banks
constexpr int kStride32 = 2 * kStride;
constexpr int kMaxK = 32;
constexpr long long kFlushTiles = 16384;   // 2^28 pairs per flush: u32 shared bins cannot overflow

enum class Mode { top1, topk, hist };

template <class T>
GF_HD T min_of(T a, T b) { return b < a ? b : a; }

struct Stage {
    uint64_t a[kTile][kStride];
    uint64_t b[kTile][kStride];
};

// Stage, slab and list buffers are never live at once.
union Buffers {
    Stage stage;
    uint32_t d[kTile][kSlab + 1];   // +1: a row scan walks 32 banks
    uint64_t lists[kTile][kMaxK];
};

struct Shared {
    Buffers u;
    int32_t pa[kTile], pb[kTile];  // row popcounts of the tile
};

// One launch's work: which tiles, which rows and columns count.
struct Plan {
    std::size_t m, n, nw;
    bool self;
    Mode mode;
    int k;
    std::size_t row_tiles, col_tiles, splits, items;
};

inline Plan make_plan(std::size_t m, std::size_t n, std::size_t nw, bool self, int k, bool hist, int n_sms) {
    Plan p{m, n, nw, self, hist ? Mode::hist : (k == 1 ? Mode::top1 : Mode::topk), k, 0, 0, 1, 0};
    p.row_tiles = (m + kTile - 1) / kTile;
    p.col_tiles = (n + kTile - 1) / kTile;
    if (p.mode == Mode::topk) {
        // Enough (row tile, split) items for two blocks per multiprocessor.
        const std::size_t want = (2 * std::size_t(n_sms) + p.row_tiles - 1) / p.row_tiles;
        p.splits = std::max<std::size_t>(1, std::min(want, p.col_tiles));
        p.items = p.row_tiles * p.splits;
    } else {
        p.items = p.row_tiles * p.col_tiles;
    }
    return p;
}

// Item `item` of the plan: row tile I and column tiles [first, last) (top-k:
// the tiles of split `split`; otherwise the one tile). False for a tile below
// the diagonal in self mode, which the triangle modes skip.
GF_HD bool decode_item(const Plan& p, std::size_t item, std::size_t& I, std::size_t& first, std::size_t& last,
                       std::size_t& split) {
    if (p.mode == Mode::topk) {
        I = item / p.splits, split = item % p.splits;
        first = split * p.col_tiles / p.splits;
        last = (split + 1) * p.col_tiles / p.splits;
        return true;
    }
    I = item / p.col_tiles, first = item % p.col_tiles, last = first + 1, split = 0;
    return !(p.self && first < I);
}

GF_HD void atomic_min_u64(uint64_t* p, uint64_t v) {
#if defined(__CUDA_ARCH__)
    atomicMin(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
#else
    *p = min_of(*p, v);
#endif
}

GF_HD void atomic_min_i32(int32_t* p, int32_t v) {
#if defined(__CUDA_ARCH__)
    atomicMin(p, v);
#else
    *p = min_of(*p, v);
#endif
}

GF_HD void atomic_add_u32(uint32_t* p, uint32_t v) {
#if defined(__CUDA_ARCH__)
    atomicAdd(p, v);
#else
    *p += v;
#endif
}

// Thread tid's share of staging words [w0, w0 + kChunkWords) of the tile's
// rows (zero past the last row or word: zeros add nothing to AND + POPC).
GF_HD void stage_chunk(int tid, Stage& s, const uint64_t* a, const uint64_t* b, const Plan& p, std::size_t i0,
                       std::size_t j0, std::size_t w0) {
    for (int x = tid; x < kTile * kChunkWords; x += kThreads) {
        const int r = x / kChunkWords, w = x % kChunkWords;
        const bool in_word = w0 + w < p.nw;
        s.a[r][w] = (in_word && i0 + r < p.m) ? a[(i0 + r) * p.nw + w0 + w] : 0;
        s.b[r][w] = (in_word && j0 + r < p.n) ? b[(j0 + r) * p.nw + w0 + w] : 0;
    }
}

// MMA k-steps (256 bits) of a chunk that hold any data.
GF_HD int chunk_steps(const Plan& p, std::size_t w0) {
    const std::size_t left = p.nw - w0;
    return left >= std::size_t(kChunkWords) ? kChunkWords / 4 : int((left + 3) / 4);
}

// Fragments of k-step `step` for the lane (group g = lane / 4, t = lane % 4):
// A (16 x 256, row major) rows r0 + g and r0 + g + 8, 32 bits each of the
// step's first and second 128; B (256 x 8, column major) column c0 + g.
GF_HD void load_a(const Stage& s, int r0, int step, int lane, uint32_t (&a)[4]) {
    const uint32_t* x = reinterpret_cast<const uint32_t*>(&s.a[0][0]);
    const int g = lane >> 2, t = lane & 3, k = step * 8 + t;
    a[0] = x[(r0 + g) * kStride32 + k];
    a[1] = x[(r0 + g + 8) * kStride32 + k];
    a[2] = x[(r0 + g) * kStride32 + k + 4];
    a[3] = x[(r0 + g + 8) * kStride32 + k + 4];
}

GF_HD void load_b(const Stage& s, int c0, int step, int lane, uint32_t (&b)[2]) {
    const uint32_t* x = reinterpret_cast<const uint32_t*>(&s.b[0][0]);
    const int g = lane >> 2, t = lane & 3, k = step * 8 + t;
    b[0] = x[(c0 + g) * kStride32 + k];
    b[1] = x[(c0 + g) * kStride32 + k + 4];
}

// Warp w covers tile rows 32 (w % 4) .. +32 and columns 64 (w / 4) .. +64, so
// slab h is written by the warps with w / 4 == h.
GF_HD int warp_row0(int warp) { return 32 * (warp & 3); }
GF_HD int warp_slab(int warp) { return warp >> 2; }

// Accumulator element e (0..3) of MMA (mt, nt) of the lane: tile row and column.
GF_HD int acc_row(int warp, int mt, int lane, int e) { return warp_row0(warp) + 16 * mt + (lane >> 2) + 8 * (e >> 1); }
GF_HD int acc_col_in_slab(int nt, int lane, int e) { return 8 * nt + 2 * (lane & 3) + (e & 1); }

// Writes the warp's AND-popcounts of slab h as distances.
GF_HD void write_slab(Shared& sh, int warp, int lane, const int32_t (&acc)[2][8][4]) {
    const int h = warp_slab(warp);
    for (int mt = 0; mt < 2; ++mt)
        for (int nt = 0; nt < 8; ++nt)
            for (int e = 0; e < 4; ++e) {
                const int r = acc_row(warp, mt, lane, e), c = acc_col_in_slab(nt, lane, e);
                sh.u.d[r][c] = uint32_t(sh.pa[r] + sh.pb[h * kSlab + c] - 2 * acc[mt][nt][e]);
            }
}

// Whether pair (i, j) counts: inside both sets; in self mode not the
// diagonal, and for the triangle modes (top1, hist) only j > i.
GF_HD bool pair_counts(const Plan& p, std::size_t i, std::size_t j) {
    if (i >= p.m || j >= p.n) return false;
    if (!p.self) return true;
    return p.mode == Mode::topk ? i != j : j > i;
}

// top1 epilogue of one slab. Threads 0..127 fold their row's best key over
// the slab into `row_best` (flushed by the caller after both slabs); threads
// 128..191 take a column each: its best key (self mode: the pair seen from
// the column's side) and its minimum distance (column minima).
GF_HD void epilogue_top1(const Plan& p, const Shared& sh, int tid, std::size_t i0, std::size_t j0, uint64_t& row_best,
                         uint64_t* keys, int32_t* column_min) {
    if (tid < kTile) {
        const std::size_t i = i0 + tid;
        for (int c = 0; c < kSlab; ++c)
            if (pair_counts(p, i, j0 + c)) row_best = min_of(row_best, make_key(sh.u.d[tid][c], j0 + c));
    } else if (tid < kTile + kSlab) {
        const int c = tid - kTile;
        const std::size_t j = j0 + c;
        if (j >= p.n || (!p.self && !column_min)) return;
        uint64_t best = kNoKey;
        uint32_t dmin = ~0u;
        for (int r = 0; r < kTile; ++r)
            if (pair_counts(p, i0 + r, j)) {
                best = min_of(best, make_key(sh.u.d[r][c], i0 + r));
                dmin = min_of(dmin, sh.u.d[r][c]);
            }
        if (p.self && best != kNoKey) atomic_min_u64(keys + j, best);
        if (!p.self && dmin != ~0u) atomic_min_i32(column_min + j, int32_t(dmin));
    }
}

// topk epilogue of one slab: thread tid keeps row tid % 128's top-K over the
// slab half tid / 128 (32 columns); threads 0..63 also take column minima.
template <int K>
GF_HD void epilogue_topk(const Plan& p, const Shared& sh, int tid, std::size_t i0, std::size_t j0, uint64_t (&keys)[K],
                         int32_t* column_min) {
    const int r = tid % kTile, c0 = (tid / kTile) * (kSlab / 2);
    const std::size_t i = i0 + r;
    for (int c = c0; c < c0 + kSlab / 2; ++c)
        if (pair_counts(p, i, j0 + c)) push_key(keys, K, make_key(sh.u.d[r][c], j0 + c));
    if (column_min && tid < kSlab && j0 + tid < p.n) {
        uint32_t dmin = ~0u;
        for (int q = 0; q < kTile; ++q)
            if (i0 + q < p.m) dmin = min_of(dmin, sh.u.d[q][tid]);
        if (dmin != ~0u) atomic_min_i32(column_min + j0 + tid, int32_t(dmin));
    }
}

// hist epilogue of one slab: every counted pair's distance into the bins.
GF_HD void epilogue_hist(const Plan& p, const Shared& sh, int tid, std::size_t i0, std::size_t j0, uint32_t* bins) {
    for (int e = tid; e < kTile * kSlab; e += kThreads) {
        const int r = e / kSlab, c = e % kSlab;
        if (pair_counts(p, i0 + r, j0 + c)) atomic_add_u32(bins + sh.u.d[r][c], 1);
    }
}

// End of a top-k item, step 1 (threads 128..255): park the second list.
template <int K>
GF_HD void park_list(Shared& sh, int tid, const uint64_t (&keys)[K]) {
    if (tid < kTile) return;
    for (int c = 0; c < K; ++c) sh.u.lists[tid - kTile][c] = keys[c];
}

// Step 2 (threads 0..127): merge the parked list and write the split's top-k.
template <int K>
GF_HD void merge_list(const Plan& p, const Shared& sh, int tid, std::size_t i0, std::size_t split, uint64_t (&keys)[K],
                      uint64_t* partial) {
    if (tid >= kTile || i0 + tid >= p.m) return;
    for (int c = 0; c < K; ++c) push_key(keys, K, sh.u.lists[tid][c]);
    uint64_t* out = partial + (split * p.m + i0 + tid) * std::size_t(p.k);
    for (int c = 0; c < p.k; ++c) out[c] = keys[c];
}

// Final (distance, index) rows from the splits' lists (or from top1 keys,
// one split of k = 1).
GF_HD void finish_row(const Plan& p, std::size_t i, const uint64_t* partial, int32_t* distances, int64_t* indices) {
    uint64_t keys[kMaxK];
    for (int c = 0; c < p.k; ++c) keys[c] = kNoKey;
    for (std::size_t s = 0; s < p.splits; ++s)
        for (int c = 0; c < p.k; ++c) push_key(keys, p.k, partial[(s * p.m + i) * std::size_t(p.k) + c]);
    for (int c = 0; c < p.k; ++c) {
        distances[i * p.k + c] = keys[c] == kNoKey ? -1 : int32_t(keys[c] >> 32);
        indices[i * p.k + c] = keys[c] == kNoKey ? -1 : int64_t(keys[c] & 0xFFFFFFFFULL);
    }
}

GF_HD int32_t row_popcount(const uint64_t* x, std::size_t row, std::size_t nw) {
    int32_t s = 0;
    for (std::size_t w = 0; w < nw; ++w) s += popcount64(x[row * nw + w]);
    return s;
}

}  // namespace mma
}  // namespace genofast
