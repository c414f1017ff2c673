#include "tabula/models/cluster/kmeans.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "artifact/validate.hpp"
#include "distributed/reduce.hpp"
#include "models/cluster/distances.hpp"
#include "models/cluster/lloyd.hpp"
#include "models/cluster/seeding.hpp"
#include "models/linear/solve_lstsq.hpp"
#include "models/linear/solve_params.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

constexpr const char* kModel = "kmeans";

bool is_none(const std::string& v) { return v == "None" || v == "none" || v.empty(); }

// init given as a JSON array of rows of numbers: the row count and the values, row-major.
void parse_init_centres(const std::string& text, KMeansParams& out) {
  const char* expected = "k-means++, random or an array of n_clusters rows of numbers";
  nlohmann::json rows;
  try {
    rows = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw models::bad_param(kModel, "init", text, expected);
  }
  if (!rows.is_array() || rows.empty() || !rows.front().is_array() || rows.front().empty())
    throw models::bad_param(kModel, "init", text, expected);
  const std::size_t d = rows.front().size();
  for (const nlohmann::json& row : rows) {
    if (!row.is_array() || row.size() != d)
      throw InputError("model 'kmeans': parameter init: every row must have " + std::to_string(d) +
                       " values");
    for (const nlohmann::json& v : row) {
      if (!v.is_number() || !std::isfinite(v.get<double>()))
        throw InputError("model 'kmeans': parameter init: the centres must be finite numbers");
      out.init_centres.push_back(v.get<double>());
    }
  }
  out.init = KMeansInit::kGiven;
  out.init_rows = static_cast<std::int64_t>(rows.size());
}

std::int64_t positive_int(const std::string& key, const std::string& value, const char* what) {
  const long long parsed = models::parse_int_param(kModel, key, value);
  if (parsed < 1) throw models::bad_param(kModel, key, value, what);
  return parsed;
}

}  // namespace

KMeansParams KMeansParams::parse(const ParamMap& params) {
  models::check_known_params(
      kModel, params,
      {"n_clusters", "init", "n_init", "max_iter", "tol", "random_state", "algorithm"});
  KMeansParams out;
  if (const std::string* v = models::find_param(params, "n_clusters"))
    out.n_clusters = positive_int("n_clusters", *v, "an integer >= 1");
  if (const std::string* v = models::find_param(params, "init")) {
    if (*v == "k-means++")
      out.init = KMeansInit::kKMeansPlusPlus;
    else if (*v == "random")
      out.init = KMeansInit::kRandom;
    else
      parse_init_centres(*v, out);
    if (out.init == KMeansInit::kGiven && out.init_rows != out.n_clusters)
      throw InputError("model 'kmeans': parameter init has " + std::to_string(out.init_rows) +
                       " centres but n_clusters=" + std::to_string(out.n_clusters));
  }
  if (const std::string* v = models::find_param(params, "n_init"))
    out.n_init = *v == "auto" ? 0 : positive_int("n_init", *v, "auto or an integer >= 1");
  if (const std::string* v = models::find_param(params, "max_iter"))
    out.max_iter = positive_int("max_iter", *v, "an integer >= 1");
  if (const std::string* v = models::find_param(params, "tol")) {
    out.tol = models::parse_double_param(kModel, "tol", *v);
    if (out.tol < 0.0) throw models::bad_param(kModel, "tol", *v, "a number >= 0");
  }
  if (const std::string* v = models::find_param(params, "random_state"); v && !is_none(*v))
    out.random_state =
        static_cast<std::uint64_t>(models::parse_int_param(kModel, "random_state", *v));
  if (const std::string* v = models::find_param(params, "algorithm")) {
    if (*v == "elkan")
      out.algorithm = KMeansAlgorithm::kElkan;
    else if (*v != "lloyd")
      throw models::bad_param(kModel, "algorithm", *v, "lloyd or elkan");
  }
  return out;
}

nlohmann::json KMeansParams::to_json() const {
  nlohmann::json init_json = init == KMeansInit::kRandom ? "random" : "k-means++";
  if (init == KMeansInit::kGiven) {
    init_json = nlohmann::json::array();
    const std::int64_t d = static_cast<std::int64_t>(init_centres.size()) / init_rows;
    for (std::int64_t c = 0; c < init_rows; ++c)
      init_json.push_back(
          std::vector<double>(init_centres.begin() + c * d, init_centres.begin() + (c + 1) * d));
  }
  return {{"n_clusters", n_clusters},
          {"init", init_json},
          {"n_init", n_init == 0 ? nlohmann::json("auto") : nlohmann::json(n_init)},
          {"max_iter", max_iter},
          {"tol", tol},
          {"random_state", random_state ? nlohmann::json(*random_state) : nlohmann::json(nullptr)},
          {"algorithm", algorithm == KMeansAlgorithm::kElkan ? "elkan" : "lloyd"}};
}

