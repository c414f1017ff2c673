// GRPCInferenceService's methods over the shared inference path and repository.
#include "serve/grpc_server.hpp"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <functional>
#include <optional>
#include <string_view>

#include "serve/grpc_protocol.hpp"
#include "serve/grpc_service.grpc.pb.h"
#include "serve/http_error.hpp"
#include "tabula/core/error.hpp"
#include "tabula/version.hpp"

namespace tabula::serve {
namespace {

std::optional<std::string_view> metadata(const grpc::ServerContext& context,
                                         const std::string& key) {
  const auto& all = context.client_metadata();
  const auto it = all.find(key);
  if (it == all.end()) return std::nullopt;
  return std::string_view(it->second.data(), it->second.size());
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

class GrpcServer::Service final : public inference::GRPCInferenceService::Service {
 public:
  Service(const ServeOptions& options, InferencePath& path, ModelRepository& repository,
          const BearerToken& token)
      : options_(options),
        path_(path),
        repository_(repository),
        token_(token),
        sticky_key_(lowercase(options.sticky_header)) {}

  grpc::Status ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse* out) override {
    out->set_live(true);
    return grpc::Status::OK;
  }

  grpc::Status ServerReady(grpc::ServerContext*, const inference::ServerReadyRequest*,
                           inference::ServerReadyResponse* out) override {
    out->set_ready(repository_.ready());
    return grpc::Status::OK;
  }

  grpc::Status ModelReady(grpc::ServerContext* context, const inference::ModelReadyRequest* in,
                          inference::ModelReadyResponse* out) override {
    return guarded(*context, [&] {
      try {
        path_.entry(in->name())->choose(in->version(), std::nullopt, 0);
        out->set_ready(true);
      } catch (const HttpError&) {
        out->set_ready(false);  // unknown, unloaded, or still loading
      }
    });
  }

  grpc::Status ServerMetadata(grpc::ServerContext* context, const inference::ServerMetadataRequest*,
                              inference::ServerMetadataResponse* out) override {
    return guarded(*context, [&] {
      out->set_name("tabula");
      out->set_version(std::string(kVersion));
      for (const std::string& e : server_extensions()) out->add_extensions(e);
    });
  }

  grpc::Status ModelMetadata(grpc::ServerContext* context,
                             const inference::ModelMetadataRequest* in,
                             inference::ModelMetadataResponse* out) override {
    return guarded(*context, [&] {
      const auto entry = path_.entry(in->name());
      fill_grpc_metadata(*entry, *entry->choose(in->version(), std::nullopt, 0), *out);
    });
  }

  grpc::Status ModelInfer(grpc::ServerContext* context, const inference::ModelInferRequest* in,
                          inference::ModelInferResponse* out) override {
    return guarded(*context, [&] {
      if (in->model_name().empty()) throw HttpError(400, "missing \"model_name\"");
      InferencePath::Target target{in->model_name(), in->model_version(), std::nullopt};
      if (!sticky_key_.empty()) target.sticky_key = metadata(*context, sticky_key_);
      GrpcInferRequest request;
      path_.infer(
          target,
          [&](const ServedModel& model) {
            request = parse_grpc_request(*in, model, options_.max_rows);
            return request.request.table;
          },
          [&](const ServedModel& model, const ScoredRows& rows) {
            fill_grpc_response(model, *in, request, rows, *out);
          });
    });
  }

  grpc::Status ModelStatistics(grpc::ServerContext* context,
                               const inference::ModelStatisticsRequest* in,
                               inference::ModelStatisticsResponse* out) override {
    return guarded(
        *context, [&] { fill_grpc_statistics(path_.statistics(in->name(), in->version()), *out); });
  }

  grpc::Status RepositoryIndex(grpc::ServerContext* context,
                               const inference::RepositoryIndexRequest* in,
                               inference::RepositoryIndexResponse* out) override {
    return guarded(*context, [&] { fill_grpc_index(repository_.index(in->ready()), *out); });
  }

  grpc::Status RepositoryModelLoad(grpc::ServerContext* context,
                                   const inference::RepositoryModelLoadRequest* in,
                                   inference::RepositoryModelLoadResponse*) override {
    return guarded(*context, [&] {
      // Triton's overrides (a config or files sent with the request) would change what the
      // repository's folder says; refused rather than ignored.
      if (!in->parameters().empty())
        throw HttpError(400,
                        "parameters: loading with a config or files sent along is not "
                        "supported (parameter '" +
                            in->parameters().begin()->first + "')");
      repository_.load(in->model_name());
    });
  }

  grpc::Status RepositoryModelUnload(grpc::ServerContext* context,
                                     const inference::RepositoryModelUnloadRequest* in,
                                     inference::RepositoryModelUnloadResponse*) override {
    // unload_dependents (Triton's ensembles) has nothing to act on: models here stand alone.
    return guarded(*context, [&] { repository_.unload(in->model_name()); });
  }

 private:
  /// Checks the token, runs `body`, and maps its exceptions to a status naming the cause.
  grpc::Status guarded(const grpc::ServerContext& context, const std::function<void()>& body) {
    if (!token_.accepts(metadata(context, "authorization").value_or("")))
      return {grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token"};
    try {
      body();
      return grpc::Status::OK;
    } catch (const HttpError& e) {
      return to_grpc_status(e.status(), e.what());
    } catch (const InputError& e) {
      return {grpc::StatusCode::INVALID_ARGUMENT, e.what()};
    } catch (const std::exception& e) {
      spdlog::error("serve: gRPC request failed: {}", e.what());
      return {grpc::StatusCode::INTERNAL, "internal server error"};
    }
  }

  const ServeOptions& options_;
  InferencePath& path_;
  ModelRepository& repository_;
  const BearerToken& token_;
  const std::string sticky_key_;  // gRPC metadata keys are lower case
};

GrpcServer::GrpcServer(const ServeOptions& options, InferencePath& path,
                       ModelRepository& repository, const BearerToken& token)
    : service_(std::make_unique<Service>(options, path, repository, token)),
      drain_ms_(options.request_timeout_ms) {
  grpc::ServerBuilder builder;
  const std::string address = options.host + ":" + std::to_string(options.grpc_port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<std::int64_t>(options.http.max_body_bytes, INT_MAX)));
  // A call waits for its micro-batch on a thread. gRPC's default keeps at most 2 idle threads
  // polling and ends the others when their call is done, so under concurrent load it made and
  // ended a thread per call; --workers idle threads stay instead, as REST keeps its loops.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, options.workers);
  grpc::ResourceQuota quota("tabula-grpc");
  quota.SetMaxThreads(options.http.max_connections);
  builder.SetResourceQuota(quota);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0)
    throw Error("serve: cannot listen for gRPC on " + address + " (port in use?)");
}

GrpcServer::~GrpcServer() { stop(); }

void GrpcServer::stop() {
  std::call_once(stopped_, [this] {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(drain_ms_));
    server_->Wait();
  });
}

}  // namespace tabula::serve
