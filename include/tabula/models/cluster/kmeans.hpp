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

#include "tabula/models/cluster/centroid_model.hpp"

namespace tabula {

/// "lloyd" (every row multiplied by every centre each iteration) or "elkan" (the same
/// iterations with Hamerly's distance bounds, which skip most products once the centres
/// settle; the assignments are Lloyd's up to rows within rounding of a tie).
enum class KMeansAlgorithm { kLloyd, kElkan };

/// sklearn.cluster.KMeans parameters.
struct KMeansParams {
  std::int64_t n_clusters = 8;
  CentroidInit init;
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
class KMeans final : public CentroidModel {
 public:
  explicit KMeans(KMeansParams params = {}) : params_(std::move(params)) {}

  std::string name() const override { return "kmeans"; }
  nlohmann::json params() const override { return params_.to_json(); }

  /// x: host, n x d, no missing values; n >= n_clusters. data.sample_weight (optional) weighs
  /// the centres, the inertia and the seeding draws; data.seed seeds the runs unless
  /// random_state is set.
  void fit(Backend& backend, const FitData& data) override;
  bool fits_distributed() const override { return true; }

 protected:
  std::int64_t load_params(const ParamMap& params) override;

 private:
  KMeansParams params_;
};

}  // namespace tabula
