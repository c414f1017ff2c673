// The paired bootstrap of `tabula compare`: two models' metrics on the same resamples of the
// same rows. A resample is held as how often each row was drawn (counts), never as copied
// arrays: every metric here is computed from the counts in one pass over precomputed per-row
// quantities (rows pre-sorted by score for ROC AUC), so 1,000 resamples of 100k rows take
// seconds.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tabula::evaluation {

/// One model's predictions on the compared rows (host arrays, n rows).
struct ScoredRows {
  std::span<const double> y;      // the target: class index 0..k-1, or the value
  std::span<const double> pred;   // predicted class index, or value
  std::span<const double> proba;  // n x k row-major probabilities; empty when the model has none
  std::int64_t k = 0;             // classes; 0 for regression
};

/// A scorer of the registry (metrics::score's name and sign: greater is better) computed on a
/// resample given as row counts. With every count 1 it equals metrics::score on the rows, and
/// with counts c it equals metrics::score on the rows repeated c times, up to rounding; NaN where
/// metrics::score throws for lack of classes (one class present for roc_auc, a class absent for
/// multiclass roc_auc, one label for log_loss).
/// Supported: accuracy, balanced_accuracy, f1, f1_macro, roc_auc, neg_log_loss, r2,
/// neg_mean_squared_error, neg_root_mean_squared_error, neg_mean_absolute_error; InputError for
/// another name or a probability metric without probabilities.
class CountedScorer {
 public:
  CountedScorer(std::string name, const ScoredRows& rows);
  double operator()(std::span<const std::uint32_t> counts) const;
  const std::string& name() const { return name_; }

 private:
  double classification(std::span<const std::uint32_t> counts) const;
  double regression(std::span<const std::uint32_t> counts) const;
  double auc_of_class(std::size_t c, std::span<const std::uint32_t> counts) const;

  std::string name_;
  ScoredRows rows_;
  std::vector<double> row_loss_;  // neg_log_loss: -log(clipped probability of the true class)
  /// roc_auc: for each scored class, the rows by ascending score, and where a run of tied scores
  /// starts (tie_start[i]: row order[i] has a different score than order[i - 1]).
  std::vector<std::vector<std::uint32_t>> order_;
  std::vector<std::vector<char>> tie_start_;
  std::vector<std::size_t> auc_classes_;
};

struct BootstrapOptions {
  int n_bootstrap = 1000;
  double confidence = 0.95;
  std::uint64_t seed = 0;
};

/// The row counts of resample `index` (n draws with replacement), a function of (seed, index)
/// only, so results do not depend on the thread count. Into `counts` (size n, overwritten).
void resample_counts(std::uint64_t seed, std::int64_t index, std::span<std::uint32_t> counts);

/// differences[m][r] = b[m](resample r) - a[m](resample r): the same resampled rows for both
/// models. a and b have the same size and the same metric at each position. NaN where either is
/// undefined on the resample.
std::vector<std::vector<double>> paired_differences(const std::vector<CountedScorer>& a,
                                                    const std::vector<CountedScorer>& b,
                                                    std::int64_t rows,
                                                    const BootstrapOptions& options);

/// The q-quantile (0 <= q <= 1) of the finite values, as numpy.percentile's default (linear
/// interpolation between order statistics); NaN when none is finite.
double quantile(std::vector<double> values, double q);

}  // namespace tabula::evaluation
