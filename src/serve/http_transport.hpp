// The HTTP/1.1 transport of `tabula serve`: Boost.Beast on an asio event loop
// (docs/architecture.md, decision 17). Connections are asynchronous, so an idle or slow client
// holds a socket and a small buffer but no thread; a request reaches the handler only once it is
// complete and within every limit below. No Boost type appears here: only http_transport.cpp and
// http_connection.cpp include Boost.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "serve/http_message.hpp"

namespace tabula::serve {

/// What a client may cost the server (defaults and flags in serve_options.hpp, docs/security.md).
struct HttpLimits {
  std::int64_t max_header_bytes = 16384;   // request line and headers: 431 above
  std::int64_t max_body_bytes = 16 << 20;  // after chunking and decompression: 413 above
  int read_timeout_s = 10;                 // a request, from its first byte to its last
  int write_timeout_s = 10;                // a response
  int idle_timeout_s = 5;                  // no request begun: the connection closes
  int max_connections = 1024;              // open at once; more are answered 503 and closed
};

/// Runs on one of the transport's threads while that connection waits; it may block for as
/// long as scoring takes (the micro-batcher), other connections are served by other threads.
/// An exception it lets through becomes a bare 500 (its text is logged, not sent).
using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

class HttpTransport {
 public:
  /// Binds `host`:`port`; Error when the address cannot be bound.
  HttpTransport(const std::string& host, int port, const HttpLimits& limits, HttpHandler handler);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  /// Serves on `threads` threads (the calling one included) until stop() has been called and
  /// every connection has closed.
  void run(int threads);
  /// From any thread: stops accepting, closes idle connections, lets requests in flight (and
  /// requests being received) finish with `Connection: close`.
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tabula::serve
