// The Open Inference Protocol's tensors apart from how a protocol spells them: decoded input
// tensors become the rows of one request (a RequestTable), scored rows become output tensors.
// The REST front end (v2_protocol) and the gRPC one (grpc_protocol) only translate their
// messages to and from these, so both check a request and shape its answer the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "serve/micro_batcher.hpp"
#include "serve/request_table.hpp"
#include "serve/served_model.hpp"

namespace tabula::serve {

/// Output tensor names.
inline constexpr const char* kPredictOutput = "predict";
inline constexpr const char* kProbabilitiesOutput = "probabilities";
inline constexpr const char* kTransformOutput = "transform";

/// Largest dimension of an input shape, and largest element count of one input tensor: a
/// shape's product is checked against them before anything is allocated or multiplied further.
inline constexpr std::int64_t kMaxTensorDimension = std::int64_t{1} << 30;
inline constexpr std::int64_t kMaxTensorElements = std::int64_t{1} << 40;

/// Bytes per element of a fixed-size datatype (FP64 8 ... BOOL 1); 0 for BYTES and unknown names.
std::int64_t element_size(std::string_view datatype);
/// FP32, FP64, INT8..INT64, UINT8..UINT64, BOOL: what a numeric column may be sent as.
bool is_numeric_type(std::string_view datatype);
/// HttpError 400 naming `where` unless the datatype is numeric or BYTES.
void check_datatype(std::string_view datatype, const std::string& where);
/// The element count of `shape`, checked: rank 1 or 2, every dimension in [0, 2^30], the
/// product at most kMaxTensorElements. HttpError 400 naming `where` otherwise.
std::int64_t checked_element_count(std::span<const std::int64_t> shape, const std::string& where);

/// One decoded input tensor.
struct InputTensor {
  std::string name, datatype;
  std::vector<std::int64_t> shape;  // checked by checked_element_count
  std::vector<double> numbers;      // numeric datatypes, row-major; NaN = missing
  std::vector<std::string> texts;   // BYTES
  std::vector<char> present;        // BYTES: 0 where the value is missing

  std::int64_t size() const {
    return static_cast<std::int64_t>(datatype == "BYTES" ? texts.size() : numbers.size());
  }
};

/// Fills `t.numbers` from `count` little-endian elements of `t.datatype` (numeric); HttpError
/// 400 naming `where` when `raw` is not exactly count x element_size bytes.
void decode_raw_numbers(std::string_view raw, std::int64_t count, InputTensor& t,
                        const std::string& where);
/// Fills `t.texts` from BYTES elements, each a 4-byte little-endian length and its bytes;
/// HttpError 400 naming `where` when an element is truncated.
void decode_raw_texts(std::string_view raw, InputTensor& t, const std::string& where);

/// A request checked against its model version, ready for the micro-batcher.
struct InferenceRequest {
  std::optional<std::string> id;
  std::shared_ptr<RequestTable> table;
  std::vector<std::string> outputs;  // requested output names; empty: all
  bool carries_id_column = false;    // an input is the model's id column (echoed back)

  bool wants(std::string_view output) const;
};

/// Builds the rows of a request from its decoded inputs: one tensor per column by name
/// (shape [n] or [n, 1]) or one 2-D numeric tensor [n, features] in schema order (any name
/// that is not a column's); checks that inputs agree on rows and that `outputs` names outputs
/// the model has. HttpError 400 for every refusal, naming the input or output; 413 above
/// `max_rows`.
InferenceRequest assemble_request(std::vector<InputTensor> inputs, std::vector<std::string> outputs,
                                  const ServedModel& model, std::int64_t max_rows);

/// One output tensor of an answer; the vector of its datatype holds the values.
struct OutputTensor {
  std::string name, datatype;  // datatype: FP64, INT64 or BYTES
  std::vector<std::int64_t> shape;
  std::vector<double> fp64;         // FP64
  std::vector<std::int64_t> int64;  // INT64
  std::vector<char> missing;        // INT64: 1 where there is no value (a row no cluster took)
  std::vector<std::string> bytes;   // BYTES
};

/// The outputs `request` asked for (all when it named none), in the protocol's order: predict,
/// transform, probabilities. The id column's echo is the protocol's to add, as it was sent.
std::vector<OutputTensor> output_tensors(const ServedModel& model, const InferenceRequest& request,
                                         const ScoredRows& result);

/// A tensor's name, datatype and shape (-1: any length) in model metadata.
struct TensorSpec {
  std::string name, datatype;
  std::vector<std::int64_t> shape;
};
std::vector<TensorSpec> input_specs(const ServedModel& model);
std::vector<TensorSpec> output_specs(const ServedModel& model);

/// What the server metadata lists as its protocol extensions.
std::vector<std::string> server_extensions();

}  // namespace tabula::serve
