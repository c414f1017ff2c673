#include "tabula/models/linear/logistic.hpp"

#include <spdlog/spdlog.h>
#include <limits>

#include <algorithm>
#include <cmath>
#include <span>
#include <string>

#include "artifact/validate.hpp"
#include "distributed/reduce.hpp"
#include "models/linear/solve.hpp"
#include "models/linear/solve_lbfgs.hpp"
#include "models/linear/solve_lstsq.hpp"
#include "models/linear/solve_params.hpp"
#include "models/linear/solve_predict.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/error.hpp"
#include "tabula/distributed/communicator.hpp"

namespace tabula {
namespace {

constexpr const char* kModel = "logistic";

const char* solver_name(LogisticSolver solver) {
  switch (solver) {
    case LogisticSolver::kNewton:
      return "newton-cholesky";
    case LogisticSolver::kLbfgs:
      return "lbfgs";
    default:
      return "auto";
  }
}

LogisticSolver parse_solver(const std::string& text) {
  if (text == "auto") return LogisticSolver::kAuto;
  if (text == "newton-cholesky" || text == "newton") return LogisticSolver::kNewton;
  if (text == "lbfgs") return LogisticSolver::kLbfgs;
  throw models::bad_param(kModel, "solver", text, "auto, newton-cholesky or lbfgs");
}

}  // namespace

LogisticRegressionParams LogisticRegressionParams::parse(const ParamMap& params) {
  models::check_known_params(
      kModel, params,
      {"C", "fit_intercept", "max_iter", "tol", "class_weight", "solver", "penalty"});
  LogisticRegressionParams out;
  if (const std::string* v = models::find_param(params, "C")) {
    out.C = models::parse_double_param(kModel, "C", *v);
    if (!(out.C > 0.0)) throw models::bad_param(kModel, "C", *v, "a number > 0");
  }
  if (const std::string* v = models::find_param(params, "fit_intercept"))
    out.fit_intercept = models::parse_bool_param(kModel, "fit_intercept", *v);
  if (const std::string* v = models::find_param(params, "max_iter")) {
    out.max_iter = models::parse_int_param(kModel, "max_iter", *v);
    if (out.max_iter < 1) throw models::bad_param(kModel, "max_iter", *v, "an integer >= 1");
  }
  if (const std::string* v = models::find_param(params, "tol")) {
    out.tol = models::parse_double_param(kModel, "tol", *v);
    if (!(out.tol >= 0.0)) throw models::bad_param(kModel, "tol", *v, "a number >= 0");
  }
  if (const std::string* v = models::find_param(params, "class_weight")) {
    if (*v == "balanced")
      out.class_weight_balanced = true;
    else if (*v == "None" || *v == "none")
      out.class_weight_balanced = false;
    else
      throw models::bad_param(kModel, "class_weight", *v, "None or balanced");
  }
  if (const std::string* v = models::find_param(params, "solver")) out.solver = parse_solver(*v);
  if (const std::string* v = models::find_param(params, "penalty"))
    if (*v != "l2") throw models::bad_param(kModel, "penalty", *v, "l2 (the only penalty here)");
  return out;
}

nlohmann::json LogisticRegressionParams::to_json() const {
  return {{"C", C},
          {"fit_intercept", fit_intercept},
          {"max_iter", max_iter},
          {"tol", tol},
          {"class_weight", class_weight_balanced ? nlohmann::json("balanced") : nlohmann::json()},
          {"solver", solver_name(solver)},
          {"penalty", "l2"}};
}

namespace {

// Rows per class of y (class indices 0..k-1, checked: each row's and each class's), over every
// rank's rows in a data-parallel fit.
std::vector<std::int64_t> class_counts(std::span<const double> y, int k, Communicator* comm) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(k), 0);
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double v = y[i];
    if (!(v >= 0.0 && v < k && v == std::floor(v)))
      throw InputError("model 'logistic': target value " + std::to_string(v) + " of row " +
                       std::to_string(i + 1) + " is not a class index in [0, " + std::to_string(k) +
                       ")");
    ++counts[static_cast<std::size_t>(v)];
  }
  distributed::sum_over_ranks(comm, counts);
  for (int c = 0; c < k; ++c)
    if (counts[c] == 0)
      throw InputError("model 'logistic': class " + std::to_string(c) +
                       " has no training rows; a classifier needs rows of every class");
  return counts;
}

