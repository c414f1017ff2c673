// Decoding and checking gRPC inference requests, encoding answers, metadata and statistics.
#include "serve/grpc_protocol.hpp"

#include <cmath>
#include <cstring>
#include <limits>

#include "serve/http_error.hpp"

namespace tabula::serve {
namespace {

using inference::InferTensorContents;
using inference::ModelInferRequest;

/// Elements in every typed-contents field: exactly one field, the datatype's, may hold any.
std::int64_t filled_elements(const InferTensorContents& c) {
  return static_cast<std::int64_t>(c.bool_contents_size()) + c.int_contents_size() +
         c.int64_contents_size() + c.uint_contents_size() + c.uint64_contents_size() +
         c.fp32_contents_size() + c.fp64_contents_size() + c.bytes_contents_size();
}

/// Copies a numeric field, refusing values outside [lo, hi] (the datatype's range).
template <typename Field>
void copy_numbers(const Field& field, double lo, double hi, InputTensor& t,
                  const std::string& where) {
  t.numbers.reserve(static_cast<std::size_t>(field.size()));
  for (const auto v : field) {
    const auto d = static_cast<double>(v);
    if (d < lo || d > hi)
      throw HttpError(
          400, where + ": value " + std::to_string(v) + " is outside the range of " + t.datatype);
    t.numbers.push_back(d);
  }
}

/// Elements in the typed-contents field of `datatype`.
std::int64_t field_size(const InferTensorContents& c, const std::string& type) {
  if (type == "FP32") return c.fp32_contents_size();
  if (type == "FP64") return c.fp64_contents_size();
  if (type == "INT64") return c.int64_contents_size();
  if (type == "UINT64") return c.uint64_contents_size();
  if (type == "INT32" || type == "INT16" || type == "INT8") return c.int_contents_size();
  if (type == "UINT32" || type == "UINT16" || type == "UINT8") return c.uint_contents_size();
  if (type == "BOOL") return c.bool_contents_size();
  return c.bytes_contents_size();
}

/// Typed contents: the field of the datatype and only it, `count` elements; sizes are checked
/// before anything is copied.
void read_contents(const InferTensorContents& c, std::int64_t count, InputTensor& t,
                   const std::string& where) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const std::string& type = t.datatype;
  const std::int64_t got = field_size(c, type);
  if (filled_elements(c) != got)
    throw HttpError(400, where + ": values in a field other than the one of datatype " + type);
  if (got != count)
    throw HttpError(400, where + ": shape holds " + std::to_string(count) +
                             " elements but the contents have " + std::to_string(got));
  if (type == "FP32") {
    copy_numbers(c.fp32_contents(), -kInf, kInf, t, where);
  } else if (type == "FP64") {
    copy_numbers(c.fp64_contents(), -kInf, kInf, t, where);
  } else if (type == "INT64") {
    copy_numbers(c.int64_contents(), -kInf, kInf, t, where);
  } else if (type == "UINT64") {
    copy_numbers(c.uint64_contents(), 0, kInf, t, where);
  } else if (type == "INT32" || type == "INT16" || type == "INT8") {
    const int bits = type == "INT32" ? 31 : type == "INT16" ? 15 : 7;
    copy_numbers(c.int_contents(), -std::ldexp(1.0, bits), std::ldexp(1.0, bits) - 1, t, where);
  } else if (type == "UINT32" || type == "UINT16" || type == "UINT8") {
    const int bits = type == "UINT32" ? 32 : type == "UINT16" ? 16 : 8;
    copy_numbers(c.uint_contents(), 0, std::ldexp(1.0, bits) - 1, t, where);
  } else if (type == "BOOL") {
    for (const bool b : c.bool_contents()) t.numbers.push_back(b ? 1 : 0);
  } else {  // BYTES
    for (const std::string& s : c.bytes_contents()) {
      t.texts.push_back(s);
      t.present.push_back(s.empty() ? 0 : 1);
    }
  }
}

/// One input, checked in field order: name, datatype, shape, then its data.
InputTensor decode_input(const ModelInferRequest& message, int index) {
  const ModelInferRequest::InferInputTensor& input = message.inputs(index);
  const std::string where = "inputs[" + std::to_string(index) + "] '" + input.name() + "'";
  if (input.name().empty()) throw HttpError(400, where + ": missing \"name\"");
  InputTensor t;
  t.name = input.name();
  t.datatype = input.datatype();
  if (t.datatype.empty()) throw HttpError(400, where + ": missing \"datatype\"");
  check_datatype(t.datatype, where);
  t.shape.assign(input.shape().begin(), input.shape().end());
  const std::int64_t count = checked_element_count(t.shape, where);
  const bool raw = message.raw_input_contents_size() > 0;
  if (raw) {
    if (input.has_contents() && filled_elements(input.contents()) > 0)
      throw HttpError(400, where + ": both \"contents\" and raw_input_contents are given");
    const std::string& bytes = message.raw_input_contents(index);
    if (t.datatype == "BYTES") {
      decode_raw_texts(bytes, t, where + " raw_input_contents");
      for (std::size_t i = 0; i < t.texts.size(); ++i) t.present[i] = t.texts[i].empty() ? 0 : 1;
    } else {
      decode_raw_numbers(bytes, count, t, where + " raw_input_contents");
    }
  } else {
    read_contents(input.contents(), count, t, where + " contents");
  }
  if (t.size() != count)
    throw HttpError(400, where + ": shape holds " + std::to_string(count) +
                             " elements but the data has " + std::to_string(t.size()));
  return t;
}

void append_raw(std::string& out, const void* p, std::size_t n) {
  out.append(static_cast<const char*>(p), n);
}

/// One output tensor, as typed contents or raw bytes.
void fill_output(const OutputTensor& t, bool raw, inference::ModelInferResponse& out) {
  auto* tensor = out.add_outputs();
  tensor->set_name(t.name);
  tensor->set_datatype(t.datatype);
  for (const std::int64_t d : t.shape) tensor->add_shape(d);
  std::string* bytes = raw ? out.add_raw_output_contents() : nullptr;
  InferTensorContents* contents = raw ? nullptr : tensor->mutable_contents();
  if (t.datatype == "BYTES") {
    for (const std::string& s : t.bytes) {
      if (!raw) {
        contents->add_bytes_contents(s);
        continue;
      }
      const auto n = static_cast<std::uint32_t>(s.size());
      append_raw(*bytes, &n, 4);
      bytes->append(s);
    }
  } else if (t.datatype == "INT64") {
    if (raw)
      append_raw(*bytes, t.int64.data(), t.int64.size() * sizeof(std::int64_t));
    else
      contents->mutable_int64_contents()->Add(t.int64.begin(), t.int64.end());
  } else if (raw) {
    append_raw(*bytes, t.fp64.data(), t.fp64.size() * sizeof(double));
  } else {
    contents->mutable_fp64_contents()->Add(t.fp64.begin(), t.fp64.end());
  }
}

void fill_duration(const StatDuration& d, inference::StatisticDuration* out) {
  out->set_count(d.count);
  out->set_ns(d.ns);
}

}  // namespace

