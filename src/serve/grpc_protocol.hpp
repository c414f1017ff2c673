// The Open Inference Protocol's gRPC messages (src/serve/proto/grpc_service.proto) to and from
// the shared tensors of inference_tensors.hpp. Every count, shape, datatype and byte length of a
// request is checked here before anything is read or allocated from it; a refusal is an
// HttpError naming the field, which the server turns into a gRPC status (to_grpc_status).
#pragma once

#include <grpcpp/support/status.h>

#include <cstdint>
#include <string>
#include <vector>

#include "serve/grpc_service.pb.h"
#include "serve/inference_tensors.hpp"
#include "serve/model_repository.hpp"
#include "serve/model_statistics.hpp"
#include "serve/served_model.hpp"

namespace tabula::serve {

/// A ModelInferRequest read against one model version.
struct GrpcInferRequest {
  InferenceRequest request;
  bool raw = false;   // the inputs came as raw_input_contents: answer with raw_output_contents
  int id_input = -1;  // index of the input that is the model's id column (echoed back), or -1
};

/// Decodes and checks `message` for `model`: each input's name, datatype and shape (rank 1 or
/// 2, dimensions <= 2^30, product <= 2^40), its typed contents (only the field of its datatype,
/// as many elements as the shape holds, integers within the datatype's range) or its raw bytes
/// (one entry per input, exactly shape x element size; BYTES elements length-prefixed), then
/// the rows and outputs as assemble_request does. An empty BYTES element is a missing value, as
/// an empty cell is in a CSV file (gRPC has no null). HttpError 400 naming the field, 413 above
/// `max_rows`.
GrpcInferRequest parse_grpc_request(const inference::ModelInferRequest& message,
                                    const ServedModel& model, std::int64_t max_rows);

/// Fills `out` with the answer: typed contents, or raw_output_contents when the request sent raw
/// inputs (as Triton does). A missing cluster (a row no centre took) is -1 in INT64 contents.
void fill_grpc_response(const ServedModel& model, const inference::ModelInferRequest& message,
                        const GrpcInferRequest& request, const ScoredRows& result,
                        inference::ModelInferResponse& out);

void fill_grpc_metadata(const ModelEntry& entry, const ServedModel& model,
                        inference::ModelMetadataResponse& out);
void fill_grpc_statistics(const std::vector<StatisticsSnapshot>& versions,
                          inference::ModelStatisticsResponse& out);
void fill_grpc_index(const std::vector<ModelRepository::IndexRow>& rows,
                     inference::RepositoryIndexResponse& out);

/// The gRPC status for an HTTP status: 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 404 NOT_FOUND,
/// 409 FAILED_PRECONDITION, 413 RESOURCE_EXHAUSTED, 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED,
/// anything else INTERNAL.
grpc::Status to_grpc_status(int http_status, const std::string& message);

}  // namespace tabula::serve
