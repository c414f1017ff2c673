// Mini-batch k-means with scikit-learn's names and defaults (sklearn.cluster.MiniBatchKMeans):
// each step assigns a batch of rows to the nearest centres and moves every centre toward its
// batch rows by the centre's share of all the weight it has seen; centres that see too little
// are moved onto batch rows. It reads its rows in passes (RowPasses), so `tabula train` fits a
// file larger than memory; in memory, fit() runs the same passes over the matrix.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tabula/models/cluster/centroid_model.hpp"

namespace tabula {

/// sklearn.cluster.MiniBatchKMeans parameters.
struct MiniBatchKMeansParams {
  std::int64_t n_clusters = 8;
  CentroidInit init;
  /// Passes over the rows at most (scikit-learn's epochs).
  std::int64_t max_iter = 100;
  std::int64_t batch_size = 1024;
  /// Relative to the mean per-feature variance of the data, as scikit-learn; 0: not used.
  double tol = 0.0;
  /// Stop after this many steps without a lower smoothed batch inertia; nullopt: "None".
  std::optional<std::int64_t> max_no_improvement = 10;
  /// Rows the seeding draws from; nullopt: "None", 3 x batch_size.
  std::optional<std::int64_t> init_size;
  /// 0 = "auto": 1 run for k-means++ and given centres, 3 for random.
  std::int64_t n_init = 0;
  std::optional<std::uint64_t> random_state;
  /// A centre whose seen weight is below this fraction of the largest is moved onto a row.
  double reassignment_ratio = 0.01;

  static MiniBatchKMeansParams parse(const ParamMap& params);
  nlohmann::json to_json() const;
  std::int64_t runs() const;
};

/// Registry name "minibatch-kmeans", task clustering; predicts and transforms as KMeans.
class MiniBatchKMeans final : public CentroidModel {
 public:
  /// Steps' batches are drawn from windows of this many consecutive rows (rounded up to whole
  /// batches), shuffled: rows far apart in a file never share a batch.
  static constexpr std::int64_t kWindowRows = 65536;

  explicit MiniBatchKMeans(MiniBatchKMeansParams params = {}) : params_(std::move(params)) {}

  std::string name() const override { return "minibatch-kmeans"; }
  nlohmann::json params() const override { return params_.to_json(); }

  /// The passes of fit_passes over data.x (host, n x d, no missing values), keeping the
  /// labels of its rows (labels()). Sample weights weigh the steps, the seeding and the inertia.
  /// Over ranks (data.comm), every rank fits on every rank's rows gathered block by block
  /// (distributed::GatheredRowPasses): the one-process model on every rank.
  void fit(Backend& backend, const FitData& data) override;
  bool fits_distributed() const override { return true; }
  bool fits_in_passes() const override { return true; }
  void fit_passes(Backend& backend, RowPasses& rows, std::uint64_t seed) override;
  /// scikit-learn's partial_fit: one step on data.x (the first call seeds on it), then the
  /// batch's labels and inertia. Goes on from a fit() or earlier calls in this process (the
  /// centres' seen weights are not stored in model files: InputError after load()).
  void partial_fit(Backend& backend, const FitData& data) override;

  /// scikit-learn's n_steps_: the mini-batch steps taken.
  std::int64_t n_steps() const { return n_steps_; }

 protected:
  std::int64_t load_params(const ParamMap& params) override;
  nlohmann::json fitted_extra() const override { return {{"n_steps_", n_steps_}}; }
  void load_extra(const nlohmann::json& fitted) override;

 private:
  void fit_rows(Backend& backend, RowPasses& rows, std::uint64_t seed,
                std::vector<std::int32_t>* labels);

  class Steps;

  MiniBatchKMeansParams params_;
  std::int64_t n_steps_ = 0;
  /// The steps' state (centres' seen weights, generator) after a fit or partial_fit; shared by
  /// copies of the model until one of them steps again.
  std::shared_ptr<Steps> steps_;
};

}  // namespace tabula