GrpcInferRequest parse_grpc_request(const ModelInferRequest& message, const ServedModel& model,
                                    std::int64_t max_rows) {
  if (message.inputs_size() == 0) throw HttpError(400, "\"inputs\" must not be empty");
  if (message.raw_input_contents_size() > 0 &&
      message.raw_input_contents_size() != message.inputs_size())
    throw HttpError(400, "raw_input_contents has " +
                             std::to_string(message.raw_input_contents_size()) + " entries for " +
                             std::to_string(message.inputs_size()) +
                             " inputs: give one per input, or none");
  GrpcInferRequest out;
  out.raw = message.raw_input_contents_size() > 0;
  const std::string& id_column = model.schema().id_column;
  std::vector<InputTensor> inputs;
  for (int i = 0; i < message.inputs_size(); ++i) {
    inputs.push_back(decode_input(message, i));
    if (!id_column.empty() && inputs.back().name == id_column) out.id_input = i;
  }
  std::vector<std::string> outputs;
  for (int i = 0; i < message.outputs_size(); ++i) {
    if (message.outputs(i).name().empty())
      throw HttpError(400, "outputs[" + std::to_string(i) + "]: missing \"name\"");
    outputs.push_back(message.outputs(i).name());
  }
  out.request = assemble_request(std::move(inputs), std::move(outputs), model, max_rows);
  if (!message.id().empty()) out.request.id = message.id();
  return out;
}

