// Building the Dataset of a micro-batch from the columns of its requests.
#include "serve/request_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "serve/http_error.hpp"

namespace tabula::serve {

namespace {

/// The deepest nesting of '[' and '{' outside strings, stopping once it passes `limit`. For
/// malformed text the figure may be anything; the parser refuses such text anyway.
int nesting_depth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

nlohmann::json parse_request_json(std::string_view text, int max_depth) {
  if (nesting_depth(text, max_depth) > max_depth)
    throw HttpError(400, "the request body nests arrays and objects more than " +
                             std::to_string(max_depth) + " deep");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw HttpError(400, "the request body is not valid JSON");
  return j;
}

std::int64_t RequestColumn::size() const {
  return static_cast<std::int64_t>(type == ColumnType::kNumeric ? numeric.size() : text.size());
}

const RequestColumn* RequestTable::find(const std::string& name) const {
  for (const RequestColumn& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

void check_row_limit(std::int64_t rows, std::int64_t max_rows) {
  if (rows > max_rows)
    throw HttpError(413, "the request has " + std::to_string(rows) +
                             " rows; this server takes at most " + std::to_string(max_rows));
}

void validate(const RequestTable& table, const ModelSchema& schema) {
  std::string missing;
  for (const FeatureSpec& f : schema.features) {
    const RequestColumn* c = table.find(f.name);
    if (c == nullptr) {
      missing += (missing.empty() ? "'" : ", '") + f.name + "'";
      continue;
    }
    if (c->type != f.type)
      throw HttpError(400,
                      "input '" + f.name + "' is " + std::string(to_string(f.type)) +
                          " in the model: send it as " +
                          (f.type == ColumnType::kNumeric ? "a number (FP32, FP64, INT32, INT64)"
                                                          : "text (BYTES)"));
  }
  if (!missing.empty()) throw HttpError(400, "missing input column(s) " + missing);
  for (const RequestColumn& c : table.columns)
    if (c.size() != table.rows)
      throw HttpError(400, "input '" + c.name + "' has " + std::to_string(c.size()) +
                               " rows, other inputs have " + std::to_string(table.rows));
  // Features are computed in float32: an infinite value, or one beyond float32's range, would
  // come back as a NaN probability or an infinite prediction. NaN (null) is a missing value.
  for (const FeatureSpec& f : schema.features) {
    if (f.type != ColumnType::kNumeric) continue;
    const RequestColumn& c = *table.find(f.name);
    for (std::size_t i = 0; i < c.numeric.size(); ++i)
      if (std::fabs(c.numeric[i]) > std::numeric_limits<float>::max())
        throw HttpError(400, fmt::format("input '{}', row {}: value {} is infinite or outside "
                                         "the float32 range (|x| <= 3.4028235e38)",
                                         f.name, i + 1, c.numeric[i]));
  }
}

Dataset to_dataset(std::span<const RequestTable* const> tables, const ModelSchema& schema) {
  Dataset data;
  data.source = "request";
  std::int64_t rows = 0;
  for (const RequestTable* t : tables) rows += t->rows;
  for (const FeatureSpec& f : schema.features) {
    Column column;
    column.name = f.name;
    column.type = f.type;
    if (f.type == ColumnType::kNumeric) {
      column.numeric.reserve(static_cast<std::size_t>(rows));
      for (const RequestTable* t : tables) {
        const RequestColumn* c = t->find(f.name);
        column.numeric.insert(column.numeric.end(), c->numeric.begin(), c->numeric.end());
      }
    } else {
      // Sorted distinct values, as the CSV reader builds them, so codes follow byte order.
      std::map<std::string, std::int32_t> index;
      for (const RequestTable* t : tables) {
        const RequestColumn* c = t->find(f.name);
        for (std::size_t i = 0; i < c->text.size(); ++i)
          if (c->present[i]) index.emplace(c->text[i], 0);
      }
      std::int32_t next = 0;
      for (auto& [value, code] : index) {
        code = next++;
        column.categories.push_back(value);
      }
      column.codes.reserve(static_cast<std::size_t>(rows));
      for (const RequestTable* t : tables) {
        const RequestColumn* c = t->find(f.name);
        for (std::size_t i = 0; i < c->text.size(); ++i)
          column.codes.push_back(c->present[i] ? index.at(c->text[i]) : -1);
      }
    }
    data.columns.push_back(std::move(column));
  }
  return data;
}

}  // namespace tabula::serve
