#include "backend/cpu/cpu_backend.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "backend/backend_factory.hpp"
#include "backend/cpu/blas.hpp"
#include "tabula/core/error.hpp"

namespace tabula {

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<cpu::CpuBackend>(); }

namespace cpu {
namespace {
// Cache-line and AVX-512 friendly, and what the Backend contract promises.
constexpr std::size_t kAlignment = 256;
}  // namespace

CpuBackend::CpuBackend() { prepare_blas(); }

void* CpuBackend::allocate(std::size_t bytes) {
  // aligned_alloc needs a multiple of the alignment; a zero-byte request still gets a pointer.
  const std::size_t rounded =
      (std::max<std::size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
  void* ptr = std::aligned_alloc(kAlignment, rounded);
  if (ptr == nullptr)
    throw DeviceError("cpu: out of memory allocating " + std::to_string(bytes) + " bytes");
  return ptr;
}

void CpuBackend::deallocate(void* ptr, std::size_t) noexcept { std::free(ptr); }

void CpuBackend::copy_from_host(void* device_dst, const void* host_src, std::size_t bytes) {
  if (bytes > 0) std::memcpy(device_dst, host_src, bytes);
}
void CpuBackend::copy_to_host(void* host_dst, const void* device_src, std::size_t bytes) {
  if (bytes > 0) std::memcpy(host_dst, device_src, bytes);
}
void CpuBackend::copy_on_device(void* device_dst, const void* device_src, std::size_t bytes) {
  if (bytes > 0) std::memmove(device_dst, device_src, bytes);
}
void CpuBackend::fill_zero(void* device_ptr, std::size_t bytes) {
  if (bytes > 0) std::memset(device_ptr, 0, bytes);
}

void CpuBackend::gram(MatrixView<const float> x, VectorView<const double> weights, RowSubset rows,
                      MatrixView<double> out) {
  cpu::gram(x, weights, rows, out);
}
void CpuBackend::gram(MatrixView<const double> x, VectorView<const double> weights, RowSubset rows,
                      MatrixView<double> out) {
  cpu::gram(x, weights, rows, out);
}
void CpuBackend::cross_product(MatrixView<const float> x, MatrixView<const double> y,
                               VectorView<const double> weights, RowSubset rows,
                               MatrixView<double> out) {
  cpu::cross_product(x, y, weights, rows, out);
}
void CpuBackend::cross_product(MatrixView<const double> x, MatrixView<const double> y,
                               VectorView<const double> weights, RowSubset rows,
                               MatrixView<double> out) {
  cpu::cross_product(x, y, weights, rows, out);
}
void CpuBackend::column_moments(MatrixView<const float> x, VectorView<const double> weights,
                                RowSubset rows, VectorView<double> means,
                                VectorView<double> variances) {
  cpu::column_moments(x, weights, rows, means, variances);
}
void CpuBackend::column_moments(MatrixView<const double> x, VectorView<const double> weights,
                                RowSubset rows, VectorView<double> means,
                                VectorView<double> variances) {
  cpu::column_moments(x, weights, rows, means, variances);
}

void CpuBackend::gemm(Op op_a, Op op_b, float alpha, MatrixView<const float> a,
                      MatrixView<const float> b, float beta, MatrixView<float> c) {
  cpu::gemm(op_a, op_b, alpha, a, b, beta, c);
}
void CpuBackend::gemm(Op op_a, Op op_b, double alpha, MatrixView<const double> a,
                      MatrixView<const double> b, double beta, MatrixView<double> c) {
  cpu::gemm(op_a, op_b, alpha, a, b, beta, c);
}
void CpuBackend::gemv(Op op_a, float alpha, MatrixView<const float> a, VectorView<const float> x,
                      float beta, VectorView<float> y) {
  cpu::gemv(op_a, alpha, a, x, beta, y);
}
void CpuBackend::gemv(Op op_a, double alpha, MatrixView<const double> a, VectorView<const double> x,
                      double beta, VectorView<double> y) {
  cpu::gemv(op_a, alpha, a, x, beta, y);
}

bool CpuBackend::cholesky_solve(MatrixView<double> a, MatrixView<double> b) {
  return cpu::cholesky_solve(a, b);
}
void CpuBackend::symmetric_eigen(MatrixView<double> a, VectorView<double> eigenvalues) {
  cpu::symmetric_eigen(a, eigenvalues);
}

}  // namespace cpu
}  // namespace tabula
