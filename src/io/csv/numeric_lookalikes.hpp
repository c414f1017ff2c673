// Text columns that are numbers in disguise. A column becomes categorical when one value is not
// a number, so a stray '?' or "-" marking missing values, thousands separators ("12,345") or
// decimal commas ("3,25") silently turn a numeric feature into thousands of categories. The
// whole-file reader refuses such a column with what was found and what to pass instead.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tabula/core/dataset.hpp"

namespace tabula::io::detail {

/// InputError for the first categorical column of `dataset` (target included, columns in
/// `forced_categorical` skipped) whose values are numbers but for a few: at most three
/// distinct non-numbers in at most 10% of its present cells, or numbers only, some written with
/// thousands separators or decimal commas. `line_of(row)` gives the
/// line that data row `row` (0-based) starts on, for the first such cell.
void check_numeric_lookalikes(const Dataset& dataset,
                              const std::vector<std::string>& forced_categorical,
                              const std::string& source,
                              const std::function<std::int64_t(std::int64_t)>& line_of);

}  // namespace tabula::io::detail
