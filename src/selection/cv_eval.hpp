// Scoring one trial over the folds of a cross-validation scheme: the plain path (fit each fold)
// and forests over one shared binning. The least-squares family's shared-statistics path is in
// cv_least_squares.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tabula/backend/backend.hpp"
#include "tabula/metrics/metrics.hpp"
#include "tabula/models/estimator.hpp"
#include "tabula/models/forest/forest.hpp"
#include "tabula/selection/model_selection.hpp"

namespace tabula::selection {

/// The estimator's input for one fold: dense row-major float32 blocks of the train and test
/// rows, `cols` columns each.
struct FoldMatrices {
  std::vector<float> train, test;
  std::int64_t cols = 0;
  /// The pipeline's output names and categorical_outputs (empty when no pipeline encoded them).
  std::vector<std::string> names;
  std::vector<std::uint8_t> categorical;
};

/// Encodes a fold's rows (fits a pipeline on `train` and transforms both, or gathers rows).
using FoldEncoder = std::function<FoldMatrices(std::span<const std::int64_t> train,
                                               std::span<const std::int64_t> test)>;

/// What every trial of a search shares. Rows in `folds` index x and y.
struct CvData {
  /// host, row-major, all rows of the table (n x d): the raw numeric features (the shared path
  /// reads them; the plain path gathers from them when no encoder is given).
  MatrixView<const float> x;
  std::span<const double> y;  // n: values, or class indices for classification
  Task task = Task::kRegression;
  int n_classes = 0;  // classification
  std::vector<Fold> folds;
  std::vector<std::string> metrics;  // scorer names; [0] decides
};

/// One trial's per-fold scores and timings.
struct FoldScores {
  std::vector<std::vector<double>> scores;  // [metric][fold]
  double fit_seconds = 0.0;                 // mean per fold
  double score_seconds = 0.0;               // mean per fold
};

/// A dense row-major host matrix as the clustering metrics read it.
metrics::Rows rows_of(MatrixView<const float> x);

/// Rows `rows` of x, copied into a dense row-major block (what an estimator's fit takes).
std::vector<float> gather_rows(MatrixView<const float> x, std::span<const std::int64_t> rows);

/// Every metric of `data.metrics` for one fold's predictions; a metric that is undefined on
/// this fold (e.g. roc_auc on a fold with one class) is NaN. `x` is the fold's scored rows as
/// the estimator saw them, read by the clustering metrics (with `pred` as cluster labels).
std::vector<double> score_fold(const CvData& data, std::span<const double> y_true,
                               std::span<const double> pred, std::span<const double> proba,
                               metrics::Rows x = {});

/// Plain path: per fold, a fresh estimator (model, params, task hint) is fitted on the training
/// rows and scored on the test rows. `row_fraction` < 1 fits on that fraction of each fold's
/// training rows (successive halving), a seeded, fold-specific subset.
/// `encoder` (may be empty: rows of data.x) gives each fold's matrices.
FoldScores cv_plain(Backend& backend, const CvData& data, const FoldEncoder& encoder,
                    const std::string& model, const ParamMap& params, Task hint, std::uint64_t seed,
                    double row_fraction = 1.0);

/// Forests over one binning per search: the pool rows (every non-test row) binned once with
/// edges fitted on them, shared by every fold and trial.
struct SharedBins {
  const BinnedMatrix* bins = nullptr;  // pool rows, in pool order
  MatrixView<const float> x;           // the same rows unbinned (host, pool order)
  std::vector<double> y;               // the same rows' targets
  std::vector<std::int64_t> position;  // table row -> pool position (-1: test row)
};

/// Plain path for forests with shared bins: each fold fits RandomForest::fit_binned on its
/// training rows' positions (ascending), no re-binning and no copy of the codes.
FoldScores cv_forest_shared(Backend& backend, const CvData& data, const SharedBins& shared,
                            const std::string& model, const ParamMap& params, Task hint,
                            std::uint64_t seed, double row_fraction = 1.0);

}  // namespace tabula::selection
