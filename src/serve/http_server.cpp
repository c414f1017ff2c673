// Routes, authentication, limits and graceful shutdown.
#include "serve/http_server.hpp"

#include <httplib.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "serve/http_error.hpp"
#include "serve/metrics.hpp"
#include "serve/mlflow_protocol.hpp"
#include "serve/model_repository.hpp"
#include "serve/v2_protocol.hpp"
#include "tabula/error.hpp"

namespace tabula::serve {
namespace {

constexpr const char* kJson = "application/json";

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

std::string error_body(const std::string& message) {
  return nlohmann::json{{"error", message}}.dump();
}

std::string read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError("--auth-token-file: cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front())))
    token.erase(token.begin());
  if (token.empty()) throw InputError("--auth-token-file: '" + path + "' is empty");
  return token;
}

/// httplib listens with a backlog of 5: a burst of new connections beyond that waits for a
/// SYN retransmit (about 1 s). Linux lets listen() be called again to raise it.
class HttpLibServer : public httplib::Server {
 public:
  void raise_backlog(int backlog) { ::listen(svr_sock_, backlog); }
};

class Server {
 public:
  Server(const ServeOptions& options, Backend& backend)
      : options_(options),
        repository_(options.model_repository, options.batching, backend, metrics_) {
    if (!options.auth_token_file.empty()) token_ = read_token(options.auth_token_file);
    configure();
  }

