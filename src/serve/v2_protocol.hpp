// The Open Inference Protocol (KServe v2 / Triton) REST messages: inference requests to a
// RequestTable, results and metadata to JSON. Includes Triton's binary tensor extension for
// request inputs (what tritonclient sends by default).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serve/inference_tensors.hpp"
#include "serve/micro_batcher.hpp"
#include "serve/model_repository.hpp"
#include "serve/request_table.hpp"
#include "serve/served_model.hpp"

namespace tabula::serve {

struct V2Request : InferenceRequest {
  nlohmann::json id_output;  // the model's id column as sent, echoed; null when absent
};

/// Parses an inference request for a model with `schema`. Inputs are either one tensor per
/// column by name (FP32, FP64, INT8..64, UINT8..64, BOOL, BYTES; shape [n] or [n, 1]) or one
/// 2-D numeric tensor [n, features] in schema order (any name that is not a column's).
/// `binary_header_length`: the Inference-Header-Content-Length header when present (the JSON
/// part is the body's first that many bytes, binary tensors follow). HttpError 400 for
/// malformed JSON (or nested deeper than `max_json_depth`), bad shapes or types, missing
/// columns, unknown outputs; 413 above `max_rows`.
V2Request parse_v2_request(std::string_view body, std::optional<std::int64_t> binary_header_length,
                           const ServedModel& model, std::int64_t max_rows,
                           int max_json_depth = kDefaultMaxJsonDepth);

/// {"model_name", "model_version", "id"?, "outputs": [...]}; the outputs end with the model's id
/// column (ModelSchema::id_column) as the request sent it, when it did.
nlohmann::json v2_response(const ServedModel& model, const V2Request& request,
                           const ScoredRows& result);

/// GET /v2/models/{name}[/versions/{v}]: name, versions, platform, inputs, outputs.
nlohmann::json v2_model_metadata(const ModelEntry& entry, const ServedModel& model);

/// GET /v2: name, version, extensions.
nlohmann::json v2_server_metadata();

/// An output tensor as v2 JSON: {"name", "datatype", "shape", "data"} (missing values null).
nlohmann::json v2_tensor(const OutputTensor& tensor);

}  // namespace tabula::serve
