// The rows of one request, column by column, before they become a Dataset: requests of one
// model version are concatenated into a single Dataset per micro-batch.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "serve/serve_options.hpp"
#include "tabula/artifact/model_file.hpp"
#include "tabula/core/dataset.hpp"

namespace tabula::serve {

struct RequestColumn {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  std::vector<double> numeric;    // kNumeric: one value per row, NaN = missing
  std::vector<std::string> text;  // kCategorical: one value per row
  std::vector<char> present;      // kCategorical: 0 where the value is missing (JSON null)

  std::int64_t size() const;
};

/// Parses the JSON of a request body. HttpError 400 when it is not valid JSON or nests arrays
/// and objects more than `max_depth` deep; the depth is found by a scan before any value is
/// built, so a body nested a million deep costs neither stack nor memory.
nlohmann::json parse_request_json(std::string_view text, int max_depth);

/// Columns of equal length; extra columns (not in the schema) are allowed and ignored.
struct RequestTable {
  std::vector<RequestColumn> columns;
  std::int64_t rows = 0;

  const RequestColumn* find(const std::string& name) const;
};

/// HttpError 413 when a request of `rows` rows is over the server's `max_rows`.
void check_row_limit(std::int64_t rows, std::int64_t max_rows);

/// Checks `table` against what the model reads: every feature present with its type, equal
/// column lengths. HttpError 400 naming the column otherwise.
void validate(const RequestTable& table, const ModelSchema& schema);

/// One Dataset holding the rows of `tables` in order, with the schema's feature columns only
/// (categorical columns get sorted categories and codes). Tables must have passed validate().
Dataset to_dataset(std::span<const RequestTable* const> tables, const ModelSchema& schema);

}  // namespace tabula::serve
