// MLflow /invocations bodies to a RequestTable and back.
#include "serve/mlflow_protocol.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "serve/http_error.hpp"
#include "tabula/core/error.hpp"
#include "tabula/io/csv.hpp"

namespace tabula::serve {
namespace {

using nlohmann::json;

std::string number_text(const json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  const double d = v.get<double>();
  if (std::floor(d) == d && std::abs(d) < 1e15) return std::to_string(static_cast<std::int64_t>(d));
  return v.dump();
}

void append(RequestColumn& c, const json& v) {
  const std::string where = "column '" + c.name + "'";
  if (c.type == ColumnType::kNumeric) {
    if (v.is_number())
      c.numeric.push_back(v.get<double>());
    else if (v.is_null())
      c.numeric.push_back(std::numeric_limits<double>::quiet_NaN());
    else if (v.is_boolean())
      c.numeric.push_back(v.get<bool>() ? 1 : 0);
    else
      throw HttpError(400, where + " is numeric in the model; got " + v.dump());
  } else {
    if (v.is_string()) {
      c.text.push_back(v.get<std::string>());
      c.present.push_back(1);
    } else if (v.is_number()) {
      c.text.push_back(number_text(v));
      c.present.push_back(1);
    } else if (v.is_null()) {
      c.text.emplace_back();
      c.present.push_back(0);
    } else if (v.is_boolean()) {  // as pandas writes booleans into a CSV file
      c.text.emplace_back(v.get<bool>() ? "True" : "False");
      c.present.push_back(1);
    } else {
      throw HttpError(400, where + " is categorical in the model; got " + v.dump());
    }
  }
}

void check_rows(std::size_t rows, std::int64_t max_rows) {
  check_row_limit(static_cast<std::int64_t>(rows), max_rows);
}

// The model's columns, empty, in schema order.
std::shared_ptr<RequestTable> empty_table(const ModelSchema& schema) {
  auto table = std::make_shared<RequestTable>();
  for (const FeatureSpec& f : schema.features)
    table->columns.push_back({f.name, f.type, {}, {}, {}});
  return table;
}

RequestColumn* column_of(RequestTable& table, const std::string& name) {
  for (RequestColumn& c : table.columns)
    if (c.name == name) return &c;
  return nullptr;
}

// `key` holds rows as objects (column -> value): dataframe_records, instances, inputs.
void append_records(RequestTable& table, const json& records, const std::string& key) {
  for (const json& record : records) {
    if (!record.is_object()) throw HttpError(400, "each " + key + " row must be an object");
    for (RequestColumn& c : table.columns) {
      const auto v = record.find(c.name);
      if (v == record.end()) throw HttpError(400, "a record has no column '" + c.name + "'");
      append(c, *v);
    }
    ++table.rows;
  }
}

// `key` holds rows as arrays, one value per entry of `targets` (null: a column not read).
void append_rows(RequestTable& table, const json& rows, const std::vector<RequestColumn*>& targets,
                 const std::string& key) {
  for (const json& row : rows) {
    if (!row.is_array() || row.size() != targets.size())
      throw HttpError(400, "each " + key + " row must have one value per column (" +
                               std::to_string(targets.size()) + ")");
    for (std::size_t k = 0; k < targets.size(); ++k)
      if (targets[k] != nullptr) append(*targets[k], row[k]);
    ++table.rows;
  }
}

void parse_split(RequestTable& table, const json& split, std::int64_t max_rows) {
  if (!split.is_object() || !split.contains("columns") || !split["columns"].is_array() ||
      !split.contains("data") || !split["data"].is_array())
    throw HttpError(400, "dataframe_split needs \"columns\" and \"data\" arrays");
  std::vector<RequestColumn*> targets;
  for (const json& name : split["columns"]) {
    if (!name.is_string()) throw HttpError(400, "dataframe_split columns must be strings");
    targets.push_back(column_of(table, name.get<std::string>()));
  }
  for (const RequestColumn& c : table.columns)
    if (std::find(targets.begin(), targets.end(), &c) == targets.end())
      throw HttpError(400, "missing column '" + c.name + "'");
  check_rows(split["data"].size(), max_rows);
  append_rows(table, split["data"], targets, "dataframe_split");
}

// "instances" or "inputs" (MLflow's TF-serving style): rows as objects, rows as arrays in the
// model's column order, single values for a one-column model, or ("inputs" only) an object of
// columns.
void parse_instances(RequestTable& table, const json& value, const std::string& key,
                     std::int64_t max_rows) {
  if (value.is_object()) {
    if (key != "inputs") throw HttpError(400, "instances must be an array");
    std::size_t rows = 0;
    bool first = true;
    for (RequestColumn& c : table.columns) {
      const auto column = value.find(c.name);
      if (column == value.end()) throw HttpError(400, "missing column '" + c.name + "'");
      if (!column->is_array())
        throw HttpError(400, "inputs column '" + c.name + "' must be an array");
      if (!first && column->size() != rows)
        throw HttpError(400, "inputs columns differ in length ('" + c.name + "')");
      rows = column->size();
      first = false;
      check_rows(rows, max_rows);
      for (const json& v : *column) append(c, v);
    }
    table.rows = static_cast<std::int64_t>(rows);
    return;
  }
  if (!value.is_array()) throw HttpError(400, key + " must be an array or an object of columns");
  check_rows(value.size(), max_rows);
  if (value.empty() || value.front().is_object()) {
    append_records(table, value, key);
    return;
  }
  std::vector<RequestColumn*> targets;
  for (RequestColumn& c : table.columns) targets.push_back(&c);
  if (!value.front().is_array()) {
    if (targets.size() != 1)
      throw HttpError(400, key + " rows must be arrays (in the model's column order) or objects");
    for (const json& v : value) append(*targets[0], v);
    table.rows = static_cast<std::int64_t>(value.size());
    return;
  }
  append_rows(table, value, targets, key);
}

bool is_csv(std::string_view content_type) {
  const std::string_view type = content_type.substr(0, content_type.find(';'));
  return type == "text/csv" || type == "application/csv";
}

// A text/csv body with a header row, read by tabula's CSV reader (the model's text columns
// forced categorical, so "01" stays "01").
void parse_csv_body(RequestTable& table, std::string_view body, const ModelSchema& schema,
                    std::int64_t max_rows) {
  io::CsvOptions options;
  for (const FeatureSpec& f : schema.features)
    if (f.type == ColumnType::kCategorical) options.categorical.push_back(f.name);
  Dataset data;
  try {
    data = io::parse_csv(body, "the request body", options);
  } catch (const InputError& e) {
    throw HttpError(400, e.what());
  }
  const std::int64_t rows = data.rows();  // before columns are moved out of `data`
  check_row_limit(rows, max_rows);
  for (RequestColumn& c : table.columns) {
    const auto index = data.find(c.name);
    if (!index) throw HttpError(400, "missing column '" + c.name + "'");
    Column& in = data.columns[static_cast<std::size_t>(*index)];
    if (c.type == ColumnType::kNumeric) {
      if (in.type != ColumnType::kNumeric)  // the reader found text in it: name the first value
        throw HttpError(400, "column '" + c.name + "' is numeric in the model; got " +
                                 (in.categories.empty() ? std::string("text")
                                                        : json(in.categories.front()).dump()));
      c.numeric = std::move(in.numeric);  // NaN where missing, as the table keeps it
      continue;
    }
    // The model's text columns were read as text (options.categorical).
    for (const std::int32_t code : in.codes) {
      c.text.push_back(code < 0 ? std::string() : in.categories[static_cast<std::size_t>(code)]);
      c.present.push_back(code < 0 ? 0 : 1);
    }
  }
  table.rows = rows;
}

}  // namespace

std::shared_ptr<RequestTable> parse_invocations(std::string_view body, const ServedModel& model,
                                                std::int64_t max_rows, int max_json_depth,
                                                std::string_view content_type) {
  const ModelSchema& schema = model.schema();
  auto table = empty_table(schema);
  if (is_csv(content_type)) {
    parse_csv_body(*table, body, schema, max_rows);
  } else {
    const json j = parse_request_json(body, max_json_depth);
    if (!j.is_object()) throw HttpError(400, "the request body must be a JSON object");
    if (j.contains("dataframe_split")) {
      parse_split(*table, j["dataframe_split"], max_rows);
    } else if (j.contains("dataframe_records")) {
      const json& records = j["dataframe_records"];
      if (!records.is_array())
        throw HttpError(400, "dataframe_records must be an array of objects");
      check_rows(records.size(), max_rows);
      append_records(*table, records, "dataframe_records");
    } else if (j.contains("instances") || j.contains("inputs")) {
      const std::string key = j.contains("instances") ? "instances" : "inputs";
      parse_instances(*table, j[key], key, max_rows);
    } else {
      throw HttpError(400,
                      "the body needs \"dataframe_split\", \"dataframe_records\", \"instances\" "
                      "or \"inputs\" (or send text/csv)");
    }
  }
  if (table->rows == 0) throw HttpError(400, "the request has no rows");
  validate(*table, schema);
  return table;
}

nlohmann::json invocations_response(const ServedModel& model, const ScoredRows& result) {
  json predictions = json::array();
  if (model.task() == Task::kTransform) {
    const std::int64_t w = result.width;
    for (std::size_t i = 0; i + static_cast<std::size_t>(w) <= result.transform.size();
         i += static_cast<std::size_t>(w))
      predictions.push_back(
          std::vector<double>(result.transform.begin() + i, result.transform.begin() + i + w));
  } else if (model.task() == Task::kClustering) {
    for (double c : result.predict)
      predictions.push_back(std::isnan(c) ? json() : json(static_cast<std::int64_t>(c)));
  } else if (model.task() == Task::kClassification) {
    const ModelSchema& schema = model.schema();
    for (double c : result.predict)
      predictions.push_back(schema.label_json(static_cast<std::size_t>(c)));
  } else {
    predictions = result.predict;
  }
  return {{"predictions", std::move(predictions)}};
}

}  // namespace tabula::serve
