// Logistic regression with scikit-learn's names, defaults and objective
// (sklearn.linear_model.LogisticRegression, L2 penalty):
//   minimise 0.5 ||W||² + C Σ_i s_i logloss(y_i, x_i)      (intercepts are not penalised)
// where s_i is the sample weight times the class weight. Two classes give one coefficient row
// (sigmoid); more give one row per class (multinomial softmax), with intercepts summing to zero
// as scikit-learn's lbfgs leaves them. The loss, gradient and Hessian are Backend primitives;
// the optimiser (Newton with a line search for narrow problems, L-BFGS for wide ones) runs on the
// host on small vectors.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tabula/models/estimator.hpp"

namespace tabula {

enum class LogisticSolver {
  kAuto,    // Newton when classes x (features + 1) <= kNewtonMaxParameters, else L-BFGS
  kNewton,  // "newton-cholesky"
  kLbfgs,   // "lbfgs"
};

/// sklearn.linear_model.LogisticRegression parameters (penalty="l2").
struct LogisticRegressionParams {
  /// Coefficient count (rows x (features + 1)) up to which "auto" picks Newton: its Hessian
  /// then costs little more per pass than the gradient and it converges in a few passes.
  static constexpr std::int64_t kNewtonMaxParameters = 256;

  double C = 1.0;  // inverse regularisation strength, > 0
  bool fit_intercept = true;
  std::int64_t max_iter = 100;         // optimiser iterations, >= 1
  double tol = 1e-4;                   // stop when max |gradient of the mean objective| <= tol
  bool class_weight_balanced = false;  // class_weight: None or "balanced"
  LogisticSolver solver = LogisticSolver::kAuto;  // "auto", "newton-cholesky" or "lbfgs"

  static LogisticRegressionParams parse(const ParamMap& params);
  nlohmann::json to_json() const;
};

/// Registry name "logistic". Targets are class indices 0..n_classes-1 (FitData::n_classes).
class LogisticRegression final : public Estimator {
 public:
  explicit LogisticRegression(LogisticRegressionParams params = {}) : params_(params) {}

  std::string name() const override { return "logistic"; }
  Task task() const override { return Task::kClassification; }
  nlohmann::json params() const override { return params_.to_json(); }

  /// Throws InputError for fewer than 2 classes, a class without training rows, labels that
  /// are not class indices, missing features or bad weights.
  void fit(Backend& backend, const FitData& data) override;
  bool fits_distributed() const override { return true; }

  /// Class index per row: score > 0 (binary) or the arg max of the class scores (ties: lowest).
  std::vector<double> predict(Backend& backend, MatrixView<const float> x) const override;
  /// n x n_classes row-major probabilities.
  std::vector<double> predict_proba(Backend& backend, MatrixView<const float> x) const override;
  /// n x rows_of_coef row-major scores x coefᵀ + intercept (one column when binary).
  std::vector<double> decision_function(MatrixView<const float> x) const;
  std::int64_t n_outputs() const override { return 1; }

  /// coef_: (1 when binary, else n_classes) x n_features row-major; intercept_: one per row.
  const std::vector<double>& coef() const { return coef_; }
  const std::vector<double>& intercept() const { return intercept_; }
  int n_classes() const { return n_classes_; }
  std::int64_t class_count() const override { return n_classes_; }
  std::int64_t n_features_in() const { return n_features_; }
  std::int64_t n_iter() const { return n_iter_; }
  bool converged() const { return converged_; }
  /// "newton-cholesky" or "lbfgs": the solver that ran.
  const std::string& solver_used() const { return solver_used_; }

  void save(ArtifactWriter& out) const override;
  void load(const ArtifactReader& in) override;
  nlohmann::json summary() const override;

 private:
  /// coef_ and intercept_ from the solver's m x p class-major parameters.
  void store_coefficients(const std::vector<double>& theta, std::int64_t m, std::int64_t d,
                          bool fit_intercept);
  void check_input(MatrixView<const float> x) const;
  std::int64_t score_rows() const { return n_classes_ == 2 ? 1 : n_classes_; }

  LogisticRegressionParams params_;
  int n_classes_ = 0;
  std::int64_t n_features_ = 0;
  std::vector<double> coef_;
  std::vector<double> intercept_;
  std::int64_t n_iter_ = 0;
  bool converged_ = false;
  std::string solver_used_;
};

}  // namespace tabula
