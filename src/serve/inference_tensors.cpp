// Decoded tensors to request rows, scored rows to output tensors, for every protocol.
#include "serve/inference_tensors.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "serve/http_error.hpp"

namespace tabula::serve {
namespace {

template <typename T>
double read_as(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return static_cast<double>(v);
}

double read_element(std::string_view datatype, const char* p) {
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

RequestColumn to_column(InputTensor&& t) {
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

/// Splits one [rows, features] matrix into the schema's numeric columns.
void add_matrix_columns(const InputTensor& t, const ModelSchema& schema, RequestTable& table) {
  const auto d = static_cast<std::int64_t>(schema.features.size());
  if (t.datatype == "BYTES") throw HttpError(400, "a 2-D input must be numeric");
  if (t.shape[1] != d)
    throw HttpError(400, "input '" + t.name + "' has " + std::to_string(t.shape[1]) +
                             " columns; the model reads " + std::to_string(d) +
                             " (or send one tensor per column by name)");
  const std::int64_t rows = t.shape[0];
  for (std::int64_t k = 0; k < d; ++k) {
    const FeatureSpec& f = schema.features[static_cast<std::size_t>(k)];
    if (f.type != ColumnType::kNumeric)
      throw HttpError(400,
                      "column '" + f.name + "' is categorical: send it as its own BYTES tensor");
    RequestColumn c;
    c.name = f.name;
    c.numeric.resize(static_cast<std::size_t>(rows));
    for (std::int64_t i = 0; i < rows; ++i)
      c.numeric[static_cast<std::size_t>(i)] = t.numbers[static_cast<std::size_t>(i * d + k)];
    if (table.find(c.name) != nullptr)
      throw HttpError(400, "column '" + c.name + "' is given twice");
    table.columns.push_back(std::move(c));
  }
}

bool known_output(const ServedModel& model, const std::string& name) {
  switch (model.task()) {
    case Task::kTransform:
      return name == kTransformOutput;
    case Task::kClustering:
      return name == kPredictOutput || name == kTransformOutput;
    case Task::kClassification:
      return name == kPredictOutput || name == kProbabilitiesOutput;
    default:
      return name == kPredictOutput;
  }
}

// Class labels keep their type: integers, numbers spelt with a decimal point ("1.0"), text.
const char* label_datatype(const ModelSchema& schema) {
  return schema.integer_labels() ? "INT64" : schema.numeric_labels ? "FP64" : "BYTES";
}

OutputTensor predict_tensor(const ServedModel& model, const ScoredRows& r) {
  const auto n = static_cast<std::int64_t>(r.predict.size());
  OutputTensor t{kPredictOutput, "FP64", {n}, {}, {}, {}, {}};
  if (model.task() == Task::kClustering) {
    t.datatype = "INT64";
    for (double c : r.predict) {
      t.missing.push_back(std::isnan(c) ? 1 : 0);
      t.int64.push_back(std::isnan(c) ? -1 : static_cast<std::int64_t>(c));
    }
  } else if (model.task() != Task::kClassification) {
    t.fp64 = r.predict;
  } else {
    const ModelSchema& schema = model.schema();
    t.datatype = label_datatype(schema);
    // Each label converted once, then looked up per row.
    std::vector<nlohmann::json> labels;
    for (std::size_t c = 0; c < schema.class_labels.size(); ++c)
      labels.push_back(schema.label_json(c));
    for (double c : r.predict) {
      const nlohmann::json& label = labels.at(static_cast<std::size_t>(c));
      if (t.datatype == "INT64")
        t.int64.push_back(label.get<std::int64_t>());
      else if (t.datatype == "FP64")
        t.fp64.push_back(label.get<double>());
      else
        t.bytes.push_back(label.get<std::string>());
    }
    if (t.datatype == "INT64") t.missing.assign(t.int64.size(), 0);
  }
  return t;
}

OutputTensor matrix_tensor(const char* name, std::int64_t rows, std::int64_t width,
                           const std::vector<double>& values) {
  return {name, "FP64", {rows, width}, values, {}, {}, {}};
}

}  // namespace

std::int64_t element_size(std::string_view datatype) {
  if (datatype == "FP64" || datatype == "INT64" || datatype == "UINT64") return 8;
  if (datatype == "FP32" || datatype == "INT32" || datatype == "UINT32") return 4;
  if (datatype == "INT16" || datatype == "UINT16" || datatype == "FP16") return 2;
  if (datatype == "INT8" || datatype == "UINT8" || datatype == "BOOL") return 1;
  return 0;
}

bool is_numeric_type(std::string_view datatype) {
  return datatype != "BYTES" && datatype != "FP16" && element_size(datatype) > 0;
}

void check_datatype(std::string_view datatype, const std::string& where) {
  if (datatype != "BYTES" && !is_numeric_type(datatype))
    throw HttpError(400, where + ": unsupported datatype '" + std::string(datatype) +
                             "' (FP32, FP64, INT8..INT64, UINT8..UINT64, BOOL, BYTES)");
}

std::int64_t checked_element_count(std::span<const std::int64_t> shape, const std::string& where) {
  if (shape.empty() || shape.size() > 2)
    throw HttpError(400, where + ": \"shape\" must be [rows] or [rows, columns]");
  std::int64_t count = 1;
  for (const std::int64_t d : shape) {
    if (d < 0 || d > kMaxTensorDimension)
      throw HttpError(400, where + ": shape dimensions must be whole numbers in [0, 2^30]");
    count *= d;  // at most 2^60: no overflow
  }
  if (count > kMaxTensorElements)
    throw HttpError(400, where + ": shape holds " + std::to_string(count) +
                             " elements, more than any request can carry");
  return count;
}

void decode_raw_numbers(std::string_view raw, std::int64_t count, InputTensor& t,
                        const std::string& where) {
  const std::int64_t size = element_size(t.datatype);
  // count <= 2^40 and size <= 8: the product cannot overflow.
  if (static_cast<std::int64_t>(raw.size()) != count * size)
    throw HttpError(400, where + ": " + std::to_string(raw.size()) +
                             " bytes of data do not match its shape (" + std::to_string(count) +
                             " x " + std::to_string(size) + " bytes)");
  t.numbers.resize(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i)
    t.numbers[static_cast<std::size_t>(i)] = read_element(t.datatype, raw.data() + i * size);
}

void decode_raw_texts(std::string_view raw, InputTensor& t, const std::string& where) {
  while (!raw.empty()) {
    std::uint32_t n = 0;
    if (raw.size() < 4) throw HttpError(400, where + ": truncated BYTES element");
    std::memcpy(&n, raw.data(), 4);
    raw.remove_prefix(4);
    if (n > raw.size()) throw HttpError(400, where + ": truncated BYTES element");
    t.texts.emplace_back(raw.substr(0, n));
    t.present.push_back(1);
    raw.remove_prefix(n);
  }
}

bool InferenceRequest::wants(std::string_view output) const {
  return outputs.empty() || std::find(outputs.begin(), outputs.end(), output) != outputs.end();
}

InferenceRequest assemble_request(std::vector<InputTensor> inputs, std::vector<std::string> outputs,
                                  const ServedModel& model, std::int64_t max_rows) {
  if (inputs.empty()) throw HttpError(400, "\"inputs\" must be a non-empty array of tensors");
  const ModelSchema& schema = model.schema();
  InferenceRequest request;
  auto table = std::make_shared<RequestTable>();
  table->rows = inputs.front().shape.at(0);
  for (InputTensor& t : inputs) {
    const bool is_feature = std::any_of(schema.features.begin(), schema.features.end(),
                                        [&](const FeatureSpec& f) { return f.name == t.name; });
    const std::int64_t rows = t.shape.at(0);
    const bool is_id = !schema.id_column.empty() && t.name == schema.id_column;
    request.carries_id_column = request.carries_id_column || is_id;
    if (rows != table->rows)
      throw HttpError(400, "inputs disagree on the number of rows (" + std::to_string(table->rows) +
                               " and " + std::to_string(rows) + ")");
    if (t.shape.size() == 2 && !is_feature && !is_id) {
      add_matrix_columns(t, schema, *table);
      continue;
    }
    if (t.shape.size() == 2 && t.shape[1] != 1)
      throw HttpError(400, "input '" + t.name + "' must have shape [rows] or [rows, 1]");
    if (table->find(t.name) != nullptr)
      throw HttpError(400, "input '" + t.name + "' is given twice");
    table->columns.push_back(to_column(std::move(t)));
  }
  if (table->rows == 0) throw HttpError(400, "the request has no rows");
  check_row_limit(table->rows, max_rows);
  validate(*table, schema);

  for (std::string& name : outputs) {
    if (!schema.id_column.empty() && name == schema.id_column) {
      if (!request.carries_id_column)
        throw HttpError(400, "output '" + name + "' echoes the id column '" + name +
                                 "', which the request does not carry");
    } else if (!known_output(model, name)) {
      throw HttpError(400, "model '" + model.name() + "' has no output '" + name + "'");
    }
    request.outputs.push_back(std::move(name));
  }
  request.table = std::move(table);
  return request;
}

std::vector<OutputTensor> output_tensors(const ServedModel& model, const InferenceRequest& request,
                                         const ScoredRows& result) {
  std::vector<OutputTensor> out;
  const std::int64_t n = request.table->rows;
  const Task task = model.task();
  if (task != Task::kTransform && request.wants(kPredictOutput))
    out.push_back(predict_tensor(model, result));
  // A transform always answers its one output; a clustering its distances when asked.
  if (task == Task::kTransform || (task == Task::kClustering && request.wants(kTransformOutput)))
    out.push_back(matrix_tensor(kTransformOutput, n, result.width, result.transform));
  if (task == Task::kClassification && request.wants(kProbabilitiesOutput))
    out.push_back(matrix_tensor(kProbabilitiesOutput, n, result.width, result.proba));
  return out;
}

std::vector<TensorSpec> input_specs(const ServedModel& model) {
  std::vector<TensorSpec> out;
  for (const FeatureSpec& f : model.schema().features)
    out.push_back({f.name, f.type == ColumnType::kNumeric ? "FP64" : "BYTES", {-1}});
  return out;
}

std::vector<TensorSpec> output_specs(const ServedModel& model) {
  std::vector<TensorSpec> out;
  const Task task = model.task();
  if (task != Task::kTransform) {
    const char* predict_type = task == Task::kRegression   ? "FP64"
                               : task == Task::kClustering ? "INT64"
                                                           : label_datatype(model.schema());
    out.push_back({kPredictOutput, predict_type, {-1}});
  }
  if (is_unsupervised(task))
    out.push_back({kTransformOutput, "FP64", {-1, model.output_width()}});
  else if (task == Task::kClassification)
    out.push_back({kProbabilitiesOutput, "FP64", {-1, model.output_width()}});
  return out;
}

std::vector<std::string> server_extensions() {
  return {"model_repository", "binary_tensor_data", "statistics"};
}

}  // namespace tabula::serve
