// Building a reference profile: percentile bins for numbers, category shares for text.
#include "tabula/monitoring/profile.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/radix_sort.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula::monitoring {
namespace {

/// Shares of `counts` (bins, then missing) over their total; zeros when there is none.
std::vector<double> shares(const std::vector<std::int64_t>& counts) {
  std::int64_t total = 0;
  for (std::int64_t c : counts) total += c;
  std::vector<double> out(counts.size(), 0.0);
  if (total == 0) return out;
  for (std::size_t b = 0; b < counts.size(); ++b)
    out[b] = static_cast<double>(counts[b]) / static_cast<double>(total);
  return out;
}

}  // namespace

std::int64_t ColumnProfile::bins() const {
  return type == ColumnType::kNumeric ? static_cast<std::int64_t>(edges.size()) + 1
                                      : static_cast<std::int64_t>(categories.size()) + 1;
}

std::int64_t ColumnProfile::bin_of(double value) const {
  return std::upper_bound(edges.begin(), edges.end(), value) - edges.begin();
}

std::int64_t ColumnProfile::bin_of(std::string_view category) const {
  const auto it = std::lower_bound(categories.begin(), categories.end(), category);
  if (it != categories.end() && *it == category) return it - categories.begin();
  return static_cast<std::int64_t>(categories.size());
}

ColumnProfile profile_numeric(std::string name, std::span<const double> values) {
  ColumnProfile p;
  p.name = std::move(name);
  p.type = ColumnType::kNumeric;
  p.rows = static_cast<std::int64_t>(values.size());
  std::vector<double> present;
  present.reserve(values.size());
  for (double v : values)
    if (!std::isnan(v)) present.push_back(v);
  // A radix sort: a comparison sort of every column was most of a small fit's cost (Python
  // fits profile their rows).
  radix_sort(present);
  const auto n = static_cast<std::int64_t>(present.size());
  for (std::int64_t q = 1; n > 0 && q < kPercentileBins; ++q) {
    const double edge = present[static_cast<std::size_t>(q * (n - 1) / kPercentileBins)];
    if (std::isfinite(edge) && (p.edges.empty() || edge > p.edges.back())) p.edges.push_back(edge);
  }
  // The values are sorted: one sweep beside the edges finds every bin (bin_of's upper bound).
  std::vector<std::int64_t> counts(static_cast<std::size_t>(p.bins()) + 1, 0);
  std::size_t bin = 0;
  for (const double v : present) {
    while (bin < p.edges.size() && v >= p.edges[bin]) ++bin;
    ++counts[bin];
  }
  counts.back() = p.rows - n;
  p.reference = shares(counts);
  return p;
}

ColumnProfile profile_categorical(const Column& column, std::span<const std::int64_t> rows) {
  ColumnProfile p;
  p.name = column.name;
  p.type = ColumnType::kCategorical;
  std::vector<std::int64_t> per_code(column.categories.size(), 0);
  std::int64_t missing = 0;
  for (std::int64_t r : rows) {
    const std::int32_t code = column.codes[static_cast<std::size_t>(r)];
    if (code < 0)
      ++missing;
    else
      ++per_code[static_cast<std::size_t>(code)];
  }
  p.rows = static_cast<std::int64_t>(rows.size());
  // The most frequent categories (ties by name) when there are too many to list.
  std::vector<std::size_t> seen;
  for (std::size_t c = 0; c < per_code.size(); ++c)
    if (per_code[c] > 0) seen.push_back(c);
  if (static_cast<std::int64_t>(seen.size()) > kMaxProfileCategories) {
    std::stable_sort(seen.begin(), seen.end(),
                     [&](std::size_t a, std::size_t b) { return per_code[a] > per_code[b]; });
    seen.resize(static_cast<std::size_t>(kMaxProfileCategories));
    std::sort(seen.begin(), seen.end());  // codes are in byte order of their text
    p.complete = false;
  }
  std::vector<std::int64_t> counts;
  std::int64_t listed = 0;
  for (std::size_t c : seen) {
    p.categories.push_back(column.categories[c]);
    counts.push_back(per_code[c]);
    listed += per_code[c];
  }
  counts.push_back(p.rows - missing - listed);  // "other"
  counts.push_back(missing);
  p.reference = shares(counts);
  return p;
}

ColumnProfile profile_labels(std::string name, std::span<const double> indices,
                             std::vector<std::string> labels) {
  ColumnProfile p;
  p.name = std::move(name);
  p.type = ColumnType::kCategorical;
  p.by_index = true;
  p.categories = std::move(labels);
  p.rows = static_cast<std::int64_t>(indices.size());
  std::vector<std::int64_t> counts(p.categories.size() + 2, 0);
  for (double v : indices) {
    const bool listed = v >= 0 && v < static_cast<double>(p.categories.size());
    ++counts[std::isnan(v) ? counts.size() - 1
             : listed      ? static_cast<std::size_t>(v)
                           : p.categories.size()];
  }
  p.reference = shares(counts);
  return p;
}

std::vector<double> prediction_values(Task task, const PredictionValues& values) {
  if (task != Task::kTransform) return {values.predict.begin(), values.predict.end()};
  std::vector<double> first;
  if (values.width <= 0) return first;
  const std::size_t n = values.transform.size() / static_cast<std::size_t>(values.width);
  first.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    first.push_back(values.transform[i * static_cast<std::size_t>(values.width)]);
  return first;
}

std::vector<std::int64_t> profile_sample(std::span<const std::int64_t> rows) {
  const auto n = static_cast<std::int64_t>(rows.size());
  if (n <= kMaxProfileRows) return {rows.begin(), rows.end()};
  std::vector<std::int64_t> out(static_cast<std::size_t>(kMaxProfileRows));
  for (std::int64_t i = 0; i < kMaxProfileRows; ++i)
    out[static_cast<std::size_t>(i)] = rows[static_cast<std::size_t>(i * n / kMaxProfileRows)];
  return out;
}

DriftProfile build_profile(const Dataset& data, std::span<const std::int64_t> rows,
                           std::span<const std::string> names) {
  DriftProfile profile;
  profile.rows = static_cast<std::int64_t>(rows.size());
  profile.features.resize(names.size());
  std::vector<const Column*> columns;
  for (const std::string& name : names) columns.push_back(&data.column(name));
  // Columns are independent: sorting a million values each is worth the pool.
  parallel_for(static_cast<std::int64_t>(columns.size()), [&](std::int64_t j) {
    const Column& c = *columns[static_cast<std::size_t>(j)];
    ColumnProfile& p = profile.features[static_cast<std::size_t>(j)];
    if (c.type == ColumnType::kCategorical) {
      p = profile_categorical(c, rows);
      return;
    }
    std::vector<double> values;
    values.reserve(rows.size());
    for (std::int64_t r : rows) values.push_back(c.numeric[static_cast<std::size_t>(r)]);
    p = profile_numeric(c.name, values);
  });
  return profile;
}

ColumnProfile profile_prediction(const Estimator& estimator, const ModelSchema& schema,
                                 std::span<const double> values) {
  if (estimator.task() == Task::kClassification)
    return profile_labels("prediction", values, schema.class_labels);
  if (estimator.task() == Task::kClustering) {
    std::vector<std::string> clusters;
    for (std::int64_t c = 0; c < estimator.n_outputs(); ++c) clusters.push_back(std::to_string(c));
    return profile_labels("prediction", values, std::move(clusters));
  }
  return profile_numeric("prediction", values);
}

}  // namespace tabula::monitoring
