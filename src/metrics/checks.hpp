// Input checks shared by the metrics: the messages sklearn's ValueErrors carry, as InputError.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tabula/core/error.hpp"

namespace tabula::metrics::detail {

inline void check_values(std::string_view metric, std::string_view what,
                         std::span<const double> values) {
  if (values.empty())
    throw InputError(std::string(metric) + ": " + std::string(what) + " is empty");
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      throw InputError(std::string(metric) + ": " + std::string(what) +
                       " contains NaN or infinity (row " + std::to_string(i + 1) + ")");
}

inline void check_pair(std::string_view metric, std::span<const double> y_true,
                       std::span<const double> y_other, std::string_view other_name) {
  check_values(metric, "y_true", y_true);
  check_values(metric, other_name, y_other);
  if (y_true.size() != y_other.size())
    throw InputError(std::string(metric) + ": y_true has " + std::to_string(y_true.size()) +
                     " values but " + std::string(other_name) + " has " +
                     std::to_string(y_other.size()));
}

/// Classification labels must be whole numbers (sklearn refuses "continuous" targets).
inline void check_labels(std::string_view metric, std::string_view what,
                         std::span<const double> labels) {
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] != std::floor(labels[i]))
      throw InputError(std::string(metric) + ": " + std::string(what) +
                       " holds a non-integer label (row " + std::to_string(i + 1) +
                       "); classification metrics need class labels, not continuous values");
}

}  // namespace tabula::metrics::detail
