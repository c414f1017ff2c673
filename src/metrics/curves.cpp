// Curves over thresholds and bins: ROC, precision-recall, calibration, and the confusion matrix.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "metrics/checks.hpp"
#include "metrics/threshold_counts.hpp"
#include "tabula/core/error.hpp"
#include "tabula/metrics/metrics.hpp"

namespace tabula::metrics {
namespace detail {

ThresholdCounts threshold_counts(const std::vector<char>& positive, std::span<const double> score) {
  const std::size_t n = score.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  ThresholdCounts c;
  double tp = 0.0, fp = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t row = order[i];
    (positive[row] ? tp : fp) += 1.0;
    // Tied scores form one threshold: only the last row of a run of ties closes a point.
    if (i + 1 == n || score[order[i + 1]] != score[row]) {
      c.tps.push_back(tp);
      c.fps.push_back(fp);
      c.thresholds.push_back(score[row]);
    }
  }
  return c;
}

std::vector<char> binary_positive(std::string_view metric, std::span<const double> y_true) {
  std::vector<double> labels(y_true.begin(), y_true.end());
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  if (labels.size() == 1)
    throw InputError(std::string(metric) +
                     ": only one class is present in y_true; it is not defined in that case");
  if (labels.size() > 2)
    throw InputError(std::string(metric) + ": y_true holds " + std::to_string(labels.size()) +
                     " classes; it needs two (binary, or one class against the rest)");
  std::vector<char> positive(y_true.size());
  for (std::size_t i = 0; i < y_true.size(); ++i) positive[i] = y_true[i] == labels[1];
  return positive;
}

}  // namespace detail

RocCurve roc_curve(std::span<const double> y_true, std::span<const double> y_score) {
  detail::check_pair("roc_curve", y_true, y_score, "y_score");
  const detail::ThresholdCounts c =
      detail::threshold_counts(detail::binary_positive("roc_curve", y_true), y_score);
  // drop_intermediate: keep the ends and every point where the curve bends (a non-zero second
  // difference of fps or tps); a point on a straight run adds nothing to the area.
  const std::size_t m = c.tps.size();
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < m; ++i) {
    const bool end = m <= 2 || i == 0 || i + 1 == m;
    if (end || c.fps[i + 1] - 2 * c.fps[i] + c.fps[i - 1] != 0.0 ||
        c.tps[i + 1] - 2 * c.tps[i] + c.tps[i - 1] != 0.0)
      kept.push_back(i);
  }
  const double fp = c.fps.back(), tp = c.tps.back();
  RocCurve out;
  out.fpr = {0.0};
  out.tpr = {0.0};
  out.thresholds = {std::numeric_limits<double>::infinity()};
  for (std::size_t i : kept) {
    out.fpr.push_back(c.fps[i] / fp);
    out.tpr.push_back(c.tps[i] / tp);
    out.thresholds.push_back(c.thresholds[i]);
  }
  return out;
}

PrecisionRecallCurve precision_recall_curve(std::span<const double> y_true,
                                            std::span<const double> y_score) {
  detail::check_pair("precision_recall_curve", y_true, y_score, "y_score");
  const detail::ThresholdCounts c =
      detail::threshold_counts(detail::binary_positive("precision_recall_curve", y_true), y_score);
  const std::size_t m = c.tps.size();
  PrecisionRecallCurve out;
  // Reversed: thresholds ascending, recall falling to the final (precision 1, recall 0) point.
  for (std::size_t r = m; r-- > 0;) {
    const double predicted = c.tps[r] + c.fps[r];
    out.precision.push_back(predicted == 0.0 ? 0.0 : c.tps[r] / predicted);
    out.recall.push_back(c.tps[r] / c.tps.back());
    out.thresholds.push_back(c.thresholds[r]);
  }
  out.precision.push_back(1.0);
  out.recall.push_back(0.0);
  return out;
}

