// Routes, authentication and graceful shutdown; the transport (limits, framing) is
// http_transport.cpp.
#include "serve/http_server.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <charconv>
#include <functional>
#include <memory>
#include <thread>

#include "serve/bearer_token.hpp"
#include "serve/http_error.hpp"
#include "serve/http_transport.hpp"
#include "serve/inference_path.hpp"
#include "serve/metrics.hpp"
#include "serve/mlflow_protocol.hpp"
#include "serve/model_repository.hpp"
#include "serve/v2_protocol.hpp"
#include "tabula/core/error.hpp"
#include "tabula/version.hpp"
#ifdef TABULA_WITH_GRPC
#include "serve/grpc_server.hpp"
#endif

namespace tabula::serve {
namespace {

// SIGTERM/SIGINT write one byte here; a watcher thread stops the server (a signal handler may
// do nothing more than that).
int g_signal_pipe[2] = {-1, -1};

void on_signal(int) {
  const char byte = 1;
  [[maybe_unused]] const auto written = ::write(g_signal_pipe[1], &byte, 1);
}

/// Installs the handlers for the server's lifetime and restores the old ones after.
class SignalPipe {
 public:
  SignalPipe() {
    if (::pipe(g_signal_pipe) != 0) throw Error("serve: cannot create the signal pipe");
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGTERM, &action, &old_term_);
    ::sigaction(SIGINT, &action, &old_int_);
  }
  ~SignalPipe() {
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::close(g_signal_pipe[0]);
    ::close(g_signal_pipe[1]);
  }
  /// Blocks until a signal arrives or `wake()` is called.
  void wait() const {
    char byte = 0;
    while (::read(g_signal_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    }
  }
  void wake() const { on_signal(0); }

 private:
  struct sigaction old_term_ {};
  struct sigaction old_int_ {};
};

using Captures = std::vector<std::string>;
using Handler = std::function<void(const HttpRequest&, const Captures&, HttpResponse&)>;

/// One endpoint: a method and path segments, "*" standing for any one segment (captured).
struct Route {
  std::string method;
  std::vector<std::string> pattern;
  Handler handler;

  bool matches(const HttpRequest& req, Captures& captures) const {
    if (req.method != method || req.segments.size() != pattern.size()) return false;
    captures.clear();
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      if (pattern[i] == "*")
        captures.push_back(req.segments[i]);
      else if (pattern[i] != req.segments[i])
        return false;
    }
    return true;
  }
};

class Server {
 public:
  Server(const ServeOptions& options, Backend& backend)
      : options_(options),
        repository_(options.model_repository, options.batching, backend, metrics_, options.drift),
        token_(options.auth_token_file),
        path_(repository_, metrics_, options_),
        transport_(options.host, options.port, options.http, options.workers,
                   [this](const HttpRequest& req, HttpResponse& res) { handle(req, res); }) {
    configure();
    if (options.grpc_port > 0) {
#ifdef TABULA_WITH_GRPC
      grpc_ = std::make_unique<GrpcServer>(options_, path_, repository_, token_);
#else
      throw InputError(
          "--grpc-port: this tabula was built without gRPC (configured with TABULA_GRPC=OFF, or "
          "libgrpc++-dev, protobuf-compiler-grpc, libprotobuf-dev and protobuf-compiler were not "
          "found: install them, scripts/setup.sh does, and rebuild)");
#endif
    }
  }

  void run() {
    SignalPipe signals;
    std::thread watcher([&] {
      signals.wait();
      spdlog::info("serve: stopping: no new connections, finishing requests in flight");
      transport_.stop();
      stop_grpc();
    });
    std::thread loader([&] {
      try {
        repository_.scan();
        spdlog::info("serve: ready, {} model(s)", repository_.models().size());
        repository_.start_polling(options_.poll_interval_s);
      } catch (const std::exception& e) {
        spdlog::error("serve: loading the repository failed: {}", e.what());
      }
    });
    spdlog::info("serve: listening on http://{}:{} ({} worker threads)", options_.host,
                 options_.port, options_.workers);
    if (options_.grpc_port > 0)
      spdlog::info("serve: listening for gRPC on {}:{}", options_.host, options_.grpc_port);
    transport_.run();  // returns once stopped and drained
    signals.wake();    // when run ended for another reason
    stop_grpc();
    watcher.join();
    loader.join();
    spdlog::info("serve: stopped");
  }

 private:
  void handle(const HttpRequest& req, HttpResponse& res) {
    const bool health =
        req.segments.size() >= 2 && req.segments[0] == "v2" && req.segments[1] == "health";
    if (!health && !token_.accepts(req.header("Authorization").value_or(""))) {
      res.set(401, error_body("missing or wrong bearer token"));
      res.headers.emplace_back("WWW-Authenticate", "Bearer");
      return;
    }
    Captures captures;
    for (const Route& route : routes_)
      if (route.matches(req, captures)) return route.handler(req, captures, res);
    res.set(404, error_body("no such endpoint: " + req.method + " " + req.path));
  }

