// Open Inference Protocol v2: request parsing and response building.
#include "serve/v2_protocol.hpp"

#include <cmath>
#include <cstring>
#include <limits>

#include "serve/http_error.hpp"
#include "tabula/version.hpp"

namespace tabula::serve {
namespace {

using nlohmann::json;

std::int64_t element_size(const std::string& datatype) {
  if (datatype == "FP64" || datatype == "INT64" || datatype == "UINT64") return 8;
  if (datatype == "FP32" || datatype == "INT32" || datatype == "UINT32") return 4;
  if (datatype == "INT16" || datatype == "UINT16" || datatype == "FP16") return 2;
  if (datatype == "INT8" || datatype == "UINT8" || datatype == "BOOL") return 1;
  return 0;
}

bool is_numeric_type(const std::string& datatype) {
  return datatype != "BYTES" && datatype != "FP16" && element_size(datatype) > 0;
}

/// Row-major flattening of a possibly nested "data" array. Depth is bounded so that a hostile
/// body cannot exhaust the stack.
void flatten(const json& data, std::vector<const json*>& out, int depth = 0) {
  if (data.is_array()) {
    if (depth > 8) throw HttpError(400, "\"data\" is nested too deeply");
    for (const json& v : data) flatten(v, out, depth + 1);
  } else {
    out.push_back(&data);
  }
}

template <typename T>
double read_as(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return static_cast<double>(v);
}

double read_binary(const std::string& datatype, const char* p) {
  if (datatype == "FP64") return read_as<double>(p);
  if (datatype == "FP32") return read_as<float>(p);
  if (datatype == "INT64") return read_as<std::int64_t>(p);
  if (datatype == "INT32") return read_as<std::int32_t>(p);
  if (datatype == "INT16") return read_as<std::int16_t>(p);
  if (datatype == "INT8") return read_as<std::int8_t>(p);
  if (datatype == "UINT64") return read_as<std::uint64_t>(p);
  if (datatype == "UINT32") return read_as<std::uint32_t>(p);
  if (datatype == "UINT16") return read_as<std::uint16_t>(p);
  return read_as<std::uint8_t>(p);  // UINT8, BOOL
}

/// One input tensor, decoded: numbers or texts, `count` elements.
struct Tensor {
  std::string name, datatype;
  bool binary = false;  // its data came in the binary part of the body
  std::vector<std::int64_t> shape;
  std::vector<double> numbers;
  std::vector<std::string> texts;
  std::vector<char> present;
};

// long: one input's checks in the order the v2 protocol defines its fields (name, datatype,
// shape, parameters, data or binary part); each names the input, and split they would pass it on.
Tensor decode(const json& input, std::string_view& binary) {
  Tensor t;
  const std::string where_prefix = "input ";
  if (!input.is_object() || !input.contains("name") || !input["name"].is_string())
    throw HttpError(400, "each input needs a string \"name\"");
  t.name = input["name"].get<std::string>();
  const std::string where = where_prefix + "'" + t.name + "'";
  if (!input.contains("datatype") || !input["datatype"].is_string())
    throw HttpError(400, where + ": missing \"datatype\"");
  t.datatype = input["datatype"].get<std::string>();
  if (t.datatype != "BYTES" && !is_numeric_type(t.datatype))
    throw HttpError(400, where + ": unsupported datatype '" + t.datatype +
                             "' (FP32, FP64, INT8..INT64, UINT8..UINT64, BOOL, BYTES)");
  if (!input.contains("shape") || !input["shape"].is_array() || input["shape"].empty() ||
      input["shape"].size() > 2)
    throw HttpError(400, where + ": \"shape\" must be [rows] or [rows, columns]");
  std::int64_t count = 1;
  for (const json& d : input["shape"]) {
    if (!d.is_number_integer() || d.get<std::int64_t>() < 0 || d.get<std::int64_t>() > (1 << 30))
      throw HttpError(400, where + ": shape dimensions must be whole numbers >= 0");
    t.shape.push_back(d.get<std::int64_t>());
    count *= t.shape.back();
  }
  const bool is_bytes = t.datatype == "BYTES";
  std::optional<std::int64_t> binary_size;
  if (input.contains("parameters") && input["parameters"].is_object() &&
      input["parameters"].contains("binary_data_size")) {
    const json& size = input["parameters"]["binary_data_size"];
    if (!size.is_number_integer() || size.get<std::int64_t>() < 0)
      throw HttpError(400, where + ": binary_data_size must be a whole number");
    binary_size = size.get<std::int64_t>();
  }
  t.binary = binary_size.has_value();
  if (binary_size) {
    if (*binary_size > static_cast<std::int64_t>(binary.size()))
      throw HttpError(400, where + ": binary_data_size exceeds the binary part of the body");
    std::string_view blob = binary.substr(0, static_cast<std::size_t>(*binary_size));
    binary.remove_prefix(static_cast<std::size_t>(*binary_size));
    if (is_bytes) {
      // Each element: 4-byte little-endian length, then the bytes.
      while (!blob.empty()) {
        std::uint32_t n = 0;
        if (blob.size() < 4) throw HttpError(400, where + ": truncated BYTES element");
        std::memcpy(&n, blob.data(), 4);
        blob.remove_prefix(4);
        if (n > blob.size()) throw HttpError(400, where + ": truncated BYTES element");
        t.texts.emplace_back(blob.substr(0, n));
        t.present.push_back(1);
        blob.remove_prefix(n);
      }
    } else {
      const std::int64_t size = element_size(t.datatype);
      if (static_cast<std::int64_t>(blob.size()) != count * size)
        throw HttpError(400, where + ": binary_data_size " + std::to_string(blob.size()) +
                                 " does not match shape (" + std::to_string(count) + " x " +
                                 std::to_string(size) + " bytes)");
      t.numbers.resize(static_cast<std::size_t>(count));
      for (std::int64_t i = 0; i < count; ++i)
        t.numbers[static_cast<std::size_t>(i)] = read_binary(t.datatype, blob.data() + i * size);
    }
  } else {
    if (!input.contains("data")) throw HttpError(400, where + ": missing \"data\"");
    std::vector<const json*> values;
    flatten(input["data"], values);
    for (const json* v : values) {
      if (is_bytes) {
        if (v->is_string()) {
          t.texts.push_back(v->get<std::string>());
          t.present.push_back(1);
        } else if (v->is_null()) {
          t.texts.emplace_back();
          t.present.push_back(0);
        } else {
          throw HttpError(400, where + ": BYTES data must be strings (or null for missing)");
        }
      } else if (v->is_number()) {
        t.numbers.push_back(v->get<double>());
      } else if (v->is_boolean()) {
        t.numbers.push_back(v->get<bool>() ? 1 : 0);
      } else if (v->is_null()) {
        t.numbers.push_back(std::numeric_limits<double>::quiet_NaN());
      } else {
        throw HttpError(400, where + ": " + t.datatype + " data must be numbers");
      }
    }
  }
  const std::int64_t got = static_cast<std::int64_t>(is_bytes ? t.texts.size() : t.numbers.size());
  if (got != count)
    throw HttpError(400, where + ": shape holds " + std::to_string(count) +
                             " elements but data has " + std::to_string(got));
  return t;
}

RequestColumn to_column(Tensor&& t) {
  RequestColumn c;
  c.name = std::move(t.name);
  if (t.datatype == "BYTES") {
    c.type = ColumnType::kCategorical;
    c.text = std::move(t.texts);
    c.present = std::move(t.present);
  } else {
    c.numeric = std::move(t.numbers);
  }
  return c;
}

// The model's id column as the request sent it, for the response (`tabula predict --id` in the
// server): JSON data verbatim (already checked by decode), binary data from its decoded values
// (integers exact up to 2^53).
json id_output(const json& input, const Tensor& t) {
  json data = json::array();
  if (!t.binary) {
    std::vector<const json*> values;
    flatten(input["data"], values);
    for (const json* v : values) data.push_back(*v);
  } else if (t.datatype == "BYTES") {
    data = t.texts;
  } else {
    const bool integer = t.datatype.find("INT") != std::string::npos;
    for (double v : t.numbers)
      data.push_back(t.datatype == "BOOL" ? json(v != 0)
                     : integer            ? json(static_cast<std::int64_t>(v))
                                          : json(v));
  }
  const auto n = static_cast<std::int64_t>(data.size());
  return {{"name", t.name}, {"datatype", t.datatype}, {"shape", {n}}, {"data", std::move(data)}};
}

// Class labels keep their type: integers, numbers spelt with a decimal point ("1.0"), text.
const char* label_datatype(const ModelSchema& schema) {
  return schema.integer_labels() ? "INT64" : schema.numeric_labels ? "FP64" : "BYTES";
}

json predict_tensor(const ServedModel& model, const ScoredRows& r) {
  const auto n = static_cast<std::int64_t>(r.predict.size());
  if (model.task() == Task::kClustering) {
    json data = json::array();
    for (double c : r.predict)
      data.push_back(std::isnan(c) ? json() : json(static_cast<std::int64_t>(c)));
    return {{"name", kPredictOutput}, {"datatype", "INT64"}, {"shape", {n}}, {"data", data}};
  }
  if (model.task() != Task::kClassification)
    return {{"name", kPredictOutput}, {"datatype", "FP64"}, {"shape", {n}}, {"data", r.predict}};
  const ModelSchema& schema = model.schema();
  json data = json::array();
  for (double c : r.predict) data.push_back(schema.label_json(static_cast<std::size_t>(c)));
  return {{"name", kPredictOutput},
          {"datatype", label_datatype(schema)},
          {"shape", {n}},
          {"data", std::move(data)}};
}

}  // namespace

// long: the request's checks in protocol order (binary header, JSON, id, parameters, inputs,
// rows, outputs); every refusal is one 400 with its reason, read top to bottom.
V2Request parse_v2_request(std::string_view body, std::optional<std::int64_t> binary_header_length,
                           const ServedModel& model, std::int64_t max_rows, int max_json_depth) {
  std::string_view header = body, binary;
  if (binary_header_length) {
    if (*binary_header_length < 0 || *binary_header_length > static_cast<std::int64_t>(body.size()))
      throw HttpError(400, "Inference-Header-Content-Length is larger than the body");
    header = body.substr(0, static_cast<std::size_t>(*binary_header_length));
    binary = body.substr(static_cast<std::size_t>(*binary_header_length));
  }
  const json j = parse_request_json(header, max_json_depth);
  if (!j.is_object()) throw HttpError(400, "the request body must be a JSON object");

  V2Request request;
  if (j.contains("id")) {
    if (!j["id"].is_string()) throw HttpError(400, "\"id\" must be a string");
    request.id = j["id"].get<std::string>();
  }
  if (j.contains("parameters") && !j["parameters"].is_object())
    throw HttpError(400, "\"parameters\" must be an object");
  if (!j.contains("inputs") || !j["inputs"].is_array() || j["inputs"].empty())
    throw HttpError(400, "\"inputs\" must be a non-empty array of tensors");

  const ModelSchema& schema = model.schema();
  auto table = std::make_shared<RequestTable>();
  bool first = true;
  for (const json& input : j["inputs"]) {
    Tensor t = decode(input, binary);
    const bool is_feature = std::any_of(schema.features.begin(), schema.features.end(),
                                        [&](const FeatureSpec& f) { return f.name == t.name; });
    std::int64_t rows = t.shape[0];
    const bool is_id = !schema.id_column.empty() && t.name == schema.id_column;
    if (is_id) request.id_output = id_output(input, t);
    if (t.shape.size() == 2 && !is_feature && !is_id) {
      // One matrix, columns in schema order.
      const auto d = static_cast<std::int64_t>(schema.features.size());
      if (t.datatype == "BYTES") throw HttpError(400, "a 2-D input must be numeric");
      if (t.shape[1] != d)
        throw HttpError(400, "input '" + t.name + "' has " + std::to_string(t.shape[1]) +
                                 " columns; the model reads " + std::to_string(d) +
                                 " (or send one tensor per column by name)");
      for (std::int64_t k = 0; k < d; ++k) {
        const FeatureSpec& f = schema.features[static_cast<std::size_t>(k)];
        if (f.type != ColumnType::kNumeric)
          throw HttpError(
              400, "column '" + f.name + "' is categorical: send it as its own BYTES tensor");
        RequestColumn c;
        c.name = f.name;
        c.numeric.resize(static_cast<std::size_t>(rows));
        for (std::int64_t i = 0; i < rows; ++i)
          c.numeric[static_cast<std::size_t>(i)] = t.numbers[static_cast<std::size_t>(i * d + k)];
        if (table->find(c.name) != nullptr)
          throw HttpError(400, "column '" + c.name + "' is given twice");
        table->columns.push_back(std::move(c));
      }
    } else {
      if (t.shape.size() == 2 && t.shape[1] != 1)
        throw HttpError(400, "input '" + t.name + "' must have shape [rows] or [rows, 1]");
      if (table->find(t.name) != nullptr)
        throw HttpError(400, "input '" + t.name + "' is given twice");
      table->columns.push_back(to_column(std::move(t)));
    }
    if (first) table->rows = rows;
    if (rows != table->rows)
      throw HttpError(400, "inputs disagree on the number of rows (" + std::to_string(table->rows) +
                               " and " + std::to_string(rows) + ")");
    first = false;
  }
  if (table->rows == 0) throw HttpError(400, "the request has no rows");
  check_row_limit(table->rows, max_rows);
  validate(*table, schema);

  if (j.contains("outputs")) {
    if (!j["outputs"].is_array()) throw HttpError(400, "\"outputs\" must be an array");
    for (const json& o : j["outputs"]) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
        throw HttpError(400, "each requested output needs a string \"name\"");
      const std::string name = o["name"].get<std::string>();
      const Task task = model.task();
      if (!schema.id_column.empty() && name == schema.id_column) {
        if (request.id_output.is_null())
          throw HttpError(400, "output '" + name + "' echoes the id column '" + name +
                                   "', which the request does not carry");
        request.outputs.push_back(name);
        continue;
      }
      const bool known = task == Task::kTransform ? name == kTransformOutput
                         : task == Task::kClustering
                             ? name == kPredictOutput || name == kTransformOutput
                             : name == kPredictOutput ||
                                   (task == Task::kClassification && name == kProbabilitiesOutput);
      if (!known) throw HttpError(400, "model '" + model.name() + "' has no output '" + name + "'");
      request.outputs.push_back(name);
    }
  }
  request.table = std::move(table);
  return request;
}

