// Checked CUDA runtime, cuBLAS and cuSOLVER calls. Every call in the CUDA backend goes through one
// of these macros, so a failure throws tabula::DeviceError naming the file, line, the call and
// the library's own error name and text (through core/check.hpp's throw_at).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cusolverDn.h>

#include <string>

namespace tabula::cuda {

/// "CUBLAS_STATUS_NOT_INITIALIZED" and the like.
const char* cublas_status_name(cublasStatus_t status);
/// "CUSOLVER_STATUS_INVALID_VALUE" and the like.
const char* cusolver_status_name(cusolverStatus_t status);

/// Throws DeviceError "file:line: call failed: name (text)". Out of line to keep call sites small.
[[noreturn]] void throw_cuda_error(const char* file, int line, const char* call, cudaError_t error);
[[noreturn]] void throw_cublas_error(const char* file, int line, const char* call,
                                     cublasStatus_t status);
[[noreturn]] void throw_cusolver_error(const char* file, int line, const char* call,
                                       cusolverStatus_t status);

inline void check_cuda(cudaError_t error, const char* file, int line, const char* call) {
  if (error != cudaSuccess) throw_cuda_error(file, line, call, error);
}
inline void check_cublas(cublasStatus_t status, const char* file, int line, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS) throw_cublas_error(file, line, call, status);
}
inline void check_cusolver(cusolverStatus_t status, const char* file, int line, const char* call) {
  if (status != CUSOLVER_STATUS_SUCCESS) throw_cusolver_error(file, line, call, status);
}

}  // namespace tabula::cuda

#define TABULA_CUDA_CHECK(call) ::tabula::cuda::check_cuda((call), __FILE__, __LINE__, #call)
#define TABULA_CUBLAS_CHECK(call) ::tabula::cuda::check_cublas((call), __FILE__, __LINE__, #call)
#define TABULA_CUSOLVER_CHECK(call) \
  ::tabula::cuda::check_cusolver((call), __FILE__, __LINE__, #call)
/// After a kernel launch: a bad configuration is reported at once (cudaGetLastError); faults
/// inside the kernel surface at the next synchronizing call, which is checked too.
#define TABULA_CUDA_CHECK_LAUNCH() \
  ::tabula::cuda::check_cuda(cudaGetLastError(), __FILE__, __LINE__, "kernel launch")
