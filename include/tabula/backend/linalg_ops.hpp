// The linear-algebra op family: sufficient statistics (Gram, cross products, column moments)
// and dense algebra (GEMM, GEMV, Cholesky solve, symmetric eigendecomposition). Least squares,
// ridge, PCA and the logistic Newton step are written once over these. Conventions shared by
// every op family are in backend.hpp.
#pragma once

#include <cstdint>

#include "tabula/core/matrix.hpp"

namespace tabula {

enum class Op { kNone, kTranspose };

class LinalgOps {
 public:
  virtual ~LinalgOps() = default;

  // ---- Sufficient statistics ----------------------------------------------------------------
  /// out (d x d, float64, both triangles) = Xᵀ diag(w) X over the selected rows of x (n x d).
  /// `weights` (length n, indexed by row number, non-negative) may be empty for unit weights.
  virtual void gram(MatrixView<const float> x, VectorView<const double> weights, RowSubset rows,
                    MatrixView<double> out) = 0;
  virtual void gram(MatrixView<const double> x, VectorView<const double> weights, RowSubset rows,
                    MatrixView<double> out) = 0;

  /// out (d x k, float64) = Xᵀ diag(w) Y over the selected rows of x (n x d) and y (n x k).
  virtual void cross_product(MatrixView<const float> x, MatrixView<const double> y,
                             VectorView<const double> weights, RowSubset rows,
                             MatrixView<double> out) = 0;
  virtual void cross_product(MatrixView<const double> x, MatrixView<const double> y,
                             VectorView<const double> weights, RowSubset rows,
                             MatrixView<double> out) = 0;

  /// Weighted column means and population variances (ddof = 0) of the selected rows, both
  /// length d, float64, computed in two passes (mean first) so large offsets do not cancel.
  /// With zero total weight, means and variances are NaN.
  virtual void column_moments(MatrixView<const float> x, VectorView<const double> weights,
                              RowSubset rows, VectorView<double> means,
                              VectorView<double> variances) = 0;
  virtual void column_moments(MatrixView<const double> x, VectorView<const double> weights,
                              RowSubset rows, VectorView<double> means,
                              VectorView<double> variances) = 0;

  // ---- Dense linear algebra -----------------------------------------------------------------
  /// c = alpha * op(a) * op(b) + beta * c. Any mix of layouts.
  virtual void gemm(Op op_a, Op op_b, float alpha, MatrixView<const float> a,
                    MatrixView<const float> b, float beta, MatrixView<float> c) = 0;
  virtual void gemm(Op op_a, Op op_b, double alpha, MatrixView<const double> a,
                    MatrixView<const double> b, double beta, MatrixView<double> c) = 0;

  /// y = alpha * op(a) * x + beta * y.
  virtual void gemv(Op op_a, float alpha, MatrixView<const float> a, VectorView<const float> x,
                    float beta, VectorView<float> y) = 0;
  virtual void gemv(Op op_a, double alpha, MatrixView<const double> a, VectorView<const double> x,
                    double beta, VectorView<double> y) = 0;

  /// Solves A X = B for symmetric positive definite A (n x n) and B (n x k), both column-major.
  /// A is overwritten by its Cholesky factor and B by the solution. Returns false, leaving B
  /// unspecified, when A is not numerically positive definite.
  virtual bool cholesky_solve(MatrixView<double> a, MatrixView<double> b) = 0;

  /// Eigendecomposition of symmetric A (n x n, column-major): eigenvalues in ascending order;
  /// A is overwritten by the orthonormal eigenvectors, one per column (signs are arbitrary).
  virtual void symmetric_eigen(MatrixView<double> a, VectorView<double> eigenvalues) = 0;
};

}  // namespace tabula
