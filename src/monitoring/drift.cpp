// Counting rows into a profile's bins, and the drift statistics of the counts.
#include "tabula/monitoring/drift.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "tabula/core/error.hpp"

namespace tabula::monitoring {
namespace {

constexpr double kMinGroupShare = 0.1;  // PSI groups: ten of about equal reference mass
constexpr double kShareFloor = 1e-4;    // a share of 0 would make PSI infinite
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

ColumnCounts zeros(const ColumnProfile& p) {
  return ColumnCounts(static_cast<std::size_t>(p.bins()) + 1, 0);
}

/// A text cell the pipeline reads as a number: the whole text parses, else NaN.
double parse_number(const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  return ec == std::errc() && ptr == end ? v : kNaN;
}

/// Bin of each of the column's codes (text columns), or of each category parsed as a number.
std::vector<std::int64_t> code_bins(const ColumnProfile& p, const Column& c) {
  std::vector<std::int64_t> bins;
  bins.reserve(c.categories.size());
  const auto missing = p.bins();
  for (const std::string& text : c.categories) {
    if (p.type == ColumnType::kCategorical) {
      bins.push_back(p.bin_of(text));
      continue;
    }
    const double v = parse_number(text);
    bins.push_back(std::isnan(v) ? missing : p.bin_of(v));
  }
  return bins;
}

void count_column(const ColumnProfile& p, const Column& c, std::span<const std::int64_t> rows,
                  ColumnCounts& out) {
  const std::int64_t missing = p.bins();
  if (c.type == ColumnType::kCategorical) {
    const std::vector<std::int64_t> bins = code_bins(p, c);
    for (std::int64_t r : rows) {
      const std::int32_t code = c.codes[static_cast<std::size_t>(r)];
      ++out[static_cast<std::size_t>(code < 0 ? missing : bins[static_cast<std::size_t>(code)])];
    }
  } else if (p.type == ColumnType::kNumeric) {
    for (std::int64_t r : rows) {
      const double v = c.numeric[static_cast<std::size_t>(r)];
      ++out[static_cast<std::size_t>(std::isnan(v) ? missing : p.bin_of(v))];
    }
  } else {  // numbers where the model read text: the pipeline reads their shortest spelling
    for (std::int64_t r : rows) {
      const double v = c.numeric[static_cast<std::size_t>(r)];
      ++out[static_cast<std::size_t>(std::isnan(v) ? missing : p.bin_of(fmt::format("{}", v)))];
    }
  }
}

void count_predictions(const ColumnProfile& p, std::span<const double> values, ColumnCounts& out) {
  const std::int64_t missing = p.bins();
  const auto labels = static_cast<double>(p.categories.size());
  for (double v : values) {
    std::int64_t bin = missing;
    if (!std::isnan(v) && p.by_index)
      bin = v >= 0 && v < labels ? static_cast<std::int64_t>(v) : missing - 1;
    else if (!std::isnan(v))
      bin = p.bin_of(v);
    ++out[static_cast<std::size_t>(bin)];
  }
}

struct Group {
  std::vector<std::int64_t> bins;
  double reference = 0, current = 0;
};

/// The PSI groups of a column (see population_stability_index), with their shares.
std::vector<Group> groups_of(const ColumnProfile& p, const ColumnCounts& counts) {
  const std::int64_t bins = p.bins();
  const bool text = p.type == ColumnType::kCategorical;
  // Labels by falling share; the "other" bin (unseen values) is a group of its own.
  std::vector<std::int64_t> order(static_cast<std::size_t>(text ? bins - 1 : bins));
  std::iota(order.begin(), order.end(), 0);
  if (text)
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      return p.reference[static_cast<std::size_t>(a)] > p.reference[static_cast<std::size_t>(b)];
    });
  const double total =
      static_cast<double>(std::accumulate(counts.begin(), counts.end(), std::int64_t{0}));
  const auto current = [&](std::int64_t b) {
    return total > 0 ? static_cast<double>(counts[static_cast<std::size_t>(b)]) / total : 0.0;
  };
  std::vector<Group> groups;
  Group open;
  for (std::int64_t b : order) {
    open.bins.push_back(b);
    open.reference += p.reference[static_cast<std::size_t>(b)];
    open.current += current(b);
    if (open.reference >= kMinGroupShare) groups.push_back(std::exchange(open, Group{}));
  }
  if (!open.bins.empty()) {
    if (groups.empty()) {
      groups.push_back(open);
    } else {
      Group& last = groups.back();
      last.bins.insert(last.bins.end(), open.bins.begin(), open.bins.end());
      last.reference += open.reference;
      last.current += open.current;
    }
  }
  // Bins of their own when either side has any: "other" (text) and missing values.
  for (std::int64_t b = text ? bins - 1 : bins; b <= bins; ++b) {
    const double reference = p.reference[static_cast<std::size_t>(b)], now = current(b);
    if (reference > 0 || now > 0) groups.push_back({{b}, reference, now});
  }
  return groups;
}

std::string number(double v) { return fmt::format("{:.4g}", v); }

/// "< 2.5", "[2.5, 3.1)", ">= 9", a category, "2 labels", "missing".
std::string group_label(const ColumnProfile& p, const Group& g) {
  const std::int64_t first = g.bins.front(), last = g.bins.back();
  if (first == p.bins()) return "missing";
  if (p.type == ColumnType::kCategorical) {
    const auto name = [&](std::int64_t b) {
      return b == static_cast<std::int64_t>(p.categories.size())
                 ? std::string(p.complete ? "(unseen)" : "(other)")
                 : p.categories[static_cast<std::size_t>(b)];
    };
    if (g.bins.size() == 1) return name(first);
    return name(first) + " and " + std::to_string(g.bins.size() - 1) + " more";
  }
  const auto edges = static_cast<std::int64_t>(p.edges.size());
  if (edges == 0) return "all values";
  const std::string lo = first == 0 ? "" : number(p.edges[static_cast<std::size_t>(first - 1)]);
  const std::string hi = last == edges ? "" : number(p.edges[static_cast<std::size_t>(last)]);
  if (lo.empty()) return "< " + hi;
  if (hi.empty()) return ">= " + lo;
  return "[" + lo + ", " + hi + ")";
}

