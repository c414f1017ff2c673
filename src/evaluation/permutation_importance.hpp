// Permutation importance (scikit-learn's sklearn.inspection.permutation_importance): how much a
// score drops when one input column's values are shuffled across the rows, breaking its link
// with the target while keeping its distribution. Columns are the raw input columns, shuffled
// before the pipeline, so a text column one-hot encoded into many features counts as one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tabula/core/dataset.hpp"

namespace tabula::evaluation {

struct ColumnImportance {
  std::string column;
  double mean = 0.0, std = 0.0;  // over the repeats; std as numpy.std (ddof 0)
  std::vector<double> drops;     // baseline score minus the shuffled score, one per repeat
};

/// For each column named in `columns` (each must be in `data`), `n_repeats` shuffles of its
/// values, each scored by `score` (greater is better) and compared with `baseline`, the score
/// of the unshuffled data. The shuffles come from std::mt19937_64 seeded by `seed` and the
/// column's position in `columns`: the same on every platform, and a column's result does not
/// depend on the others. InputError for n_repeats < 1 or a column not in `data`.
std::vector<ColumnImportance> permutation_importance(
    const Dataset& data, const std::vector<std::string>& columns,
    const std::function<double(const Dataset&)>& score, double baseline, int n_repeats,
    std::uint64_t seed);

}  // namespace tabula::evaluation
