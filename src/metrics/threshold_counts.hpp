// The cumulative true and false positives at each distinct score, highest score first: the one
// pass behind roc_auc, roc_curve and precision_recall_curve (sklearn's
// confusion_matrix_at_thresholds).
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace tabula::metrics::detail {

struct ThresholdCounts {
  std::vector<double> tps, fps;    // counts of rows scored >= thresholds[i]
  std::vector<double> thresholds;  // distinct scores, descending
};

/// `positive`: 1 for a positive row, 0 otherwise; one score per row (checked by the caller).
ThresholdCounts threshold_counts(const std::vector<char>& positive, std::span<const double> score);

/// 1 where y_true is the larger of its two labels. InputError unless y_true holds exactly two
/// distinct labels (one class only: the curves are undefined; more: not binary).
std::vector<char> binary_positive(std::string_view metric, std::span<const double> y_true);

}  // namespace tabula::metrics::detail
