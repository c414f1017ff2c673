// The HTTP/1.1 transport of `tabula serve`: Boost.Beast on asio event loops, one per thread
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
#include "serve/serve_options.hpp"

namespace tabula::serve {

/// Runs on the thread of the connection's event loop; it may block for as long as scoring
/// takes (the micro-batcher): connections are spread over the loops by their count, so a
/// blocked loop delays only the few connections it holds, and none while there are at most
/// as many busy connections as loops.
/// An exception it lets through becomes a bare 500 (its text is logged, not sent).
using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

class HttpTransport {
 public:
  /// Binds `host`:`port` and prepares `threads` event loops; Error when the address cannot be
  /// bound.
  HttpTransport(const std::string& host, int port, const HttpLimits& limits, int threads,
                HttpHandler handler);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  /// Serves (one thread per event loop, the calling one accepting) until stop() has been
  /// called and every connection has closed.
  void run();
  /// From any thread: stops accepting, closes idle connections, lets requests in flight (and
  /// requests being received) finish with `Connection: close`.
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tabula::serve
