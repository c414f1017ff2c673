#include "evaluation/permutation_importance.hpp"

#include <cmath>
#include <numeric>
#include <optional>
#include <random>

#include "selection/random_draws.hpp"
#include "tabula/core/error.hpp"

namespace tabula::evaluation {
namespace {

/// The column's values in the order `rows` gives.
void permute(const Column& from, const std::vector<std::int64_t>& rows, Column& to) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto r = static_cast<std::size_t>(rows[i]);
    if (from.type == ColumnType::kNumeric)
      to.numeric[i] = from.numeric[r];
    else
      to.codes[i] = from.codes[r];
  }
}

}  // namespace

std::vector<ColumnImportance> permutation_importance(
    const Dataset& data, const std::vector<std::string>& columns,
    const std::function<double(const Dataset&)>& score, double baseline, int n_repeats,
    std::uint64_t seed) {
  if (n_repeats < 1)
    throw InputError("permutation importance: --n-repeats must be at least 1, got " +
                     std::to_string(n_repeats));
  Dataset shuffled = data;  // one column at a time is shuffled, then restored
  std::vector<ColumnImportance> out;
  for (std::size_t k = 0; k < columns.size(); ++k) {
    const std::optional<std::int64_t> found = data.find(columns[k]);
    if (!found) throw InputError(data.source + ": no column '" + columns[k] + "' to permute");
    const auto index = static_cast<std::size_t>(*found);
    const Column& original = data.columns[index];
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + k);
    std::vector<std::int64_t> rows(static_cast<std::size_t>(data.rows()));
    ColumnImportance result{columns[k], 0.0, 0.0, {}};
    for (int r = 0; r < n_repeats; ++r) {
      std::iota(rows.begin(), rows.end(), 0);
      selection::shuffle_in_place(rows, rng);
      permute(original, rows, shuffled.columns[index]);
      result.drops.push_back(baseline - score(shuffled));
    }
    shuffled.columns[index] = original;
    result.mean = std::accumulate(result.drops.begin(), result.drops.end(), 0.0) / n_repeats;
    double squares = 0.0;
    for (double d : result.drops) squares += (d - result.mean) * (d - result.mean);
    result.std = std::sqrt(squares / n_repeats);
    out.push_back(std::move(result));
  }
  return out;
}

}  // namespace tabula::evaluation