std::int64_t KMeansParams::runs() const {
  if (init == KMeansInit::kGiven) return 1;  // the same start gives the same result
  if (n_init > 0) return n_init;
  return init == KMeansInit::kRandom ? 10 : 1;
}

// long: scikit-learn's KMeans.fit: checks, the tolerance from the data's variance, n_init
// seeded runs of Lloyd keeping the lowest inertia, the duplicate-centre warning. Over ranks
// (FitData::comm) the moments are merged, the seeding draws over every rank's rows and Lloyd
// reduces its sums, so every rank gets the same centres (docs/distributed.md: how exact).
void KMeans::fit(Backend& backend, const FitData& data) {
  const MatrixView<const float> x = data.x;
  const std::int64_t d = x.cols, k = params_.n_clusters;
  const std::int64_t n = distributed::row_range(data.comm, x.rows).total;
  if (d == 0) throw InputError("model 'kmeans': no feature columns");
  if (k > n)
    throw InputError("model 'kmeans': n_samples=" + std::to_string(n) +
                     " should be >= n_clusters=" + std::to_string(k));
  models::check_sample_weights(data.sample_weight, x.rows, kModel);
  if (params_.init == KMeansInit::kGiven &&
      params_.init_centres.size() != static_cast<std::size_t>(k * d))
    throw InputError("model 'kmeans': parameter init has " +
                     std::to_string(params_.init_centres.size() / k) +
                     " values per centre, the data has " + std::to_string(d) + " features");

  std::vector<double> mean(static_cast<std::size_t>(d)), var(static_cast<std::size_t>(d));
  {
    const ResidentMatrix<float> x_dev(backend, x);
    Buffer<double> mean_dev(backend, d), var_dev(backend, d);
    backend.linalg().column_moments(x_dev.view(), {}, RowSubset::all(), mean_dev.view(),
                                    var_dev.view());
    mean = mean_dev.to_host();
    var = var_dev.to_host();
  }
  // The moments sum float32 values in float64, which cannot overflow: they are finite exactly
  // when every value is, so the cell-by-cell check (which names the bad cell) runs only then.
  if (!std::all_of(mean.begin(), mean.end(), [](double v) { return std::isfinite(v); }) ||
      !std::all_of(var.begin(), var.end(), [](double v) { return std::isfinite(v); }))
    models::check_finite_features(x, kModel);
  double rows = static_cast<double>(x.rows);
  distributed::merge_moments(data.comm, rows, mean, var);
  double mean_var = 0.0;
  for (double v : var) mean_var += v;
  const double tol = mean_var / static_cast<double>(d) * params_.tol;

  const cluster::Points points(backend, x, mean, mean_var);
  std::mt19937_64 rng(params_.random_state.value_or(data.seed));
  cluster::LloydResult best;
  for (std::int64_t run = 0; run < params_.runs(); ++run) {
    std::vector<double> start =
        params_.init == KMeansInit::kGiven ? params_.init_centres
        : params_.init == KMeansInit::kRandom
            ? cluster::random_rows(points, data.sample_weight, k, rng, data.comm)
            : cluster::kmeans_plus_plus(points, data.sample_weight, k, rng, data.comm);
    cluster::LloydResult result =
        cluster::run_lloyd(points, data.sample_weight, std::move(start), k, params_.max_iter, tol,
                           data.comm, params_.algorithm);
    if (run == 0 || result.inertia < best.inertia) best = std::move(result);
  }
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(k), 0);
  for (std::int32_t label : best.labels)
    if (label >= 0) ++sizes[static_cast<std::size_t>(label)];
  distributed::sum_over_ranks(data.comm, sizes);
  const auto distinct = std::count_if(sizes.begin(), sizes.end(), [](auto s) { return s > 0; });
  if (distinct < k)
    spdlog::warn(
        "model 'kmeans': found {} distinct clusters, fewer than n_clusters={} (the data "
        "has duplicate points)",
        distinct, k);
  n_features_ = d;
  n_clusters_ = k;
  centres_ = std::move(best.centres);
  labels_ = std::move(best.labels);
  inertia_ = best.inertia;
  n_iter_ = best.n_iter;
}

void KMeans::check_input(MatrixView<const float> x) const {
  if (n_clusters_ == 0) throw Error("model 'kmeans' is not fitted");
  if (x.cols != n_features_)
    throw InputError("model 'kmeans' was fitted on " + std::to_string(n_features_) +
                     " features, got " + std::to_string(x.cols));
}

