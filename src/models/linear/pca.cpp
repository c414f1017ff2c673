#include "tabula/models/linear/pca.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "artifact/validate.hpp"
#include "distributed/reduce.hpp"
#include "models/linear/solve.hpp"
#include "models/linear/solve_lstsq.hpp"
#include "models/linear/solve_params.hpp"
#include "models/linear/solve_subspace.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

constexpr std::int64_t kRowBlock = 4096;

}  // namespace

PcaParams PcaParams::parse(const ParamMap& params) {
  models::check_known_params("pca", params, {"n_components", "whiten", "svd_solver"});
  PcaParams out;
  if (const std::string* v = models::find_param(params, "n_components")) {
    if (*v == "None" || *v == "none" || v->empty()) {
      out.n_components = 0;
    } else if (v->find_first_of(".eE") == std::string::npos) {
      out.n_components = models::parse_int_param("pca", "n_components", *v);
      if (out.n_components < 1)
        throw models::bad_param("pca", "n_components", *v,
                                "None, an integer >= 1 or a fraction in (0, 1)");
    } else {
      out.variance_fraction = models::parse_double_param("pca", "n_components", *v);
      if (!(out.variance_fraction > 0.0 && out.variance_fraction < 1.0))
        throw models::bad_param("pca", "n_components", *v,
                                "None, an integer >= 1 or a fraction in (0, 1)");
    }
  }
  if (const std::string* v = models::find_param(params, "whiten"))
    out.whiten = models::parse_bool_param("pca", "whiten", *v);
  if (const std::string* v = models::find_param(params, "svd_solver")) {
    if (*v == "auto")
      out.svd_solver = PcaSolver::kAuto;
    else if (*v == "full" || *v == "covariance_eigh")
      out.svd_solver = PcaSolver::kFull;
    else if (*v == "randomized")
      out.svd_solver = PcaSolver::kRandomized;
    else
      throw models::bad_param("pca", "svd_solver", *v, "auto, full, covariance_eigh or randomized");
    if (out.svd_solver == PcaSolver::kRandomized && out.n_components == 0)
      throw models::bad_param("pca", "svd_solver", *v,
                              "an integer n_components with the randomized solver");
  }
  return out;
}

nlohmann::json PcaParams::to_json() const {
  nlohmann::json n = nullptr;
  if (variance_fraction > 0.0)
    n = variance_fraction;
  else if (n_components > 0)
    n = n_components;
  const char* solver = svd_solver == PcaSolver::kFull         ? "full"
                       : svd_solver == PcaSolver::kRandomized ? "randomized"
                                                              : "auto";
  return {{"n_components", n}, {"whiten", whiten}, {"svd_solver", solver}};
}

