// Baselines that ignore the features (scikit-learn's DummyRegressor and DummyClassifier): every
// model is reported next to one. Registry name "dummy"; the task comes from the target.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tabula/models/estimator.hpp"

namespace tabula {

/// Parameters: strategy ("mean" | "median" | "quantile"), quantile (0..1, required with
/// "quantile").
struct DummyRegressorParams {
  std::string strategy = "mean";
  double quantile = -1.0;  // unset (sklearn's None)

  static DummyRegressorParams parse(const ParamMap& params);
  nlohmann::json to_json() const;
};

/// Predicts one constant: the (weighted) mean, the median or a quantile of the training target
/// (NumPy's linear interpolation). Median and quantile refuse sample weights.
class DummyRegressor final : public Estimator {
 public:
  explicit DummyRegressor(DummyRegressorParams params = {}) : params_(std::move(params)) {}

  std::string name() const override { return "dummy"; }
  Task task() const override { return Task::kRegression; }
  nlohmann::json params() const override { return params_.to_json(); }
  void fit(Backend& backend, const FitData& data) override;
  std::vector<double> predict(Backend& backend, MatrixView<const float> x) const override;
  void save(ArtifactWriter& out) const override;
  void load(const ArtifactReader& in) override;
  nlohmann::json summary() const override;
  bool fits_distributed() const override { return true; }

  double constant() const { return constant_; }

 private:
  DummyRegressorParams params_;
  double constant_ = 0.0;
  bool fitted_ = false;
};

/// Parameters: strategy ("prior" | "most_frequent" | "stratified"), random_state (integer; by
/// default the seed given to fit).
struct DummyClassifierParams {
  std::string strategy = "prior";
  std::int64_t random_state = -1;  // unset: FitData::seed

  static DummyClassifierParams parse(const ParamMap& params);
  nlohmann::json to_json() const;
};

/// prior: predicts the most frequent class, probabilities = the class priors.
/// most_frequent: the same prediction, probabilities one-hot on it.
/// stratified: each row draws a class from the priors (deterministic for a given seed; the
/// draws are not NumPy's), probabilities one-hot on the draw.
/// Ties for the most frequent class go to the smallest class index, as sklearn's argmax.
class DummyClassifier final : public Estimator {
 public:
  explicit DummyClassifier(DummyClassifierParams params = {}) : params_(std::move(params)) {}

  std::string name() const override { return "dummy"; }
  Task task() const override { return Task::kClassification; }
  nlohmann::json params() const override { return params_.to_json(); }
  void fit(Backend& backend, const FitData& data) override;
  std::vector<double> predict(Backend& backend, MatrixView<const float> x) const override;
  std::vector<double> predict_proba(Backend& backend, MatrixView<const float> x) const override;
  std::int64_t n_outputs() const override { return static_cast<std::int64_t>(prior_.size()); }
  std::int64_t class_count() const override { return n_outputs(); }
  void save(ArtifactWriter& out) const override;
  void load(const ArtifactReader& in) override;
  nlohmann::json summary() const override;
  bool fits_distributed() const override { return true; }

  /// Class priors (weighted class frequencies), one per class index.
  const std::vector<double>& class_prior() const { return prior_; }

 private:
  std::vector<std::int64_t> draw(std::int64_t rows) const;
  std::int64_t most_frequent() const;

  DummyClassifierParams params_;
  std::vector<double> prior_;
  std::uint64_t seed_ = 0;
};

/// The registry's factory: a classifier for Task::kClassification, else a regressor
/// (InputError for kTransform).
std::unique_ptr<Estimator> make_dummy(const ParamMap& params, Task task);

}  // namespace tabula
