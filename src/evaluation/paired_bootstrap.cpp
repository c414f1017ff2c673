#include "evaluation/paired_bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "backend/forest_math.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::evaluation {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_classification(const std::string& name) {
  return name == "accuracy" || name == "balanced_accuracy" || name == "f1" || name == "f1_macro" ||
         name == "roc_auc" || name == "neg_log_loss";
}

bool is_regression(const std::string& name) {
  return name == "r2" || name == "neg_mean_squared_error" ||
         name == "neg_root_mean_squared_error" || name == "neg_mean_absolute_error";
}

std::size_t class_index(double v, std::int64_t k, const char* what, std::size_t row) {
  if (!(v >= 0.0 && v < static_cast<double>(k) && v == std::floor(v)))
    throw InputError("compare: " + std::string(what) + " of row " + std::to_string(row + 1) +
                     " is not a class index below " + std::to_string(k));
  return static_cast<std::size_t>(v);
}

/// The weighted confusion matrix (k x k, true class by row) of a resample.
std::vector<double> confusion(const ScoredRows& rows, std::span<const std::uint32_t> counts) {
  const auto k = static_cast<std::size_t>(rows.k);
  std::vector<double> cm(k * k, 0.0);
  for (std::size_t i = 0; i < counts.size(); ++i)
    if (counts[i] != 0)
      cm[static_cast<std::size_t>(rows.y[i]) * k + static_cast<std::size_t>(rows.pred[i])] +=
          counts[i];
  return cm;
}

/// F1 of class c from the confusion matrix: 2tp / (2tp + fp + fn), 0 when nothing is there
/// (sklearn's zero_division default).
double f1_of(const std::vector<double>& cm, std::size_t k, std::size_t c) {
  double row = 0.0, column = 0.0;
  for (std::size_t j = 0; j < k; ++j) {
    row += cm[c * k + j];
    column += cm[j * k + c];
  }
  const double tp = cm[c * k + c];
  const double denominator = row + column;  // 2tp + fp + fn
  return denominator > 0.0 ? 2.0 * tp / denominator : 0.0;
}

}  // namespace

CountedScorer::CountedScorer(std::string name, const ScoredRows& rows)
    : name_(std::move(name)), rows_(rows) {
  const std::size_t n = rows.y.size();
  if (!is_classification(name_) && !is_regression(name_))
    throw InputError("compare: metric '" + name_ + "' has no resampled form");
  if (rows.pred.size() != n ||
      (!rows.proba.empty() && rows.proba.size() != n * static_cast<std::size_t>(rows.k)))
    throw InputError("compare: predictions and target differ in length");
  if (is_regression(name_)) return;
  for (std::size_t i = 0; i < n; ++i) {
    class_index(rows.y[i], rows.k, "the target", i);
    class_index(rows.pred[i], rows.k, "the prediction", i);
  }
  if (name_ != "roc_auc" && name_ != "neg_log_loss") return;
  if (rows.proba.empty()) throw InputError("metric " + name_ + " needs predicted probabilities");
  const auto k = static_cast<std::size_t>(rows.k);
  if (name_ == "neg_log_loss") {
    constexpr double kEps = std::numeric_limits<double>::epsilon();
    row_loss_.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      row_loss_[i] = -std::log(
          std::clamp(rows.proba[i * k + static_cast<std::size_t>(rows.y[i])], kEps, 1.0 - kEps));
    return;
  }
  // Binary: the positive class's column only (the larger label), as roc_auc_ovr.
  for (std::size_t c = k == 2 ? 1 : 0; c < k; ++c) auc_classes_.push_back(c);
  for (std::size_t c : auc_classes_) {
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return rows.proba[a * k + c] < rows.proba[b * k + c];
    });
    std::vector<char> starts(n, 0);
    for (std::size_t i = 0; i < n; ++i)
      starts[i] = i == 0 || rows.proba[order[i] * k + c] != rows.proba[order[i - 1] * k + c];
    order_.push_back(std::move(order));
    tie_start_.push_back(std::move(starts));
  }
}

double CountedScorer::operator()(std::span<const std::uint32_t> counts) const {
  return is_regression(name_) ? regression(counts) : classification(counts);
}

/// Mann-Whitney with ties counted half: sklearn's trapezoid area over distinct thresholds.
double CountedScorer::auc_of_class(std::size_t slot, std::span<const std::uint32_t> counts) const {
  const std::size_t c = auc_classes_[slot];
  const std::vector<std::uint32_t>& order = order_[slot];
  const std::vector<char>& starts = tie_start_[slot];
  double negatives_below = 0.0, area = 0.0, positives = 0.0, negatives = 0.0;
  double group_pos = 0.0, group_neg = 0.0;
  auto close_group = [&] {
    area += group_pos * (negatives_below + 0.5 * group_neg);
    negatives_below += group_neg;
    positives += group_pos;
    negatives += group_neg;
    group_pos = group_neg = 0.0;
  };
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (starts[i]) close_group();
    const std::uint32_t row = order[i];
    const double w = counts[row];
    if (static_cast<std::size_t>(rows_.y[row]) == c)
      group_pos += w;
    else
      group_neg += w;
  }
  close_group();
  if (positives == 0.0 || negatives == 0.0) return kNaN;
  return area / (positives * negatives);
}