void fill_grpc_response(const ServedModel& model, const ModelInferRequest& message,
                        const GrpcInferRequest& request, const ScoredRows& result,
                        inference::ModelInferResponse& out) {
  out.set_model_name(model.name());
  out.set_model_version(model.version());
  if (request.request.id) out.set_id(*request.request.id);
  for (const OutputTensor& t : output_tensors(model, request.request, result))
    fill_output(t, request.raw, out);
  // The id column goes back as it came, bytes for bytes.
  if (request.id_input >= 0 && request.request.wants(model.schema().id_column)) {
    const auto& input = message.inputs(request.id_input);
    auto* echo = out.add_outputs();
    echo->set_name(input.name());
    echo->set_datatype(input.datatype());
    echo->add_shape(input.shape(0));
    if (request.raw)
      *out.add_raw_output_contents() = message.raw_input_contents(request.id_input);
    else
      *echo->mutable_contents() = input.contents();
  }
}

void fill_grpc_metadata(const ModelEntry& entry, const ServedModel& model,
                        inference::ModelMetadataResponse& out) {
  out.set_name(entry.name);
  for (const std::string& v : entry.order) out.add_versions(v);
  out.set_platform("tabula_" + model.model().estimator->name());
  const auto fill = [](const std::vector<TensorSpec>& specs, auto* field) {
    for (const TensorSpec& s : specs) {
      auto* t = field->Add();
      t->set_name(s.name);
      t->set_datatype(s.datatype);
      for (const std::int64_t d : s.shape) t->add_shape(d);
    }
  };
  fill(input_specs(model), out.mutable_inputs());
  fill(output_specs(model), out.mutable_outputs());
}

void fill_grpc_statistics(const std::vector<StatisticsSnapshot>& versions,
                          inference::ModelStatisticsResponse& out) {
  for (const StatisticsSnapshot& s : versions) {
    auto* m = out.add_model_stats();
    m->set_name(s.name);
    m->set_version(s.version);
    m->set_last_inference(s.last_inference_ms);
    m->set_inference_count(s.inference_count);
    m->set_execution_count(s.execution_count);
    auto* stats = m->mutable_inference_stats();
    fill_duration(s.success, stats->mutable_success());
    fill_duration(s.fail, stats->mutable_fail());
    fill_duration(s.queue, stats->mutable_queue());
    fill_duration(s.compute.input, stats->mutable_compute_input());
    fill_duration(s.compute.infer, stats->mutable_compute_infer());
    fill_duration(s.compute.output, stats->mutable_compute_output());
    fill_duration({}, stats->mutable_cache_hit());
    fill_duration({}, stats->mutable_cache_miss());
    for (const auto& [size, d] : s.batches) {
      auto* b = m->add_batch_stats();
      b->set_batch_size(size);
      fill_duration(d.input, b->mutable_compute_input());
      fill_duration(d.infer, b->mutable_compute_infer());
      fill_duration(d.output, b->mutable_compute_output());
    }
  }
}

void fill_grpc_index(const std::vector<ModelRepository::IndexRow>& rows,
                     inference::RepositoryIndexResponse& out) {
  for (const ModelRepository::IndexRow& row : rows) {
    auto* m = out.add_models();
    m->set_name(row.name);
    m->set_version(row.version);
    m->set_state(row.state);
    m->set_reason(row.reason);
  }
}

grpc::Status to_grpc_status(int http_status, const std::string& message) {
  switch (http_status) {
    case 400:
      return {grpc::StatusCode::INVALID_ARGUMENT, message};
    case 401:
      return {grpc::StatusCode::UNAUTHENTICATED, message};
    case 404:
      return {grpc::StatusCode::NOT_FOUND, message};
    case 409:
      return {grpc::StatusCode::FAILED_PRECONDITION, message};
    case 413:
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, message};
    case 503:
      return {grpc::StatusCode::UNAVAILABLE, message};
    case 504:
      return {grpc::StatusCode::DEADLINE_EXCEEDED, message};
    default:
      return {grpc::StatusCode::INTERNAL, message};
  }
}

}  // namespace tabula::serve
