// CudaBackend::gradient_hessian (LogisticOps): the logistic loss, gradient and Hessian on the GPU.
// Rows are processed in fixed tiles: a gather kernel builds a float64 column-major tile A of the
// selected rows (plus a column of ones for the intercept), cuBLAS computes the scores A Θ,
// a kernel turns them into residuals, per-row losses and Hessian row scales, and cuBLAS
// accumulates the gradient Aᵀ R and the Hessian blocks (diag(s) A)ᵀ (diag(s) A) tile after tile
// (beta = 1), so the result is deterministic on one device (no float atomics).
#include <algorithm>
#include <string>

#include <mutex>

#include "backend/cuda/cuda_backend.hpp"
#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/cuda_view_checks.hpp"
#include "gather.cuh"
#include "logistic.cuh"
#include "tabula/core/error.hpp"

namespace tabula::cuda {
namespace {

constexpr const char* kName = "logistic_gradient_hessian";
// Rows per tile: large enough to keep the GPU busy per cuBLAS call, small enough that the tile
// and its scaled copy stay a few tens of MB for a few hundred columns.
constexpr std::int64_t kTileRows = 16384;

}  // namespace

// long: the CPU version's checks and messages, then one tiled loop of cuBLAS calls and
// kernels on one stream; the tiles share the device buffers declared at the top.
double CudaBackend::gradient_hessian(MatrixView<const float> x, VectorView<const double> y,
                                     VectorView<const double> weights, RowSubset rows,
                                     int n_classes, bool fit_intercept,
                                     VectorView<const double> coef, VectorView<double> gradient,
                                     MatrixView<double> hessian) {
  std::lock_guard lock(mutex_);
  resources_.activate();
  const Device here = device();
  check_matrix(x, here, "logistic_gradient_hessian: x");
  check_vector(y, here, "logistic_gradient_hessian: y");
  check_vector(coef, here, "logistic_gradient_hessian: coef");
  check_vector(gradient, here, "logistic_gradient_hessian: gradient");
  check_weights_and_rows(weights, rows, x.rows, here, kName);
  const bool want_hessian = hessian.data != nullptr;
  if (want_hessian) check_matrix(hessian, here, "logistic_gradient_hessian: hessian");
  if (n_classes < 2)
    throw Error(std::string(kName) + ": needs at least 2 classes, got " +
                std::to_string(n_classes));
  const std::int64_t d = x.cols;
  const std::int64_t p = d + (fit_intercept ? 1 : 0);
  const int m = n_classes == 2 ? 1 : n_classes;
  const std::int64_t mp = m * p;
  const std::string shape = "x " + describe(x) + " with " + std::to_string(n_classes) + " classes" +
                            (fit_intercept ? " and an intercept" : "");
  if (y.size != x.rows)
    throw Error(std::string(kName) + ": " + shape + ", but y has " + std::to_string(y.size) +
                " entries");
  if (coef.size != mp || gradient.size != mp)
    throw Error(std::string(kName) + ": " + shape + " needs coef and gradient of " +
                std::to_string(mp) + " entries, got " + std::to_string(coef.size) + " and " +
                std::to_string(gradient.size));
  if (want_hessian) check_shape(hessian, mp, mp, "logistic_gradient_hessian: hessian");

  const std::int64_t count = rows.count(x.rows);
  const std::int64_t* indices = rows.is_all() ? nullptr : rows.indices.data;
  const double* w = weights.size > 0 ? weights.data : nullptr;
  check_rows(indices, count, x.rows, w, kName);

  const cudaStream_t stream = resources_.stream();
  const cublasHandle_t blas = resources_.cublas();
  // The Hessian is symmetric, so its memory read column-major with ld = stride is itself.
  const std::int64_t ld_h = want_hessian ? hessian.stride : 0;
  const std::int64_t pairs = m == 1 ? 1 : static_cast<std::int64_t>(m) * (m + 1) / 2;
  const std::int64_t tile_rows = std::max<std::int64_t>(1, std::min(kTileRows, count));

  DeviceArray<double> loss(resources_, 1);
  DeviceArray<int> bad_label(resources_, 1);
  TABULA_CUDA_CHECK(cudaMemsetAsync(loss.data(), 0, sizeof(double), stream));
  TABULA_CUDA_CHECK(cudaMemsetAsync(bad_label.data(), 0, sizeof(int), stream));
  TABULA_CUDA_CHECK(cudaMemsetAsync(gradient.data, 0, sizeof(double) * mp, stream));
  if (want_hessian) zero_matrix(hessian.data, sizeof(double), mp, mp, ld_h);

  DeviceArray<double> a(resources_, tile_rows * p), scores(resources_, tile_rows * m),
      residual(resources_, tile_rows * m), row_loss(resources_, tile_rows);
  DeviceArray<double> scale(resources_, want_hessian ? tile_rows * pairs : 0),
      scaled(resources_, want_hessian ? tile_rows * p : 0);
  const int ip = to_int(p, "logistic_gradient_hessian: coefficients per class");
  const double one = 1.0, zero = 0.0, minus_one = -1.0;
  for (std::int64_t first = 0; first < count; first += tile_rows) {
    const std::int64_t b = std::min(tile_rows, count - first);
    const int ib = to_int(b, "logistic_gradient_hessian: rows per tile");
    kernels::launch_gather_rows(x, indices, first, b, nullptr, kernels::RowScale::kNone, a.data(),
                                b, stream);
    if (fit_intercept) kernels::launch_fill(a.data() + d * b, b, 1, b, 1.0, stream);
    // Scores (b x m) = A (b x p) Θ (p x m); coef is class-major, i.e. Θ column-major, ld p.
    TABULA_CUBLAS_CHECK(cublasDgemm(blas, CUBLAS_OP_N, CUBLAS_OP_N, ib, m, ip, &one, a.data(), ib,
                                    coef.data, ip, &zero, scores.data(), ib));
    kernels::launch_logistic_rows(scores.data(), b, b, m, n_classes, y.data, indices, first, w,
                                  residual.data(), row_loss.data(),
                                  want_hessian ? scale.data() : nullptr, bad_label.data(), stream);
    kernels::launch_accumulate_sum(row_loss.data(), b, loss.data(), stream);
    // Gradient (p x m, class-major) += Aᵀ R.
    TABULA_CUBLAS_CHECK(cublasDgemm(blas, CUBLAS_OP_T, CUBLAS_OP_N, ip, m, ib, &one, a.data(), ib,
                                    residual.data(), ib, &one, gradient.data, ip));
    if (!want_hessian) continue;
    for (int k = 0; k < m; ++k) {
      for (int e = 0; e <= k; ++e) {
        const std::int64_t pair = m == 1 ? 0 : static_cast<std::int64_t>(k) * (k + 1) / 2 + e;
        kernels::launch_scale_rows(a.data(), b, b, p, scale.data() + pair * b, scaled.data(), b,
                                   stream);
        // Block (k, e) lower triangle += ± (diag(s) A)ᵀ (diag(s) A).
        double* block = hessian.data + (e * p) * ld_h + k * p;
        TABULA_CUBLAS_CHECK(cublasDsyrk(blas, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, ip, ib,
                                        k == e ? &one : &minus_one, scaled.data(), ib, &one, block,
                                        to_int(ld_h, "hessian stride")));
      }
    }
  }
  if (want_hessian) kernels::launch_symmetrize_blocks(hessian.data, ld_h, m, p, stream);

  double total = 0.0;
  int bad = 0;
  TABULA_CUDA_CHECK(
      cudaMemcpyAsync(&total, loss.data(), sizeof(double), cudaMemcpyDeviceToHost, stream));
  TABULA_CUDA_CHECK(
      cudaMemcpyAsync(&bad, bad_label.data(), sizeof(int), cudaMemcpyDeviceToHost, stream));
  resources_.synchronize();
  if (bad != 0)
    throw InputError(std::string(kName) + ": a label is not a class index in [0, " +
                     std::to_string(n_classes) + ")");
  return total;
}

}  // namespace tabula::cuda
