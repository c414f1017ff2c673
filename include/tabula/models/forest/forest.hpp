// Random forests grown from quantile histograms: RandomForestClassifier and
// RandomForestRegressor with scikit-learn's parameter names and defaults, plus max_bins.
// The algorithm is written once against Backend's forest primitives; the trees are identical for
// any thread count and on every device (integer histogram sums, counter-based random numbers).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/core/buffer.hpp"
#include "tabula/core/matrix.hpp"
#include "tabula/models/estimator.hpp"

namespace tabula {

/// A count (value >= 1) or, when is_fraction, a fraction of the rows (scikit-learn's int/float).
struct ForestAmount {
  double value = 1;
  bool is_fraction = false;
  /// The count for `rows` rows: value, or ceil(value * rows) for a fraction (at least 1).
  std::int64_t resolve(std::int64_t rows) const;
};

/// max_features: "sqrt", "log2", all features (None / 1.0), a count or a fraction.
struct ForestMaxFeatures {
  enum class Kind { kSqrt, kLog2, kAll, kCount, kFraction };
  Kind kind = Kind::kSqrt;
  double value = 0;
  /// Features drawn per node for d features (1 .. d); InputError when a count exceeds d.
  std::int64_t resolve(std::int64_t d) const;
  std::string to_string() const;
};

struct ForestParams {
  std::int64_t n_estimators = 100;
  std::optional<std::int64_t> max_depth;  // none: grow until leaves are pure or too small
  ForestAmount min_samples_split{2, false};
  ForestAmount min_samples_leaf{1, false};
  double min_impurity_decrease = 0.0;
  ForestMaxFeatures max_features;              // classifier: sqrt; regressor: all
  std::optional<std::int64_t> max_leaf_nodes;  // set: best-first growth up to this many leaves
  bool bootstrap = true;
  std::optional<ForestAmount> max_samples;  // rows drawn per tree when bootstrapping
  ForestCriterion criterion = ForestCriterion::kGini;
  std::string criterion_name = "gini";  // as given: gini, entropy, log_loss, squared_error
  /// "" (none), "balanced", "balanced_subsample", or per class "0:1.5,1:3".
  std::string class_weight;
  bool oob_score = false;
  std::optional<std::uint64_t> random_state;  // none: FitData::seed
  int max_bins = 256;                         // 2..256, the missing-value bin included
  /// true (scikit-learn): a node whose max_features drawn features give no valid split draws
  /// more until one does. false: such a node becomes a leaf. Absent from an artifact: false.
  bool redraw_features = true;

  /// Parses scikit-learn names from text; InputError naming an unknown key or a bad value.
  static ForestParams parse(const ParamMap& params, Task task);
  nlohmann::json to_json() const;
};

/// Quantile bin edges per feature, fitted once from (a sample of) the training rows, and the
/// binned training matrix on a backend. Reusable by many fits on the same rows (tuning).
class BinnedMatrix {
 public:
  /// Bins x (n x d, host or `backend` memory, float32, NaN = missing). At most max_bins - 1
  /// value bins per feature plus bin 0 for missing values; edges come from at most 200,000
  /// evenly spaced rows; +-inf fall in the extreme bins. Throws InputError for max_bins outside
  /// 2..256, an empty matrix or a feature whose values are all missing (naming it, 0-based).
  /// category_counts (empty, or d entries): k > 0 makes feature j categorical, its values codes
  /// 0..k-1 (anything else binned as missing is the caller's to arrange), code c in bin 1 + c.
  /// comm (null: one process): x is this rank's share of the rows (ranks' shares in rank
  /// order); the edges are those of one process binning all the rows, on every rank.
  static BinnedMatrix build(Backend& backend, MatrixView<const float> x, int max_bins,
                            std::span<const std::int32_t> category_counts = {},
                            Communicator* comm = nullptr);
  /// Bins new rows x (host or `backend` memory, x.cols == edges_of.cols()) with the edges of
  /// `edges_of` instead of fitting new ones: one pass over x, no sorting. max_bins, edges and
  /// n_bins are those of edges_of, so a fit on the result equals a fit on the matching rows of
  /// edges_of. A feature may be all missing here (every code 0).
  static BinnedMatrix build(Backend& backend, MatrixView<const float> x,
                            const BinnedMatrix& edges_of);

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  int max_bins() const { return max_bins_; }
  /// Ascending edges of feature j: edges()[offsets()[j] .. offsets()[j + 1]).
  const std::vector<float>& edges() const { return edges_; }
  const std::vector<std::int32_t>& offsets() const { return offsets_; }
  /// Bins in use per feature (edges + 2: missing bin and value bins).
  const std::vector<std::int32_t>& n_bins() const { return n_bins_; }
  /// Upper edge of value bin b (1-based) of feature j; +inf for the last bin.
  float upper_edge(std::int64_t j, std::int32_t b) const;
  /// Codes, n x d row-major uint8, in backend memory.
  MatrixView<const std::uint8_t> codes() const;
  Backend& backend() const { return *backend_; }