// Each row's weight: its sample weight (1 without), times its class's balanced weight.
std::vector<double> row_weights(std::span<const double> y, std::span<const double> sample_weight,
                                const std::vector<std::int64_t>& counts, bool balanced) {
  const std::size_t n = y.size();
  std::vector<double> weights(n, 1.0);
  if (!sample_weight.empty())
    std::copy(sample_weight.begin(), sample_weight.end(), weights.begin());
  if (balanced) {
    // sklearn's compute_class_weight("balanced"): n / (n_classes * count), from row counts
    // (every rank's: n is their sum).
    const double k = static_cast<double>(counts.size());
    std::int64_t rows = 0;
    for (std::int64_t count : counts) rows += count;
    for (std::size_t i = 0; i < n; ++i) {
      const auto c = static_cast<std::size_t>(y[i]);
      weights[i] *= static_cast<double>(rows) / (k * static_cast<double>(counts[c]));
    }
  }
  return weights;
}

// The loss, gradient and Hessian sums of every rank's rows, in one all-reduce per evaluation.
void sum_evaluation_over_ranks(Communicator& comm, double& value, std::vector<double>& gradient,
                               std::vector<double>* hessian) {
  if (comm.size() == 1) return;
  std::vector<double> packed{value};
  packed.insert(packed.end(), gradient.begin(), gradient.end());
  if (hessian != nullptr) packed.insert(packed.end(), hessian->begin(), hessian->end());
  distributed::sum_over_ranks(&comm, packed);
  value = packed[0];
  std::copy(packed.begin() + 1, packed.begin() + 1 + static_cast<std::ptrdiff_t>(gradient.size()),
            gradient.begin());
  if (hessian != nullptr)
    std::copy(packed.end() - static_cast<std::ptrdiff_t>(hessian->size()), packed.end(),
              hessian->begin());
}

}  // namespace

void LogisticRegression::store_coefficients(const std::vector<double>& theta, std::int64_t m,
                                            std::int64_t d, bool fit_intercept) {
  const std::int64_t p = d + (fit_intercept ? 1 : 0);
  coef_.assign(static_cast<std::size_t>(m * d), 0.0);
  intercept_.assign(static_cast<std::size_t>(m), 0.0);
  for (std::int64_t c = 0; c < m; ++c) {
    for (std::int64_t j = 0; j < d; ++j) coef_[c * d + j] = theta[c * p + j];
    if (fit_intercept) intercept_[c] = theta[c * p + d];
  }
}

