// Least-squares linear models with scikit-learn names and defaults: LinearRegression (OLS) and
// Ridge (L2 penalty), fitted from sufficient statistics (means, XᵀWX, XᵀWy in float64 on the
// backend) and a d x d solve: Cholesky, or the eigendecomposition pseudo-inverse on collinear
// or rank-deficient data, which gives the minimum-norm solution as scikit-learn's lstsq does.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "tabula/models/estimator.hpp"

namespace tabula {

/// sklearn.linear_model.LinearRegression parameters.
struct LinearRegressionParams {
  bool fit_intercept = true;

  /// Accepts fit_intercept; InputError naming an unknown key or a bad value.
  static LinearRegressionParams parse(const ParamMap& params);
  nlohmann::json to_json() const;
};

/// sklearn.linear_model.Ridge parameters: minimises ||y - Xw - b||² + alpha ||w||².
struct RidgeParams {
  double alpha = 1.0;  // >= 0
  bool fit_intercept = true;

  static RidgeParams parse(const ParamMap& params);
  nlohmann::json to_json() const;
};

/// What LinearRegression and Ridge share: the fitted coefficients and the prediction.
class LeastSquaresModel : public Estimator {
 public:
  Task task() const override { return Task::kRegression; }

  /// One target: data.y holds n values; data.sample_weight is empty or n values >= 0.
  void fit(Backend& backend, const FitData& data) override;
  bool fits_distributed() const override { return true; }
  /// Several targets at once: x (n x d) and y (n x k) host, row-major; weights empty or n.
  /// `comm` (null: one process): the ranks of a data-parallel fit, each holding its rows.
  void fit_targets(Backend& backend, MatrixView<const float> x, MatrixView<const double> y,
                   std::span<const double> sample_weight, Communicator* comm = nullptr);

  /// n x n_outputs() row-major predictions, float64, for host x (n x d).
  std::vector<double> predict(Backend& backend, MatrixView<const float> x) const override;
  std::int64_t n_outputs() const override { return n_targets_; }

  /// coef_: n_targets x n_features row-major. intercept_: n_targets (zeros without intercept).
  const std::vector<double>& coef() const { return coef_; }
  const std::vector<double>& intercept() const { return intercept_; }
  std::int64_t n_features_in() const { return n_features_; }
  /// Numerical rank of the centred (penalised) normal equations; < d on collinear data.
  std::int64_t rank() const { return rank_; }
  /// True when the eigendecomposition fallback produced the solution.
  bool used_eigen_fallback() const { return used_eigen_; }

  void save(ArtifactWriter& out) const override;
  void load(const ArtifactReader& in) override;
  nlohmann::json summary() const override;

 protected:
  virtual double penalty() const = 0;
  virtual bool fits_intercept() const = 0;
  virtual void load_params(const nlohmann::json& params) = 0;

 private:
  void check_fitted(MatrixView<const float> x) const;

  std::vector<double> coef_;
  std::vector<double> intercept_;
  std::int64_t n_features_ = 0;
  std::int64_t n_targets_ = 0;
  std::int64_t rank_ = 0;
  bool used_eigen_ = false;
};

/// Ordinary least squares (registry name "linear").
class LinearRegression final : public LeastSquaresModel {
 public:
  explicit LinearRegression(LinearRegressionParams params = {}) : params_(params) {}
  std::string name() const override { return "linear"; }
  nlohmann::json params() const override { return params_.to_json(); }

 protected:
  double penalty() const override { return 0.0; }
  bool fits_intercept() const override { return params_.fit_intercept; }
  void load_params(const nlohmann::json& params) override;

 private:
  LinearRegressionParams params_;
};

/// L2-penalised least squares (registry name "ridge"); the intercept is not penalised.
class Ridge final : public LeastSquaresModel {
 public:
  explicit Ridge(RidgeParams params = {}) : params_(params) {}
  std::string name() const override { return "ridge"; }
  nlohmann::json params() const override { return params_.to_json(); }

 protected:
  double penalty() const override { return params_.alpha; }
  bool fits_intercept() const override { return params_.fit_intercept; }
  void load_params(const nlohmann::json& params) override;

 private:
  RidgeParams params_;
};

}  // namespace tabula
