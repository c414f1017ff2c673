// A table in memory: the schema (names, types, categories) and one host array per column.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tabula {

enum class ColumnType { kNumeric, kCategorical };

/// "numeric" / "categorical".
std::string_view to_string(ColumnType type);

/// One column of a table.
struct Column {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  /// kNumeric: one value per row; missing values are NaN.
  std::vector<double> numeric;
  /// kCategorical: one code per row, an index into `categories`; missing values are -1.
  std::vector<std::int32_t> codes;
  /// kCategorical: the distinct values, sorted (byte order), so codes do not depend on the
  /// order of rows or on the number of parsing threads.
  std::vector<std::string> categories;

  std::int64_t size() const;
  std::int64_t missing_count() const;
  bool is_missing(std::int64_t row) const;
};

/// A parsed table: feature columns in file order and, when one was named, the target column.
class Dataset {
 public:
  std::string source;           // where it came from (file name), for messages
  std::vector<Column> columns;  // features, in file order, target excluded
  std::optional<Column> target;

  std::int64_t rows() const;
  std::int64_t cols() const { return static_cast<std::int64_t>(columns.size()); }

  /// Index of the column called `name`, if any.
  std::optional<std::int64_t> find(std::string_view name) const;
  /// The column called `name`; throws InputError naming it and the file when absent.
  const Column& column(std::string_view name) const;

  /// A copy holding rows `rows` (in that order) of every column, the target's too.
  Dataset take_rows(std::span<const std::int64_t> rows) const;

  /// The feature columns as a dense row-major rows() x cols() float32 matrix (NaN for
  /// missing). Throws InputError naming the first categorical column, if any.
  std::vector<float> numeric_matrix_row_major() const;
};

}  // namespace tabula