 private:
  void bin_rows(MatrixView<const float> x);  // codes_ of x with the edges already set

  Backend* backend_ = nullptr;
  std::int64_t rows_ = 0;
  std::int64_t cols_ = 0;
  int max_bins_ = 0;
  std::vector<float> edges_;
  std::vector<std::int32_t> offsets_;
  std::vector<std::int32_t> n_bins_;
  Buffer<std::uint8_t> codes_;
};

/// One fitted forest: plain arrays, the nodes of all trees concatenated (see ForestTrees).
struct ForestModel {
  std::vector<std::int64_t> offsets{0};  // n_trees + 1
  std::vector<std::int32_t> feature;     // -1: leaf
  std::vector<float> threshold;          // go left when x <= threshold
  std::vector<std::int32_t> left;        // child index within the tree
  std::vector<std::int32_t> right;
  std::vector<std::uint8_t> missing_left;
  std::vector<std::int64_t> n_samples;  // rows (bootstrap draws counted once) per node
  std::vector<double> values;           // nodes x value_size
  std::int64_t value_size = 1;
  /// Categorical splits (gradient boosting), both empty when the model has none: per node -1 or
  /// its set's index; sets x kForestCategorySetBytes bytes, bit c = category c goes left (see
  /// ForestTrees).
  std::vector<std::int32_t> category_set;
  std::vector<std::uint8_t> category_bits;

  std::int64_t n_trees() const { return static_cast<std::int64_t>(offsets.size()) - 1; }
  std::int64_t n_nodes() const { return offsets.back(); }
  /// Depth (root = 0) of tree t's deepest leaf, and its number of leaves.
  std::int64_t depth(std::int64_t t) const;
  std::int64_t leaves(std::int64_t t) const;
  /// A view of the arrays in host memory.
  ForestTrees host_view() const;

  /// Growing one tree: appends a leaf reached by `samples` rows (its value_size values are the
  /// caller's to append) and returns its index.
  std::int32_t add_leaf(std::int64_t samples);
  /// Growing one tree: turns node `node` into a split (x <= threshold goes to `to_left`).
  void set_split(std::int32_t node, std::int32_t split_feature, float split_threshold,
                 std::int32_t to_left, std::int32_t to_right, std::uint8_t missing_to_left);
  /// Growing one tree: turns node `node` into a categorical split; `set` holds
  /// kForestCategorySetBytes bytes, the categories that go to `to_left`.
  void set_category_split(std::int32_t node, std::int32_t split_feature,
                          std::span<const std::uint8_t> set, std::int32_t to_left,
                          std::int32_t to_right, std::uint8_t missing_to_left);
  bool has_category_splits() const { return !category_set.empty(); }
  /// Appends the trees of `more` (same value_size) after this model's.
  void append(const ForestModel& more);
};

/// The shared implementation of both estimators.
class RandomForest : public Estimator {
 public:
  RandomForest(Task task, ForestParams params);

  std::string name() const override;
  Task task() const override { return task_; }
  nlohmann::json params() const override { return params_.to_json(); }
  bool fits_distributed() const override { return true; }

