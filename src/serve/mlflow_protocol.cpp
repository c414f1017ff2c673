// MLflow /invocations bodies to a RequestTable and back.
#include "serve/mlflow_protocol.hpp"

#include <cmath>
#include <limits>

#include "serve/http_error.hpp"

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
    } else {
      throw HttpError(400, where + " is categorical in the model; got " + v.dump());
    }
  }
}

}  // namespace

std::shared_ptr<RequestTable> parse_invocations(std::string_view body, const ServedModel& model,
                                                std::int64_t max_rows, int max_json_depth) {
  const json j = parse_request_json(body, max_json_depth);
  if (!j.is_object()) throw HttpError(400, "the request body must be a JSON object");
  const ModelSchema& schema = model.schema();
  auto table = std::make_shared<RequestTable>();
  for (const FeatureSpec& f : schema.features)
    table->columns.push_back({f.name, f.type, {}, {}, {}});
  const auto column_of = [&](const std::string& name) -> RequestColumn* {
    for (RequestColumn& c : table->columns)
      if (c.name == name) return &c;
    return nullptr;
  };

  if (j.contains("dataframe_split")) {
    const json& split = j["dataframe_split"];
    if (!split.is_object() || !split.contains("columns") || !split["columns"].is_array() ||
        !split.contains("data") || !split["data"].is_array())
      throw HttpError(400, "dataframe_split needs \"columns\" and \"data\" arrays");
    std::vector<RequestColumn*> targets;
    for (const json& name : split["columns"]) {
      if (!name.is_string()) throw HttpError(400, "dataframe_split columns must be strings");
      targets.push_back(column_of(name.get<std::string>()));
    }
    for (const RequestColumn& c : table->columns)
      if (std::find(targets.begin(), targets.end(), &c) == targets.end())
        throw HttpError(400, "missing column '" + c.name + "'");
    if (static_cast<std::int64_t>(split["data"].size()) > max_rows)
      throw HttpError(413, "the request has " + std::to_string(split["data"].size()) +
                               " rows; this server takes at most " + std::to_string(max_rows));
    for (const json& row : split["data"]) {
      if (!row.is_array() || row.size() != targets.size())
        throw HttpError(400, "each dataframe_split row must have one value per column");
      for (std::size_t k = 0; k < targets.size(); ++k)
        if (targets[k] != nullptr) append(*targets[k], row[k]);
      ++table->rows;
    }
  } else if (j.contains("dataframe_records")) {
    const json& records = j["dataframe_records"];
    if (!records.is_array()) throw HttpError(400, "dataframe_records must be an array of objects");
    if (static_cast<std::int64_t>(records.size()) > max_rows)
      throw HttpError(413, "the request has " + std::to_string(records.size()) +
                               " rows; this server takes at most " + std::to_string(max_rows));
    for (const json& record : records) {
      if (!record.is_object()) throw HttpError(400, "each dataframe_records row must be an object");
      for (RequestColumn& c : table->columns) {
        const auto v = record.find(c.name);
        if (v == record.end()) throw HttpError(400, "a record has no column '" + c.name + "'");
        append(c, *v);
      }
      ++table->rows;
    }
  } else {
    throw HttpError(400, "the body needs \"dataframe_split\" or \"dataframe_records\"");
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
