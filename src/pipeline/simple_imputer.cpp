// SimpleImputer (sklearn.impute.SimpleImputer): mean, median, most_frequent, constant, on numeric
// and text columns. Ties of most_frequent go to the smallest value, as scikit-learn's.
#include <algorithm>
#include <map>

#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"

namespace tabula::pipeline {
namespace {

std::string strategy_of(const StepParams& p) {
  const std::string s = p.text("strategy", "mean");
  if (s != "mean" && s != "median" && s != "most_frequent" && s != "constant")
    p.bad("strategy", "mean, median, most_frequent or constant");
  return s;
}

InputError empty_column(const std::string& column) {
  return InputError("SimpleImputer: column '" + column +
                    "' has no present value on the training rows");
}

}  // namespace

Affine fit_simple_imputer(const StepSpec& step, std::span<const double> values,
                          const std::string& column, nlohmann::json& attributes) {
  const StepParams p(step, {"strategy", "fill_value"});
  const std::string strategy = strategy_of(p);
  std::vector<double> present;
  present.reserve(values.size());
  for (double v : values)
    if (!std::isnan(v)) present.push_back(v);
  double fill = 0.0;
  if (strategy == "constant") {
    fill = p.number("fill_value", 0.0);
  } else if (present.empty()) {
    throw empty_column(column);
  } else if (strategy == "mean") {
    double sum = 0.0;
    for (double v : present) sum += v;
    fill = sum / static_cast<double>(present.size());
  } else if (strategy == "median") {
    const std::size_t n = present.size(), mid = n / 2;
    std::nth_element(present.begin(), present.begin() + static_cast<std::ptrdiff_t>(mid),
                     present.end());
    fill = present[mid];
    if (n % 2 == 0) {
      const double below =
          *std::max_element(present.begin(), present.begin() + static_cast<std::ptrdiff_t>(mid));
      fill = (below + fill) / 2.0;
    }
  } else {
    std::sort(present.begin(), present.end());
    std::size_t best = 0, best_count = 0;
    for (std::size_t i = 0; i < present.size();) {
      std::size_t j = i;
      while (j < present.size() && present[j] == present[i]) ++j;
      if (j - i > best_count) best = i, best_count = j - i;  // strict: smallest value wins ties
      i = j;
    }
    fill = present[best];
  }
  attributes["statistics_"].push_back(fill);
  return {fill, 1.0, 0.0};
}

std::int64_t CategoryCounts::total() const {
  std::int64_t n = missing;
  for (std::int64_t c : counts) n += c;
  return n;
}

std::string fit_text_imputer(const StepSpec& step, const CategoryCounts& counts,
                             const std::string& column, nlohmann::json& attributes) {
  const StepParams p(step, {"strategy", "fill_value"});
  const std::string strategy = strategy_of(p);
  std::string fill;
  if (strategy == "constant") {
    fill = p.text("fill_value", "missing_value");
  } else if (strategy == "most_frequent") {
    std::int64_t best = -1;
    for (std::size_t i = 0; i < counts.values.size(); ++i)
      if (counts.counts[i] > 0 && (best < 0 || counts.counts[i] > counts.counts[best]))
        best = static_cast<std::int64_t>(i);
    if (best < 0) throw empty_column(column);
    fill = counts.values[static_cast<std::size_t>(best)];
  } else {
    throw InputError("SimpleImputer(strategy=" + strategy + "): column '" + column +
                     "' is categorical; use strategy most_frequent or constant");
  }
  attributes["statistics_"].push_back(fill);
  return fill;
}

}  // namespace tabula::pipeline
