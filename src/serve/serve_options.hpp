// Settings of `tabula serve`: the command line's values, with the per-model batching defaults
// that a model's config.toml may override.
#pragma once

#include <cstdint>
#include <string>

namespace tabula::serve {

/// How one model version coalesces concurrent requests.
struct BatchingConfig {
  std::int64_t max_batch_rows = 256;      // a batch closes once it holds this many rows
  std::int64_t max_queue_delay_us = 500;  // the first request of a batch waits at most this
  std::int64_t max_queue_rows = 65536;    // rows waiting beyond this: new requests get 503
};

/// How a model version's drift is watched (docs/monitoring.md): the rows it scored over a
/// rolling window, against the training profile in its file.
struct DriftConfig {
  std::int64_t window_rows = 10000;  // the window's length in rows; 0: not watched
  double threshold = 0.2;            // PSI above which a column has drifted
  std::int64_t min_rows = 100;       // fewer rows in the window: no verdict
};

/// Deepest nesting of arrays and objects a JSON body may have (`--max-json-depth`); a valid
/// request needs 5 (object, "inputs", tensor, rows, values).
inline constexpr int kDefaultMaxJsonDepth = 32;

/// What one client may cost the HTTP transport (docs/security.md, "The server").
struct HttpLimits {
  std::int64_t max_header_bytes = 16384;   // request line and headers: 431 above
  std::int64_t max_body_bytes = 16 << 20;  // after chunking and decompression: 413 above
  int read_timeout_s = 10;                 // a request, from its first byte to its last
  int write_timeout_s = 10;                // a response
  int idle_timeout_s = 5;                  // no request begun (--keep-alive-timeout)
  int max_connections = 1024;              // open at once; more are answered 503 and closed
};

struct ServeOptions {
  std::string model_repository;
  std::string host = "127.0.0.1";
  int port = 8000;
  int grpc_port = 0;           // the Open Inference Protocol over gRPC; 0: off
  int workers = 64;            // threads that parse requests and wait for their scores
  double poll_interval_s = 2;  // 0: no polling
  HttpLimits http;
  int max_json_depth = kDefaultMaxJsonDepth;
  std::int64_t max_rows = 10000;  // per request
  std::int64_t request_timeout_ms = 10000;
  std::string auth_token_file;
  std::string sticky_header = "x-ab-key";
  BatchingConfig batching;
  DriftConfig drift;
};

}  // namespace tabula::serve
