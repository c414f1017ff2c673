// The least-squares family's (linear, ridge) fast path through cross-validation: per-block
// sufficient statistics computed once, merged per fold, one small solve per trial. Which
// searches it serves (plan_least_squares) and how it scores them (cv_least_squares).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "selection/cv_eval.hpp"
#include "tabula/core/dataset.hpp"
#include "tabula/pipeline/pipeline.hpp"

namespace tabula::selection {

/// One least-squares trial for the shared path: penalty (0 for "linear"), intercept, and the
/// StandardScaler the pipeline applies before the model (none: center = scale = false):
/// center subtracts the training fold's means, scale divides by its population std (1 for a
/// constant column, as scikit-learn). Scaling comes from the same merged moments.
struct LeastSquaresTrial {
  double alpha = 0.0;
  bool fit_intercept = true;
  bool center = false;
  bool scale = false;
};

/// Shared-statistics path for linear/ridge: the rows are split into the blocks the folds are
/// made of (rows with the same train/test role in every fold); each block's statistics (count,
/// means and variances in two passes, XᵀX, Xᵀy, y moments) are computed once, on the backend,
/// in one pass over the data in all; each fold's training statistics are merged from its
/// blocks, and every trial is a d x d solve on them. Predictions on each test fold for all
/// trials at once. Same scores as cv_plain to ~1e-12 relative on well-conditioned data.
/// Requires finite features (InputError otherwise, as the plain fit).
std::vector<FoldScores> cv_least_squares(Backend& backend, const CvData& data,
                                         const std::vector<LeastSquaresTrial>& trials);

/// Whether a search runs on the shared statistics, and each candidate's scaling there.
struct LeastSquaresPlan {
  bool use = false;
  /// By candidate: {center, scale} of the StandardScaler its pipeline applies.
  std::vector<std::pair<bool, bool>> scaling;
  std::string note;  // why the path is not used (empty when it is, or was not asked for)

  /// The trial a candidate with these model parameters runs as.
  LeastSquaresTrial trial(const std::string& model, const ParamMap& params, std::size_t candidate,
                          Task task) const;
};

/// The shared path serves `model` when it is linear or ridge, `enabled` (the fast path is on and
/// the search is not successive halving), every candidate searches only alpha / fit_intercept,
/// and every pipeline is one the statistics reproduce exactly: numeric columns by type,
/// SimpleImputer and/or StandardScaler, on a table without missing values or categorical
/// columns.
LeastSquaresPlan plan_least_squares(const std::string& model, bool enabled, const Dataset& data,
                                    const std::vector<ParamMap>& model_params,
                                    const std::vector<PipelineSpec>& pipelines);

}  // namespace tabula::selection
