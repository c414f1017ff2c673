// The logistic op family: LogisticRegression's Newton and L-BFGS steps. Conventions shared by
// every op family are in backend.hpp.
#pragma once

#include "tabula/core/matrix.hpp"

namespace tabula {

class LogisticOps {
 public:
  virtual ~LogisticOps() = default;

  /// The weighted log-loss L = Σ_i w_i · logloss_i of a linear logistic model over the selected
  /// rows of x (n x d), its gradient and, optionally, its Hessian in the coefficients.
  /// - y: length n, the class index of each row (0 .. n_classes-1, stored as double).
  /// - n_classes == 2: binary, m = 1 score per row z = θ·[x, 1] and P(class 1) = sigmoid(z).
  ///   n_classes > 2: multinomial, m = n_classes scores z_c = θ_c·[x, 1] and a softmax.
  /// - coef: m * p values, class-major (θ_c = coef[c*p, (c+1)*p)), where p = d + 1 with
  ///   fit_intercept (the intercept is the last entry of each class block) and p = d without.
  /// - gradient: m * p values, overwritten with ∂L/∂coef (same layout as coef).
  /// - hessian: (m*p) x (m*p) column-major, overwritten with ∂²L/∂coef² (both triangles) = 0; an
  ///   empty view (data == nullptr) skips it (what L-BFGS needs).
  /// Sums over rows accumulate in float64 in a thread-count-independent order. Returns L on the
  /// host (this synchronizes). No penalty is included: the caller adds it.
  virtual double gradient_hessian(MatrixView<const float> x, VectorView<const double> y,
                                  VectorView<const double> weights, RowSubset rows, int n_classes,
                                  bool fit_intercept, VectorView<const double> coef,
                                  VectorView<double> gradient, MatrixView<double> hessian) = 0;
};

}  // namespace tabula