  void run() {
    if (!http_.bind_to_port(options_.host, options_.port))
      throw Error("serve: cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                  " (in use, or not an address of this machine)");
    http_.raise_backlog(SOMAXCONN);
    SignalPipe signals;
    std::thread watcher([&] {
      signals.wait();
      spdlog::info("serve: stopping: no new connections, finishing requests in flight");
      http_.stop();
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
    http_.listen_after_bind();  // returns once stopped and every worker has finished
    signals.wake();             // when listen ended for another reason
    watcher.join();
    loader.join();
    spdlog::info("serve: stopped");
  }

 private:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  void configure() {
    const int workers = std::max(1, options_.workers);
    // httplib takes ownership of the queue it is handed.
    http_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    http_.set_keep_alive_max_count(1u << 30);
    http_.set_keep_alive_timeout(options_.keep_alive_timeout_s);
    http_.set_tcp_nodelay(true);
    http_.set_payload_max_length(static_cast<std::size_t>(options_.max_body_bytes));
    http_.set_read_timeout(10, 0);
    http_.set_write_timeout(10, 0);

    http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (token_.empty() || req.path.rfind("/v2/health/", 0) == 0)
        return httplib::Server::HandlerResponse::Unhandled;
      if (req.get_header_value("Authorization") == "Bearer " + token_)
        return httplib::Server::HandlerResponse::Unhandled;
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_content(error_body("missing or wrong bearer token"), kJson);
      return httplib::Server::HandlerResponse::Handled;
    });
    http_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      std::string message = "HTTP " + std::to_string(res.status);
      if (res.status == 404) message = "no such endpoint: " + req.method + " " + req.path;
      if (res.status == 413) message = "request body too large";
      res.set_content(error_body(message), kJson);
    });
    http_.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr e) {
          res.status = 500;
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            res.set_content(error_body(ex.what()), kJson);
          } catch (...) {
            res.set_content(error_body("unknown failure"), kJson);
          }
        });

    http_.Get("/v2", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(v2_server_metadata().dump(), kJson);
    });
    http_.Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"live\":true}", kJson);
    });
    http_.Get("/v2/health/ready", [this](const httplib::Request&, httplib::Response& res) {
      const bool ready = repository_.ready();
      res.status = ready ? 200 : 503;
      res.set_content(ready ? "{\"ready\":true}" : "{\"ready\":false}", kJson);
    });
    http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_.render(), "text/plain; version=0.0.4");
    });

    const std::string model = R"(/v2/models/([^/]+))";
    const std::string versioned = R"(/v2/models/([^/]+)/versions/([^/]+))";
    for (const std::string& prefix : {model, versioned}) {
      http_.Get(prefix, guarded([this](const httplib::Request& req, httplib::Response& res) {
                  const auto entry = entry_of(req);
                  const auto served = entry->choose(version_of(req), std::nullopt, 0);
                  res.set_content(v2_model_metadata(*entry, *served).dump(), kJson);
                }));
      http_.Get(prefix + "/ready",
                guarded([this](const httplib::Request& req, httplib::Response& res) {
                  const auto entry = entry_of(req);
                  entry->choose(version_of(req), std::nullopt, 0);  // 404 when not loaded
                  res.set_content("{\"ready\":true}", kJson);
                }));
      http_.Post(prefix + "/infer",
                 [this](const httplib::Request& req, httplib::Response& res) { infer(req, res); });
    }
    http_.Post("/invocations", [this](const httplib::Request& req, httplib::Response& res) {
      invocations(req, res);
    });
    http_.Post(
        "/v2/repository/index", guarded([this](const httplib::Request&, httplib::Response& res) {
          nlohmann::json index = nlohmann::json::array();
          for (const auto& entry : repository_.models()) {
            for (const std::string& v : entry->order)
              index.push_back({{"name", entry->name}, {"version", v}, {"state", "READY"}});
            if (entry->order.empty()) {
              std::string why;
              for (const std::string& e : entry->errors) why += (why.empty() ? "" : "; ") + e;
              index.push_back({{"name", entry->name}, {"state", "UNAVAILABLE"}, {"reason", why}});
            }
          }
          res.set_content(index.dump(), kJson);
        }));
    http_.Post(R"(/v2/repository/models/([^/]+)/load)",
               guarded([this](const httplib::Request& req, httplib::Response& res) {
                 repository_.load(req.matches[1].str());
                 res.set_content("{}", kJson);
               }));
  }

  /// Runs `handler`, mapping exceptions to a status and {"error": ...}.
  static int run_guarded(const Handler& handler, const httplib::Request& req,
                         httplib::Response& res) {
    try {
      handler(req, res);
    } catch (const HttpError& e) {
      res.status = e.status();
      res.set_content(error_body(e.what()), kJson);
    } catch (const InputError& e) {
      res.status = 400;
      res.set_content(error_body(e.what()), kJson);
    } catch (const std::exception& e) {
      res.status = 500;
      res.set_content(error_body(e.what()), kJson);
    }
    return res.status == -1 ? 200 : res.status;
  }
  static Handler guarded(Handler handler) {
    return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
      run_guarded(handler, req, res);
    };
  }

  std::shared_ptr<const ModelEntry> entry_of(const httplib::Request& req) const {
    const std::string name = req.matches[1].str();
    auto entry = repository_.find(name);
    if (!entry) {
      if (!repository_.ready()) throw HttpError(503, "models are still loading");
      throw HttpError(404, "no model '" + name + "'");
    }
    return entry;
  }
  static std::string version_of(const httplib::Request& req) {
    return req.matches.size() > 2 ? req.matches[2].str() : std::string();
  }

  std::shared_ptr<ServedModel> choose(const ModelEntry& entry, const std::string& version,
                                      const httplib::Request& req) {
    std::optional<std::string_view> key;
    if (!options_.sticky_header.empty() && req.has_header(options_.sticky_header.c_str()))
      key = req.get_header_value(options_.sticky_header.c_str());
    return entry.choose(version, key, sequence_.fetch_add(1, std::memory_order_relaxed));
  }

  /// Waits for the batch that holds this request; HttpError 504 past the deadline.
  ScoredRows await(std::future<ScoredRows>& result, Clock::time_point deadline) const {
    if (result.wait_until(deadline) != std::future_status::ready)
      throw HttpError(504, "the request was not scored within " +
                               std::to_string(options_.request_timeout_ms) + " ms");
    ScoredRows rows = result.get();
    if (rows.status != 200) throw HttpError(rows.status, rows.error);
    return rows;
  }

  void infer(const httplib::Request& req, httplib::Response& res) {
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::milliseconds(options_.request_timeout_ms);
    std::string name, version;  // metric labels: only names of models that exist
    const int status = run_guarded(
        [&](const httplib::Request&, httplib::Response&) {
          const auto entry = entry_of(req);
          name = entry->name;
          const auto served = choose(*entry, version_of(req), req);
          version = served->version();
          res.set_header("x-model-version", version);
          std::optional<std::int64_t> header_length;
          if (req.has_header("Inference-Header-Content-Length")) {
            try {
              header_length = std::stoll(req.get_header_value("Inference-Header-Content-Length"));
            } catch (const std::exception&) {
              throw HttpError(400, "Inference-Header-Content-Length is not a number");
            }
          }
          const V2Request request =
              parse_v2_request(req.body, header_length, *served, options_.max_rows);
          auto pending = served->submit(request.table, deadline);
          const ScoredRows rows = await(pending, deadline);
          res.set_content(v2_response(*served, request, rows).dump(), kJson);
        },
        req, res);
    metrics_.observe_request(name, version, status,
                             std::chrono::duration<double>(Clock::now() - start).count());
  }

  void invocations(const httplib::Request& req, httplib::Response& res) {
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::milliseconds(options_.request_timeout_ms);
    std::string name, version;  // metric labels: only names of models that exist
    const int status = run_guarded(
        [&](const httplib::Request&, httplib::Response&) {
          std::string wanted = req.get_param_value("model");
          if (wanted.empty()) {
            const auto all = repository_.models();
            if (all.size() != 1)
              throw HttpError(400, "the repository serves " + std::to_string(all.size()) +
                                       " models: name one with /invocations?model=NAME");
            wanted = all.front()->name;
          }
          auto entry = repository_.find(wanted);
          if (!entry) throw HttpError(404, "no model '" + wanted + "'");
          name = entry->name;
          const auto served = choose(*entry, req.get_param_value("version"), req);
          version = served->version();
          res.set_header("x-model-version", version);
          auto table = parse_invocations(req.body, *served, options_.max_rows);
          auto pending = served->submit(std::move(table), deadline);
          const ScoredRows rows = await(pending, deadline);
          res.set_content(invocations_response(*served, rows).dump(), kJson);
        },
        req, res);
    metrics_.observe_request(name, version, status,
                             std::chrono::duration<double>(Clock::now() - start).count());
  }

  const ServeOptions options_;
  Metrics metrics_;
  ModelRepository repository_;
  std::string token_;
  std::atomic<std::uint64_t> sequence_{0};
  HttpLibServer http_;  // last: stops (and joins its workers) before the rest goes
};

}  // namespace

void run_server(const ServeOptions& options, Backend& backend) {
  Server server(options, backend);
  server.run();
}

}  // namespace tabula::serve
