// The CUDA backend: every op of every family on one CUDA device, with the CPU backend's
// semantics (the CPU backend is the oracle the parity tests compare against). Work is queued
// on the device's one non-blocking stream (CudaResources); cuBLAS and cuSOLVER do the dense
// algebra, kernels/ the gathers and reductions. Results are deterministic on one device: fixed
// block sizes, fixed reduction trees, no float atomics. Calls from several threads are
// serialized by a lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "backend/cuda/cuda_resources.hpp"
#include "tabula/backend/backend.hpp"

namespace tabula::cuda {

class CudaBackend final : public Backend, public LinalgOps, public LogisticOps, public ForestOps {
 public:
  /// Creates the resources of device `ordinal`; throws DeviceError when that fails.
  explicit CudaBackend(int ordinal);

  Device device() const override { return Device::cuda(resources_.ordinal()); }

  void* allocate(std::size_t bytes) override;
  void deallocate(void* ptr, std::size_t bytes) noexcept override;
  void copy_from_host(void* device_dst, const void* host_src, std::size_t bytes) override;
  void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes) override;
  void copy_on_device(void* device_dst, const void* device_src, std::size_t bytes) override;
  void fill_zero(void* device_ptr, std::size_t bytes) override;
  void synchronize() override;
  bool supports(BackendOp) const override { return true; }

  void gram(MatrixView<const float> x, VectorView<const double> weights, RowSubset rows,
            MatrixView<double> out) override;
  void gram(MatrixView<const double> x, VectorView<const double> weights, RowSubset rows,
            MatrixView<double> out) override;
  void cross_product(MatrixView<const float> x, MatrixView<const double> y,
                     VectorView<const double> weights, RowSubset rows,
                     MatrixView<double> out) override;
  void cross_product(MatrixView<const double> x, MatrixView<const double> y,
                     VectorView<const double> weights, RowSubset rows,
                     MatrixView<double> out) override;
  void column_moments(MatrixView<const float> x, VectorView<const double> weights, RowSubset rows,
                      VectorView<double> means, VectorView<double> variances) override;
  void column_moments(MatrixView<const double> x, VectorView<const double> weights, RowSubset rows,
                      VectorView<double> means, VectorView<double> variances) override;

  void gemm(Op op_a, Op op_b, float alpha, MatrixView<const float> a, MatrixView<const float> b,
            float beta, MatrixView<float> c) override;
  void gemm(Op op_a, Op op_b, double alpha, MatrixView<const double> a, MatrixView<const double> b,
            double beta, MatrixView<double> c) override;
  void gemv(Op op_a, float alpha, MatrixView<const float> a, VectorView<const float> x, float beta,
            VectorView<float> y) override;
  void gemv(Op op_a, double alpha, MatrixView<const double> a, VectorView<const double> x,
            double beta, VectorView<double> y) override;

  bool cholesky_solve(MatrixView<double> a, MatrixView<double> b) override;
  void symmetric_eigen(MatrixView<double> a, VectorView<double> eigenvalues) override;

  // ---- Logistic regression (owned by the linear-models work: logistic_cuda.cpp) -----------
  double gradient_hessian(MatrixView<const float> x, VectorView<const double> y,
                          VectorView<const double> weights, RowSubset rows, int n_classes,
                          bool fit_intercept, VectorView<const double> coef,
                          VectorView<double> gradient, MatrixView<double> hessian) override;
  // ---- end of logistic regression ----------------------------------------------------------

  // ---- Histogram forest (owned by the forest work: forest_cuda.cu) -------------------------
  void bin(MatrixView<const float> x, VectorView<const float> edges,
           VectorView<const std::int32_t> offsets, MatrixView<std::uint8_t> codes) override;
  void histograms(MatrixView<const std::uint8_t> codes, VectorView<const std::int32_t> rows,
                  MatrixView<const std::int64_t> channels, const ForestBatch& batch,
                  ForestHistShape shape, VectorView<std::int64_t> hist) override;
  void hist_subtract(VectorView<const std::int64_t> parent_hist,
                     VectorView<const std::int32_t> parent, VectorView<const std::int32_t> child,
                     VectorView<const std::int32_t> dst, std::int64_t slot_size,
                     VectorView<std::int64_t> hist) override;
  void best_splits(VectorView<const std::int64_t> hist, const ForestBatch& batch,
                   ForestHistShape shape, VectorView<const std::int32_t> n_bins,
                   ForestSplitRule rule, const ForestSplits& out) override;
  void partition(MatrixView<const std::uint8_t> codes, VectorView<std::int32_t> rows,
                 const ForestBatch& batch, VectorView<const std::int32_t> feature,
                 VectorView<const std::int32_t> bin,
                 VectorView<const std::uint8_t> missing_left) override;
  void predict(MatrixView<const float> x, const ForestTrees& trees,
               MatrixView<double> out) override;
  void apply(MatrixView<const float> x, const ForestTrees& trees,
             MatrixView<std::int32_t> leaves) override;
  // ---- end of histogram forest --------------------------------------------------------------

 protected:
  LinalgOps* native_linalg() override { return this; }
  LogisticOps* native_logistic() override { return this; }
  ForestOps* native_forest() override { return this; }

 private:
  template <typename T>
  void gram_impl(MatrixView<const T> x, VectorView<const double> weights, RowSubset rows,
                 MatrixView<double> out);
  template <typename T>
  void cross_product_impl(MatrixView<const T> x, MatrixView<const double> y,
                          VectorView<const double> weights, RowSubset rows, MatrixView<double> out);
  template <typename T>
  void column_moments_impl(MatrixView<const T> x, VectorView<const double> weights, RowSubset rows,
                           VectorView<double> means, VectorView<double> variances);
  template <typename T>
  void gemm_impl(Op op_a, Op op_b, T alpha, MatrixView<const T> a, MatrixView<const T> b, T beta,
                 MatrixView<T> c);
  template <typename T>
  void gemv_impl(Op op_a, T alpha, MatrixView<const T> a, VectorView<const T> x, T beta,
                 VectorView<T> y);

  /// Checks on the device that every selected row index is in [0, total_rows) and every used
  /// weight finite and non-negative; throws with the CPU backend's message for the first bad
  /// position. Synchronizes (only when there are indices or weights to check).
  void check_rows(const std::int64_t* indices, std::int64_t count, std::int64_t total_rows,
                  const double* weights, const char* primitive);
  /// Throws Error naming the first non-finite element of the lower triangle of square `a`
  /// (column-major), as the CPU does before an eigendecomposition. Synchronizes.
  void check_finite_lower(MatrixView<double> a);
  /// Sets a rows x cols matrix of `element_bytes`-sized values (column-major terms, leading
  /// dimension ld) to zero.
  void zero_matrix(void* data, std::size_t element_bytes, std::int64_t rows, std::int64_t cols,
                   std::int64_t ld);

  // One caller at a time: the workspace, info word and handles are shared state. The GPU runs
  // the stream's work in order anyway. Recursive because entry points call each other.
  mutable std::recursive_mutex mutex_;
  CudaResources resources_;
};

}  // namespace tabula::cuda
