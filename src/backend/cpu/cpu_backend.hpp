// The CPU backend: the reference implementation of every Backend primitive, and the oracle the
// CUDA backend is tested against. Memory is ordinary aligned host memory; sums over rows run on
// tabula's thread pool in fixed-size row blocks reduced in block order, so results do not depend
// on the thread count; dense products go to single-threaded OpenBLAS (or Eigen).
#pragma once

#include <cstddef>

#include "tabula/backend/backend.hpp"

namespace tabula::cpu {

class CpuBackend final : public Backend {
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