// long: the objective is a closure over the data made resident once, and both solvers (Newton
// with its singular-direction fix, L-BFGS) use it; together they read as scikit-learn's fit.
void LogisticRegression::fit(Backend& backend, const FitData& data) {
  const MatrixView<const float> x = data.x;
  const std::int64_t n = x.rows, d = x.cols;
  const int k = data.n_classes;
  if (k < 2)
    throw InputError(
        "model 'logistic': the target has one class; a classifier needs at "
        "least 2 classes in the training rows");
  if (n == 0) throw InputError("model 'logistic': no training rows");
  if (d == 0) throw InputError("model 'logistic': no feature columns");
  if (static_cast<std::int64_t>(data.y.size()) != n)
    throw InputError("model 'logistic': " + std::to_string(data.y.size()) + " target values for " +
                     std::to_string(n) + " rows");
  const std::vector<std::int64_t> counts = class_counts(data.y, k, data.comm);
  models::check_finite_features(x, kModel);
  models::check_sample_weights(data.sample_weight, n, kModel);
  const std::vector<double> weights =
      row_weights(data.y, data.sample_weight, counts, params_.class_weight_balanced);
  double weight_sum = 0.0;
  for (double w : weights) weight_sum += w;
  weight_sum = distributed::sum_over_ranks(data.comm, weight_sum);
  if (!(weight_sum > 0.0)) throw InputError("model 'logistic': sample_weight sums to zero");

  const std::int64_t m = k == 2 ? 1 : k;
  const std::int64_t p = d + (params_.fit_intercept ? 1 : 0);
  const std::int64_t mp = m * p;
  LogisticSolver solver = params_.solver;
  if (solver == LogisticSolver::kAuto)
    solver = mp <= LogisticRegressionParams::kNewtonMaxParameters ? LogisticSolver::kNewton
                                                                  : LogisticSolver::kLbfgs;

  // The data goes to the device once; each evaluation moves only the coefficients.
  const ResidentMatrix<float> x_dev(backend, x);
  Buffer<double> y_dev = Buffer<double>::from_host(backend, data.y);
  Buffer<double> w_dev = Buffer<double>::from_host(backend, weights);
  Buffer<double> coef_dev(backend, mp), grad_dev(backend, mp);
  Buffer<double> hess_dev(backend, solver == LogisticSolver::kNewton ? mp * mp : 0);
  const MatrixView<const float> xv = x_dev.view();

  // The objective scikit-learn minimises, divided by the weight sum (its tol applies to this
  // mean form): Σ s_i l_i / S + ||W||² / (2 C S).
  const double penalty = 1.0 / (params_.C * weight_sum);
  const bool fit_intercept = params_.fit_intercept;
  auto evaluate = [&](const std::vector<double>& theta, std::vector<double>& gradient,
                      std::vector<double>* hessian) {
    coef_dev.copy_from_host(theta);
    MatrixView<double> hess_view{};
    if (hessian != nullptr) hess_view = hess_dev.matrix(mp, mp, Layout::kColMajor);
    double value = backend.logistic().gradient_hessian(
        xv, std::as_const(y_dev).view(), std::as_const(w_dev).view(), RowSubset::all(), k,
        fit_intercept, std::as_const(coef_dev).view(), grad_dev.view(), hess_view);
    gradient = grad_dev.to_host();
    if (hessian != nullptr) *hessian = hess_dev.to_host();
    if (data.comm != nullptr) sum_evaluation_over_ranks(*data.comm, value, gradient, hessian);
    value /= weight_sum;
    for (double& g : gradient) g /= weight_sum;
    if (hessian != nullptr)
      for (double& h : *hessian) h /= weight_sum;
    for (std::int64_t c = 0; c < m; ++c)
      for (std::int64_t j = 0; j < d; ++j) {
        const std::int64_t idx = c * p + j;
        value += 0.5 * penalty * theta[idx] * theta[idx];
        gradient[idx] += penalty * theta[idx];
        if (hessian != nullptr) (*hessian)[idx * mp + idx] += penalty;
      }
    return value;
  };

  std::vector<double> theta(static_cast<std::size_t>(mp), 0.0);
  models::OptimizeResult result;
  if (solver == LogisticSolver::kNewton) {
    auto solve = [&](const std::vector<double>& hessian, const std::vector<double>& gradient) {
      std::vector<double> a = hessian;
      if (m > 1 && fit_intercept) {
        // The multinomial loss does not change when every intercept moves by the same amount:
        // the Hessian is singular along that direction v, and the gradient is orthogonal to
        // it. Adding v vᵀ makes the system definite without changing the step (which stays
        // orthogonal to v), so intercepts keep summing to zero, as with scikit-learn's lbfgs.
        for (std::int64_t c = 0; c < m; ++c)
          for (std::int64_t e = 0; e < m; ++e) a[(e * p + d) * mp + (c * p + d)] += 1.0;
      }
      std::vector<double> b(gradient.size());
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = -gradient[i];
      models::solve_symmetric(backend, a, b, mp, 1);
      return b;
    };
    result = models::minimize_newton(evaluate, solve, theta, params_.max_iter, params_.tol);
    solver_used_ = "newton-cholesky";
  } else {
    auto value_gradient = [&](const std::vector<double>& t, std::vector<double>& g) {
      return evaluate(t, g, nullptr);
    };
    result = models::minimize_lbfgs(value_gradient, theta, params_.max_iter, params_.tol);
    solver_used_ = "lbfgs";
  }

  n_classes_ = k;
  n_features_ = d;
  n_iter_ = result.iterations;
  converged_ = result.converged;
  store_coefficients(theta, m, d, fit_intercept);
  if (!converged_)
    spdlog::warn(
        "logistic: {} did not converge in {} iterations (max |gradient| {:.3g} > tol {:.3g}); "
        "increase max_iter or scale the features",
        solver_used_, n_iter_, result.gradient_max, params_.tol);
}

void LogisticRegression::check_input(MatrixView<const float> x) const {
  if (n_classes_ == 0) throw Error("model 'logistic' is not fitted");
  if (x.cols != n_features_)
    throw InputError("model 'logistic' was fitted on " + std::to_string(n_features_) +
                     " features, got " + std::to_string(x.cols));
}

std::vector<double> LogisticRegression::decision_function(MatrixView<const float> x) const {
  check_input(x);
  return models::affine_scores(x, coef_, intercept_);
}