nlohmann::json v2_response(const ServedModel& model, const V2Request& request,
                           const ScoredRows& result) {
  const auto wants = [&](const char* name) {
    return request.outputs.empty() ||
           std::find(request.outputs.begin(), request.outputs.end(), name) != request.outputs.end();
  };
  json outputs = json::array();
  const std::int64_t n = request.table->rows;
  const Task task = model.task();
  if (task != Task::kTransform && wants(kPredictOutput))
    outputs.push_back(predict_tensor(model, result));
  // A transform always answers its one output; a clustering its distances when asked.
  if (task == Task::kTransform || (task == Task::kClustering && wants(kTransformOutput)))
    outputs.push_back({{"name", kTransformOutput},
                       {"datatype", "FP64"},
                       {"shape", {n, result.width}},
                       {"data", result.transform}});
  if (task == Task::kClassification && wants(kProbabilitiesOutput))
    outputs.push_back({{"name", kProbabilitiesOutput},
                       {"datatype", "FP64"},
                       {"shape", {n, result.width}},
                       {"data", result.proba}});
  if (!request.id_output.is_null() && wants(model.schema().id_column.c_str()))
    outputs.push_back(request.id_output);
  json out = {{"model_name", model.name()}, {"model_version", model.version()}};
  if (request.id) out["id"] = *request.id;
  out["outputs"] = std::move(outputs);
  return out;
}

