// What every centroid clustering (k-means, mini-batch k-means) shares once fitted: the centres,
// the nearest centre as prediction, the distances to the centres as transform, and the model
// file's arrays with the checks a crafted file must pass. Each model adds its parameters and
// its fit.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tabula/models/estimator.hpp"

namespace tabula {

/// How the first centres of a run are chosen (scikit-learn's `init`).
enum class KMeansInit { kKMeansPlusPlus, kRandom, kGiven };

/// `init` as scikit-learn takes it: "k-means++", "random" or the centres themselves.
struct CentroidInit {
  KMeansInit kind = KMeansInit::kKMeansPlusPlus;
  /// kGiven: rows x n_features, row-major ("[[x, y], [x, y], ...]" in the text).
  std::vector<double> centres;
  std::int64_t rows = 0;

  /// "k-means++", "random" or a JSON array of rows of finite numbers, all of one length;
  /// InputError naming `model` and the parameter otherwise, or when given centres are not
  /// `n_clusters` rows.
  static CentroidInit parse(const char* model, const std::string& text, std::int64_t n_clusters);
  nlohmann::json to_json() const;
  /// InputError when given centres do not have `d` values each.
  void check_width(const char* model, std::int64_t d) const;
};

class CentroidModel : public Estimator {
 public:
  Task task() const override { return Task::kClustering; }
  /// Index of the nearest centre (first on ties), as double. A row with a missing value gets
  /// NaN (and NaN distances from transform), as the linear models predict NaN for it.
  std::vector<double> predict(Backend& backend, MatrixView<const float> x) const override;
  /// n x n_clusters row-major Euclidean distances.
  std::vector<double> transform(Backend& backend, MatrixView<const float> x) const override;
  std::int64_t n_outputs() const override { return n_clusters_; }

  /// cluster_centers_: n_clusters x n_features_in_, row-major.
  const std::vector<double>& cluster_centers() const { return centres_; }
  /// Labels of the training rows from the fit (not stored in model files; empty when the fit
  /// streamed its rows).
  const std::vector<std::int32_t>& labels() const { return labels_; }
  double inertia() const { return inertia_; }
  std::int64_t n_iter() const { return n_iter_; }
  std::int64_t n_clusters() const { return n_clusters_; }
  std::int64_t n_features_in() const { return n_features_; }

  /// cluster_centers_ and, under `fitted`: params, n_features_in_, n_clusters, inertia_, n_iter_
  /// and what fitted_extra() adds.
  void save(ArtifactWriter& out) const override;
  /// Refuses, naming the field, centres whose shape disagrees with the parameters or the
  /// feature count, non-finite centres, a negative or non-finite inertia, a negative n_iter_.
  void load(const ArtifactReader& in) override;
  nlohmann::json summary() const override;

 protected:
  /// The model's own parameters parsed from the stored ones (the --param parser); returns
  /// their n_clusters. InputError for a bad value.
  virtual std::int64_t load_params(const ParamMap& params) = 0;
  /// Fitted attributes beyond the common ones (mini-batch's n_steps_), saved and shown.
  virtual nlohmann::json fitted_extra() const { return nlohmann::json::object(); }
  /// Reads fitted_extra()'s fields back from `fitted`, checking them.
  virtual void load_extra(const nlohmann::json& /*fitted*/) {}

  void set_fitted(std::int64_t d, std::int64_t k, std::vector<double> centres,
                  std::vector<std::int32_t> labels, double inertia, std::int64_t n_iter);
  void set_labels(std::vector<std::int32_t> labels) { labels_ = std::move(labels); }
  void check_input(MatrixView<const float> x) const;

 private:
  std::int64_t n_features_ = 0;
  std::int64_t n_clusters_ = 0;
  std::vector<double> centres_;
  std::vector<std::int32_t> labels_;
  double inertia_ = 0.0;
  std::int64_t n_iter_ = 0;
};

}  // namespace tabula
