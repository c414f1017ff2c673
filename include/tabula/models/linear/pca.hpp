// Principal component analysis with scikit-learn's names and defaults (sklearn.decomposition.PCA,
// the "covariance_eigh" solver): column means and the Gram matrix on the backend (float64),
// covariance = centred Gram / (n - 1), then a symmetric eigendecomposition. Components follow
// scikit-learn's sign convention (svd_flip on the rows of Vt: the largest |value| of each
// component is positive).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "tabula/models/estimator.hpp"

namespace tabula {

/// How the components are found. kFull: full eigendecomposition of the covariance (sklearn's
/// "full" / "covariance_eigh" give the same components); kRandomized: randomized subspace
/// iteration on the covariance (needs an integer n_components); kAuto: randomized when there
/// are more than kRandomizedMinFeatures features and n_components is an integer below a tenth
/// of min(n_samples, n_features), else full.
enum class PcaSolver { kAuto, kFull, kRandomized };

/// sklearn.decomposition.PCA parameters.
struct PcaParams {
  static constexpr std::int64_t kRandomizedMinFeatures = 500;

  /// 0 = all components (None): min(n_samples, n_features).
  std::int64_t n_components = 0;
  /// In (0, 1): keep the fewest components whose explained variance ratio sum exceeds it.
  /// 0 = not used (n_components decides).
  double variance_fraction = 0.0;
  bool whiten = false;
  PcaSolver svd_solver = PcaSolver::kAuto;  // "auto", "full", "covariance_eigh", "randomized"

  /// n_components: "None", an integer >= 1, or a fraction in (0, 1); whiten: true/false.
  static PcaParams parse(const ParamMap& params);
  nlohmann::json to_json() const;
};

/// Registry name "pca". fit() ignores targets; transform() gives n x n_components_.
class Pca final : public Estimator {
 public:
  explicit Pca(PcaParams params = {}) : params_(params) {}

  std::string name() const override { return "pca"; }
  Task task() const override { return Task::kTransform; }
  nlohmann::json params() const override { return params_.to_json(); }

  /// Needs at least 2 rows. data.sample_weight must be empty (PCA takes no weights).
  /// data.seed seeds the randomized solver's probe vectors.
  void fit(Backend& backend, const FitData& data) override;
  bool fits_distributed() const override { return true; }
  /// PCA does not predict: throws InputError pointing at transform.
  std::vector<double> predict(Backend& backend, MatrixView<const float> x) const override;
  /// (x - mean_) components_ᵀ, divided by sqrt(explained_variance_) when whitening; host x
  /// (n x n_features_in_), result n x n_components_ row-major float64.
  std::vector<double> transform(Backend& backend, MatrixView<const float> x) const override;
  /// Back to feature space: z (n x n_components_, row-major host) -> n x n_features_in_.
  std::vector<double> inverse_transform(std::span<const double> z, std::int64_t n) const;
  std::int64_t n_outputs() const override { return n_components_; }

  /// components_: n_components_ x n_features_in_ row-major, orthonormal rows.
  const std::vector<double>& components() const { return components_; }
  const std::vector<double>& explained_variance() const { return explained_variance_; }
  const std::vector<double>& explained_variance_ratio() const { return explained_variance_ratio_; }
  const std::vector<double>& singular_values() const { return singular_values_; }
  const std::vector<double>& mean() const { return mean_; }
  double noise_variance() const { return noise_variance_; }
  std::int64_t n_components() const { return n_components_; }
  std::int64_t n_features_in() const { return n_features_; }
  /// "full" or "randomized": the solver that ran.
  const std::string& solver_used() const { return solver_used_; }

  void save(ArtifactWriter& out) const override;
  void load(const ArtifactReader& in) override;
  nlohmann::json summary() const override;

 private:
  void check_input(MatrixView<const float> x) const;

  PcaParams params_;
  std::int64_t n_features_ = 0;
  std::int64_t n_samples_ = 0;
  std::int64_t n_components_ = 0;
  std::vector<double> components_;
  std::vector<double> explained_variance_;
  std::vector<double> explained_variance_ratio_;
  std::vector<double> singular_values_;
  std::vector<double> mean_;
  double noise_variance_ = 0.0;
  std::string solver_used_;
};

}  // namespace tabula
