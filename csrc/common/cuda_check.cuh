// Launch helpers for the .cu files: errors become exceptions, never aborts.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace genofast {

constexpr int kThreads = 256;

inline unsigned blocks_for(std::size_t n) { return unsigned((n + kThreads - 1) / kThreads); }

inline cudaStream_t cuda_stream(void* s) { return static_cast<cudaStream_t>(s); }

inline void check_cuda(cudaError_t err, const char* what) {
    if (err == cudaSuccess) return;
    if (err == cudaErrorMemoryAllocation) throw std::bad_alloc();
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

inline void check_launch(const char* what) { check_cuda(cudaGetLastError(), what); }

// An attribute of the current device.
inline int device_attribute(cudaDeviceAttr attr, const char* what) {
    int dev = 0, v = 0;
    check_cuda(cudaGetDevice(&dev), what);
    check_cuda(cudaDeviceGetAttribute(&v, attr, dev), what);
    return v;
}

}  // namespace genofast