  void add(std::string method, std::string path, Handler handler) {
    Route route{std::move(method), {}, std::move(handler)};
    for (std::size_t start = 1; start <= path.size();) {
      std::size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      route.pattern.push_back(path.substr(start, end - start));
      start = end + 1;
    }
    routes_.push_back(std::move(route));
  }

  void configure() {
    add("GET", "/v2", [](const HttpRequest&, const Captures&, HttpResponse& res) {
      res.set(200, v2_server_metadata().dump());
    });
    add("GET", "/v2/health/live", [](const HttpRequest&, const Captures&, HttpResponse& res) {
      res.set(200, "{\"live\":true}");
    });
    add("GET", "/v2/health/ready", [this](const HttpRequest&, const Captures&, HttpResponse& res) {
      const bool ready = repository_.ready();
      res.set(ready ? 200 : 503, ready ? "{\"ready\":true}" : "{\"ready\":false}");
    });
    add("GET", "/metrics", [this](const HttpRequest&, const Captures&, HttpResponse& res) {
      res.set(200, metrics_.render(), "text/plain; version=0.0.4");
    });
    // Before "/v2/models/*", which would take "stats" for a model's name.
    add("GET", "/v2/models/stats",
        guarded([this](const HttpRequest&, const Captures&, HttpResponse& res) {
          res.set(200, statistics_json(path_.statistics("", "")).dump());
        }));
    for (const std::string prefix : {"/v2/models/*", "/v2/models/*/versions/*"}) {
      add("GET", prefix + "/stats",
          guarded([this](const HttpRequest&, const Captures& c, HttpResponse& res) {
            res.set(200, statistics_json(path_.statistics(c[0], version_of(c))).dump());
          }));
      add("GET", prefix, guarded([this](const HttpRequest&, const Captures& c, HttpResponse& res) {
            const auto entry = entry_of(c);
            const auto served = entry->choose(version_of(c), std::nullopt, 0);
            res.set(200, v2_model_metadata(*entry, *served).dump());
          }));
      add("GET", prefix + "/ready",
          guarded([this](const HttpRequest&, const Captures& c, HttpResponse& res) {
            entry_of(c)->choose(version_of(c), std::nullopt, 0);  // 404 when not loaded
            res.set(200, "{\"ready\":true}");
          }));
      add("GET", prefix + "/drift",
          guarded([this](const HttpRequest&, const Captures& c, HttpResponse& res) {
            res.set(200, drift_json(*entry_of(c), version_of(c)).dump());
          }));
      add("POST", prefix + "/infer",
          [this](const HttpRequest& req, const Captures& c, HttpResponse& res) {
            infer(req, c, res);
          });
    }
    add("POST", "/invocations", [this](const HttpRequest& req, const Captures&, HttpResponse& res) {
      invocations(req, res);
    });
    // What `mlflow models serve` answers besides /invocations, so its clients and probes work.
    for (const char* path : {"/ping", "/health"})
      add("GET", path, [this](const HttpRequest&, const Captures&, HttpResponse& res) {
        const bool ready = repository_.ready();
        res.set(ready ? 200 : 503, "\n", "text/plain");
      });
    add("GET", "/version", [](const HttpRequest&, const Captures&, HttpResponse& res) {
      res.set(200, std::string(kVersion), "text/plain");
    });
    add("POST", "/v2/repository/index",
        guarded([this](const HttpRequest& req, const Captures&, HttpResponse& res) {
          res.set(200, repository_index(req).dump());
        }));
    add("POST", "/v2/repository/models/*/load",
        guarded([this](const HttpRequest&, const Captures& c, HttpResponse& res) {
          repository_.load(c[0]);
          res.set(200, "{}");
        }));
    add("POST", "/v2/repository/models/*/unload",
        guarded([this](const HttpRequest&, const Captures& c, HttpResponse& res) {
          repository_.unload(c[0]);
          res.set(200, "{}");
        }));
  }

  /// The drift report of one version, or {"name", "versions": [...]} of every loaded one.
  static nlohmann::json drift_json(const ModelEntry& entry, const std::string& version) {
    const auto report = [&](const ServedModel& served) {
      if (!served.drift())
        throw HttpError(409, "model '" + entry.name + "' version " + served.version() +
                                 " has no drift window: its file holds no training profile "
                                 "(retrain it with this tabula) or --drift-window is 0");
      return served.drift()->report();
    };
    if (!version.empty()) return report(*entry.choose(version, std::nullopt, 0));
    nlohmann::json versions = nlohmann::json::array();
    for (const std::string& v : entry.order) versions.push_back(report(*entry.versions.at(v)));
    return {{"name", entry.name}, {"versions", versions}};
  }

