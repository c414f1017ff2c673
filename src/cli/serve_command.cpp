// tabula serve: the real-time prediction server (docs/serving.md).
#include <memory>

#include "cli/command.hpp"
#include "serve/serve_options.hpp"
#include "tabula/core/device_registry.hpp"
#include "tabula/core/error.hpp"
#ifdef TABULA_WITH_SERVER
#include "serve/http_server.hpp"
#endif

namespace tabula::cli {

// long: one CLI11 option per flag of `tabula serve`, in the order `--help` prints them.
void add_serve_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<serve::ServeOptions>();
  CLI::App* sub = app.add_subcommand(
      "serve", "Serve a model repository over HTTP (Open Inference Protocol v2, /invocations)");
  sub->add_option("--model-repository", options->model_repository,
                  "Folder of <model>/<version>/*.tabula (+ optional <model>/config.toml)")
      ->required();
  sub->add_option("--host", options->host, "Address to bind")->capture_default_str();
  sub->add_option("--port", options->port, "TCP port")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  sub->add_option("--grpc-port", options->grpc_port,
                  "TCP port of the Open Inference Protocol over gRPC (0: no gRPC)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  sub->add_option("--workers", options->workers,
                  "Threads that parse requests and wait for their scores (connections are "
                  "asynchronous: idle ones hold no thread)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  sub->add_option("--keep-alive-timeout", options->http.idle_timeout_s,
                  "Seconds a connection may stay open with no request begun (new connections "
                  "included)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  sub->add_option("--poll-interval", options->poll_interval_s,
                  "Seconds between repository scans for hot reload (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--max-batch-rows", options->batching.max_batch_rows,
                  "Rows per micro-batch (default for every model)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30))
      ->capture_default_str();
  sub->add_option("--max-queue-delay-us", options->batching.max_queue_delay_us,
                  "Longest wait of a request for its batch, microseconds")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--max-queue-rows", options->batching.max_queue_rows,
                  "Rows waiting per model version beyond which requests get 503")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40))
      ->capture_default_str();
  sub->add_option("--drift-window", options->drift.window_rows,
                  "Rows in each model version's drift window (0: drift not watched)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40))
      ->capture_default_str();
  sub->add_option("--drift-threshold", options->drift.threshold,
                  "PSI above which a column has drifted (default for every model)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--drift-min-rows", options->drift.min_rows,
                  "Rows a drift window needs before it gives a verdict")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--max-body-bytes", options->http.max_body_bytes,
                  "Largest request body (413 above)")
      ->check(CLI::Range(std::int64_t{1024}, std::int64_t{1} << 34))
      ->capture_default_str();
  sub->add_option("--max-header-bytes", options->http.max_header_bytes,
                  "Largest request line plus headers (431 above)")
      ->check(CLI::Range(std::int64_t{1024}, std::int64_t{1} << 24))
      ->capture_default_str();
  sub->add_option("--max-json-depth", options->max_json_depth,
                  "Deepest nesting of arrays and objects in a JSON body (400 above)")
      ->check(CLI::Range(4, 10000))
      ->capture_default_str();
  sub->add_option("--read-timeout", options->http.read_timeout_s,
                  "Seconds a request may take to arrive, first byte to last (connection closed)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  sub->add_option("--write-timeout", options->http.write_timeout_s,
                  "Seconds a response may take to be sent (connection closed)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  sub->add_option("--max-connections", options->http.max_connections,
                  "Connections open at once; more are answered 503 and closed")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  sub->add_option("--max-rows", options->max_rows, "Most rows in one request (413 above)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30))
      ->capture_default_str();
  sub->add_option("--request-timeout-ms", options->request_timeout_ms,
                  "A request not scored by then gets 504")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40))
      ->capture_default_str();
  sub->add_option("--auth-token-file", options->auth_token_file,
                  "File holding a bearer token that every non-health request must send");
  sub->add_option("--sticky-header", options->sticky_header,
                  "Request header whose value pins a client to one A/B version")
      ->capture_default_str();
  commands.push_back({sub, [options] {
#ifdef TABULA_WITH_SERVER
                        serve::run_server(*options, default_backend());
#else
                        throw Error(
                            "this tabula was built without the HTTP server (Boost.Beast or zlib "
                            "was not found at configure time; install libboost-dev and "
                            "zlib1g-dev and rebuild)");
#endif
                      }});
}

}  // namespace tabula::cli