nlohmann::json optional_number(std::optional<double> v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

nlohmann::json column_report(const ColumnProfile& p, const ColumnCounts& counts,
                             const DriftOptions& options, bool verdict) {
  const double total =
      static_cast<double>(std::accumulate(counts.begin(), counts.end(), std::int64_t{0}));
  const double missing = total > 0 ? static_cast<double>(counts.back()) / total : 0.0;
  std::optional<double> unseen;
  const double present = total - static_cast<double>(counts.back());
  if (p.type == ColumnType::kCategorical && p.complete && present > 0)
    unseen = static_cast<double>(counts[counts.size() - 2]) / present;
  const double psi = population_stability_index(p, counts);
  nlohmann::json groups = nlohmann::json::array();
  if (options.groups)
    for (const Group& g : groups_of(p, counts))
      groups.push_back(
          {{"label", group_label(p, g)}, {"reference", g.reference}, {"current", g.current}});
  return {{"name", p.name},
          {"type", to_string(p.type)},
          {"psi", psi},
          {"ks", optional_number(ks_statistic(p, counts))},
          {"missing_reference", p.reference.back()},
          {"missing_current", missing},
          {"unseen", optional_number(unseen)},
          {"judged", p.judged},
          {"drifted", verdict && p.judged && psi > options.threshold},
          {"groups", groups}};
}

}  // namespace

DriftCounts::DriftCounts(const DriftProfile& profile) {
  for (const ColumnProfile& p : profile.features) features.push_back(zeros(p));
  if (profile.prediction) prediction = zeros(*profile.prediction);
}

void DriftCounts::add(const DriftCounts& other, std::int64_t sign) {
  TABULA_ASSERT(
      other.features.size() == features.size() && other.prediction.size() == prediction.size(),
      "drift counts of different profiles");
  const auto add_column = [sign](ColumnCounts& to, const ColumnCounts& from) {
    TABULA_ASSERT(to.size() == from.size(), "drift counts of different profiles");
    for (std::size_t b = 0; b < to.size(); ++b) to[b] += sign * from[b];
  };
  for (std::size_t j = 0; j < features.size(); ++j) add_column(features[j], other.features[j]);
  add_column(prediction, other.prediction);
  rows += sign * other.rows;
}

void count_rows(const DriftProfile& profile, const Dataset& data,
                std::span<const std::int64_t> rows, std::span<const double> predictions,
                DriftCounts& counts) {
  for (std::size_t j = 0; j < profile.features.size(); ++j)
    count_column(profile.features[j], data.column(profile.features[j].name), rows,
                 counts.features[j]);
  if (profile.prediction && !predictions.empty())
    count_predictions(*profile.prediction, predictions, counts.prediction);
  counts.rows += static_cast<std::int64_t>(rows.size());
}

double population_stability_index(const ColumnProfile& profile, const ColumnCounts& counts) {
  double psi = 0;
  bool counted = false;
  for (const Group& g : groups_of(profile, counts)) {
    counted = counted || g.current > 0;
    const double r = std::max(g.reference, kShareFloor), c = std::max(g.current, kShareFloor);
    psi += (c - r) * std::log(c / r);
  }
  return counted ? psi : 0.0;
}

std::optional<double> ks_statistic(const ColumnProfile& profile, const ColumnCounts& counts) {
  if (profile.type != ColumnType::kNumeric) return std::nullopt;
  const std::int64_t bins = profile.bins();
  const double reference_present = 1.0 - profile.reference.back();
  std::int64_t present = 0;
  for (std::int64_t b = 0; b < bins; ++b) present += counts[static_cast<std::size_t>(b)];
  if (present == 0 || reference_present <= 0) return std::nullopt;
  double reference = 0, current = 0, gap = 0;
  for (std::int64_t b = 0; b < bins; ++b) {
    reference += profile.reference[static_cast<std::size_t>(b)] / reference_present;
    current +=
        static_cast<double>(counts[static_cast<std::size_t>(b)]) / static_cast<double>(present);
    gap = std::max(gap, std::abs(reference - current));
  }
  return gap;
}

nlohmann::json drift_report(const DriftProfile& profile, const DriftCounts& counts,
                            const DriftOptions& options) {
  const bool verdict = counts.rows >= options.min_rows;
  nlohmann::json features = nlohmann::json::array();
  nlohmann::json drifted = nlohmann::json::array();
  for (std::size_t j = 0; j < profile.features.size(); ++j) {
    features.push_back(column_report(profile.features[j], counts.features[j], options, verdict));
    if (features.back()["drifted"].get<bool>()) drifted.push_back(profile.features[j].name);
  }
  nlohmann::json prediction;
  if (profile.prediction) {
    prediction = column_report(*profile.prediction, counts.prediction, options, verdict);
    if (prediction["drifted"].get<bool>()) drifted.push_back("prediction");
  }
  const char* status = !verdict ? "insufficient_data" : drifted.empty() ? "ok" : "drift";
  return {{"rows", counts.rows},          {"threshold", options.threshold},
          {"min_rows", options.min_rows}, {"status", status},
          {"drifted_columns", drifted},   {"reference_rows", profile.rows},
          {"features", features},         {"prediction", prediction}};
}

}  // namespace tabula::monitoring
