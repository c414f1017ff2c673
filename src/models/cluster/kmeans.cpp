#include "tabula/models/cluster/kmeans.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "distributed/reduce.hpp"
#include "models/cluster/distances.hpp"
#include "models/cluster/lloyd.hpp"
#include "models/cluster/seeding.hpp"
#include "models/linear/solve_lstsq.hpp"
#include "models/linear/solve_params.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

constexpr const char* kModel = "kmeans";

bool is_none(const std::string& v) { return v == "None" || v == "none" || v.empty(); }

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
  if (const std::string* v = models::find_param(params, "init"))
    out.init = CentroidInit::parse(kModel, *v, out.n_clusters);
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
  return {{"n_clusters", n_clusters},
          {"init", init.to_json()},
          {"n_init", n_init == 0 ? nlohmann::json("auto") : nlohmann::json(n_init)},
          {"max_iter", max_iter},
          {"tol", tol},
          {"random_state", random_state ? nlohmann::json(*random_state) : nlohmann::json(nullptr)},
          {"algorithm", algorithm == KMeansAlgorithm::kElkan ? "elkan" : "lloyd"}};
}

std::int64_t KMeansParams::runs() const {
  if (init.kind == KMeansInit::kGiven) return 1;  // the same start gives the same result
  if (n_init > 0) return n_init;
  return init.kind == KMeansInit::kRandom ? 10 : 1;
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
  params_.init.check_width(kModel, d);

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
        params_.init.kind == KMeansInit::kGiven ? params_.init.centres
        : params_.init.kind == KMeansInit::kRandom
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
  set_fitted(d, k, std::move(best.centres), std::move(best.labels), best.inertia, best.n_iter);
}

std::int64_t KMeans::load_params(const ParamMap& params) {
  params_ = KMeansParams::parse(params);
  return params_.n_clusters;
}

}  // namespace tabula
