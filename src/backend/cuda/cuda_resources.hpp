// Everything the CUDA backend holds on one device, in one RAII object: the device ordinal, a
// non-blocking stream, cuBLAS and cuSOLVER handles bound to that stream, the device's
// stream-ordered memory pool, a reusable cuSOLVER workspace and its info word.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cusolverDn.h>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace tabula::cuda {

class CudaResources {
 public:
  /// Creates the stream, handles and pool settings on device `ordinal`. Throws DeviceError.
  explicit CudaResources(int ordinal);
  /// Waits for queued work, then frees in reverse order of creation; never throws.
  ~CudaResources();
  CudaResources(const CudaResources&) = delete;
  CudaResources& operator=(const CudaResources&) = delete;

  int ordinal() const { return ordinal_; }
  /// Makes this device current on the calling thread. Every entry point calls it first, since
  /// the CUDA runtime's current device is per thread and may have been changed by anyone.
  void activate() const;

  cudaStream_t stream() const { return stream_; }
  cublasHandle_t cublas() const { return cublas_; }
  cusolverDnHandle_t cusolver() const { return cusolver_; }

  /// Stream-ordered allocation from the device's default pool (usable on stream() at once).
  /// Returns nullptr for 0 bytes. Throws DeviceError when out of memory. On a device or
  /// platform without memory pools it falls back to cudaMalloc.
  void* allocate(std::size_t bytes);
  /// Stream-ordered free (with the cudaMalloc fallback: waits for the stream, then frees);
  /// errors are logged, never thrown.
  void deallocate(void* ptr) noexcept;
  /// False when the cudaMalloc fallback is in use.
  bool uses_pool() const { return use_pool_; }

  /// A device workspace of at least `bytes`, reused across calls; valid until the next call.
  /// Growing it frees the old one in stream order, so queued work that uses it stays safe.
  void* workspace(std::size_t bytes);
  /// One device int where cuSOLVER writes its `info` result.
  int* info() const { return info_; }
  /// Copies info() to the host; synchronizes the stream.
  int read_info();

  /// Waits until all work queued on the stream is done.
  void synchronize();

 private:
  void release() noexcept;
  /// True when the device's default pool works here (see the .cpp); sets its release threshold.
  bool probe_pool();

  int ordinal_;
  bool use_pool_ = false;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cusolverDnHandle_t cusolver_ = nullptr;
  void* workspace_ = nullptr;
  std::size_t workspace_bytes_ = 0;
  int* info_ = nullptr;
};

/// A temporary device array of `size` T, allocated and freed in stream order on `resources`.
template <typename T>
class DeviceArray {
 public:
  DeviceArray(CudaResources& resources, std::int64_t size)
      : resources_(&resources),
        data_(size > 0
                  ? static_cast<T*>(resources.allocate(static_cast<std::size_t>(size) * sizeof(T)))
                  : nullptr),
        size_(size) {}
  DeviceArray(DeviceArray&& other) noexcept
      : resources_(other.resources_),
        data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  DeviceArray& operator=(DeviceArray&&) = delete;
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() {
    if (data_ != nullptr) resources_->deallocate(data_);
  }

  T* data() const { return data_; }
  std::int64_t size() const { return size_; }

 private:
  CudaResources* resources_;
  T* data_;
  std::int64_t size_;
};

}  // namespace tabula::cuda