namespace {

// The rows of `x` seen through the mean of the centres: the shift the distances are computed
// in (any fixed shift gives the same distances; one near the data keeps the GEMM's
// cancellation small), dropped when small against the centres' spread around it.
cluster::Points centred_points(Backend& backend, MatrixView<const float> x,
                               const std::vector<double>& centres, std::int64_t k, std::int64_t d) {
  std::vector<double> mean(static_cast<std::size_t>(d), 0.0);
  for (std::int64_t c = 0; c < k; ++c)
    for (std::int64_t j = 0; j < d; ++j) mean[j] += centres[c * d + j] / static_cast<double>(k);
  double spread = 0.0;
  for (std::int64_t c = 0; c < k; ++c)
    for (std::int64_t j = 0; j < d; ++j)
      spread +=
          (centres[c * d + j] - mean[j]) * (centres[c * d + j] - mean[j]) / static_cast<double>(k);
  return cluster::Points(backend, x, mean, spread);
}

}  // namespace

std::vector<double> KMeans::predict(Backend& backend, MatrixView<const float> x) const {
  check_input(x);
  const cluster::Points points = centred_points(backend, x, centres_, n_clusters_, n_features_);
  const std::vector<std::int32_t> labels = points.nearest(centres_, n_clusters_);
  std::vector<double> out(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i)
    out[i] = labels[i] < 0 ? std::numeric_limits<double>::quiet_NaN() : labels[i];
  return out;
}

std::vector<double> KMeans::transform(Backend& backend, MatrixView<const float> x) const {
  check_input(x);
  const std::int64_t k = n_clusters_;
  const cluster::Points points = centred_points(backend, x, centres_, k, n_features_);
  std::vector<double> out(static_cast<std::size_t>(x.rows * k));
  points.for_each_block(centres_, k,
                        [&](std::int64_t begin, std::int64_t, std::span<const double> d2) {
                          for (std::size_t i = 0; i < d2.size(); ++i)
                            out[begin * k + i] = std::sqrt(d2[i]);
                        });
  return out;
}

void KMeans::save(ArtifactWriter& out) const {
  if (n_clusters_ == 0) throw Error("model 'kmeans' is not fitted");
  out.add("cluster_centers_", std::span<const double>(centres_), {n_clusters_, n_features_});
  out.set("fitted", {{"estimator", kModel},
                     {"params", params()},
                     {"n_features_in_", n_features_},
                     {"n_clusters", n_clusters_},
                     {"inertia_", inertia_},
                     {"n_iter_", n_iter_}});
}

void KMeans::load(const ArtifactReader& in) {
  const nlohmann::json& fitted = in.fitted(kModel);
  // The stored parameters go through the same parser as --param text.
  const ParamMap map = models::param_map(fitted.at("params"));
  try {
    params_ = KMeansParams::parse(map);
  } catch (const InputError& e) {
    artifact::field_error("fitted.params", e.what());
  }
  const std::vector<std::int64_t> shape = in.shape("cluster_centers_");
  if (shape.size() != 2) artifact::field_error("cluster_centers_", "not a matrix");
  artifact::expect_range("cluster_centers_", shape[0], 1, std::numeric_limits<std::int32_t>::max());
  artifact::expect_range("cluster_centers_", shape[1], 1, std::numeric_limits<std::int32_t>::max());
  artifact::expect_size("fitted.params.n_clusters", params_.n_clusters, shape[0],
                        "cluster_centers_ has " + std::to_string(shape[0]) + " rows");
  artifact::expect_size("fitted.n_features_in_",
                        artifact::integer(fitted.at("n_features_in_"), "fitted.n_features_in_"),
                        shape[1], "cluster_centers_ has " + std::to_string(shape[1]) + " columns");
  std::vector<double> centres = in.doubles("cluster_centers_");
  artifact::expect_size("cluster_centers_", static_cast<std::int64_t>(centres.size()),
                        artifact::checked_product("cluster_centers_", shape[0], shape[1]),
                        "its shape");
  artifact::expect_finite("cluster_centers_", centres);
  const nlohmann::json& inertia = fitted.at("inertia_");
  if (!inertia.is_number() || !(inertia.get<double>() >= 0.0) ||
      !std::isfinite(inertia.get<double>()))
    artifact::field_error("fitted.inertia_", "not a finite number >= 0");
  const std::int64_t n_iter = artifact::integer(fitted.at("n_iter_"), "fitted.n_iter_");
  if (n_iter < 0) artifact::field_error("fitted.n_iter_", "negative");
  n_clusters_ = shape[0];
  n_features_ = shape[1];
  centres_ = std::move(centres);
  labels_.clear();
  inertia_ = inertia.get<double>();
  n_iter_ = n_iter;
}

nlohmann::json KMeans::summary() const {
  nlohmann::json centres = nlohmann::json::array();
  for (std::int64_t c = 0; c < n_clusters_; ++c)
    centres.push_back(std::vector<double>(centres_.begin() + c * n_features_,
                                          centres_.begin() + (c + 1) * n_features_));
  return {{"n_features_in_", n_features_},
          {"n_clusters", n_clusters_},
          {"cluster_centers_", centres},
          {"inertia_", inertia_},
          {"n_iter_", n_iter_}};
}

}  // namespace tabula
