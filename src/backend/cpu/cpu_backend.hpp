// The CPU backend: the reference implementation of every op family (linear algebra:
// cpu_backend.cpp, sufficient_stats.cpp, dense_linalg.cpp; logistic: logistic_cpu.cpp; forest:
// forest_cpu.cpp), and the oracle every other backend is tested against. It runs every op. Memory
// is ordinary aligned host memory; sums over rows run on tabula's thread pool in fixed-size row
// blocks reduced in block order, so results do not depend on the thread count; dense products go to
// single-threaded OpenBLAS (or Eigen).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tabula/backend/backend.hpp"

namespace tabula::cpu {

class CpuBackend final : public Backend, public LinalgOps, public LogisticOps, public ForestOps {
 public:
  CpuBackend();

  Device device() const override { return Device::cpu(); }

  void* allocate(std::size_t bytes) override;
  void deallocate(void* ptr, std::size_t bytes) noexcept override;
  void copy_from_host(void* device_dst, const void* host_src, std::size_t bytes) override;
  void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes) override;
  void copy_on_device(void* device_dst, const void* device_src, std::size_t bytes) override;
  void fill_zero(void* device_ptr, std::size_t bytes) override;
  void synchronize() override {}
  bool uses_host_memory() const override { return true; }
  bool supports(BackendOp) const override { return true; }

  // ---- Linear algebra and sufficient statistics ------------------------------------------

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

  // ---- Logistic regression (logistic_cpu.cpp) ---------------------------------------------
  double gradient_hessian(MatrixView<const float> x, VectorView<const double> y,
                          VectorView<const double> weights, RowSubset rows, int n_classes,
                          bool fit_intercept, VectorView<const double> coef,
                          VectorView<double> gradient, MatrixView<double> hessian) override;

  // ---- Histogram forest (forest_cpu.cpp) ---------------------------------------------------
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

 protected:
  LinalgOps* native_linalg() override { return this; }
  LogisticOps* native_logistic() override { return this; }
  ForestOps* native_forest() override { return this; }
};

// Free templates behind the virtuals (sufficient_stats.cpp, dense_linalg.cpp).
template <typename T>
void gram(MatrixView<const T> x, VectorView<const double> weights, RowSubset rows,
          MatrixView<double> out);
template <typename T>
void cross_product(MatrixView<const T> x, MatrixView<const double> y,
                   VectorView<const double> weights, RowSubset rows, MatrixView<double> out);
template <typename T>
void column_moments(MatrixView<const T> x, VectorView<const double> weights, RowSubset rows,
                    VectorView<double> means, VectorView<double> variances);
template <typename T>
void gemm(Op op_a, Op op_b, T alpha, MatrixView<const T> a, MatrixView<const T> b, T beta,
          MatrixView<T> c);
template <typename T>
void gemv(Op op_a, T alpha, MatrixView<const T> a, VectorView<const T> x, T beta, VectorView<T> y);
bool cholesky_solve(MatrixView<double> a, MatrixView<double> b);
void symmetric_eigen(MatrixView<double> a, VectorView<double> eigenvalues);

}  // namespace tabula::cpu
