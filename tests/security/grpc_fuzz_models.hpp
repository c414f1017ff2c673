// What the gRPC fuzz target (tests/fuzz/grpc_fuzzer.cpp) and the test that replays its corpus
// (tests/security/grpc_corpus_test.cpp) share: a few zoo models served under short names, and
// ModelInfer's work on one message (grpc_server.cpp) without the micro-batcher's queue: the
// model by name, parse_grpc_request, scoring, fill_grpc_response, and the status the service's
// exception mapping gives.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "security/model_zoo.hpp"
#include "serve/grpc_protocol.hpp"
#include "serve/http_error.hpp"
#include "serve/metrics.hpp"
#include "serve/served_model.hpp"
#include "tabula/core/error.hpp"

namespace tabula::testing {

/// The models a request names: "forest" (a classifier with every transformer, whose id column
/// "row_id" is echoed back), "linear" (a regressor), "pca" (a transform), "kmeans" (a
/// clustering: INT64 predictions) and "gbdt" (a classifier with category-set splits).
class GrpcFuzzModels {
 public:
  GrpcFuzzModels() {
    const auto dir =
        std::filesystem::temp_directory_path() / ("tabula-grpc-fuzz-" + std::to_string(::getpid()));
    struct Pick {
      const char* name;  // the request's model_name
      const char* kind;
      Task task;
      bool rich;  // zoo_rich_spec(), else the kind's default pipeline
    };
    const Pick picks[] = {{"forest", "forest", Task::kClassification, true},
                          {"linear", "linear", Task::kRegression, false},
                          {"pca", "pca", Task::kTransform, true},
                          {"kmeans", "kmeans", Task::kClustering, false},
                          {"gbdt", "gbdt", Task::kClassification, false}};
    Backend& cpu = DeviceRegistry::instance().backend(Device::cpu());
    std::filesystem::create_directories(dir);
    for (const Pick& pick : picks) {
      const std::string path = (dir / (std::string(pick.name) + ".tabula")).string();
      write_zoo_model(path, pick.kind, pick.task, pick.rich);
      LoadedModel model = load_model(path);
      if (pick.name == std::string("forest")) model.schema.id_column = "row_id";
      served_.push_back(std::make_unique<serve::ServedModel>(
          pick.name, "1", std::move(model), serve::BatchingConfig{}, cpu, metrics_));
    }
    std::filesystem::remove_all(dir);
  }

  const serve::ServedModel* find(const std::string& name) const {
    for (const auto& m : served_)
      if (m->name() == name) return m.get();
    return nullptr;
  }

 private:
  serve::Metrics metrics_;
  std::vector<std::unique_ptr<serve::ServedModel>> served_;
};

/// ModelInfer on `message`: the answer in `out` and OK, or the status the service would send
/// for a refusal (an HttpError's, INVALID_ARGUMENT for an InputError). Any other exception
/// escapes: the service would answer INTERNAL, which is a bug for any request.
inline grpc::Status grpc_infer(const GrpcFuzzModels& models,
                               const inference::ModelInferRequest& message,
                               inference::ModelInferResponse& out, std::int64_t max_rows = 1000) {
  try {
    if (message.model_name().empty()) throw serve::HttpError(400, "missing \"model_name\"");
    const serve::ServedModel* model = models.find(message.model_name());
    if (model == nullptr)
      throw serve::HttpError(404, "unknown model '" + message.model_name() + "'");
    const serve::GrpcInferRequest request = serve::parse_grpc_request(message, *model, max_rows);
    const serve::RequestTable* tables[] = {request.request.table.get()};
    const std::vector<serve::ScoredRows> scored = model->score(tables);
    if (scored.front().status != 200)
      throw serve::HttpError(scored.front().status, scored.front().error);
    serve::fill_grpc_response(*model, message, request, scored.front(), out);
    return grpc::Status::OK;
  } catch (const serve::HttpError& e) {
    return serve::to_grpc_status(e.status(), e.what());
  } catch (const InputError& e) {
    return {grpc::StatusCode::INVALID_ARGUMENT, e.what()};
  }
}

/// Moves every input's typed contents into raw_input_contents, laid out as its datatype says
/// (BYTES elements length-prefixed), as Triton's clients send them. Fields other than FP64,
/// FP32, INT64, INT32 and BYTES are dropped.
inline void move_to_raw_contents(inference::ModelInferRequest& r) {
  r.clear_raw_input_contents();
  for (auto& input : *r.mutable_inputs()) {
    std::string bytes;
    const auto append = [&](const void* p, std::size_t n) {
      bytes.append(static_cast<const char*>(p), n);
    };
    const auto& c = input.contents();
    for (const std::string& s : c.bytes_contents()) {
      const auto n = static_cast<std::uint32_t>(s.size());
      append(&n, 4);
      bytes.append(s);
    }
    for (const double v : c.fp64_contents()) append(&v, 8);
    for (const float v : c.fp32_contents()) append(&v, 4);
    for (const std::int64_t v : c.int64_contents()) append(&v, 8);
    for (const std::int32_t v : c.int_contents()) append(&v, 4);
    input.clear_contents();
    *r.add_raw_input_contents() = bytes;
  }
}

/// The statuses a request may be refused with: the client's fault, never the server's.
inline bool is_client_error(grpc::StatusCode code) {
  return code == grpc::StatusCode::INVALID_ARGUMENT || code == grpc::StatusCode::NOT_FOUND ||
         code == grpc::StatusCode::RESOURCE_EXHAUSTED ||
         code == grpc::StatusCode::FAILED_PRECONDITION;
}

}  // namespace tabula::testing