  /// Triton's index: [{"name", "version", "state", "reason"?}]; a body {"ready": true} keeps
  /// the versions that serve.
  nlohmann::json repository_index(const HttpRequest& req) const {
    bool ready_only = false;
    if (!req.body.empty()) {
      const nlohmann::json body = parse_request_json(req.body, options_.max_json_depth);
      if (!body.is_object()) throw HttpError(400, "the request body must be a JSON object");
      if (body.contains("ready")) {
        if (!body["ready"].is_boolean()) throw HttpError(400, "\"ready\" must be true or false");
        ready_only = body["ready"].get<bool>();
      }
    }
    nlohmann::json index = nlohmann::json::array();
    for (const ModelRepository::IndexRow& row : repository_.index(ready_only)) {
      nlohmann::json item = {{"name", row.name}, {"state", row.state}};
      if (!row.version.empty()) item["version"] = row.version;
      if (!row.reason.empty() || row.state != "READY") item["reason"] = row.reason;
      index.push_back(std::move(item));
    }
    return index;
  }

  /// Runs `handler`, mapping exceptions to a status and {"error": ...}; returns the status.
  static int run_guarded(const std::function<void()>& handler, HttpResponse& res) {
    try {
      handler();
    } catch (const HttpError& e) {
      res.set(e.status(), error_body(e.what()));
    } catch (const InputError& e) {
      res.set(400, error_body(e.what()));
    } catch (const std::exception& e) {
      spdlog::error("serve: request failed: {}", e.what());
      res.set(500, error_body("internal server error"));
    }
    return res.status;
  }
  static Handler guarded(Handler handler) {
    return [handler = std::move(handler)](const HttpRequest& req, const Captures& c,
                                          HttpResponse& res) {
      run_guarded([&] { handler(req, c, res); }, res);
    };
  }

  std::shared_ptr<const ModelEntry> entry_of(const Captures& captures) const {
    return path_.entry(captures.at(0));
  }
  static std::string version_of(const Captures& captures) {
    return captures.size() > 1 ? captures[1] : std::string();
  }

  std::optional<std::string_view> sticky_key(const HttpRequest& req) const {
    if (options_.sticky_header.empty()) return std::nullopt;
    return req.header(options_.sticky_header);
  }

  static std::optional<std::int64_t> binary_header_length(const HttpRequest& req) {
    const auto text = req.header("Inference-Header-Content-Length");
    if (!text) return std::nullopt;
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size())
      throw HttpError(400, "Inference-Header-Content-Length is not a number");
    return value;
  }

  void infer(const HttpRequest& req, const Captures& captures, HttpResponse& res) {
    run_guarded(
        [&] {
          V2Request request;
          path_.infer(
              {captures.at(0), version_of(captures), sticky_key(req)},
              [&](const ServedModel& served) {
                res.headers.emplace_back("x-model-version", served.version());
                request = parse_v2_request(req.body, binary_header_length(req), served,
                                           options_.max_rows, options_.max_json_depth);
                return request.table;
              },
              [&](const ServedModel& served, const ScoredRows& rows) {
                res.set(200, v2_response(served, request, rows).dump());
              });
        },
        res);
  }

  void invocations(const HttpRequest& req, HttpResponse& res) {
    run_guarded(
        [&] {
          std::string wanted = req.param("model");
          if (wanted.empty()) {
            const auto all = repository_.models();
            if (all.size() != 1)
              throw HttpError(400, "the repository serves " + std::to_string(all.size()) +
                                       " models: name one with /invocations?model=NAME");
            wanted = all.front()->name;
          }
          path_.infer(
              {wanted, req.param("version"), sticky_key(req)},
              [&](const ServedModel& served) {
                res.headers.emplace_back("x-model-version", served.version());
                return parse_invocations(req.body, served, options_.max_rows,
                                         options_.max_json_depth,
                                         req.header("content-type").value_or("application/json"));
              },
              [&](const ServedModel& served, const ScoredRows& rows) {
                res.set(200, invocations_response(served, rows).dump());
              });
        },
        res);
  }

  void stop_grpc() {
#ifdef TABULA_WITH_GRPC
    if (grpc_) grpc_->stop();
#endif
  }

  const ServeOptions options_;
  Metrics metrics_;
  ModelRepository repository_;
  const BearerToken token_;
  InferencePath path_;
  std::vector<Route> routes_;
#ifdef TABULA_WITH_GRPC
  std::unique_ptr<GrpcServer> grpc_;  // stopped by run(), after the REST transport
#endif
  HttpTransport transport_;  // last: its threads have ended before the rest goes
};

}  // namespace

void run_server(const ServeOptions& options, Backend& backend) {
  Server server(options, backend);
  server.run();
}

}  // namespace tabula::serve