double CountedScorer::classification(std::span<const std::uint32_t> counts) const {
  const auto k = static_cast<std::size_t>(rows_.k);
  if (name_ == "roc_auc") {
    double sum = 0.0;
    for (std::size_t s = 0; s < auc_classes_.size(); ++s) sum += auc_of_class(s, counts);
    return sum / static_cast<double>(auc_classes_.size());  // NaN when a class is absent
  }
  if (name_ == "neg_log_loss") {
    double loss = 0.0, total = 0.0;
    std::vector<char> present(k, 0);
    for (std::size_t i = 0; i < counts.size(); ++i)
      if (counts[i] != 0) {
        loss += counts[i] * row_loss_[i];
        total += counts[i];
        present[static_cast<std::size_t>(rows_.y[i])] = 1;
      }
    // One label: metrics::log_loss cannot tell its column.
    if (std::count(present.begin(), present.end(), 1) < 2) return kNaN;
    return -loss / total;
  }
  const std::vector<double> cm = confusion(rows_, counts);
  double total = 0.0, correct = 0.0, recall_sum = 0.0, f1_sum = 0.0;
  int true_classes = 0, seen_classes = 0;
  for (std::size_t c = 0; c < k; ++c) {
    double row = 0.0, column = 0.0;
    for (std::size_t j = 0; j < k; ++j) {
      row += cm[c * k + j];
      column += cm[j * k + c];
    }
    total += row;
    correct += cm[c * k + c];
    if (row > 0.0) {
      recall_sum += cm[c * k + c] / row;
      ++true_classes;
    }
    if (row > 0.0 || column > 0.0) {
      f1_sum += f1_of(cm, k, c);
      ++seen_classes;
    }
  }
  if (name_ == "accuracy") return correct / total;
  if (name_ == "balanced_accuracy") return recall_sum / true_classes;
  if (name_ == "f1") return k > 1 ? f1_of(cm, k, 1) : 0.0;
  return f1_sum / seen_classes;  // f1_macro
}

double CountedScorer::regression(std::span<const std::uint32_t> counts) const {
  double total = 0.0, y_sum = 0.0, squared = 0.0, absolute = 0.0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    const double w = counts[i], e = rows_.y[i] - rows_.pred[i];
    total += w;
    y_sum += w * rows_.y[i];
    squared += w * e * e;
    absolute += w * std::abs(e);
  }
  if (name_ == "neg_mean_squared_error") return -squared / total;
  if (name_ == "neg_root_mean_squared_error") return -std::sqrt(squared / total);
  if (name_ == "neg_mean_absolute_error") return -absolute / total;
  if (total < 2.0) return kNaN;  // r2 of fewer than two samples, as sklearn
  const double mean = y_sum / total;
  double spread = 0.0;
  for (std::size_t i = 0; i < counts.size(); ++i)
    if (counts[i] != 0) spread += counts[i] * (rows_.y[i] - mean) * (rows_.y[i] - mean);
  if (spread == 0.0) return squared == 0.0 ? 1.0 : 0.0;  // constant target (force_finite)
  return 1.0 - squared / spread;
}

void resample_counts(std::uint64_t seed, std::int64_t index, std::span<std::uint32_t> counts) {
  // The forest's counter-based draws (its bootstrap samples): stateless, so resample `index`
  // is the same whichever thread draws it.
  std::fill(counts.begin(), counts.end(), 0u);
  const std::uint64_t n = counts.size();
  for (std::uint64_t i = 0; i < n; ++i)
    ++counts[forest::uniform_below(
        forest::counter_random(seed, static_cast<std::uint64_t>(index), i), n)];
}

std::vector<std::vector<double>> paired_differences(const std::vector<CountedScorer>& a,
                                                    const std::vector<CountedScorer>& b,
                                                    std::int64_t rows,
                                                    const BootstrapOptions& options) {
  if (a.size() != b.size()) throw Error("paired_differences: a and b hold different metrics");
  if (a.empty()) return {};
  if (rows < 1) throw InputError("compare: no rows to resample");
  const auto resamples = static_cast<std::size_t>(options.n_bootstrap);
  std::vector<std::vector<double>> out(a.size(), std::vector<double>(resamples, kNaN));
  parallel_for(options.n_bootstrap, [&](std::int64_t r) {
    std::vector<std::uint32_t> counts(static_cast<std::size_t>(rows));
    resample_counts(options.seed, r, counts);
    for (std::size_t m = 0; m < a.size(); ++m)
      out[m][static_cast<std::size_t>(r)] = b[m](counts) - a[m](counts);
  });
  return out;
}

double quantile(std::vector<double> values, double q) {
  std::erase_if(values, [](double v) { return !std::isfinite(v); });
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const auto low = static_cast<std::size_t>(std::floor(position));
  const std::size_t high = std::min(low + 1, values.size() - 1);
  const double fraction = position - static_cast<double>(low);
  return values[low] + (values[high] - values[low]) * fraction;
}

}  // namespace tabula::evaluation
