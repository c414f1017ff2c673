#include "backend/cuda/cuda_backend.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/cuda_view_checks.hpp"
#include "gather.cuh"
#include "moments.cuh"
#include "symmetrize.cuh"
#include "tabula/core/error.hpp"
#include "validate.cuh"

namespace tabula::cuda {
namespace {

using kernels::RowScale;

// Sums over rows run in blocks whose size depends only on the number of columns, so the
// order of additions (and the result, bit for bit) is fixed for a given shape. A block's
// float64 tile is at most about kTileBytes.
constexpr std::int64_t kTileBytes = std::int64_t{128} << 20;
constexpr std::int64_t kMinBlockRows = 1024;
constexpr std::int64_t kMaxBlockRows = std::int64_t{1} << 20;
// Below this many columns the Gram matrix uses gemm, whose split-k kernels keep the GPU busy
// on tall, narrow tiles; above it syrk, which does half the work. Both write the lower
// triangle exactly once per block, and the upper one is copied from it at the end.
constexpr std::int64_t kSyrkMinCols = 512;

std::int64_t rows_per_block(std::int64_t cols) {
  return std::clamp<std::int64_t>(kTileBytes / (8 * std::max<std::int64_t>(cols, 1)), kMinBlockRows,
                                  kMaxBlockRows);
}

// ---- Layout mapping for cuBLAS (column-major) --------------------------------------------
// A view's memory read column-major with leading dimension `stride` is the matrix itself
// (column-major view) or its transpose (row-major view). Hence:
//   op(view) = M or Mᵀ, transposed exactly when (op == kTranspose) XOR (view is row-major);
//   c column-major: C  = op(a) op(b)        -> gemm(t(a), t(b), m, n, k, a, b, c)
//   c row-major:    Cᵀ = op(b)ᵀ op(a)ᵀ      -> gemm(!t(b), !t(a), n, m, k, b, a, c)
// where the memory of a row-major c is Cᵀ in column-major terms.
template <typename T>
bool needs_transpose(Op op, const MatrixView<T>& view) {
  return (op == Op::kTranspose) != (view.layout == Layout::kRowMajor);
}

cublasOperation_t to_cublas(bool transpose) { return transpose ? CUBLAS_OP_T : CUBLAS_OP_N; }

// Leading dimension as cuBLAS wants it: at least 1 and at least the rows of the column-major
// matrix in memory (an empty view may carry a smaller stride; it is never read).
template <typename T>
int leading_dimension(const MatrixView<T>& view, const char* what) {
  const std::int64_t inner = view.layout == Layout::kRowMajor ? view.cols : view.rows;
  return to_int(std::max<std::int64_t>({1, view.stride, inner}), what);
}

// Rows and columns of a view's memory in column-major terms.
template <typename T>
std::int64_t memory_rows(const MatrixView<T>& view) {
  return view.layout == Layout::kRowMajor ? view.cols : view.rows;
}
template <typename T>
std::int64_t memory_cols(const MatrixView<T>& view) {
  return view.layout == Layout::kRowMajor ? view.rows : view.cols;
}

// Typed cuBLAS entry points, so the algorithms are written once for float and double.
cublasStatus_t gemm_call(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                         int k, const float* alpha, const float* a, int lda, const float* b,
                         int ldb, const float* beta, float* c, int ldc) {
  return cublasSgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
cublasStatus_t gemm_call(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                         int k, const double* alpha, const double* a, int lda, const double* b,
                         int ldb, const double* beta, double* c, int ldc) {
  return cublasDgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
cublasStatus_t gemv_call(cublasHandle_t h, cublasOperation_t ta, int m, int n, const float* alpha,
                         const float* a, int lda, const float* x, const float* beta, float* y) {
  return cublasSgemv(h, ta, m, n, alpha, a, lda, x, 1, beta, y, 1);
}
cublasStatus_t gemv_call(cublasHandle_t h, cublasOperation_t ta, int m, int n, const double* alpha,
                         const double* a, int lda, const double* x, const double* beta, double* y) {
  return cublasDgemv(h, ta, m, n, alpha, a, lda, x, 1, beta, y, 1);
}
cublasStatus_t scal_call(cublasHandle_t h, int n, const float* alpha, float* x) {
  return cublasSscal(h, n, alpha, x, 1);
}
cublasStatus_t scal_call(cublasHandle_t h, int n, const double* alpha, double* x) {
  return cublasDscal(h, n, alpha, x, 1);
}

}  // namespace

CudaBackend::CudaBackend(int ordinal) : resources_(ordinal) {}

// ---- Memory ---------------------------------------------------------------------------------

void* CudaBackend::allocate(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  resources_.activate();
  return resources_.allocate(bytes);
}

void CudaBackend::deallocate(void* ptr, std::size_t /*bytes*/) noexcept {
  std::lock_guard lock(mutex_);
  if (ptr == nullptr) return;
  if (cudaSetDevice(resources_.ordinal()) != cudaSuccess) {
    cudaGetLastError();
    return;  // the runtime is gone (process exit); nothing left to free into
  }
  resources_.deallocate(ptr);
}

void CudaBackend::copy_from_host(void* device_dst, const void* host_src, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  if (bytes == 0) return;
  resources_.activate();
  TABULA_CUDA_CHECK(
      cudaMemcpyAsync(device_dst, host_src, bytes, cudaMemcpyHostToDevice, resources_.stream()));
  // The caller may reuse or free host_src as soon as this returns (pinned or not).
  resources_.synchronize();
}

void CudaBackend::copy_to_host(void* host_dst, const void* device_src, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  if (bytes == 0) return;
  resources_.activate();
  TABULA_CUDA_CHECK(
      cudaMemcpyAsync(host_dst, device_src, bytes, cudaMemcpyDeviceToHost, resources_.stream()));
  resources_.synchronize();
}

void CudaBackend::copy_on_device(void* device_dst, const void* device_src, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  if (bytes == 0) return;
  resources_.activate();
  TABULA_CUDA_CHECK(cudaMemcpyAsync(device_dst, device_src, bytes, cudaMemcpyDeviceToDevice,
                                    resources_.stream()));
}

void CudaBackend::fill_zero(void* device_ptr, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  if (bytes == 0) return;
  resources_.activate();
  TABULA_CUDA_CHECK(cudaMemsetAsync(device_ptr, 0, bytes, resources_.stream()));
}

void CudaBackend::synchronize() {
  std::lock_guard lock(mutex_);
  resources_.activate();
  resources_.synchronize();
}

void CudaBackend::zero_matrix(void* data, std::size_t element_bytes, std::int64_t rows,
                              std::int64_t cols, std::int64_t ld) {
  if (rows <= 0 || cols <= 0) return;
  TABULA_CUDA_CHECK(cudaMemset2DAsync(data, static_cast<std::size_t>(ld) * element_bytes, 0,
                                      static_cast<std::size_t>(rows) * element_bytes,
                                      static_cast<std::size_t>(cols), resources_.stream()));
}

void CudaBackend::check_rows(const std::int64_t* indices, std::int64_t count,
                             std::int64_t total_rows, const double* weights,
                             const char* primitive) {
  if (count == 0 || (indices == nullptr && weights == nullptr)) return;
  const cudaStream_t stream = resources_.stream();
  DeviceArray<std::int64_t> first_bad(resources_, 2);
  kernels::launch_find_bad_rows(indices, count, total_rows, weights, first_bad.data(), stream);
  std::int64_t bad[2] = {count, count};
  TABULA_CUDA_CHECK(
      cudaMemcpyAsync(bad, first_bad.data(), sizeof(bad), cudaMemcpyDeviceToHost, stream));
  resources_.synchronize();
  if (bad[0] >= count && bad[1] >= count) return;

  // The CPU backend reports the first bad position: a bad index before its weight.
  const std::int64_t position = std::min(bad[0], bad[1]);
  std::int64_t row = position;
  if (indices != nullptr) {
    TABULA_CUDA_CHECK(
        cudaMemcpyAsync(&row, indices + position, sizeof(row), cudaMemcpyDeviceToHost, stream));
    resources_.synchronize();
  }
  if (bad[0] <= bad[1])
    throw Error(std::string(primitive) + ": row subset entry " + std::to_string(position) + " is " +
                std::to_string(row) + ", outside [0, " + std::to_string(total_rows) + ")");
  double weight = 0.0;
  TABULA_CUDA_CHECK(
      cudaMemcpyAsync(&weight, weights + row, sizeof(weight), cudaMemcpyDeviceToHost, stream));
  resources_.synchronize();
  throw InputError(std::string(primitive) + ": weight of row " + std::to_string(row) + " is " +
                   std::to_string(weight) + "; weights must be finite and non-negative");
}

void CudaBackend::check_finite_lower(MatrixView<double> a) {
  const cudaStream_t stream = resources_.stream();
  DeviceArray<std::int64_t> first_bad(resources_, 1);
  kernels::launch_find_non_finite_lower(a.data, a.rows, a.stride, first_bad.data(), stream);
  std::int64_t bad = 0;
  TABULA_CUDA_CHECK(
      cudaMemcpyAsync(&bad, first_bad.data(), sizeof(bad), cudaMemcpyDeviceToHost, stream));
  resources_.synchronize();
  const std::int64_t n = a.rows;
  if (bad >= n * n) return;
  // Same element and words as the CPU: the first one in column-major order.
  throw Error("symmetric_eigen: a(" + std::to_string(bad % n) + ", " + std::to_string(bad / n) +
              ") is not finite");
}

// ---- Sufficient statistics -------------------------------------------------------------------

template <typename T>
void CudaBackend::gram_impl(MatrixView<const T> x, VectorView<const double> weights, RowSubset rows,
                            MatrixView<double> out) {
  resources_.activate();
  const Device here = device();
  check_matrix(x, here, "gram: x");
  check_matrix(out, here, "gram: out");
  check_weights_and_rows(weights, rows, x.rows, here, "gram");
  const std::int64_t d = x.cols;
  check_shape(out, d, d, "gram: out (d x d for x with d columns)");
  if (d == 0) return;

  const std::int64_t count = rows.count(x.rows);
  const std::int64_t* indices = rows.is_all() ? nullptr : rows.indices.data;
  const double* w = weights.size > 0 ? weights.data : nullptr;
  check_rows(indices, count, x.rows, w, "gram");

  // out is symmetric, so its memory read column-major with ld = stride is out itself,
  // whatever its layout.
  const std::int64_t ld_out = out.stride;
  if (count == 0) {
    zero_matrix(out.data, sizeof(double), d, d, ld_out);
    return;
  }
  const cudaStream_t stream = resources_.stream();
  const std::int64_t block_rows = std::min(rows_per_block(d), count);
  DeviceArray<double> tile(resources_, block_rows * d);
  const int n = to_int(d, "gram: columns of x");
  const int ldc = to_int(ld_out, "gram: stride of out");
  const double one = 1.0;
  for (std::int64_t first = 0; first < count; first += block_rows) {
    const std::int64_t b = std::min(block_rows, count - first);
    const int k = to_int(b, "gram: rows per block");
    // Xᵀ diag(w) X = (diag(√w) X)ᵀ (diag(√w) X): the tile holds √w-scaled rows.
    kernels::launch_gather_rows(x, indices, first, b, w, RowScale::kSqrtWeight, tile.data(), b,
                                stream);
    const double beta = first == 0 ? 0.0 : 1.0;
    if (d < kSyrkMinCols)
      TABULA_CUBLAS_CHECK(cublasDgemm(resources_.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, n, n, k, &one,
                                      tile.data(), k, tile.data(), k, &beta, out.data, ldc));
    else
      TABULA_CUBLAS_CHECK(cublasDsyrk(resources_.cublas(), CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, n,
                                      k, &one, tile.data(), k, &beta, out.data, ldc));
  }
  // Exact symmetry, as on the CPU: both triangles hold the same bits.
  kernels::launch_copy_lower_to_upper(out.data, d, ld_out, stream);
}

template <typename T>
void CudaBackend::cross_product_impl(MatrixView<const T> x, MatrixView<const double> y,
                                     VectorView<const double> weights, RowSubset rows,
                                     MatrixView<double> out) {
  resources_.activate();
  const Device here = device();
  check_matrix(x, here, "cross_product: x");
  check_matrix(y, here, "cross_product: y");
  check_matrix(out, here, "cross_product: out");
  check_weights_and_rows(weights, rows, x.rows, here, "cross_product");
  if (y.rows != x.rows)
    throw Error("cross_product: x is " + describe(x) + " but y is " + describe(y) +
                " (both need the same number of rows)");
  const std::int64_t d = x.cols;
  const std::int64_t k = y.cols;
  check_shape(out, d, k, "cross_product: out (d x k for x n x d, y n x k)");
  if (d == 0 || k == 0) return;

  const std::int64_t count = rows.count(x.rows);
  const std::int64_t* indices = rows.is_all() ? nullptr : rows.indices.data;
  const double* w = weights.size > 0 ? weights.data : nullptr;
  check_rows(indices, count, x.rows, w, "cross_product");

  const bool out_row_major = out.layout == Layout::kRowMajor;
  if (count == 0) {
    zero_matrix(out.data, sizeof(double), memory_rows(out), memory_cols(out), out.stride);
    return;
  }
  const cudaStream_t stream = resources_.stream();
  const std::int64_t block_rows = std::min(rows_per_block(d + k), count);
  DeviceArray<double> x_tile(resources_, block_rows * d);
  DeviceArray<double> y_tile(resources_, block_rows * k);
  const int dd = to_int(d, "cross_product: columns of x");
  const int kk = to_int(k, "cross_product: columns of y");
  const int ldc = to_int(out.stride, "cross_product: stride of out");
  const double one = 1.0;
  for (std::int64_t first = 0; first < count; first += block_rows) {
    const std::int64_t b = std::min(block_rows, count - first);
    const int inner = to_int(b, "cross_product: rows per block");
    // Xᵀ diag(w) Y: the weights go on the x tile only.
    kernels::launch_gather_rows(x, indices, first, b, w, RowScale::kWeight, x_tile.data(), b,
                                stream);
    kernels::launch_gather_rows(y, indices, first, b, nullptr, RowScale::kNone, y_tile.data(), b,
                                stream);
    const double beta = first == 0 ? 0.0 : 1.0;
    // Column-major out: C (d x k) = Xtᵀ Yt. Row-major out is Cᵀ (k x d) = Ytᵀ Xt in memory.
    if (!out_row_major)
      TABULA_CUBLAS_CHECK(cublasDgemm(resources_.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, dd, kk, inner,
                                      &one, x_tile.data(), inner, y_tile.data(), inner, &beta,
                                      out.data, ldc));
    else
      TABULA_CUBLAS_CHECK(cublasDgemm(resources_.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, kk, dd, inner,
                                      &one, y_tile.data(), inner, x_tile.data(), inner, &beta,
                                      out.data, ldc));
  }
}

template <typename T>
void CudaBackend::column_moments_impl(MatrixView<const T> x, VectorView<const double> weights,
                                      RowSubset rows, VectorView<double> means,
                                      VectorView<double> variances) {
  resources_.activate();
  const Device here = device();
  check_matrix(x, here, "column_moments: x");
  check_vector(means, here, "column_moments: means");
  check_vector(variances, here, "column_moments: variances");
  check_weights_and_rows(weights, rows, x.rows, here, "column_moments");
  const std::int64_t d = x.cols;
  if (means.size != d || variances.size != d)
    throw Error("column_moments: x is " + describe(x) + ", so means and variances need " +
                std::to_string(d) + " elements; got " + std::to_string(means.size) + " and " +
                std::to_string(variances.size));
  if (d == 0) return;

  const std::int64_t count = rows.count(x.rows);
  const std::int64_t* indices = rows.is_all() ? nullptr : rows.indices.data;
  const double* w = weights.size > 0 ? weights.data : nullptr;
  check_rows(indices, count, x.rows, w, "column_moments");
  DeviceArray<double> scratch(resources_, kernels::column_moments_scratch_size(count, d));
  kernels::launch_column_moments(x, indices, count, w, means.data, variances.data, scratch.data(),
                                 resources_.stream());
}

void CudaBackend::gram(MatrixView<const float> x, VectorView<const double> weights, RowSubset rows,
                       MatrixView<double> out) {
  std::lock_guard lock(mutex_);
  gram_impl(x, weights, rows, out);
}
void CudaBackend::gram(MatrixView<const double> x, VectorView<const double> weights, RowSubset rows,
                       MatrixView<double> out) {
  std::lock_guard lock(mutex_);
  gram_impl(x, weights, rows, out);
}
void CudaBackend::cross_product(MatrixView<const float> x, MatrixView<const double> y,
                                VectorView<const double> weights, RowSubset rows,
                                MatrixView<double> out) {
  std::lock_guard lock(mutex_);
  cross_product_impl(x, y, weights, rows, out);
}
void CudaBackend::cross_product(MatrixView<const double> x, MatrixView<const double> y,
                                VectorView<const double> weights, RowSubset rows,
                                MatrixView<double> out) {
  std::lock_guard lock(mutex_);
  cross_product_impl(x, y, weights, rows, out);
}
void CudaBackend::column_moments(MatrixView<const float> x, VectorView<const double> weights,
                                 RowSubset rows, VectorView<double> means,
                                 VectorView<double> variances) {
  std::lock_guard lock(mutex_);
  column_moments_impl(x, weights, rows, means, variances);
}
void CudaBackend::column_moments(MatrixView<const double> x, VectorView<const double> weights,
                                 RowSubset rows, VectorView<double> means,
                                 VectorView<double> variances) {
  std::lock_guard lock(mutex_);
  column_moments_impl(x, weights, rows, means, variances);
}

// ---- Dense linear algebra --------------------------------------------------------------------

template <typename T>
void CudaBackend::gemm_impl(Op op_a, Op op_b, T alpha, MatrixView<const T> a, MatrixView<const T> b,
                            T beta, MatrixView<T> c) {
  resources_.activate();
  const Device here = device();
  const auto [m, n, k] = check_gemm(op_a, op_b, a, b, c, here);
  if (m == 0 || n == 0) return;

  const int ldc = leading_dimension(c, "gemm: stride of c");
  if (k == 0) {
    // c = beta * c, done explicitly: with nothing to multiply, BLAS implementations differ.
    const std::int64_t rows = memory_rows(c);
    const std::int64_t cols = memory_cols(c);
    if (beta == T(0)) {
      zero_matrix(c.data, sizeof(T), rows, cols, ldc);
    } else if (beta != T(1)) {
      const int len = to_int(rows, "gemm: rows of c");
      for (std::int64_t j = 0; j < cols; ++j)
        TABULA_CUBLAS_CHECK(scal_call(resources_.cublas(), len, &beta, c.data + j * ldc));
    }
    return;
  }
  const int lda = leading_dimension(a, "gemm: stride of a");
  const int ldb = leading_dimension(b, "gemm: stride of b");
  const int mm = to_int(m, "gemm: rows of op(a)");
  const int nn = to_int(n, "gemm: columns of op(b)");
  const int kk = to_int(k, "gemm: inner dimension");
  const bool ta = needs_transpose(op_a, a);
  const bool tb = needs_transpose(op_b, b);
  if (c.layout == Layout::kColMajor)
    TABULA_CUBLAS_CHECK(gemm_call(resources_.cublas(), to_cublas(ta), to_cublas(tb), mm, nn, kk,
                                  &alpha, a.data, lda, b.data, ldb, &beta, c.data, ldc));
  else
    TABULA_CUBLAS_CHECK(gemm_call(resources_.cublas(), to_cublas(!tb), to_cublas(!ta), nn, mm, kk,
                                  &alpha, b.data, ldb, a.data, lda, &beta, c.data, ldc));
}

template <typename T>
void CudaBackend::gemv_impl(Op op_a, T alpha, MatrixView<const T> a, VectorView<const T> x, T beta,
                            VectorView<T> y) {
  resources_.activate();
  const Device here = device();
  const auto [p, q] = check_gemv(op_a, a, x, y, here);  // op(a) is p x q
  if (p == 0) return;
  const int len = to_int(p, "gemv: length of y");
  if (q == 0) {
    // y = beta * y, done explicitly: BLAS returns early here without scaling y.
    if (beta == T(0))
      fill_zero(y.data, static_cast<std::size_t>(p) * sizeof(T));
    else if (beta != T(1))
      TABULA_CUBLAS_CHECK(scal_call(resources_.cublas(), len, &beta, y.data));
    return;
  }
  // The memory of a is M (memory_rows x memory_cols, column-major); op(a) = M or Mᵀ.
  const int rows = to_int(memory_rows(a), "gemv: rows of a");
  const int cols = to_int(memory_cols(a), "gemv: columns of a");
  const int lda = leading_dimension(a, "gemv: stride of a");
  TABULA_CUBLAS_CHECK(gemv_call(resources_.cublas(), to_cublas(needs_transpose(op_a, a)), rows,
                                cols, &alpha, a.data, lda, x.data, &beta, y.data));
}

void CudaBackend::gemm(Op op_a, Op op_b, float alpha, MatrixView<const float> a,
                       MatrixView<const float> b, float beta, MatrixView<float> c) {
  std::lock_guard lock(mutex_);
  gemm_impl(op_a, op_b, alpha, a, b, beta, c);
}
void CudaBackend::gemm(Op op_a, Op op_b, double alpha, MatrixView<const double> a,
                       MatrixView<const double> b, double beta, MatrixView<double> c) {
  std::lock_guard lock(mutex_);
  gemm_impl(op_a, op_b, alpha, a, b, beta, c);
}
void CudaBackend::gemv(Op op_a, float alpha, MatrixView<const float> a, VectorView<const float> x,
                       float beta, VectorView<float> y) {
  std::lock_guard lock(mutex_);
  gemv_impl(op_a, alpha, a, x, beta, y);
}
void CudaBackend::gemv(Op op_a, double alpha, MatrixView<const double> a,
                       VectorView<const double> x, double beta, VectorView<double> y) {
  std::lock_guard lock(mutex_);
  gemv_impl(op_a, alpha, a, x, beta, y);
}

bool CudaBackend::cholesky_solve(MatrixView<double> a, MatrixView<double> b) {
  std::lock_guard lock(mutex_);
  resources_.activate();
  const Device here = device();
  check_cholesky_solve(a, b, here);
  const std::int64_t n = a.rows;
  if (n == 0) return true;

  const cusolverDnHandle_t solver = resources_.cusolver();
  const int nn = to_int(n, "cholesky_solve: size of a");
  const int lda = leading_dimension(a, "cholesky_solve: stride of a");
  int lwork = 0;
  TABULA_CUSOLVER_CHECK(
      cusolverDnDpotrf_bufferSize(solver, CUBLAS_FILL_MODE_LOWER, nn, a.data, lda, &lwork));
  auto* work = static_cast<double*>(
      resources_.workspace(static_cast<std::size_t>(std::max(lwork, 1)) * sizeof(double)));
  TABULA_CUSOLVER_CHECK(cusolverDnDpotrf(solver, CUBLAS_FILL_MODE_LOWER, nn, a.data, lda, work,
                                         lwork, resources_.info()));
  const int factor_info = resources_.read_info();
  if (factor_info > 0) return false;  // leading minor of that order is not positive definite
  if (factor_info < 0)
    throw Error("cholesky_solve: cusolverDnDpotrf rejected argument " +
                std::to_string(-factor_info));
  // As on the CPU: NaN or infinite input can factor "successfully" into a non-finite L.
  std::vector<double> diagonal(static_cast<std::size_t>(n));
  TABULA_CUDA_CHECK(cudaMemcpy2DAsync(
      diagonal.data(), sizeof(double), a.data, static_cast<std::size_t>(lda + 1) * sizeof(double),
      sizeof(double), static_cast<std::size_t>(n), cudaMemcpyDeviceToHost, resources_.stream()));
  resources_.synchronize();
  for (const double value : diagonal)
    if (!(value > 0.0) || !std::isfinite(value)) return false;
  if (b.cols == 0) return true;

  const int nrhs = to_int(b.cols, "cholesky_solve: columns of b");
  const int ldb = leading_dimension(b, "cholesky_solve: stride of b");
  TABULA_CUSOLVER_CHECK(cusolverDnDpotrs(solver, CUBLAS_FILL_MODE_LOWER, nn, nrhs, a.data, lda,
                                         b.data, ldb, resources_.info()));
  const int solve_info = resources_.read_info();
  if (solve_info != 0)
    throw Error("cholesky_solve: cusolverDnDpotrs rejected argument " +
                std::to_string(-solve_info));
  return true;
}

void CudaBackend::symmetric_eigen(MatrixView<double> a, VectorView<double> eigenvalues) {
  std::lock_guard lock(mutex_);
  resources_.activate();
  const Device here = device();
  check_symmetric_eigen(a, eigenvalues, here);
  const std::int64_t n = a.rows;
  if (n == 0) return;
  check_finite_lower(a);

  const cusolverDnHandle_t solver = resources_.cusolver();
  const int nn = to_int(n, "symmetric_eigen: size of a");
  const int lda = leading_dimension(a, "symmetric_eigen: stride of a");
  int lwork = 0;
  TABULA_CUSOLVER_CHECK(cusolverDnDsyevd_bufferSize(solver, CUSOLVER_EIG_MODE_VECTOR,
                                                    CUBLAS_FILL_MODE_LOWER, nn, a.data, lda,
                                                    eigenvalues.data, &lwork));
  auto* work = static_cast<double*>(
      resources_.workspace(static_cast<std::size_t>(std::max(lwork, 1)) * sizeof(double)));
  // Eigenvalues come back ascending and a is overwritten by the eigenvectors, as the CPU does.
  TABULA_CUSOLVER_CHECK(cusolverDnDsyevd(solver, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER,
                                         nn, a.data, lda, eigenvalues.data, work, lwork,
                                         resources_.info()));
  const int info = resources_.read_info();
  if (info > 0)
    throw Error("symmetric_eigen: cusolverDnDsyevd did not converge (" + std::to_string(info) +
                " off-diagonal elements of an intermediate tridiagonal form did not reach zero)");
  if (info < 0)
    throw Error("symmetric_eigen: cusolverDnDsyevd rejected argument " + std::to_string(-info));
}

}  // namespace tabula::cuda