// long: scikit-learn's PCA.fit step by step: checks, moments and Gram on the backend, the
// covariance, the solver (full eigendecomposition or randomized), signs, variances, whitening.
void Pca::fit(Backend& backend, const FitData& data) {
  const MatrixView<const float> x = data.x;
  const std::int64_t d = x.cols;
  // Over every rank's rows in a data-parallel fit.
  const std::int64_t n = static_cast<std::int64_t>(
      distributed::sum_over_ranks(data.comm, static_cast<double>(x.rows)));
  if (!data.sample_weight.empty())
    throw InputError("model 'pca': sample weights are not supported");
  if (d == 0) throw InputError("model 'pca': no feature columns");
  if (n < 2) throw InputError("model 'pca': needs at least 2 rows, got " + std::to_string(n));
  models::check_finite_features(x, "pca");
  const std::int64_t max_components = std::min(n, d);
  if (params_.n_components > max_components)
    throw InputError(
        "model 'pca': n_components=" + std::to_string(params_.n_components) +
        " must be between 1 and min(n_samples, n_features)=" + std::to_string(max_components));

  const ResidentMatrix<float> x_dev(backend, x);
  const MatrixView<const float> xv = x_dev.view();
  Buffer<double> mean_dev(backend, d), var_dev(backend, d), gram_dev(backend, d * d);
  backend.linalg().column_moments(xv, {}, RowSubset::all(), mean_dev.view(), var_dev.view());
  backend.linalg().gram(xv, {}, RowSubset::all(), gram_dev.matrix(d, d, Layout::kColMajor));
  mean_ = mean_dev.to_host();
  std::vector<double> var = var_dev.to_host();
  std::vector<double> cov = gram_dev.to_host();
  double rows = static_cast<double>(x.rows);
  distributed::merge_moments(data.comm, rows, mean_, var);
  distributed::sum_over_ranks(data.comm, cov);
  // Covariance (ddof = 1) from the Gram matrix; the two-pass variances give the diagonal.
  const double nd = static_cast<double>(n);
  for (std::int64_t j = 0; j < d; ++j)
    for (std::int64_t i = 0; i < d; ++i)
      cov[j * d + i] = i == j ? var[i] * nd / (nd - 1.0)
                              : (cov[j * d + i] - nd * mean_[i] * mean_[j]) / (nd - 1.0);

  double total_var = 0.0;
  for (std::int64_t j = 0; j < d; ++j) total_var += cov[j * d + j];
  const bool randomized =
      params_.n_components > 0 &&
      (params_.svd_solver == PcaSolver::kRandomized ||
       (params_.svd_solver == PcaSolver::kAuto && d > PcaParams::kRandomizedMinFeatures &&
        10 * params_.n_components < max_components));
  std::vector<double> values, vectors;
  std::int64_t k = params_.n_components > 0 ? params_.n_components : max_components;
  if (randomized) {
    // sklearn's defaults: 10 oversamples, 7 power iterations for few components, else 4.
    const int iterations = 10 * k < max_components ? 7 : 4;
    models::top_eigen_randomized(backend, cov, d, k, 10, iterations, data.seed, values, vectors);
    for (double& v : values) v = std::max(v, 0.0);
    solver_used_ = "randomized";
  } else {
    models::symmetric_eigen_descending(backend, cov, d, values, vectors);
    for (double& v : values) v = std::max(v, 0.0);  // rounding can make a PSD eigenvalue < 0
    values.resize(static_cast<std::size_t>(max_components));
    // The ratios' denominator is the sum of every eigenvalue kept, as sklearn's full solver.
    total_var = 0.0;
    for (double v : values) total_var += v;
    solver_used_ = "full";
  }

  if (params_.variance_fraction > 0.0) {
    // sklearn: searchsorted(cumsum(ratio), fraction, side="right") + 1.
    double cumulative = 0.0;
    k = 1;
    for (std::int64_t j = 0; j < max_components; ++j) {
      cumulative += total_var > 0.0 ? values[j] / total_var : 0.0;
      if (cumulative <= params_.variance_fraction) k = j + 2;
    }
    k = std::min(k, max_components);
  }

  n_features_ = d;
  n_samples_ = n;
  n_components_ = k;
  components_.assign(static_cast<std::size_t>(k * d), 0.0);
  explained_variance_.assign(values.begin(), values.begin() + k);
  explained_variance_ratio_.resize(static_cast<std::size_t>(k));
  singular_values_.resize(static_cast<std::size_t>(k));
  for (std::int64_t c = 0; c < k; ++c) {
    const double* v = vectors.data() + c * d;
    // svd_flip(u_based_decision=False): the entry of largest magnitude (first one on ties) is
    // made positive.
    std::int64_t arg = 0;
    for (std::int64_t j = 1; j < d; ++j)
      if (std::abs(v[j]) > std::abs(v[arg])) arg = j;
    const double sign = v[arg] < 0.0 ? -1.0 : 1.0;
    for (std::int64_t j = 0; j < d; ++j) components_[c * d + j] = sign * v[j];
    explained_variance_ratio_[c] = total_var > 0.0 ? values[c] / total_var : 0.0;
    singular_values_[c] = std::sqrt(values[c] * (nd - 1.0));
  }
  noise_variance_ = 0.0;
  if (k < max_components) {
    if (randomized) {
      // Only k eigenvalues are known: the rest of the variance is spread over the others.
      double explained = 0.0;
      for (double v : explained_variance_) explained += v;
      noise_variance_ = std::max(total_var - explained, 0.0);
    } else {
      for (std::int64_t j = k; j < max_components; ++j) noise_variance_ += values[j];
    }
    noise_variance_ /= static_cast<double>(max_components - k);
  }
}