double auc(std::span<const double> x, std::span<const double> y) {
  detail::check_pair("auc", x, y, "y");
  if (x.size() < 2)
    throw InputError("auc: at least 2 points are needed, got " + std::to_string(x.size()));
  bool rising = true, falling = true;
  for (std::size_t i = 1; i < x.size(); ++i) {
    rising &= x[i] >= x[i - 1];
    falling &= x[i] <= x[i - 1];
  }
  if (!rising && !falling) throw InputError("auc: x is neither increasing nor decreasing");
  double area = 0.0;
  for (std::size_t i = 1; i < x.size(); ++i) area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0;
  return falling && !rising ? -area : area;
}

CalibrationCurve calibration_curve(std::span<const double> y_true, std::span<const double> y_prob,
                                   int n_bins) {
  detail::check_pair("calibration_curve", y_true, y_prob, "y_prob");
  if (n_bins < 1)
    throw InputError("calibration_curve: n_bins must be at least 1, got " + std::to_string(n_bins));
  for (std::size_t i = 0; i < y_prob.size(); ++i)
    if (y_prob[i] < 0.0 || y_prob[i] > 1.0)
      throw InputError("calibration_curve: y_prob has values outside [0, 1] (row " +
                       std::to_string(i + 1) + ": " + std::to_string(y_prob[i]) + ")");
  const std::vector<char> positive = detail::binary_positive("calibration_curve", y_true);
  const auto bins = static_cast<std::size_t>(n_bins);
  std::vector<double> prob_sum(bins, 0.0), true_sum(bins, 0.0);
  std::vector<std::int64_t> total(bins, 0);
  const double width = 1.0 / n_bins;  // edge e is e * width, as numpy.linspace(0, 1, n + 1)
  for (std::size_t i = 0; i < y_prob.size(); ++i) {
    // The first inner edge >= p (numpy.searchsorted, side "left").
    std::size_t b = 0;
    while (b + 1 < bins && static_cast<double>(b + 1) * width < y_prob[i]) ++b;
    prob_sum[b] += y_prob[i];
    true_sum[b] += positive[i];
    ++total[b];
  }
  CalibrationCurve out;
  for (std::size_t b = 0; b < bins; ++b) {
    if (total[b] == 0) continue;
    out.prob_true.push_back(true_sum[b] / static_cast<double>(total[b]));
    out.prob_pred.push_back(prob_sum[b] / static_cast<double>(total[b]));
    out.count.push_back(total[b]);
  }
  return out;
}

ConfusionMatrix confusion_matrix(std::span<const double> y_true, std::span<const double> y_pred,
                                 std::span<const double> labels) {
  detail::check_pair("confusion_matrix", y_true, y_pred, "y_pred");
  ConfusionMatrix out;
  if (labels.empty()) {
    out.labels.assign(y_true.begin(), y_true.end());
    out.labels.insert(out.labels.end(), y_pred.begin(), y_pred.end());
  } else {
    out.labels.assign(labels.begin(), labels.end());
  }
  std::sort(out.labels.begin(), out.labels.end());
  out.labels.erase(std::unique(out.labels.begin(), out.labels.end()), out.labels.end());
  const std::size_t k = out.labels.size();
  out.counts.assign(k * k, 0);
  auto index = [&](double v, const char* what, std::size_t row) {
    const auto it = std::lower_bound(out.labels.begin(), out.labels.end(), v);
    if (it == out.labels.end() || *it != v)
      throw InputError("confusion_matrix: " + std::string(what) + " row " +
                       std::to_string(row + 1) + " holds a label not in labels");
    return static_cast<std::size_t>(it - out.labels.begin());
  };
  for (std::size_t i = 0; i < y_true.size(); ++i)
    ++out.counts[index(y_true[i], "y_true", i) * k + index(y_pred[i], "y_pred", i)];
  return out;
}

}  // namespace tabula::metrics
