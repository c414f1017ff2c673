// Histogram gradient boosting: HistGradientBoostingClassifier and HistGradientBoostingRegressor
// with scikit-learn's parameter names and defaults. Trees grow leaf-wise (best first) on the
// random forest's quantile bins and Backend's histogram primitives; gradients and Hessians are
// quantised to fixed point once per iteration, so every histogram sum is an exact integer and
// the model is identical for any thread count and on every device.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/models/estimator.hpp"
#include "tabula/models/forest/forest.hpp"

namespace tabula {

/// The losses: squared_error and absolute_error (regression; absolute_error's leaves hold the
/// median residual of their rows), log_loss (classification: binary with one tree per iteration
/// and a sigmoid, multiclass with one tree per class per iteration and a softmax).
enum class GbdtLoss { kSquaredError, kAbsoluteError, kLogLoss };

/// scikit-learn's categorical_features: which input columns hold category codes that the trees
/// split on as sets (native categorical splits) rather than by thresholds.
struct CategoricalFeatures {
  enum class Kind { kNone, kFromDtype, kNames, kIndices, kMask };
  /// kFromDtype: the columns FitData::categorical flags (text columns coded by the pipeline).
  Kind kind = Kind::kFromDtype;
  std::vector<std::string> names;     // kNames: FitData::feature_names entries
  std::vector<std::int64_t> indices;  // kIndices: 0-based columns
  std::vector<std::uint8_t> mask;     // kMask: one per column
  /// From text: "from_dtype", None, or a list as "a,b" or JSON (["a", "b"], [0, 3],
  /// [true, false]): all true/false is a mask, all integers are indices, else names.
  static CategoricalFeatures parse(const std::string& text);
  nlohmann::json to_json() const;
};

struct GbdtParams {
  GbdtLoss loss = GbdtLoss::kSquaredError;          // classifier: log_loss
  double learning_rate = 0.1;                       // > 0
  std::int64_t max_iter = 100;                      // boosting iterations, >= 1
  std::optional<std::int64_t> max_leaf_nodes = 31;  // >= 2, or None: no limit
  std::optional<std::int64_t> max_depth;            // edges root to leaf, >= 1, or None
  std::int64_t min_samples_leaf = 20;               // rows on each side of a split, >= 1
  double l2_regularization = 0.0;                   // >= 0
  int max_bins = 255;                               // value bins, 2..255 (+ 1 missing bin)
  double max_features = 1.0;  // fraction of the features a node's split may use, (0, 1]
  /// "auto" (on when there are more than 10000 rows), true or false.
  std::string early_stopping = "auto";
  std::optional<double> validation_fraction = 0.1;  // (0, 1), or None: the training loss
  std::int64_t n_iter_no_change = 10;               // >= 1
  double tol = 1e-7;                                // >= 0
  std::optional<std::uint64_t> random_state;        // none: FitData::seed
  /// Classifier only: "" (None), "balanced", or per class index "0:1.5,1:3"; multiplies the
  /// sample weights, computed on all training rows before the validation split.
  std::string class_weight;
  CategoricalFeatures categorical_features;  // default "from_dtype", as scikit-learn >= 1.6

  /// Parses scikit-learn names from text for `task`; InputError naming an unknown key, a bad
  /// value or a loss that does not fit the task.
  static GbdtParams parse(const ParamMap& params, Task task);
  /// class_weight is written for classifiers only (as scikit-learn's regressor has none).
  nlohmann::json to_json() const;
  std::string loss_name() const;
  /// Whether early stopping applies to a fit on n_samples rows.
  bool early_stopping_on(std::int64_t n_samples) const;
};

/// The shared implementation of both estimators. The fitted trees are one ForestModel (value
/// size 1): tree `i * trees_per_iteration + k` is iteration i's tree for raw score k. A row's
/// raw score k is baseline[k] plus its leaf values summed in tree order; probabilities are the
/// sigmoid (one score) or the softmax (one per class) of the raw scores.
class HistGradientBoosting : public Estimator {
 public:
  HistGradientBoosting(Task task, GbdtParams params);

  std::string name() const override;
  Task task() const override { return task_; }
  nlohmann::json params() const override { return params_.to_json(); }

  /// data.x: host, n x d float32, NaN = missing. Classification targets 0..n_classes-1.
  void fit(Backend& backend, const FitData& data) override;
  std::vector<double> predict(Backend& backend, MatrixView<const float> x) const override;
  std::vector<double> predict_proba(Backend& backend, MatrixView<const float> x) const override;
  std::vector<double> predict_with_proba(Backend& backend, MatrixView<const float> x,
                                         std::vector<double>& proba) const override;
  /// n x trees_per_iteration row-major raw scores (before the sigmoid / softmax).
  std::vector<double> decision_function(Backend& backend, MatrixView<const float> x) const;

  void save(ArtifactWriter& out) const override;
  void load(const ArtifactReader& in) override;
  nlohmann::json summary() const override;
  /// Over ranks, bit for bit: every loss and option on the CPU, except absolute_error with
  /// sample weights, which fit refuses (docs/distributed.md).
  bool fits_distributed() const override { return true; }

  std::int64_t class_count() const override { return n_classes_; }
  const ForestModel& trees() const { return trees_; }
  const std::vector<double>& baseline() const { return baseline_; }
  std::int64_t n_iter() const { return n_iter_; }
  std::int64_t trees_per_iteration() const { return trees_per_iteration_; }
  /// Per iteration (the baseline first): the scores early stopping compared (negative loss on
  /// the validation rows, or the training rows); empty without early stopping.
  const std::vector<double>& validation_scores() const { return validation_scores_; }
  /// Per input column, 1 when the trees split on it as categories (scikit-learn's
  /// is_categorical_); empty when none is.
  const std::vector<std::uint8_t>& is_categorical() const { return is_categorical_; }

 private:
  Task task_;
  GbdtParams params_;
  ForestModel trees_;
  std::vector<double> baseline_;  // trees_per_iteration entries
  std::int64_t trees_per_iteration_ = 1;
  std::int64_t n_iter_ = 0;
  std::int64_t n_features_ = 0;
  int n_classes_ = 0;
  std::vector<double> validation_scores_;
  std::vector<std::uint8_t> is_categorical_;
  std::shared_ptr<ForestTraversalCache> traversal_cache_ = std::make_shared<ForestTraversalCache>();
};

class HistGradientBoostingClassifier : public HistGradientBoosting {
 public:
  explicit HistGradientBoostingClassifier(const ParamMap& params = {})
      : HistGradientBoosting(Task::kClassification,
                             GbdtParams::parse(params, Task::kClassification)) {}
};

class HistGradientBoostingRegressor : public HistGradientBoosting {
 public:
  explicit HistGradientBoostingRegressor(const ParamMap& params = {})
      : HistGradientBoosting(Task::kRegression, GbdtParams::parse(params, Task::kRegression)) {}
};

}  // namespace tabula