std::vector<double> Pca::predict(Backend&, MatrixView<const float>) const {
  throw InputError("model 'pca' is a transformer: use transform, not predict");
}

void Pca::check_input(MatrixView<const float> x) const {
  if (n_components_ == 0) throw Error("model 'pca' is not fitted");
  if (x.cols != n_features_)
    throw InputError("model 'pca' was fitted on " + std::to_string(n_features_) +
                     " features, got " + std::to_string(x.cols));
}

std::vector<double> Pca::transform(Backend&, MatrixView<const float> x) const {
  check_input(x);
  const std::int64_t n = x.rows, d = n_features_, k = n_components_;
  std::vector<double> scale(static_cast<std::size_t>(k), 1.0);
  if (params_.whiten) {
    // As sklearn: variances near zero are clipped so rank-deficient data stays finite.
    for (std::int64_t c = 0; c < k; ++c)
      scale[c] =
          1.0 / std::max(std::sqrt(explained_variance_[c]), std::numeric_limits<double>::epsilon());
  }
  std::vector<double> out(static_cast<std::size_t>(n * k));
  parallel_blocks(n, kRowBlock, [&](std::int64_t begin, std::int64_t end) {
    std::vector<double> centred(static_cast<std::size_t>(d));
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t j = 0; j < d; ++j) centred[j] = static_cast<double>(x(i, j)) - mean_[j];
      for (std::int64_t c = 0; c < k; ++c) {
        const double* v = components_.data() + c * d;
        double s = 0.0;
        for (std::int64_t j = 0; j < d; ++j) s += v[j] * centred[j];
        out[i * k + c] = s * scale[c];
      }
    }
  });
  return out;
}

std::vector<double> Pca::inverse_transform(std::span<const double> z, std::int64_t n) const {
  if (n_components_ == 0) throw Error("model 'pca' is not fitted");
  const std::int64_t d = n_features_, k = n_components_;
  if (static_cast<std::int64_t>(z.size()) != n * k)
    throw InputError("model 'pca': inverse_transform expects " + std::to_string(k) +
                     " columns per row");
  std::vector<double> scale(static_cast<std::size_t>(k), 1.0);
  if (params_.whiten)
    for (std::int64_t c = 0; c < k; ++c) scale[c] = std::sqrt(explained_variance_[c]);
  std::vector<double> out(static_cast<std::size_t>(n * d));
  parallel_blocks(n, kRowBlock, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      double* row = out.data() + i * d;
      for (std::int64_t j = 0; j < d; ++j) row[j] = mean_[j];
      for (std::int64_t c = 0; c < k; ++c) {
        const double zc = z[i * k + c] * scale[c];
        const double* v = components_.data() + c * d;
        for (std::int64_t j = 0; j < d; ++j) row[j] += zc * v[j];
      }
    }
  });
  return out;
}

