// Label-based classification metrics: accuracy, balanced accuracy, precision, recall, F1.
#include <algorithm>
#include <string>
#include <vector>

#include "metrics/checks.hpp"
#include "metrics/pairwise_sum.hpp"
#include "tabula/core/error.hpp"
#include "tabula/metrics/metrics.hpp"

namespace tabula::metrics {
namespace {

/// Per-label counts over the sorted union of the labels in y_true and y_pred.
struct Counts {
  std::vector<double> labels;
  std::vector<std::int64_t> tp, true_count, pred_count;
};

Counts count_labels(std::string_view metric, std::span<const double> y_true,
                    std::span<const double> y_pred) {
  detail::check_pair(metric, y_true, y_pred, "y_pred");
  detail::check_labels(metric, "y_true", y_true);
  detail::check_labels(metric, "y_pred", y_pred);
  Counts c;
  c.labels.assign(y_true.begin(), y_true.end());
  c.labels.insert(c.labels.end(), y_pred.begin(), y_pred.end());
  std::sort(c.labels.begin(), c.labels.end());
  c.labels.erase(std::unique(c.labels.begin(), c.labels.end()), c.labels.end());
  const std::size_t k = c.labels.size();
  c.tp.assign(k, 0);
  c.true_count.assign(k, 0);
  c.pred_count.assign(k, 0);
  auto index = [&](double v) {
    return static_cast<std::size_t>(std::lower_bound(c.labels.begin(), c.labels.end(), v) -
                                    c.labels.begin());
  };
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const std::size_t t = index(y_true[i]);
    const std::size_t p = index(y_pred[i]);
    ++c.true_count[t];
    ++c.pred_count[p];
    if (t == p) ++c.tp[t];
  }
  return c;
}

/// sklearn's _prf_divide with zero_division="warn": 0/0 is 0.
double ratio(double num, double den) { return den == 0.0 ? 0.0 : num / den; }

enum class Kind { kPrecision, kRecall, kF1 };

double per_label(const Counts& c, std::size_t j, Kind kind) {
  const double tp = static_cast<double>(c.tp[j]);
  const double t = static_cast<double>(c.true_count[j]);
  const double p = static_cast<double>(c.pred_count[j]);
  switch (kind) {
    case Kind::kPrecision:
      return ratio(tp, p);
    case Kind::kRecall:
      return ratio(tp, t);
    case Kind::kF1:
      return ratio(2.0 * tp, t + p);
  }
  return 0.0;
}

double prf(std::string_view metric, std::span<const double> y_true, std::span<const double> y_pred,
           Average average, Kind kind) {
  const Counts c = count_labels(metric, y_true, y_pred);
  const std::size_t k = c.labels.size();
  if (average == Average::kBinary) {
    if (k > 2)
      throw InputError(std::string(metric) + ": target is multiclass (" + std::to_string(k) +
                       " labels) but average is binary; choose macro or weighted");
    const auto pos = std::find(c.labels.begin(), c.labels.end(), 1.0);
    if (pos == c.labels.end()) {
      if (k == 2)
        throw InputError(
            std::string(metric) +
            ": pos_label=1 is not a valid label; binary averaging needs labels 0 and 1");
      return 0.0;  // label 1 never occurs: every count is zero
    }
    return per_label(c, static_cast<std::size_t>(pos - c.labels.begin()), kind);
  }
  std::vector<double> values(k);
  for (std::size_t j = 0; j < k; ++j) values[j] = per_label(c, j, kind);
  if (average == Average::kMacro) return detail::mean(values);
  std::vector<double> weighted(k), weights(k);
  for (std::size_t j = 0; j < k; ++j) {
    weights[j] = static_cast<double>(c.true_count[j]);
    weighted[j] = values[j] * weights[j];
  }
  const double total = detail::pairwise_sum(weights);
  return total == 0.0 ? 0.0 : detail::pairwise_sum(weighted) / total;
}

}  // namespace

double accuracy(std::span<const double> y_true, std::span<const double> y_pred) {
  detail::check_pair("accuracy", y_true, y_pred, "y_pred");
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < y_true.size(); ++i) correct += y_true[i] == y_pred[i];
  return static_cast<double>(correct) / static_cast<double>(y_true.size());
}

double balanced_accuracy(std::span<const double> y_true, std::span<const double> y_pred) {
  const Counts c = count_labels("balanced_accuracy", y_true, y_pred);
  std::vector<double> recalls;
  for (std::size_t j = 0; j < c.labels.size(); ++j)
    if (c.true_count[j] > 0)
      recalls.push_back(static_cast<double>(c.tp[j]) / static_cast<double>(c.true_count[j]));
  return detail::mean(recalls);
}

double precision(std::span<const double> y_true, std::span<const double> y_pred, Average average) {
  return prf("precision", y_true, y_pred, average, Kind::kPrecision);
}

double recall(std::span<const double> y_true, std::span<const double> y_pred, Average average) {
  return prf("recall", y_true, y_pred, average, Kind::kRecall);
}

double f1(std::span<const double> y_true, std::span<const double> y_pred, Average average) {
  return prf("f1", y_true, y_pred, average, Kind::kF1);
}

}  // namespace tabula::metrics
