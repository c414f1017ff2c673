// Drift of what a model receives and answers against its training profile (profile.hpp): rows
// are counted into the profile's bins, and the counts give per column the population stability
// index (PSI), the Kolmogorov-Smirnov statistic (numbers), the share of missing values and of
// categories never seen in training. Counts add up, so the server keeps them per slice of a
// rolling window and `tabula monitor` counts a whole file; both report through drift_report.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <vector>

#include "tabula/core/dataset.hpp"
#include "tabula/monitoring/profile.hpp"

namespace tabula::monitoring {

/// Rows counted into one column's bins: bins() + 1 counts, the last for missing values. For a
/// text column whose profile is complete, the "other" bin holds exactly the unseen values.
using ColumnCounts = std::vector<std::int64_t>;

struct DriftCounts {
  DriftCounts() = default;
  /// Zeros, shaped like `profile`.
  explicit DriftCounts(const DriftProfile& profile);

  std::vector<ColumnCounts> features;
  ColumnCounts prediction;  // empty when the profile has no prediction
  std::int64_t rows = 0;

  /// Adds (or, with sign -1, removes) another count of the same profile.
  void add(const DriftCounts& other, std::int64_t sign = 1);
};

/// Counts rows `rows` of `data` into `counts`, columns matched by name
/// (InputError naming a column the data lacks), and `predictions` (prediction_values, one per
/// counted row; empty: the prediction is not counted). Numbers written as text and text written
/// as numbers are read as the pipeline reads them.
void count_rows(const DriftProfile& profile, const Dataset& data,
                std::span<const std::int64_t> rows, std::span<const double> predictions,
                DriftCounts& counts);

struct DriftOptions {
  double threshold = 0.2;       // PSI above which a column has drifted (0.1-0.25: moderate)
  std::int64_t min_rows = 100;  // fewer rows counted: no verdict
  bool groups = true;  // false: no "groups" per column (the figures alone, for gauges: cheaper)
};

/// PSI over groups of the profile's bins that each hold at least 10% of the reference (numbers
/// in order, labels by falling share), with the "other" bin of text (unseen values) and missing
/// values as groups of their own; shares are floored at 1e-4. 0 when nothing was counted.
double population_stability_index(const ColumnProfile& profile, const ColumnCounts& counts);
/// Largest gap between the reference and current distribution functions of a numeric column's
/// present values, at the profile's bin edges; nullopt for text or when either side is empty.
std::optional<double> ks_statistic(const ColumnProfile& profile, const ColumnCounts& counts);

/// Every column's statistics and the verdict, as docs/monitoring.md describes:
/// {"rows", "threshold", "min_rows", "status": "ok" | "drift" | "insufficient_data",
///  "drifted_columns": [...], "features": [{"name", "type", "psi", "ks", "missing_reference",
///  "missing_current", "unseen", "judged", "drifted", "groups": [{"label", "reference",
///  "current"}]}],
///  "prediction": {...} or null}.
nlohmann::json drift_report(const DriftProfile& profile, const DriftCounts& counts,
                            const DriftOptions& options);

}  // namespace tabula::monitoring
