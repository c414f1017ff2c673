#include "tabula/models/linear/linear.hpp"

#include <limits>
#include <string>

#include "artifact/validate.hpp"
#include "models/linear/solve_lstsq.hpp"
#include "models/linear/solve_params.hpp"
#include "models/linear/solve_predict.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/error.hpp"

namespace tabula {

LinearRegressionParams LinearRegressionParams::parse(const ParamMap& params) {
  models::check_known_params("linear", params, {"fit_intercept"});
  LinearRegressionParams out;
  if (const std::string* v = models::find_param(params, "fit_intercept"))
    out.fit_intercept = models::parse_bool_param("linear", "fit_intercept", *v);
  return out;
}

nlohmann::json LinearRegressionParams::to_json() const {
  return {{"fit_intercept", fit_intercept}};
}

RidgeParams RidgeParams::parse(const ParamMap& params) {
  models::check_known_params("ridge", params, {"alpha", "fit_intercept"});
  RidgeParams out;
  if (const std::string* v = models::find_param(params, "alpha")) {
    out.alpha = models::parse_double_param("ridge", "alpha", *v);
    if (out.alpha < 0.0) throw models::bad_param("ridge", "alpha", *v, "a number >= 0");
  }
  if (const std::string* v = models::find_param(params, "fit_intercept"))
    out.fit_intercept = models::parse_bool_param("ridge", "fit_intercept", *v);
  return out;
}

nlohmann::json RidgeParams::to_json() const {
  return {{"alpha", alpha}, {"fit_intercept", fit_intercept}};
}

void LinearRegression::load_params(const nlohmann::json& params) {
  params_.fit_intercept = params.at("fit_intercept").get<bool>();
}

void Ridge::load_params(const nlohmann::json& params) {
  params_.alpha = params.at("alpha").get<double>();
  params_.fit_intercept = params.at("fit_intercept").get<bool>();
}

void LeastSquaresModel::fit(Backend& backend, const FitData& data) {
  if (static_cast<std::int64_t>(data.y.size()) != data.x.rows)
    throw InputError("model '" + name() + "': " + std::to_string(data.y.size()) +
                     " target values for " + std::to_string(data.x.rows) + " rows");
  MatrixView<const double> y{data.y.data(), data.x.rows, 1, 1, Layout::kRowMajor, Device::cpu()};
  fit_targets(backend, data.x, y, data.sample_weight, data.comm);
}

void LeastSquaresModel::fit_targets(Backend& backend, MatrixView<const float> x,
                                    MatrixView<const double> y,
                                    std::span<const double> sample_weight, Communicator* comm) {
  if (x.cols == 0) throw InputError("model '" + name() + "': no feature columns");
  if (y.cols == 0) throw InputError("model '" + name() + "': no target columns");
  models::LeastSquaresFit fit = models::fit_least_squares(backend, x, y, sample_weight, penalty(),
                                                          fits_intercept(), name(), comm);
  coef_ = std::move(fit.coef);
  intercept_ = std::move(fit.intercept);
  n_features_ = x.cols;
  n_targets_ = y.cols;
  rank_ = fit.rank;
  used_eigen_ = fit.used_eigen;
}

void LeastSquaresModel::check_fitted(MatrixView<const float> x) const {
  if (n_targets_ == 0) throw Error("model '" + name() + "' is not fitted");
  if (x.cols != n_features_)
    throw InputError("model '" + name() + "' was fitted on " + std::to_string(n_features_) +
                     " features, got " + std::to_string(x.cols));
}

std::vector<double> LeastSquaresModel::predict(Backend&, MatrixView<const float> x) const {
  check_fitted(x);
  return models::affine_scores(x, coef_, intercept_);
}

void LeastSquaresModel::save(ArtifactWriter& out) const {
  if (n_targets_ == 0) throw Error("model '" + name() + "' is not fitted");
  out.add("coef_", std::span<const double>(coef_), {n_targets_, n_features_});
  out.add("intercept_", std::span<const double>(intercept_), {n_targets_});
  out.set("fitted", {{"estimator", name()},
                     {"params", params()},
                     {"n_features_in_", n_features_},
                     {"n_targets", n_targets_},
                     {"rank_", rank_},
                     {"solver", used_eigen_ ? "eigen" : "cholesky"}});
}

void LeastSquaresModel::load(const ArtifactReader& in) {
  const nlohmann::json& fitted = in.fitted(name());
  load_params(fitted.at("params"));
  std::vector<std::int64_t> shape = in.shape("coef_");
  if (shape.size() != 2) artifact::field_error("coef_", "not a matrix");
  // A model file holds one target: predict returns one value per row.
  artifact::expect_size("coef_", shape[0], 1, "a model file predicts one target");
  artifact::expect_range("coef_", shape[1], 1, std::numeric_limits<std::int32_t>::max());
  coef_ = in.doubles("coef_");
  intercept_ = in.doubles("intercept_");
  n_targets_ = shape[0];
  n_features_ = shape[1];
  artifact::expect_size("intercept_", static_cast<std::int64_t>(intercept_.size()), n_targets_,
                        "coef_ has " + std::to_string(n_targets_) + " rows");
  artifact::expect_finite("coef_", coef_);
  artifact::expect_finite("intercept_", intercept_);
  rank_ = artifact::integer(fitted.value("rank_", nlohmann::json(n_features_)), "fitted.rank_");
  used_eigen_ = fitted.value("solver", std::string("cholesky")) == "eigen";
}

nlohmann::json LeastSquaresModel::summary() const {
  nlohmann::json s = {{"n_features_in_", n_features_},
                      {"n_targets", n_targets_},
                      {"rank_", rank_},
                      {"solver", used_eigen_ ? "eigen (minimum norm)" : "cholesky"}};
  if (n_targets_ == 1) {
    s["coef_"] = coef_;
    s["intercept_"] = intercept_.empty() ? 0.0 : intercept_[0];
  } else {
    nlohmann::json rows = nlohmann::json::array();
    for (std::int64_t t = 0; t < n_targets_; ++t)
      rows.push_back(std::vector<double>(coef_.begin() + t * n_features_,
                                         coef_.begin() + (t + 1) * n_features_));
    s["coef_"] = rows;
    s["intercept_"] = intercept_;
  }
  return s;
}

}  // namespace tabula