  /// Bins data.x, then fit_binned. Classification targets are class indices 0..n_classes-1.
  void fit(Backend& backend, const FitData& data) override;
  /// Fits on rows already binned (bins.max_bins() must equal max_bins). y, sample_weight:
  /// host, bins.rows() entries (sample_weight may be empty). x: the same rows, unbinned (host
  /// or backend memory), used only for the out-of-bag score; may be empty without oob_score.
  /// random_state, when set, replaces `seed`.
  void fit_binned(const BinnedMatrix& bins, MatrixView<const float> x, std::span<const double> y,
                  std::span<const double> sample_weight, int n_classes, std::uint64_t seed);
  /// Fits on the subset `rows` of the binned rows (ascending, unique, each in 0..bins.rows()-1;
  /// host memory): one binning shared by every fold and trial of a search, no copy of the
  /// codes. y and sample_weight (host) hold one entry per BINS row (bins.rows() entries), as
  /// does x (only read for oob_score); entries of unselected rows are never read. Bootstrap
  /// draws, max_samples, fractional min_samples_*, "balanced" class weights and the
  /// regression target scaling are computed over the selected rows only, so the result is
  /// bit-identical to fit_binned on a BinnedMatrix of just those rows with the same edges
  /// (BinnedMatrix::build(backend, x_subset, bins)). Throws InputError for an empty, unsorted,
  /// repeated or out-of-range row list.
  /// comm (null: one process): the rows are this rank's share (ranks' shares in rank order) and
  /// bins were built over every rank; trees are grown level by level with the histograms summed
  /// over the ranks, so every rank grows the trees one process grows on all the rows (bit for
  /// bit). oob_score is refused.
  void fit_binned(const BinnedMatrix& bins, std::span<const std::int64_t> rows,
                  MatrixView<const float> x, std::span<const double> y,
                  std::span<const double> sample_weight, int n_classes, std::uint64_t seed,
                  Communicator* comm = nullptr);

  std::vector<double> predict(Backend& backend, MatrixView<const float> x) const override;
  std::vector<double> predict_proba(Backend& backend, MatrixView<const float> x) const override;
  /// One traversal: the classes are the argmax of the probabilities, as in predict().
  std::vector<double> predict_with_proba(Backend& backend, MatrixView<const float> x,
                                         std::vector<double>& proba) const override;
  /// The trees' arrays copied to `backend` once (viewed in place on the CPU) and walked from
  /// there on every call; predict() and its siblings do the same per call. Error before fit.
  std::unique_ptr<ResidentEstimator> make_resident(Backend& backend) const override;
  /// Test hook: how many times, in this process, a forest's arrays were made visible on a
  /// backend (per predict call, once per make_resident, once per out-of-bag score).
  static std::int64_t array_uploads();
  /// n x n_trees row-major: the leaf (node index within its tree) each row reaches.
  std::vector<std::int32_t> apply(Backend& backend, MatrixView<const float> x) const;

  void save(ArtifactWriter& out) const override;
  void load(const ArtifactReader& in) override;
  nlohmann::json summary() const override;

  const ForestModel& model() const { return model_; }
  std::int64_t n_features() const { return n_features_; }
  int n_classes() const { return n_classes_; }
  std::int64_t class_count() const override { return n_classes_; }
  /// Impurity-based importances (d entries, sum 1 unless no tree split).
  const std::vector<double>& feature_importances() const { return importances_; }
  /// Out-of-bag accuracy (classifier) or R² (regressor); NaN unless oob_score was set.
  double oob_score() const { return oob_score_; }

 private:
  class Resident;  // the fitted trees on one backend; every predict path goes through it

  Task task_;
  ForestParams params_;
  ForestModel model_;
  std::int64_t n_features_ = 0;
  int n_classes_ = 0;
  std::vector<double> importances_;
  double oob_score_ = 0.0;
  // The backend's traversal preparation of model_ (the CPU's walk layout), made on the first
  // predict or apply and replaced by fit and load.
  std::shared_ptr<ForestTraversalCache> traversal_cache_ = std::make_shared<ForestTraversalCache>();
};

class RandomForestClassifier : public RandomForest {
 public:
  explicit RandomForestClassifier(const ParamMap& params = {})
      : RandomForest(Task::kClassification, ForestParams::parse(params, Task::kClassification)) {}
};

class RandomForestRegressor : public RandomForest {
 public:
  explicit RandomForestRegressor(const ParamMap& params = {})
      : RandomForest(Task::kRegression, ForestParams::parse(params, Task::kRegression)) {}
};

}  // namespace tabula
