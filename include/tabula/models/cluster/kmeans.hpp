// k-means clustering with scikit-learn's names and defaults (sklearn.cluster.KMeans,
// algorithm "lloyd" or "elkan"): k-means++ (greedy, 2 + log(k) local trials) or random seeding,
// n_init runs keeping the lowest inertia, Lloyd iterations whose distances come from the backend's
// GEMM (‖x‖² - 2 x·c + ‖c‖²) and whose centre sums are float64, empty clusters moved to the
// farthest points. Same seed, same model, whatever the thread count.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tabula/models/estimator.hpp"

namespace tabula {

enum class KMeansInit { kKMeansPlusPlus, kRandom, kGiven };
/// "lloyd" (every row multiplied by every centre each iteration) or "elkan" (the same
/// iterations with Hamerly's distance bounds, which skip most products once the centres
/// settle; the assignments are Lloyd's up to rows within rounding of a tie).
enum class KMeansAlgorithm { kLloyd, kElkan };

/// sklearn.cluster.KMeans parameters.
struct KMeansParams {
  std::int64_t n_clusters = 8;
  KMeansInit init = KMeansInit::kKMeansPlusPlus;
  /// init given as centres (k x n_features, row-major): "[[x, y], [x, y], ...]" in the text.
  std::vector<double> init_centres;
  std::int64_t init_rows = 0;
  /// 0 = "auto": 1 run for k-means++ and given centres, 10 for random.
  std::int64_t n_init = 0;
  std::int64_t max_iter = 300;
  /// Relative to the mean per-feature variance of the data, as scikit-learn.
  double tol = 1e-4;
  std::optional<std::uint64_t> random_state;
  KMeansAlgorithm algorithm = KMeansAlgorithm::kLloyd;

  /// init: "k-means++", "random" or a JSON array of n_clusters rows; n_init: "auto" or >= 1.
  static KMeansParams parse(const ParamMap& params);
  nlohmann::json to_json() const;
  /// The number of seeding runs "auto" stands for.
  std::int64_t runs() const;
};

/// Registry name "kmeans", task clustering. predict() gives the nearest centre's index,
/// transform() the Euclidean distance to each centre (n x n_clusters).
class KMeans final : public Estimator {
 public:
  explicit KMeans(KMeansParams params = {}) : params_(std::move(params)) {}

  std::string name() const override { return "kmeans"; }
  Task task() const override { return Task::kClustering; }
  nlohmann::json params() const override { return params_.to_json(); }

  /// x: host, n x d, no missing values; n >= n_clusters. data.sample_weight (optional) weighs
  /// the centres, the inertia and the seeding draws; data.seed seeds the runs unless
  /// random_state is set.
  void fit(Backend& backend, const FitData& data) override;
  bool fits_distributed() const override { return true; }
  /// Index of the nearest centre (first on ties), as double. A row with a missing value gets
  /// NaN (and NaN distances from transform), as the linear models predict NaN for it.
  std::vector<double> predict(Backend& backend, MatrixView<const float> x) const override;
  /// n x n_clusters row-major Euclidean distances.
  std::vector<double> transform(Backend& backend, MatrixView<const float> x) const override;
  std::int64_t n_outputs() const override { return n_clusters_; }

  /// cluster_centers_: n_clusters x n_features_in_, row-major.
  const std::vector<double>& cluster_centers() const { return centres_; }
  /// Labels of the training rows (not stored in model files).
  const std::vector<std::int32_t>& labels() const { return labels_; }
  double inertia() const { return inertia_; }
  std::int64_t n_iter() const { return n_iter_; }
  std::int64_t n_clusters() const { return n_clusters_; }
  std::int64_t n_features_in() const { return n_features_; }

  void save(ArtifactWriter& out) const override;
  void load(const ArtifactReader& in) override;
  nlohmann::json summary() const override;

 private:
  void check_input(MatrixView<const float> x) const;

  KMeansParams params_;
  std::int64_t n_features_ = 0;
  std::int64_t n_clusters_ = 0;
  std::vector<double> centres_;
  std::vector<std::int32_t> labels_;
  double inertia_ = 0.0;
  std::int64_t n_iter_ = 0;
};

}  // namespace tabula
