#include "tabula/models/cluster/centroid_model.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "artifact/validate.hpp"
#include "models/cluster/distances.hpp"
#include "models/linear/solve_params.hpp"
#include "tabula/artifact/artifact.hpp"
#include "tabula/core/error.hpp"

namespace tabula {

CentroidInit CentroidInit::parse(const char* model, const std::string& text,
                                 std::int64_t n_clusters) {
  CentroidInit out;
  if (text == "k-means++") return out;
  if (text == "random") {
    out.kind = KMeansInit::kRandom;
    return out;
  }
  const char* expected = "k-means++, random or an array of n_clusters rows of numbers";
  const std::string where = "model '" + std::string(model) + "': parameter init";
  nlohmann::json rows;
  try {
    rows = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw models::bad_param(model, "init", text, expected);
  }
  if (!rows.is_array() || rows.empty() || !rows.front().is_array() || rows.front().empty())
    throw models::bad_param(model, "init", text, expected);
  const std::size_t d = rows.front().size();
  for (const nlohmann::json& row : rows) {
    if (!row.is_array() || row.size() != d)
      throw InputError(where + ": every row must have " + std::to_string(d) + " values");
    for (const nlohmann::json& v : row) {
      if (!v.is_number() || !std::isfinite(v.get<double>()))
        throw InputError(where + ": the centres must be finite numbers");
      out.centres.push_back(v.get<double>());
    }
  }
  out.kind = KMeansInit::kGiven;
  out.rows = static_cast<std::int64_t>(rows.size());
  if (out.rows != n_clusters)
    throw InputError(where + " has " + std::to_string(out.rows) +
                     " centres but n_clusters=" + std::to_string(n_clusters));
  return out;
}

nlohmann::json CentroidInit::to_json() const {
  if (kind == KMeansInit::kRandom) return "random";
  if (kind == KMeansInit::kKMeansPlusPlus) return "k-means++";
  nlohmann::json out = nlohmann::json::array();
  const std::int64_t d = static_cast<std::int64_t>(centres.size()) / rows;
  for (std::int64_t c = 0; c < rows; ++c)
    out.push_back(std::vector<double>(centres.begin() + c * d, centres.begin() + (c + 1) * d));
  return out;
}

void CentroidInit::check_width(const char* model, std::int64_t d) const {
  if (kind == KMeansInit::kGiven && centres.size() != static_cast<std::size_t>(rows * d))
    throw InputError("model '" + std::string(model) + "': parameter init has " +
                     std::to_string(centres.size() / static_cast<std::size_t>(rows)) +
                     " values per centre, the data has " + std::to_string(d) + " features");
}

void CentroidModel::set_fitted(std::int64_t d, std::int64_t k, std::vector<double> centres,
                               std::vector<std::int32_t> labels, double inertia,
                               std::int64_t n_iter) {
  n_features_ = d;
  n_clusters_ = k;
  centres_ = std::move(centres);
  labels_ = std::move(labels);
  inertia_ = inertia;
  n_iter_ = n_iter;
}

void CentroidModel::check_input(MatrixView<const float> x) const {
  if (n_clusters_ == 0) throw Error("model '" + name() + "' is not fitted");
  if (x.cols != n_features_)
    throw InputError("model '" + name() + "' was fitted on " + std::to_string(n_features_) +
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

std::vector<double> CentroidModel::predict(Backend& backend, MatrixView<const float> x) const {
  check_input(x);
  const cluster::Points points = centred_points(backend, x, centres_, n_clusters_, n_features_);
  const std::vector<std::int32_t> labels = points.nearest(centres_, n_clusters_);
  std::vector<double> out(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i)
    out[i] = labels[i] < 0 ? std::numeric_limits<double>::quiet_NaN() : labels[i];
  return out;
}

std::vector<double> CentroidModel::transform(Backend& backend, MatrixView<const float> x) const {
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

void CentroidModel::save(ArtifactWriter& out) const {
  if (n_clusters_ == 0) throw Error("model '" + name() + "' is not fitted");
  out.add("cluster_centers_", std::span<const double>(centres_), {n_clusters_, n_features_});
  nlohmann::json fitted = {{"estimator", name()},           {"params", params()},
                           {"n_features_in_", n_features_}, {"n_clusters", n_clusters_},
                           {"inertia_", inertia_},          {"n_iter_", n_iter_}};
  fitted.update(fitted_extra());
  out.set("fitted", fitted);
}

void CentroidModel::load(const ArtifactReader& in) {
  const nlohmann::json& fitted = in.fitted(name());
  // The stored parameters go through the same parser as --param text.
  const ParamMap map = models::param_map(fitted.at("params"));
  std::int64_t k = 0;
  try {
    k = load_params(map);
  } catch (const InputError& e) {
    artifact::field_error("fitted.params", e.what());
  }
  const std::vector<std::int64_t> shape = in.shape("cluster_centers_");
  if (shape.size() != 2) artifact::field_error("cluster_centers_", "not a matrix");
  artifact::expect_range("cluster_centers_", shape[0], 1, std::numeric_limits<std::int32_t>::max());
  artifact::expect_range("cluster_centers_", shape[1], 1, std::numeric_limits<std::int32_t>::max());
  artifact::expect_size("fitted.params.n_clusters", k, shape[0],
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
  load_extra(fitted);
  set_fitted(shape[1], shape[0], std::move(centres), {}, inertia.get<double>(), n_iter);
}

nlohmann::json CentroidModel::summary() const {
  nlohmann::json centres = nlohmann::json::array();
  for (std::int64_t c = 0; c < n_clusters_; ++c)
    centres.push_back(std::vector<double>(centres_.begin() + c * n_features_,
                                          centres_.begin() + (c + 1) * n_features_));
  nlohmann::json out = {{"n_features_in_", n_features_},
                        {"n_clusters", n_clusters_},
                        {"cluster_centers_", centres},
                        {"inertia_", inertia_},
                        {"n_iter_", n_iter_}};
  out.update(fitted_extra());
  return out;
}

}  // namespace tabula