void Pca::save(ArtifactWriter& out) const {
  if (n_components_ == 0) throw Error("model 'pca' is not fitted");
  out.add("components_", std::span<const double>(components_), {n_components_, n_features_});
  out.add("explained_variance_", std::span<const double>(explained_variance_), {n_components_});
  out.add("explained_variance_ratio_", std::span<const double>(explained_variance_ratio_),
          {n_components_});
  out.add("singular_values_", std::span<const double>(singular_values_), {n_components_});
  out.add("mean_", std::span<const double>(mean_), {n_features_});
  out.set("fitted", {{"estimator", "pca"},
                     {"params", params()},
                     {"n_features_in_", n_features_},
                     {"n_samples_", n_samples_},
                     {"n_components_", n_components_},
                     {"noise_variance_", noise_variance_},
                     {"solver", solver_used_}});
}

void Pca::load(const ArtifactReader& in) {
  const nlohmann::json& fitted = in.fitted("pca");
  const nlohmann::json& p = fitted.at("params");
  params_ = PcaParams{};
  params_.whiten = p.at("whiten").get<bool>();
  const std::string solver = p.value("svd_solver", std::string("auto"));
  params_.svd_solver = solver == "full"         ? PcaSolver::kFull
                       : solver == "randomized" ? PcaSolver::kRandomized
                                                : PcaSolver::kAuto;
  if (p.at("n_components").is_number_integer())
    params_.n_components = artifact::integer(p.at("n_components"), "fitted.params.n_components");
  else if (p.at("n_components").is_number())
    params_.variance_fraction = p.at("n_components").get<double>();
  std::vector<std::int64_t> shape = in.shape("components_");
  if (shape.size() != 2) artifact::field_error("components_", "not a matrix");
  artifact::expect_range("components_", shape[1], 1, std::numeric_limits<std::int32_t>::max());
  artifact::expect_range("components_", shape[0], 1, shape[1]);
  n_components_ = shape[0];
  n_features_ = shape[1];
  components_ = in.doubles("components_");
  explained_variance_ = in.doubles("explained_variance_");
  explained_variance_ratio_ = in.doubles("explained_variance_ratio_");
  singular_values_ = in.doubles("singular_values_");
  mean_ = in.doubles("mean_");
  n_samples_ =
      artifact::integer(fitted.value("n_samples_", nlohmann::json(0)), "fitted.n_samples_");
  noise_variance_ = fitted.value("noise_variance_", 0.0);
  solver_used_ = fitted.value("solver", std::string("full"));
  const std::string features = "components_ has " + std::to_string(n_features_) + " columns";
  const std::string components = "components_ has " + std::to_string(n_components_) + " rows";
  artifact::expect_size("mean_", static_cast<std::int64_t>(mean_.size()), n_features_, features);
  artifact::expect_size("explained_variance_",
                        static_cast<std::int64_t>(explained_variance_.size()), n_components_,
                        components);
  artifact::expect_size("explained_variance_ratio_",
                        static_cast<std::int64_t>(explained_variance_ratio_.size()), n_components_,
                        components);
  artifact::expect_size("singular_values_", static_cast<std::int64_t>(singular_values_.size()),
                        n_components_, components);
  artifact::expect_finite("components_", components_);
  artifact::expect_finite("mean_", mean_);
  artifact::expect_finite("explained_variance_", explained_variance_);
  for (double v : explained_variance_)
    if (v < 0 || (params_.whiten && v == 0))
      artifact::field_error("explained_variance_", "a variance is negative (or 0 with whiten)");
}

nlohmann::json Pca::summary() const {
  nlohmann::json components = nlohmann::json::array();
  for (std::int64_t c = 0; c < n_components_; ++c)
    components.push_back(std::vector<double>(components_.begin() + c * n_features_,
                                             components_.begin() + (c + 1) * n_features_));
  return {{"n_features_in_", n_features_},
          {"n_samples_", n_samples_},
          {"n_components_", n_components_},
          {"components_", components},
          {"explained_variance_", explained_variance_},
          {"explained_variance_ratio_", explained_variance_ratio_},
          {"singular_values_", singular_values_},
          {"mean_", mean_},
          {"noise_variance_", noise_variance_},
          {"solver", solver_used_}};
}

}  // namespace tabula