nlohmann::json v2_model_metadata(const ModelEntry& entry, const ServedModel& model) {
  json inputs = json::array();
  for (const FeatureSpec& f : model.schema().features)
    inputs.push_back({{"name", f.name},
                      {"datatype", f.type == ColumnType::kNumeric ? "FP64" : "BYTES"},
                      {"shape", {-1}}});
  json outputs = json::array();
  const ModelSchema& schema = model.schema();
  if (model.task() != Task::kTransform) {
    const char* predict_type = model.task() == Task::kRegression   ? "FP64"
                               : model.task() == Task::kClustering ? "INT64"
                                                                   : label_datatype(schema);
    outputs.push_back({{"name", kPredictOutput}, {"datatype", predict_type}, {"shape", {-1}}});
  }
  if (is_unsupervised(model.task())) {
    outputs.push_back(
        {{"name", kTransformOutput}, {"datatype", "FP64"}, {"shape", {-1, model.output_width()}}});
  } else {
    if (model.task() == Task::kClassification)
      outputs.push_back({{"name", kProbabilitiesOutput},
                         {"datatype", "FP64"},
                         {"shape", {-1, model.output_width()}}});
  }
  json out = {{"name", entry.name},
              {"versions", entry.order},
              {"platform", "tabula_" + model.model().estimator->name()},
              {"inputs", std::move(inputs)},
              {"outputs", std::move(outputs)}};
  nlohmann::json parameters = nlohmann::json::object();
  if (model.task() == Task::kClassification) parameters["class_labels"] = schema.class_labels;
  if (!schema.id_column.empty()) parameters["id_column"] = schema.id_column;
  // The features the estimator reads, by name (`city=Paris`, `signup.month`), and the fitted
  // model's largest importances or coefficients over them: what `inspect` shows.
  const LoadedModel& loaded = model.model();
  const std::vector<std::string> names = loaded.pipeline->output_names();
  parameters["feature_names_out"] = names;
  const json ranked = ranked_feature_values(loaded.estimator->summary(), names, kTopFeatures);
  if (!ranked.empty()) parameters["top_features"] = ranked;
  if (!parameters.empty()) out["parameters"] = std::move(parameters);
  return out;
}

nlohmann::json v2_server_metadata() {
  return {{"name", "tabula"},
          {"version", kVersion},
          {"extensions", {"model_repository", "binary_tensor_data"}}};
}

}  // namespace tabula::serve
