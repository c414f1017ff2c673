// Evaluation metrics with scikit-learn's names, definitions and edge cases: each equals
// sklearn.metrics' value on the same inputs to 1e-9.
//
// Inputs are host arrays. Class labels are given as doubles (any values; usually the encoded
// class index 0..k-1); probabilities are n x k row-major, column j for the j-th smallest label.
// Length mismatches, empty inputs and non-finite values are InputError.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tabula {
class Communicator;
}

namespace tabula::metrics {

/// How per-class precision/recall/F1 are combined (sklearn's `average`).
/// kBinary: the class labelled 1 only (at most two labels, one of them 1 when there are two, as
/// sklearn's default pos_label=1 requires; with label 1 absent every ratio is 0). kMacro:
/// unweighted mean over the labels present in y_true or y_pred. kWeighted: mean weighted by each
/// label's support in y_true.
enum class Average { kBinary, kMacro, kWeighted };

// ---- Classification from predicted labels ------------------------------------------------------
double accuracy(std::span<const double> y_true, std::span<const double> y_pred);
/// Mean recall over the classes present in y_true (sklearn: classes only predicted are dropped).
double balanced_accuracy(std::span<const double> y_true, std::span<const double> y_pred);
/// zero_division as sklearn's default ("warn"): an undefined ratio (0/0) counts as 0.
double precision(std::span<const double> y_true, std::span<const double> y_pred,
                 Average average = Average::kBinary);
double recall(std::span<const double> y_true, std::span<const double> y_pred,
              Average average = Average::kBinary);
double f1(std::span<const double> y_true, std::span<const double> y_pred,
          Average average = Average::kBinary);

// ---- Classification from scores or probabilities ------------------------------------------------
/// Binary ROC AUC: y_true holds exactly two distinct labels (the larger one is positive) and
/// y_score one score per row (higher = more positive). Ties are handled as sklearn's trapezoid
/// over distinct thresholds. Throws InputError when y_true holds one class only.
double roc_auc(std::span<const double> y_true, std::span<const double> y_score);
/// Multiclass one-vs-rest macro ROC AUC from probabilities (n x k, rows summing to 1, k equal to
/// the number of distinct labels in y_true; column j is the j-th smallest label). With k == 2 it
/// is the binary AUC of column 1. InputError as sklearn raises ValueError.
double roc_auc_ovr(std::span<const double> y_true, std::span<const double> proba, std::int64_t k);
/// Mean cross-entropy; proba is n x k (k >= 2), values in [0, 1]. Column j is the j-th smallest
/// label of y_true when y_true holds k distinct labels; otherwise y_true must hold class indices
/// in 0..k-1 (sklearn's labels=range(k)). Probabilities are clipped to [eps, 1 - eps] with eps =
/// float64 epsilon, as sklearn does (sklearn >= 1.5 no longer renormalises rows; neither does
/// this).
double log_loss(std::span<const double> y_true, std::span<const double> proba, std::int64_t k);

// ---- Curves (scikit-learn's roc_curve, precision_recall_curve, calibration_curve) -----------
// Binary inputs as roc_auc: y_true holds exactly two distinct labels, the larger one positive
// (InputError for one class only: every curve below would divide by zero).

/// One point per distinct score, highest first, after sklearn's drop_intermediate=True (points
/// collinear with both neighbours are dropped; the area is unchanged); point 0 is (0, 0) with
/// threshold +infinity.
struct RocCurve {
  std::vector<double> fpr, tpr, thresholds;
};
RocCurve roc_curve(std::span<const double> y_true, std::span<const double> y_score);

/// sklearn's precision_recall_curve (drop_intermediate=False): thresholds ascending, one per
/// distinct score; precision and recall have one more entry, the last being (1, 0).
struct PrecisionRecallCurve {
  std::vector<double> precision, recall, thresholds;
};
PrecisionRecallCurve precision_recall_curve(std::span<const double> y_true,
                                            std::span<const double> y_score);

/// sklearn's auc: the trapezoid area under y(x) for x monotonic (either direction; InputError
/// otherwise, or with fewer than two points).
double auc(std::span<const double> x, std::span<const double> y);

/// sklearn's calibration_curve(strategy="uniform"): [0, 1] cut into n_bins equal bins (a value
/// on an inner edge goes to the lower bin); for each non-empty bin, the fraction of positives
/// (prob_true), the mean predicted probability (prob_pred) and the row count. y_prob must lie
/// in [0, 1].
struct CalibrationCurve {
  std::vector<double> prob_true, prob_pred;
  std::vector<std::int64_t> count;
};
CalibrationCurve calibration_curve(std::span<const double> y_true, std::span<const double> y_prob,
                                   int n_bins = 10);

/// sklearn's confusion_matrix: counts[i * k + j] is the number of rows of true label
/// labels[i] predicted labels[j]. `labels` empty: the sorted union of y_true and y_pred;
/// otherwise a value outside `labels` is an InputError naming its row.
struct ConfusionMatrix {
  std::vector<double> labels;
  std::vector<std::int64_t> counts;
  std::int64_t at(std::size_t true_index, std::size_t pred_index) const {
    return counts[true_index * labels.size() + pred_index];
  }
};
ConfusionMatrix confusion_matrix(std::span<const double> y_true, std::span<const double> y_pred,
                                 std::span<const double> labels = {});

// ---- Regression ---------------------------------------------------------------------------------
double mean_squared_error(std::span<const double> y_true, std::span<const double> y_pred);
double root_mean_squared_error(std::span<const double> y_true, std::span<const double> y_pred);
double mean_absolute_error(std::span<const double> y_true, std::span<const double> y_pred);
/// Coefficient of determination. Constant y_true: 1 when predictions are perfect, else 0
/// (sklearn's force_finite=True). Fewer than two samples: NaN, as sklearn.
double r2(std::span<const double> y_true, std::span<const double> y_pred);
/// 1 - Var(y_true - y_pred) / Var(y_true), with r2's constant-target rule.
double explained_variance(std::span<const double> y_true, std::span<const double> y_pred);

// ---- Clustering (unsupervised: from the rows and their cluster labels) -------------------------
/// The rows the clustering metrics read: host, row-major float32, rows x cols.
struct Rows {
  std::span<const float> values;
  std::int64_t cols = 0;
  std::int64_t rows() const {
    return cols > 0 ? static_cast<std::int64_t>(values.size()) / cols : 0;
  }
};

/// Rows above which silhouette() scores a sample (scikit-learn's silhouette_score with
/// sample_size): the exact score costs rows² distances.
inline constexpr std::int64_t kSilhouetteMaxRows = 10000;

/// The clustering metrics take an optional `comm` (null: one process): x and labels are then
/// this rank's rows (the ranks' rows in rank order) and the metric is of every rank's rows, the
/// same on every rank. Inertia and Davies-Bouldin sum per-cluster statistics over the ranks
/// (within rounding of one process); silhouette gathers the rows it scores (its sample, drawn
/// over every rank's rows as one process draws it, or every row below sample_size) and is the
/// one-process value.
///
/// Within-cluster sum of squares: Σ ‖x_i - mean of x_i's cluster‖² (k-means' inertia when the
/// labels come from its fit). Any number of clusters.
double inertia(Rows x, std::span<const double> labels, Communicator* comm = nullptr);
/// Mean silhouette coefficient (Euclidean), as sklearn.metrics.silhouette_score: a row alone
/// in its cluster scores 0. Needs 2 <= clusters <= rows - 1 (of the rows scored). Above
/// `sample_size` rows (0: every row) it scores `sample_size` rows drawn without replacement,
/// seeded by `seed` (the same rows for the same seed).
double silhouette(Rows x, std::span<const double> labels,
                  std::int64_t sample_size = kSilhouetteMaxRows, std::uint64_t seed = 0,
                  Communicator* comm = nullptr);
/// Davies-Bouldin index, as sklearn.metrics.davies_bouldin_score (lower is better). Needs
/// 2 <= clusters <= rows - 1.
double davies_bouldin(Rows x, std::span<const double> labels, Communicator* comm = nullptr);

// ---- Scorers by scikit-learn scorer name --------------------------------------------------------
enum class ScorerTask { kClassification, kRegression, kClustering };

/// A scorer: what it is for and what it needs. Values follow sklearn's scorer convention:
/// greater is better, so losses are negated (neg_log_loss, neg_mean_squared_error, ...).
struct Scorer {
  std::string name;
  ScorerTask task = ScorerTask::kClassification;
  bool needs_proba = false;  // roc_auc, neg_log_loss: computed from probabilities
};

/// Every scorer name: accuracy, balanced_accuracy, f1, f1_macro, f1_weighted, precision,
/// precision_macro, precision_weighted, recall, recall_macro, recall_weighted, roc_auc,
/// neg_log_loss, r2, neg_mean_squared_error, neg_root_mean_squared_error,
/// neg_mean_absolute_error, explained_variance; for clustering silhouette, neg_inertia,
/// neg_davies_bouldin (from the rows and the predicted cluster labels).
const std::vector<Scorer>& scorers();
/// The scorer called `name`; InputError listing the known names otherwise.
const Scorer& scorer(std::string_view name);

/// Computes a scorer. `y_pred` holds predicted labels or values (may be empty when the scorer
/// needs probabilities); `proba` is n x k row-major (empty unless needed), columns as for
/// roc_auc_ovr and log_loss. Clustering scorers read `x` (the scored rows) and y_pred (their
/// cluster labels) and ignore y_true. InputError for an unknown name or a missing input.
double score(std::string_view name, std::span<const double> y_true, std::span<const double> y_pred,
             std::span<const double> proba = {}, std::int64_t k = 0, Rows x = {});

}  // namespace tabula::metrics
