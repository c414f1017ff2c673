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

/// The values of a tensor sent as JSON "data" (flat or nested), null as missing.
void read_json_data(const json& data, InputTensor& t, const std::string& where) {
  std::vector<const json*> values;
  flatten(data, values);
  const bool is_bytes = t.datatype == "BYTES";
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

/// binary_data_size of an input sent in the binary part of the body, when it is.
std::optional<std::int64_t> binary_data_size(const json& input, const std::string& where) {
  if (!input.contains("parameters") || !input["parameters"].is_object() ||
      !input["parameters"].contains("binary_data_size"))
    return std::nullopt;
  const json& size = input["parameters"]["binary_data_size"];
  if (!size.is_number_integer() || size.get<std::int64_t>() < 0)
    throw HttpError(400, where + ": binary_data_size must be a whole number");
  return size.get<std::int64_t>();
}

// One input's checks in the order the v2 protocol defines its fields (name, datatype, shape,
// parameters, data or binary part); each names the input. `binary` is what is left of the
// body's binary part; `sent_binary` says whether this input's data came from it.
InputTensor decode(const json& input, std::string_view& binary, bool& sent_binary) {
  InputTensor t;
  if (!input.is_object() || !input.contains("name") || !input["name"].is_string())
    throw HttpError(400, "each input needs a string \"name\"");
  t.name = input["name"].get<std::string>();
  const std::string where = "input '" + t.name + "'";
  if (!input.contains("datatype") || !input["datatype"].is_string())
    throw HttpError(400, where + ": missing \"datatype\"");
  t.datatype = input["datatype"].get<std::string>();
  check_datatype(t.datatype, where);
  if (!input.contains("shape") || !input["shape"].is_array())
    throw HttpError(400, where + ": \"shape\" must be [rows] or [rows, columns]");
  for (const json& d : input["shape"]) {
    if (!d.is_number_integer())
      throw HttpError(400, where + ": shape dimensions must be whole numbers in [0, 2^30]");
    t.shape.push_back(d.is_number_unsigned() && d.get<std::uint64_t>() > kMaxTensorDimension
                          ? kMaxTensorDimension + 1
                          : d.get<std::int64_t>());
  }
  const std::int64_t count = checked_element_count(t.shape, where);
  const std::optional<std::int64_t> binary_size = binary_data_size(input, where);
  sent_binary = binary_size.has_value();
  if (binary_size) {
    if (*binary_size > static_cast<std::int64_t>(binary.size()))
      throw HttpError(400, where + ": binary_data_size exceeds the binary part of the body");
    const std::string_view blob = binary.substr(0, static_cast<std::size_t>(*binary_size));
    binary.remove_prefix(static_cast<std::size_t>(*binary_size));
    if (t.datatype == "BYTES")
      decode_raw_texts(blob, t, where);
    else
      decode_raw_numbers(blob, count, t, where);
  } else {
    if (!input.contains("data")) throw HttpError(400, where + ": missing \"data\"");
    read_json_data(input["data"], t, where);
  }
  if (t.size() != count)
    throw HttpError(400, where + ": shape holds " + std::to_string(count) +
                             " elements but data has " + std::to_string(t.size()));
  return t;
}

// The model's id column as the request sent it, for the response (`tabula predict --id` in the
// server): JSON data verbatim (already checked by decode), binary data from its decoded values
// (integers exact up to 2^53).
json id_output(const json& input, const InputTensor& t, bool sent_binary) {
  json data = json::array();
  if (!sent_binary) {
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

}  // namespace

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
  if (j.contains("id") && !j["id"].is_string()) throw HttpError(400, "\"id\" must be a string");
  if (j.contains("parameters") && !j["parameters"].is_object())
    throw HttpError(400, "\"parameters\" must be an object");
  if (!j.contains("inputs") || !j["inputs"].is_array() || j["inputs"].empty())
    throw HttpError(400, "\"inputs\" must be a non-empty array of tensors");

  const std::string& id_column = model.schema().id_column;
  json echo;
  std::vector<InputTensor> inputs;
  for (const json& input : j["inputs"]) {
    bool sent_binary = false;
    inputs.push_back(decode(input, binary, sent_binary));
    if (!id_column.empty() && inputs.back().name == id_column)
      echo = id_output(input, inputs.back(), sent_binary);
  }
  std::vector<std::string> outputs;
  if (j.contains("outputs")) {
    if (!j["outputs"].is_array()) throw HttpError(400, "\"outputs\" must be an array");
    for (const json& o : j["outputs"]) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
        throw HttpError(400, "each requested output needs a string \"name\"");
      outputs.push_back(o["name"].get<std::string>());
    }
  }
  V2Request request;
  static_cast<InferenceRequest&>(request) =
      assemble_request(std::move(inputs), std::move(outputs), model, max_rows);
  if (j.contains("id")) request.id = j["id"].get<std::string>();
  request.id_output = std::move(echo);
  return request;
}

nlohmann::json v2_tensor(const OutputTensor& t) {
  json data = json::array();
  if (t.datatype == "BYTES") {
    data = t.bytes;
  } else if (t.datatype == "INT64") {
    for (std::size_t i = 0; i < t.int64.size(); ++i)
      data.push_back(t.missing.empty() || !t.missing[i] ? json(t.int64[i]) : json());
  } else {
    data = t.fp64;  // NaN is written as null
  }
  return {
      {"name", t.name}, {"datatype", t.datatype}, {"shape", t.shape}, {"data", std::move(data)}};
}

nlohmann::json v2_response(const ServedModel& model, const V2Request& request,
                           const ScoredRows& result) {
  json outputs = json::array();
  for (const OutputTensor& t : output_tensors(model, request, result))
    outputs.push_back(v2_tensor(t));
  if (!request.id_output.is_null() && request.wants(model.schema().id_column))
    outputs.push_back(request.id_output);
  json out = {{"model_name", model.name()}, {"model_version", model.version()}};
  if (request.id) out["id"] = *request.id;
  out["outputs"] = std::move(outputs);
  return out;
}

nlohmann::json v2_model_metadata(const ModelEntry& entry, const ServedModel& model) {
  const auto specs = [](const std::vector<TensorSpec>& tensors) {
    json out = json::array();
    for (const TensorSpec& t : tensors)
      out.push_back({{"name", t.name}, {"datatype", t.datatype}, {"shape", t.shape}});
    return out;
  };
  json out = {{"name", entry.name},
              {"versions", entry.order},
              {"platform", "tabula_" + model.model().estimator->name()},
              {"inputs", specs(input_specs(model))},
              {"outputs", specs(output_specs(model))}};
  const ModelSchema& schema = model.schema();
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
  return {{"name", "tabula"}, {"version", kVersion}, {"extensions", server_extensions()}};
}

}  // namespace tabula::serve
