#include "backend/cuda/cuda_check.hpp"

#include "core/check.hpp"

namespace tabula::cuda {

const char* cublas_status_name(cublasStatus_t status) { return cublasGetStatusName(status); }

const char* cusolver_status_name(cusolverStatus_t status) {
  switch (status) {
    case CUSOLVER_STATUS_SUCCESS:
      return "CUSOLVER_STATUS_SUCCESS";
    case CUSOLVER_STATUS_NOT_INITIALIZED:
      return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED:
      return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE:
      return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH:
      return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_MAPPING_ERROR:
      return "CUSOLVER_STATUS_MAPPING_ERROR";
    case CUSOLVER_STATUS_EXECUTION_FAILED:
      return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR:
      return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED:
      return "CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED";
    case CUSOLVER_STATUS_NOT_SUPPORTED:
      return "CUSOLVER_STATUS_NOT_SUPPORTED";
    case CUSOLVER_STATUS_ZERO_PIVOT:
      return "CUSOLVER_STATUS_ZERO_PIVOT";
    case CUSOLVER_STATUS_INVALID_LICENSE:
      return "CUSOLVER_STATUS_INVALID_LICENSE";
    case CUSOLVER_STATUS_INVALID_WORKSPACE:
      return "CUSOLVER_STATUS_INVALID_WORKSPACE";
    default:
      return "CUSOLVER_STATUS_UNKNOWN";
  }
}

void throw_cuda_error(const char* file, int line, const char* call, cudaError_t error) {
  // Clear a non-sticky error so the next checked call does not report it again.
  cudaGetLastError();
  throw_at_fmt<DeviceError>(file, line, "{} failed: {} ({})", call, cudaGetErrorName(error),
                            cudaGetErrorString(error));
}

void throw_cublas_error(const char* file, int line, const char* call, cublasStatus_t status) {
  throw_at_fmt<DeviceError>(file, line, "{} failed: {} ({})", call, cublas_status_name(status),
                            cublasGetStatusString(status));
}

void throw_cusolver_error(const char* file, int line, const char* call, cusolverStatus_t status) {
  throw_at_fmt<DeviceError>(file, line, "{} failed: {} (status {})", call,
                            cusolver_status_name(status), static_cast<int>(status));
}

}  // namespace tabula::cuda
