#include "backend/cuda/cuda_resources.hpp"

#include <spdlog/spdlog.h>

#include <cstdint>

#include "backend/cuda/cuda_check.hpp"
#include "tabula/error.hpp"

namespace tabula::cuda {
namespace {

// The pool keeps up to this share of device memory reserved across synchronizations instead of
// returning it to the driver, so repeated fits reuse allocations without new cudaMalloc calls.
constexpr std::uint64_t kPoolReleaseThresholdDivisor = 4;
constexpr std::uintptr_t kAllocationAlignment = 256;  // Backend::allocate's promise

}  // namespace

CudaResources::CudaResources(int ordinal) : ordinal_(ordinal) {
  try {
    activate();
    TABULA_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));

    TABULA_CUBLAS_CHECK(cublasCreate(&cublas_));
    TABULA_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
    TABULA_CUBLAS_CHECK(cublasSetPointerMode(cublas_, CUBLAS_POINTER_MODE_HOST));
    // No TF32 or reduced-precision shortcuts: float gemm must agree with the CPU within float
    // rounding, and no atomics so results are reproducible run to run.
    TABULA_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));
    TABULA_CUBLAS_CHECK(cublasSetAtomicsMode(cublas_, CUBLAS_ATOMICS_NOT_ALLOWED));

    TABULA_CUSOLVER_CHECK(cusolverDnCreate(&cusolver_));
    TABULA_CUSOLVER_CHECK(cusolverDnSetStream(cusolver_, stream_));

    int pools_supported = 0;
    TABULA_CUDA_CHECK(
        cudaDeviceGetAttribute(&pools_supported, cudaDevAttrMemoryPoolsSupported, ordinal_));
    use_pool_ = pools_supported != 0;
    if (use_pool_) {
      cudaMemPool_t pool = nullptr;
      TABULA_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, ordinal_));
      std::size_t free_bytes = 0;
      std::size_t total_bytes = 0;
      TABULA_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
      std::uint64_t threshold = total_bytes / kPoolReleaseThresholdDivisor;
      TABULA_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
    } else {
      spdlog::warn("cuda:{}: no stream-ordered memory pools here; using cudaMalloc/cudaFree",
                   ordinal_);
    }

    info_ = static_cast<int*>(allocate(sizeof(int)));
  } catch (...) {
    release();
    throw;
  }
}

CudaResources::~CudaResources() { release(); }

void CudaResources::release() noexcept {
  // Errors here (e.g. the runtime already unloading at process exit) cannot be acted upon.
  if (cudaSetDevice(ordinal_) != cudaSuccess) {
    cudaGetLastError();
    return;
  }
  // No logging here: at process exit the logger may already be gone.
  for (void* ptr : {static_cast<void*>(info_), workspace_}) {
    if (ptr == nullptr) continue;
    if (use_pool_) {
      cudaFreeAsync(ptr, stream_);
    } else {
      cudaStreamSynchronize(stream_);
      cudaFree(ptr);
    }
  }
  info_ = nullptr;
  workspace_ = nullptr;
  workspace_bytes_ = 0;
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  if (cusolver_ != nullptr) cusolverDnDestroy(cusolver_);
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
  cusolver_ = nullptr;
  cublas_ = nullptr;
  stream_ = nullptr;
  cudaGetLastError();
}

void CudaResources::activate() const { TABULA_CUDA_CHECK(cudaSetDevice(ordinal_)); }

void* CudaResources::allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  void* ptr = nullptr;
  const cudaError_t error =
      use_pool_ ? cudaMallocAsync(&ptr, bytes, stream_) : cudaMalloc(&ptr, bytes);
  if (error == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw DeviceError("cuda:" + std::to_string(ordinal_) + ": out of device memory allocating " +
                      std::to_string(bytes) + " bytes");
  }
  TABULA_CUDA_CHECK(error);
  TABULA_ASSERT(reinterpret_cast<std::uintptr_t>(ptr) % kAllocationAlignment == 0,
                "cudaMallocAsync returned memory aligned to less than 256 bytes");
  return ptr;
}

void CudaResources::deallocate(void* ptr) noexcept {
  if (ptr == nullptr) return;
  cudaError_t error = cudaSuccess;
  if (use_pool_) {
    error = cudaFreeAsync(ptr, stream_);
  } else {
    // Work queued on the stream may still use ptr: wait for it before freeing.
    error = cudaStreamSynchronize(stream_);
    const cudaError_t free_error = cudaFree(ptr);
    if (error == cudaSuccess) error = free_error;
  }
  if (error != cudaSuccess) {
    cudaGetLastError();
    spdlog::warn("cuda:{}: freeing device memory failed: {} ({})", ordinal_,
                 cudaGetErrorName(error), cudaGetErrorString(error));
  }
}

void* CudaResources::workspace(std::size_t bytes) {
  if (bytes <= workspace_bytes_ && workspace_ != nullptr) return workspace_;
  void* grown = allocate(bytes > 0 ? bytes : 1);
  deallocate(workspace_);
  workspace_ = grown;
  workspace_bytes_ = bytes;
  return workspace_;
}

int CudaResources::read_info() {
  int host_info = 0;
  TABULA_CUDA_CHECK(
      cudaMemcpyAsync(&host_info, info_, sizeof(int), cudaMemcpyDeviceToHost, stream_));
  synchronize();
  return host_info;
}

void CudaResources::synchronize() { TABULA_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

}  // namespace tabula::cuda
