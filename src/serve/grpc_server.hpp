// The Open Inference Protocol over gRPC (`tabula serve --grpc-port N`): KServe v2's
// GRPCInferenceService with Triton's repository and statistics extensions, beside the REST
// server. Inference goes through the same InferencePath as REST (micro-batcher, traffic split,
// drift window, metrics, statistics); only the messages differ (grpc_protocol.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "serve/bearer_token.hpp"
#include "serve/inference_path.hpp"
#include "serve/model_repository.hpp"
#include "serve/serve_options.hpp"

namespace grpc {
class Server;
}

namespace tabula::serve {

class GrpcServer {
 public:
  /// Binds options.host:options.grpc_port and serves on gRPC's own threads until stop(). Calls
  /// handled at once are bounded by --max-connections (more get RESOURCE_EXHAUSTED), messages
  /// by --max-body-bytes. Everything passed must outlive the server. Error when the port cannot
  /// be bound.
  GrpcServer(const ServeOptions& options, InferencePath& path, ModelRepository& repository,
             const BearerToken& token);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  /// Stops taking calls and finishes those in flight (cancelled after --request-timeout-ms).
  /// Idempotent and thread-safe: a second caller waits for the first.
  void stop();
  /// The port bound (options.grpc_port).
  int port() const { return port_; }

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::int64_t drain_ms_ = 0;
  std::once_flag stopped_;
};

}  // namespace tabula::serve
