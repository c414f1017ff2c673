// Metrics on scores and probabilities: ROC AUC (binary, one-vs-rest macro) and log loss.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "metrics/checks.hpp"
#include "metrics/pairwise_sum.hpp"
#include "metrics/threshold_counts.hpp"
#include "tabula/core/error.hpp"
#include "tabula/metrics/metrics.hpp"

namespace tabula::metrics {
namespace {

std::vector<double> distinct(std::span<const double> values) {
  std::vector<double> out(values.begin(), values.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// Area under the ROC curve of `positive` (0/1 per row) against `score`: the curve has one point
/// per distinct score (ties move along a diagonal), and the area is the trapezoid sum over the
/// normalised curve, as sklearn's roc_curve + auc compute it.
double binary_auc(const std::vector<char>& positive, std::span<const double> score) {
  const detail::ThresholdCounts c = detail::threshold_counts(positive, score);
  const double tp = c.tps.back(), fp = c.fps.back();
  std::vector<double> pieces(c.tps.size());
  for (std::size_t i = 0; i < c.tps.size(); ++i) {
    const double fps_before = i == 0 ? 0.0 : c.fps[i - 1];
    const double tps_before = i == 0 ? 0.0 : c.tps[i - 1];
    const double dx = c.fps[i] / fp - fps_before / fp;
    pieces[i] = dx * (c.tps[i] / tp + tps_before / tp) / 2.0;
  }
  return detail::pairwise_sum(pieces);
}

void check_proba(std::string_view metric, std::span<const double> y_true,
                 std::span<const double> proba, std::int64_t k) {
  detail::check_values(metric, "y_true", y_true);
  detail::check_values(metric, "probabilities", proba);
  detail::check_labels(metric, "y_true", y_true);
  if (k < 2)
    throw InputError(std::string(metric) + ": probabilities need at least 2 columns, got " +
                     std::to_string(k));
  if (proba.size() != y_true.size() * static_cast<std::size_t>(k))
    throw InputError(std::string(metric) + ": y_true has " + std::to_string(y_true.size()) +
                     " rows but the probabilities hold " + std::to_string(proba.size()) +
                     " values, not rows x " + std::to_string(k));
}

}  // namespace

double roc_auc(std::span<const double> y_true, std::span<const double> y_score) {
  detail::check_pair("roc_auc", y_true, y_score, "y_score");
  return binary_auc(detail::binary_positive("roc_auc", y_true), y_score);
}

double roc_auc_ovr(std::span<const double> y_true, std::span<const double> proba, std::int64_t k) {
  check_proba("roc_auc", y_true, proba, k);
  const std::vector<double> labels = distinct(y_true);
  if (labels.size() == 1)
    throw InputError(
        "roc_auc: only one class is present in y_true; ROC AUC is not defined in that case");
  const std::size_t n = y_true.size();
  if (k == 2) {
    std::vector<double> score(n);
    for (std::size_t i = 0; i < n; ++i) score[i] = proba[2 * i + 1];
    return roc_auc(y_true, score);
  }
  if (static_cast<std::int64_t>(labels.size()) != k)
    throw InputError("roc_auc: number of classes in y_true (" + std::to_string(labels.size()) +
                     ") not equal to the number of columns in the probabilities (" +
                     std::to_string(k) + ")");
  for (std::size_t i = 0; i < n; ++i) {
    double sum = 0.0;
    for (std::int64_t j = 0; j < k; ++j) sum += proba[i * k + j];
    // np.allclose(1, sum): |1 - sum| <= 1e-8 + 1e-5 * |sum|
    if (std::abs(1.0 - sum) > 1e-8 + 1e-5 * std::abs(sum))
      throw InputError(
          "roc_auc: target scores need to be probabilities for multiclass ROC AUC, "
          "i.e. they should sum up to 1.0 over classes (row " +
          std::to_string(i + 1) + " sums to " + std::to_string(sum) + ")");
  }
  std::vector<double> per_class(static_cast<std::size_t>(k));
  std::vector<char> positive(n);
  std::vector<double> score(n);
  for (std::int64_t j = 0; j < k; ++j) {
    for (std::size_t i = 0; i < n; ++i) {
      positive[i] = y_true[i] == labels[static_cast<std::size_t>(j)];
      score[i] = proba[i * k + j];
    }
    per_class[static_cast<std::size_t>(j)] = binary_auc(positive, score);
  }
  return detail::mean(per_class);
}

double log_loss(std::span<const double> y_true, std::span<const double> proba, std::int64_t k) {
  check_proba("log_loss", y_true, proba, k);
  for (double p : proba)
    if (p < 0.0 || p > 1.0)
      throw InputError("log_loss: probabilities must lie in [0, 1], found " + std::to_string(p));
  const std::size_t n = y_true.size();
  const std::vector<double> labels = distinct(y_true);
  std::vector<std::int64_t> column(n);
  if (static_cast<std::int64_t>(labels.size()) == k) {
    for (std::size_t i = 0; i < n; ++i)
      column[i] = std::lower_bound(labels.begin(), labels.end(), y_true[i]) - labels.begin();
  } else {
    if (labels.size() == 1)
      throw InputError(
          "log_loss: y_true contains only one label and its column is ambiguous; labels must be "
          "class indices 0.." +
          std::to_string(k - 1));
    for (std::size_t i = 0; i < n; ++i) {
      if (y_true[i] < 0 || y_true[i] >= static_cast<double>(k))
        throw InputError("log_loss: y_true holds " + std::to_string(labels.size()) +
                         " classes but the probabilities have " + std::to_string(k) +
                         " columns; labels must then be class indices 0.." + std::to_string(k - 1));
      column[i] = static_cast<std::int64_t>(y_true[i]);
    }
  }
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  std::vector<double> losses(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double p = std::clamp(proba[i * k + column[i]], kEps, 1.0 - kEps);
    losses[i] = -std::log(p);
  }
  return detail::mean(losses);
}

}  // namespace tabula::metrics
