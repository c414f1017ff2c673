// SimpleImputer (sklearn.impute.SimpleImputer): mean, median, most_frequent, constant, on numeric
// and text columns. Ties of most_frequent go to the smallest value, as scikit-learn's.
#include <algorithm>

#include "distributed/reduce.hpp"
#include "distributed/select.hpp"
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
                          const std::string& column, nlohmann::json& attributes,
                          Communicator* comm) {
  const StepParams p(step, {"strategy", "fill_value"});
  const std::string strategy = strategy_of(p);
  double fill = 0.0;
  if (strategy == "constant") {
    fill = p.number("fill_value", 0.0);
  } else if (strategy == "most_frequent") {
    const auto counts = value_counts_over_ranks(values, comm);
    if (counts.empty()) throw empty_column(column);
    std::int64_t best_count = 0;
    for (const auto& [value, count] : counts)
      if (count > best_count) fill = value, best_count = count;  // strict: smallest value wins
  } else {
    std::vector<double> present;
    present.reserve(values.size());
    for (double v : values)
      if (!std::isnan(v)) present.push_back(v);
    std::vector<std::int64_t> n{static_cast<std::int64_t>(present.size())};
    distributed::sum_over_ranks(comm, n);
    if (n[0] == 0) throw empty_column(column);
    if (strategy == "mean") {
      double sum = 0.0;
      for (double v : present) sum += v;
      fill = distributed::sum_over_ranks(comm, sum) / static_cast<double>(n[0]);
    } else {
      // The middle value, or the mean of the two middle values: selected exactly over every
      // rank's values, with the same steps on one process.
      const std::int64_t mid = n[0] / 2;
      const std::vector<std::int64_t> orders =
          n[0] % 2 == 0 ? std::vector<std::int64_t>{mid - 1, mid} : std::vector<std::int64_t>{mid};
      const std::vector<double> middle = distributed::select_over_ranks(comm, present, orders);
      fill = middle.size() == 2 ? (middle[0] + middle[1]) / 2.0 : middle[0];
    }
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