std::vector<double> LogisticRegression::predict(Backend&, MatrixView<const float> x) const {
  const std::vector<double> scores = decision_function(x);
  const std::int64_t n = x.rows, m = score_rows();
  std::vector<double> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    if (m == 1) {
      out[i] = scores[i] > 0.0 ? 1.0 : 0.0;
    } else {
      const double* row = scores.data() + i * m;
      out[i] = static_cast<double>(std::max_element(row, row + m) - row);
    }
  }
  return out;
}

std::vector<double> LogisticRegression::predict_proba(Backend&, MatrixView<const float> x) const {
  const std::vector<double> scores = decision_function(x);
  const std::int64_t n = x.rows, m = score_rows(), k = n_classes_;
  std::vector<double> out(static_cast<std::size_t>(n * k));
  for (std::int64_t i = 0; i < n; ++i) {
    double* row = out.data() + i * k;
    if (m == 1) {
      const double z = scores[i];
      const double p1 = z >= 0.0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
      row[0] = 1.0 - p1;
      row[1] = p1;
    } else {
      const double* s = scores.data() + i * m;
      const double top = *std::max_element(s, s + m);
      double sum = 0.0;
      for (std::int64_t c = 0; c < m; ++c) sum += row[c] = std::exp(s[c] - top);
      for (std::int64_t c = 0; c < m; ++c) row[c] /= sum;
    }
  }
  return out;
}

void LogisticRegression::save(ArtifactWriter& out) const {
  if (n_classes_ == 0) throw Error("model 'logistic' is not fitted");
  out.add("coef_", std::span<const double>(coef_), {score_rows(), n_features_});
  out.add("intercept_", std::span<const double>(intercept_), {score_rows()});
  out.set("fitted", {{"estimator", "logistic"},
                     {"params", params()},
                     {"n_features_in_", n_features_},
                     {"n_classes", n_classes_},
                     {"n_iter_", n_iter_},
                     {"converged", converged_},
                     {"solver", solver_used_}});
}

void LogisticRegression::load(const ArtifactReader& in) {
  const nlohmann::json& fitted = in.fitted("logistic");
  const nlohmann::json& p = fitted.at("params");
  params_ = LogisticRegressionParams{};
  params_.C = p.at("C").get<double>();
  params_.fit_intercept = p.at("fit_intercept").get<bool>();
  params_.max_iter = artifact::integer(p.at("max_iter"), "fitted.params.max_iter");
  params_.tol = p.at("tol").get<double>();
  params_.class_weight_balanced = p.at("class_weight").is_string();
  params_.solver = parse_solver(p.at("solver").get<std::string>());
  const auto n_classes = artifact::integer(fitted.at("n_classes"), "fitted.n_classes");
  artifact::expect_range("fitted.n_classes", n_classes, 2,
                         std::numeric_limits<std::int32_t>::max());
  n_classes_ = static_cast<int>(n_classes);
  n_iter_ = artifact::integer(fitted.value("n_iter_", nlohmann::json(0)), "fitted.n_iter_");
  converged_ = fitted.value("converged", true);
  solver_used_ = fitted.value("solver", std::string());
  std::vector<std::int64_t> shape = in.shape("coef_");
  if (shape.size() != 2) artifact::field_error("coef_", "not a matrix");
  artifact::expect_size("coef_", shape[0], score_rows(),
                        "rows for " + std::to_string(n_classes_) + " classes");
  artifact::expect_range("coef_", shape[1], 1, std::numeric_limits<std::int32_t>::max());
  n_features_ = shape[1];
  coef_ = in.doubles("coef_");
  intercept_ = in.doubles("intercept_");
  artifact::expect_size("intercept_", static_cast<std::int64_t>(intercept_.size()), score_rows(),
                        "coef_ has " + std::to_string(score_rows()) + " rows");
  artifact::expect_finite("coef_", coef_);
  artifact::expect_finite("intercept_", intercept_);
}

nlohmann::json LogisticRegression::summary() const {
  nlohmann::json rows = nlohmann::json::array();
  for (std::int64_t c = 0; c < score_rows(); ++c)
    rows.push_back(std::vector<double>(coef_.begin() + c * n_features_,
                                       coef_.begin() + (c + 1) * n_features_));
  return {{"n_features_in_", n_features_}, {"n_classes", n_classes_}, {"coef_", rows},
          {"intercept_", intercept_},      {"n_iter_", n_iter_},      {"converged", converged_},
          {"solver", solver_used_}};
}

}  // namespace tabula
