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

struct ServeOptions {
  std::string model_repository;
  std::string host = "127.0.0.1";
  int port = 8000;
  int workers = 64;                        // threads that parse requests and wait for their scores
  int keep_alive_timeout_s = 5;            // a connection with no request begun closes after this
  double poll_interval_s = 2;              // 0: no polling
  std::int64_t max_body_bytes = 16 << 20;  // after chunking and decompression
  std::int64_t max_header_bytes = 16384;   // request line and headers
  int max_json_depth = 32;                 // nesting of arrays and objects in a JSON body
  int read_timeout_s = 10;                 // a request, from its first byte to its last
  int write_timeout_s = 10;                // a response
  int max_connections = 1024;              // open at once
  std::int64_t max_rows = 10000;           // per request
  std::int64_t request_timeout_ms = 10000;
  std::string auth_token_file;
  std::string sticky_header = "x-ab-key";
  BatchingConfig batching;
};

}  // namespace tabula::serve
