// The one pybind11 module, genofast._core. Only genofast/kernels.py imports
// it: that file validates shapes and dtypes, so these wrappers only size the
// outputs, release the GIL and translate pointers. CUDA entry points take
// device pointers as integers plus a stream handle (no libtorch link).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <omp.h>

#include <optional>

#include "bitpack/bitpack.hpp"
#include "common/philox.hpp"
#include "hamming/hamming.hpp"
#include "ld/ld.hpp"
#include "phasing/phasing.hpp"
#include "rbm/rbm.hpp"

#ifdef GENOFAST_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace py = pybind11;
using namespace genofast;

template <class T>
using Array = py::array_t<T, py::array::c_style>;

namespace {

template <class T>
Array<T> new_array(std::vector<py::ssize_t> shape) {
    return Array<T>(shape);
}

const uint64_t* optional_words(const std::optional<Array<uint64_t>>& x) { return x ? x->data() : nullptr; }

void bind_cpu(py::module_& m) {
    m.def("simd_supported", [] { return int(simd_supported()); });
    m.def("set_threads", [](int n) { omp_set_num_threads(n); });
    m.def("max_threads", [] { return omp_get_max_threads(); });
    m.def("simd_active", [] { return int(simd_active()); });
    m.def("set_simd", [](int level) { set_simd(Simd(level)); });
    m.def("philox", [](uint64_t seed, uint64_t stream, uint64_t counter) {
        const Philox4 r = philox(seed, stream, counter);
        return py::make_tuple(r.v[0], r.v[1], r.v[2], r.v[3]);
    });
    m.def("philox4x32_10", [](std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
        const Philox4 r = philox4x32_10(Philox4{{ctr[0], ctr[1], ctr[2], ctr[3]}}, key[0], key[1]);
        return py::make_tuple(r.v[0], r.v[1], r.v[2], r.v[3]);
    });

    m.def("pack_haplotypes", [](Array<uint8_t> a) {
        const std::size_t n = a.shape(0), s = a.shape(1);
        auto out = new_array<uint64_t>({py::ssize_t(n), py::ssize_t(haplotype_words(s))});
        py::gil_scoped_release nogil;
        pack_haplotypes_cpu(a.data(), n, s, out.mutable_data());
        return out;
    });
    m.def("unpack_haplotypes", [](Array<uint64_t> w, std::size_t n_snps) {
        const std::size_t n = w.shape(0);
        auto out = new_array<uint8_t>({py::ssize_t(n), py::ssize_t(n_snps)});
        py::gil_scoped_release nogil;
        unpack_haplotypes_cpu(w.data(), n, n_snps, out.mutable_data());
        return out;
    });
    m.def("pack_genotypes", [](Array<int8_t> d) {
        const std::size_t n = d.shape(0), s = d.shape(1);
        auto out = new_array<uint64_t>({py::ssize_t(n), py::ssize_t(genotype_words(s))});
        py::gil_scoped_release nogil;
        pack_genotypes_cpu(d.data(), n, s, out.mutable_data());
        return out;
    });
    m.def("unpack_genotypes", [](Array<uint64_t> w, std::size_t n_snps) {
        const std::size_t n = w.shape(0);
        auto out = new_array<int8_t>({py::ssize_t(n), py::ssize_t(n_snps)});
        py::gil_scoped_release nogil;
        unpack_genotypes_cpu(w.data(), n, n_snps, out.mutable_data());
        return out;
    });
    m.def("haplotypes_to_genotypes", [](Array<uint64_t> h, std::optional<Array<uint64_t>> missing,
                                        std::size_t n_snps) {
        const std::size_t n = h.shape(0) / 2;
        auto out = new_array<uint64_t>({py::ssize_t(n), py::ssize_t(genotype_words(n_snps))});
        const uint64_t* mp = optional_words(missing);
        py::gil_scoped_release nogil;
        haplotypes_to_genotypes_cpu(h.data(), mp, n, n_snps, out.mutable_data());
        return out;
    });

    m.def("nearest_neighbors", [](Array<uint64_t> a, std::optional<Array<uint64_t>> b, int k, bool column_min) {
        const std::size_t m_rows = a.shape(0), nw = a.shape(1);
        const bool self = !b.has_value();
        const std::size_t n_rows = self ? m_rows : b->shape(0);
        auto dist = new_array<int32_t>({py::ssize_t(m_rows), k});
        auto idx = new_array<int64_t>({py::ssize_t(m_rows), k});
        py::object cm = py::none();
        int32_t* cmp = nullptr;
        if (column_min) {
            auto c = new_array<int32_t>({py::ssize_t(n_rows)});
            cmp = c.mutable_data();
            cm = c;
        }
        const uint64_t* bp = self ? a.data() : b->data();
        int32_t* dp = dist.mutable_data();
        int64_t* ip = idx.mutable_data();
        {
            py::gil_scoped_release nogil;
            nearest_neighbors_cpu(a.data(), m_rows, bp, n_rows, nw, self, k, dp, ip, cmp);
        }
        return py::make_tuple(dist, idx, cm);
    });
    m.def("nearest_neighbors_mma_emulated", [](Array<uint64_t> a, std::optional<Array<uint64_t>> b, int k,
                                               bool column_min, int n_sms, int grid) {
        const std::size_t m_rows = a.shape(0), n_rows = b ? b->shape(0) : a.shape(0);
        auto dist = new_array<int32_t>({py::ssize_t(m_rows), k});
        auto idx = new_array<int64_t>({py::ssize_t(m_rows), k});
        auto cm = new_array<int32_t>({py::ssize_t(column_min ? n_rows : 0)});
        {
            py::gil_scoped_release nogil;
            nearest_neighbors_mma_emulated(a.data(), m_rows, b ? b->data() : a.data(), n_rows, a.shape(1), !b, k,
                                           dist.mutable_data(), idx.mutable_data(),
                                           column_min ? cm.mutable_data() : nullptr, n_sms, grid);
        }
        return py::make_tuple(dist, idx, cm);
    });
    m.def("hamming_histogram_mma_emulated", [](Array<uint64_t> a, std::optional<Array<uint64_t>> b, int grid) {
        const std::size_t nw = a.shape(1), bins = 64 * nw + 1;
        auto out = new_array<int64_t>({py::ssize_t(bins)});
        py::gil_scoped_release nogil;
        hamming_histogram_mma_emulated(a.data(), a.shape(0), b ? b->data() : a.data(), b ? b->shape(0) : a.shape(0),
                                       nw, !b, out.mutable_data(), bins, grid);
        return out;
    });
    m.def("pairwise_hamming", [](Array<uint64_t> a, Array<uint64_t> b) {
        auto out = new_array<int32_t>({a.shape(0), b.shape(0)});
        py::gil_scoped_release nogil;
        pairwise_hamming_cpu(a.data(), a.shape(0), b.data(), b.shape(0), a.shape(1), out.mutable_data());
        return out;
    });
    m.def("hamming_histogram", [](Array<uint64_t> a, std::optional<Array<uint64_t>> b) {
        const std::size_t nw = a.shape(1), bins = 64 * nw + 1;
        auto out = new_array<int64_t>({py::ssize_t(bins)});
        const bool self = !b.has_value();
        const uint64_t* bp = self ? a.data() : b->data();
        const std::size_t n = self ? a.shape(0) : b->shape(0);
        py::gil_scoped_release nogil;
        hamming_histogram_cpu(a.data(), a.shape(0), bp, n, nw, self, out.mutable_data(), bins);
        return out;
    });

    m.def("snp_planes", [](Array<uint64_t> words, std::optional<Array<uint64_t>> missing, std::size_t n_snps,
                           bool genotypes) {
        const std::size_t n = words.shape(0);
        auto out = new_array<uint64_t>({genotypes ? 3 : 2, py::ssize_t(n_snps), py::ssize_t((n + 63) / 64)});
        const uint64_t* mp = optional_words(missing);
        py::gil_scoped_release nogil;
        snp_planes_cpu(words.data(), mp, n, n_snps, genotypes, out.mutable_data());
        return out;
    });
    m.def("pair_counts", [](Array<uint64_t> planes, Array<int64_t> pairs) {
        const std::size_t p = planes.shape(0), k = pairs.shape(0);
        auto out = new_array<int64_t>({py::ssize_t(k), py::ssize_t(p), py::ssize_t(p)});
        py::gil_scoped_release nogil;
        pair_counts_cpu(planes.data(), p, planes.shape(1), planes.shape(2), pairs.data(), k, out.mutable_data());
        return out;
    });

    m.def("random_phase", [](Array<uint64_t> g, std::size_t n_snps, uint64_t seed) {
        const py::ssize_t n = g.shape(0), hw = py::ssize_t(haplotype_words(n_snps));
        auto a = new_array<uint64_t>({n, hw}), b = new_array<uint64_t>({n, hw}), mis = new_array<uint64_t>({n, hw});
        uint64_t *ap = a.mutable_data(), *bp = b.mutable_data(), *mp = mis.mutable_data();
        {
            py::gil_scoped_release nogil;
            random_phase_cpu(g.data(), n, n_snps, seed, ap, bp, mp);
        }
        return py::make_tuple(a, b, mis);
    });
    m.def("complement", [](Array<uint64_t> g, Array<uint64_t> h, std::optional<Array<uint64_t>> hm,
                           std::size_t n_snps) {
        const py::ssize_t n = g.shape(0), hw = py::ssize_t(haplotype_words(n_snps));
        auto h2 = new_array<uint64_t>({n, hw}), o = new_array<uint64_t>({n, hw}), mis = new_array<uint64_t>({n, hw});
        uint64_t *hp = h2.mutable_data(), *op = o.mutable_data(), *mp = mis.mutable_data();
        const uint64_t* hmp = optional_words(hm);
        int64_t count;
        {
            py::gil_scoped_release nogil;
            count = complement_cpu(g.data(), h.data(), hmp, n, n_snps, hp, op, mp);
        }
        return py::make_tuple(h2, o, mis, count);
    });
    m.def("reconcile", [](Array<uint64_t> g, Array<uint64_t> a, Array<uint64_t> b, std::size_t n_snps,
                          uint64_t seed) {
        const py::ssize_t n = g.shape(0), hw = py::ssize_t(haplotype_words(n_snps));
        auto a2 = new_array<uint64_t>({n, hw}), b2 = new_array<uint64_t>({n, hw});
        uint64_t *ap = a2.mutable_data(), *bp = b2.mutable_data();
        int64_t count;
        {
            py::gil_scoped_release nogil;
            count = reconcile_cpu(g.data(), a.data(), b.data(), n, n_snps, seed, ap, bp);
        }
        return py::make_tuple(a2, b2, count);
    });
    m.def("rbm_units", [](Array<float> pre, Array<float> bias, int kind, uint64_t seed, uint64_t step,
                          uint64_t first_row, Array<float> sample, std::optional<Array<float>> mean,
                          std::optional<Array<uint64_t>> packed) {
        const std::size_t n = pre.shape(0), m_cols = pre.shape(1);
        float* sp = sample.mutable_data();
        float* mp = mean ? mean->mutable_data() : nullptr;
        uint64_t* pp = packed ? packed->mutable_data() : nullptr;
        py::gil_scoped_release nogil;
        rbm_units_cpu(pre.data(), bias.data(), n, m_cols, UnitKind(kind), seed, step, first_row, sp, mp, pp);
    });
    m.def("merge", [](Array<float> pa, Array<float> pb, Array<float> out) {
        float* op = out.mutable_data();
        int64_t bad;
        {
            py::gil_scoped_release nogil;
            bad = merge_cpu(pa.data(), pb.data(), pa.size(), op);
        }
        return bad;
    });
}

#ifdef GENOFAST_WITH_CUDA
template <class T>
T* ptr(std::uintptr_t p) {
    return reinterpret_cast<T*>(p);
}

void* stream_ptr(std::uintptr_t s) { return reinterpret_cast<void*>(s); }

void bind_cuda(py::module_& m) {
    using P = std::uintptr_t;
    // The static runtime reports a missing driver or device as an error
    // code; both mean "no device" here.
    m.def("cuda_device_count", [] {
        int n = 0;
        if (cudaGetDeviceCount(&n) != cudaSuccess) {
            cudaGetLastError();
            return 0;
        }
        return n;
    });
    m.def("pack_haplotypes_cuda", [](P a, std::size_t n, std::size_t s, P out, P st) {
        pack_haplotypes_cuda(ptr<const uint8_t>(a), n, s, ptr<uint64_t>(out), stream_ptr(st));
    });
    m.def("unpack_haplotypes_cuda", [](P w, std::size_t n, std::size_t s, P out, P st) {
        unpack_haplotypes_cuda(ptr<const uint64_t>(w), n, s, ptr<uint8_t>(out), stream_ptr(st));
    });
    m.def("pack_genotypes_cuda", [](P d, std::size_t n, std::size_t s, P out, P st) {
        pack_genotypes_cuda(ptr<const int8_t>(d), n, s, ptr<uint64_t>(out), stream_ptr(st));
    });
    m.def("unpack_genotypes_cuda", [](P w, std::size_t n, std::size_t s, P out, P st) {
        unpack_genotypes_cuda(ptr<const uint64_t>(w), n, s, ptr<int8_t>(out), stream_ptr(st));
    });
    m.def("haplotypes_to_genotypes_cuda", [](P h, P missing, std::size_t n, std::size_t s, P out, P st) {
        haplotypes_to_genotypes_cuda(ptr<const uint64_t>(h), ptr<const uint64_t>(missing), n, s, ptr<uint64_t>(out),
                                     stream_ptr(st));
    });
    m.def("nearest_neighbors_cuda", [](P a, std::size_t m_rows, P b, std::size_t n_rows, std::size_t nw, bool self,
                                       int k, P dist, P idx, P colmin, P st) {
        nearest_neighbors_cuda(ptr<const uint64_t>(a), m_rows, ptr<const uint64_t>(b), n_rows, nw, self, k,
                               ptr<int32_t>(dist), ptr<int64_t>(idx), ptr<int32_t>(colmin), stream_ptr(st));
    });
    m.def("nearest_neighbors_mma_cuda", [](P a, std::size_t m_rows, P b, std::size_t n_rows, std::size_t nw,
                                           bool self, int k, P dist, P idx, P colmin, P st) {
        nearest_neighbors_mma_cuda(ptr<const uint64_t>(a), m_rows, ptr<const uint64_t>(b), n_rows, nw, self, k,
                                   ptr<int32_t>(dist), ptr<int64_t>(idx), ptr<int32_t>(colmin), stream_ptr(st));
    });
    m.def("hamming_histogram_mma_cuda", [](P a, std::size_t m_rows, P b, std::size_t n_rows, std::size_t nw,
                                           bool self, P hist, std::size_t bins, P st) {
        hamming_histogram_mma_cuda(ptr<const uint64_t>(a), m_rows, ptr<const uint64_t>(b), n_rows, nw, self,
                                   ptr<int64_t>(hist), bins, stream_ptr(st));
    });
    m.def("mma_histogram_max_bins", [] { return mma_histogram_max_bins(); });
    m.def("hamming_histogram_cuda", [](P a, std::size_t m_rows, P b, std::size_t n_rows, std::size_t nw, bool self,
                                       P hist, std::size_t bins, P st) {
        hamming_histogram_cuda(ptr<const uint64_t>(a), m_rows, ptr<const uint64_t>(b), n_rows, nw, self,
                               ptr<int64_t>(hist), bins, stream_ptr(st));
    });
    m.def("random_phase_cuda", [](P g, std::size_t n, std::size_t s, uint64_t seed, P a, P b, P mis, P st) {
        random_phase_cuda(ptr<const uint64_t>(g), n, s, seed, ptr<uint64_t>(a), ptr<uint64_t>(b), ptr<uint64_t>(mis),
                          stream_ptr(st));
    });
    m.def("complement_cuda", [](P g, P h, P hm, std::size_t n, std::size_t s, P h2, P o, P mis, P st) {
        return complement_cuda(ptr<const uint64_t>(g), ptr<const uint64_t>(h), ptr<const uint64_t>(hm), n, s,
                               ptr<uint64_t>(h2), ptr<uint64_t>(o), ptr<uint64_t>(mis), stream_ptr(st));
    });
    m.def("reconcile_cuda", [](P g, P a, P b, std::size_t n, std::size_t s, uint64_t seed, P a2, P b2, P st) {
        return reconcile_cuda(ptr<const uint64_t>(g), ptr<const uint64_t>(a), ptr<const uint64_t>(b), n, s, seed,
                              ptr<uint64_t>(a2), ptr<uint64_t>(b2), stream_ptr(st));
    });
    m.def("rbm_units_cuda", [](P pre, P bias, std::size_t n, std::size_t m_cols, int kind, uint64_t seed,
                               uint64_t step, uint64_t first_row, P sample, P mean, P packed, P st) {
        rbm_units_cuda(ptr<const float>(pre), ptr<const float>(bias), n, m_cols, UnitKind(kind), seed, step, first_row,
                       ptr<float>(sample), ptr<float>(mean), ptr<uint64_t>(packed), stream_ptr(st));
    });
    m.def("snp_planes_cuda", [](P words, P missing, std::size_t n_rows, std::size_t n_snps, bool genotypes, P planes,
                                P st) {
        snp_planes_cuda(ptr<const uint64_t>(words), ptr<const uint64_t>(missing), n_rows, n_snps, genotypes,
                        ptr<uint64_t>(planes), stream_ptr(st));
    });
    m.def("pair_counts_cuda", [](P planes, std::size_t n_planes, std::size_t n_columns, std::size_t nw, P pairs,
                                 std::size_t n_pairs, P counts, P st) {
        pair_counts_cuda(ptr<const uint64_t>(planes), n_planes, n_columns, nw, ptr<const int64_t>(pairs), n_pairs,
                         ptr<int64_t>(counts), stream_ptr(st));
    });
    m.def("merge_cuda", [](P pa, P pb, std::size_t n, P out, P st) {
        merge_cuda(ptr<const float>(pa), ptr<const float>(pb), n, ptr<float>(out), stream_ptr(st));
    });
}
#endif

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "genofast compiled kernels (CPU, and CUDA when built with it)";
#ifdef GENOFAST_WITH_CUDA
    m.attr("cuda_compiled") = true;
    bind_cuda(m);
#else
    m.attr("cuda_compiled") = false;
#endif
    bind_cpu(m);
}
