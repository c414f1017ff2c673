#include "tabula/core/dataset.hpp"

#include <cmath>
#include <limits>

#include "tabula/core/error.hpp"

namespace tabula {

std::string_view to_string(ColumnType type) {
  return type == ColumnType::kNumeric ? "numeric" : "categorical";
}

std::int64_t Column::size() const {
  return static_cast<std::int64_t>(type == ColumnType::kNumeric ? numeric.size() : codes.size());
}

std::int64_t Column::missing_count() const {
  std::int64_t missing = 0;
  if (type == ColumnType::kNumeric) {
    for (double value : numeric) missing += std::isnan(value) ? 1 : 0;
  } else {
    for (std::int32_t code : codes) missing += code < 0 ? 1 : 0;
  }
  return missing;
}

bool Column::is_missing(std::int64_t row) const {
  TABULA_ASSERT(row >= 0 && row < size(), "row " + std::to_string(row) + " out of range");
  return type == ColumnType::kNumeric ? std::isnan(numeric[static_cast<std::size_t>(row)])
                                      : codes[static_cast<std::size_t>(row)] < 0;
}

std::int64_t Dataset::rows() const {
  if (!columns.empty()) return columns.front().size();
  return target ? target->size() : 0;
}

std::optional<std::int64_t> Dataset::find(std::string_view name) const {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i].name == name) return static_cast<std::int64_t>(i);
  return std::nullopt;
}

const Column& Dataset::column(std::string_view name) const {
  if (const auto index = find(name)) return columns[static_cast<std::size_t>(*index)];
  if (target && target->name == name) return *target;
  throw InputError(describe_location(source, 0, 0, name, "no such column"));
}

std::vector<float> Dataset::numeric_matrix_row_major() const {
  for (std::size_t j = 0; j < columns.size(); ++j)
    if (columns[j].type != ColumnType::kNumeric)
      throw InputError(describe_location(source, 0, static_cast<std::int64_t>(j) + 1,
                                         columns[j].name,
                                         "is categorical; a numeric matrix needs it encoded "
                                         "(one-hot) or dropped"));
  const std::size_t n = static_cast<std::size_t>(rows());
  const std::size_t d = columns.size();
  std::vector<float> matrix(n * d);
  for (std::size_t j = 0; j < d; ++j) {
    TABULA_ASSERT(columns[j].numeric.size() == n, "column '" + columns[j].name + "' is ragged");
    const double* values = columns[j].numeric.data();
    for (std::size_t i = 0; i < n; ++i) matrix[i * d + j] = static_cast<float>(values[i]);
  }
  return matrix;
}

namespace {

Column take_column_rows(const Column& c, std::span<const std::int64_t> rows) {
  Column out;
  out.name = c.name;
  out.type = c.type;
  out.categories = c.categories;
  for (std::int64_t r : rows) {
    if (c.type == ColumnType::kNumeric)
      out.numeric.push_back(c.numeric[static_cast<std::size_t>(r)]);
    else
      out.codes.push_back(c.codes[static_cast<std::size_t>(r)]);
  }
  return out;
}

}  // namespace

Dataset Dataset::take_rows(std::span<const std::int64_t> rows) const {
  Dataset out;
  out.source = source;
  for (const Column& c : columns) out.columns.push_back(take_column_rows(c, rows));
  if (target) out.target = take_column_rows(*target, rows);
  return out;
}

}  // namespace tabula
