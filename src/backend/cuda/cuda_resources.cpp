#include "backend/cuda/cuda_resources.hpp"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "backend/cuda/cuda_check.hpp"
#include "tabula/core/error.hpp"

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

    use_pool_ = probe_pool();

    info_ = static_cast<int*>(allocate(sizeof(int)));
  } catch (...) {
    release();
    throw;
  }
}

CudaResources::~CudaResources() { release(); }

// Stream-ordered pools can be missing (the attribute says 0) or refuse at first use (some
// virtualised GPUs): probe the attribute, the pool setting and one trial allocation, and fall
// back to cudaMalloc with one line saying why. TABULA_CUDA_NO_POOL=1 forces the fallback, so a
// machine with pools can test it (scripts/gpu-check.sh does).
bool CudaResources::probe_pool() {
  std::string why;
  const char* forced = std::getenv("TABULA_CUDA_NO_POOL");
  int supported = 0;
  cudaError_t error = cudaSuccess;
  if (forced != nullptr && std::string(forced) == "1") {
    why = "TABULA_CUDA_NO_POOL=1";
  } else {
    error = cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, ordinal_);
    if (error == cudaSuccess && supported == 0) why = "the device reports no memory pool support";
  }
  if (why.empty() && error == cudaSuccess) {
    cudaMemPool_t pool = nullptr;
    std::size_t free_bytes = 0, total_bytes = 0;
    void* trial = nullptr;
    error = cudaDeviceGetDefaultMemPool(&pool, ordinal_);
    if (error == cudaSuccess) error = cudaMemGetInfo(&free_bytes, &total_bytes);
    std::uint64_t threshold = total_bytes / kPoolReleaseThresholdDivisor;
    if (error == cudaSuccess)
      error = cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold);
    if (error == cudaSuccess) error = cudaMallocAsync(&trial, kAllocationAlignment, stream_);
    if (error == cudaSuccess) error = cudaFreeAsync(trial, stream_);
    if (error == cudaSuccess) error = cudaStreamSynchronize(stream_);
  }
  if (error != cudaSuccess) {
    cudaGetLastError();
    why = std::string(cudaGetErrorName(error)) + ": " + cudaGetErrorString(error);
  }
  if (why.empty()) return true;
  spdlog::warn("cuda:{}: no stream-ordered memory pool ({}); using cudaMalloc/cudaFree", ordinal_,
               why);
  return false;
}

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
