// A connection's life: wait (idle limit) for a request's first bytes, read its header and body
// (size limits, one deadline for the whole request), refuse ambiguous framing, undo chunking
// and Content-Encoding, hand the request to the handler, write the answer (deadline), repeat
// for pipelined and keep-alive requests. Any refusal is a 4xx with {"error": ...} and a close
// that first drains what the client is still sending, so it reads the answer, not a reset.
#include "serve/http_connection.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <string>
#include <vector>

#include "serve/content_decoding.hpp"
#include "serve/http_error.hpp"

namespace tabula::serve {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using beast::error_code;

constexpr std::size_t kReadChunk = 16384;
constexpr std::size_t kMaxDrainBytes = 8 << 20;  // read and dropped after a refusal, at most
constexpr int kDrainSeconds = 1;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// Beast 1.74 has its own string_view.
std::string_view std_view(beast::string_view v) { return {v.data(), v.size()}; }
bool iequals(beast::string_view a, std::string_view b) {
  return beast::iequals(a, beast::string_view(b.data(), b.size()));
}

/// Why the request's framing is ambiguous (a request-smuggling vector behind a proxy), if it is.
std::optional<std::string> framing_problem(const http::request<http::string_body>& msg) {
  int lengths = 0, encodings = 0, codings = 0;
  for (const auto& field : msg) {
    if (field.name() == http::field::content_length) ++lengths;
    if (field.name() == http::field::transfer_encoding) ++encodings;
    if (field.name() == http::field::content_encoding) ++codings;
  }
  if (lengths > 1) return "more than one Content-Length header";
  if (encodings > 0 && lengths > 0) return "both Content-Length and Transfer-Encoding";
  if (encodings > 1) return "more than one Transfer-Encoding header";
  if (encodings == 1 &&
      (msg.version() < 11 || !iequals(msg[http::field::transfer_encoding], "chunked")))
    return "Transfer-Encoding other than a single 'chunked' (HTTP/1.1)";
  if (codings > 1) return "more than one Content-Encoding header";
  return std::nullopt;
}

}  // namespace

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<TransportShared> shared, int loop)
      : loop_(loop),
        stream_(std::move(socket)),
        buffer_(static_cast<std::size_t>(shared->limits.max_header_bytes) + 2 * kReadChunk),
        shared_(std::move(shared)) {}
  ~Connection() { shared_->remove(this); }

  void start() {
    shared_->add(shared_from_this(), loop_);
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->await_request(); });
  }

  /// Shutdown, from any thread: an idle connection closes now, a busy one after its answer.
  void post_stop() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->close();
    });
  }

 private:
  void await_request() {
    busy_ = false;
    if (shared_->stopping) return close();
    if (buffer_.size() > 0) return read_header();  // pipelined: already received
    stream_.expires_after(std::chrono::seconds(shared_->limits.idle_timeout_s));
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    busy_ = true;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->limits.max_header_bytes));
    parser_->body_limit(static_cast<std::uint64_t>(shared_->limits.max_body_bytes));
    // One deadline from the first byte to the last: a client dripping a byte at a time is
    // cut off as surely as a silent one.
    stream_.expires_after(std::chrono::seconds(shared_->limits.read_timeout_s));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](error_code ec, std::size_t) {
                              if (ec) return self->on_read_error(ec);
                              self->on_header();
                            });
  }

  void on_header() {
    const auto& msg = parser_->get();
    if (auto problem = framing_problem(msg)) return refuse(400, "ambiguous request: " + *problem);
    const auto length = parser_->content_length();
    if (length && *length > static_cast<std::uint64_t>(shared_->limits.max_body_bytes))
      return refuse(413, "request body too large");
    const auto expect = msg[http::field::expect];
    if (expect.empty() || parser_->is_done()) return read_body();
    if (!iequals(expect, "100-continue")) return refuse(417, "unsupported Expect header");
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = shared_from_this()](error_code ec, std::size_t) {
                       if (ec) return self->close();
                       self->read_body();
                     });
  }

  void read_body() {
    if (parser_->is_done()) return on_request();
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t) {
                       if (ec) return self->on_read_error(ec);
                       self->on_request();
                     });
  }

  void on_read_error(error_code ec) {
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
      return refuse(431, "request header too large (limit " +
                             std::to_string(shared_->limits.max_header_bytes) + " bytes)");
    if (ec == http::error::body_limit) return refuse(413, "request body too large");
    // Timeouts, resets and a client that left mid-request: nobody to answer.
    if (ec.category() != http::make_error_code(http::error::bad_target).category() ||
        ec == http::error::end_of_stream || ec == http::error::partial_message)
      return close();
    refuse(400, "malformed HTTP request: " + ec.message());
  }

  void on_request() {
    auto& msg = parser_->get();
    HttpRequest request;
    request.method = std::string(msg.method_string());
    for (const auto& field : msg)
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    HttpResponse response;
    try {
      // The request is complete and well framed: a bad target or body is answered and the
      // connection kept.
      if (auto problem = parse_target(std_view(msg.target()), request))
        throw HttpError(400, *problem);
      request.body =
          decode_content(std::move(msg.body()), std_view(msg[http::field::content_encoding]),
                         shared_->limits.max_body_bytes);
      shared_->handler(request, response);
    } catch (const HttpError& e) {
      response.set(e.status(), error_body(e.what()));
    } catch (const std::exception& e) {
      spdlog::error("serve: {} {}: {}", request.method, request.path, e.what());
      response.set(500, error_body("internal server error"));
    } catch (...) {
      spdlog::error("serve: {} {}: unknown failure", request.method, request.path);
      response.set(500, error_body("internal server error"));
    }
    const bool keep_alive = msg.keep_alive() && !shared_->stopping;
    respond(std::move(response), msg.version(), keep_alive, msg.method() == http::verb::head);
  }

  void respond(HttpResponse&& answer, unsigned version, bool keep_alive, bool head = false) {
    response_ = {};
    response_.version(version);
    response_.result(static_cast<unsigned>(answer.status));
    response_.set(http::field::content_type, answer.content_type);
    for (auto& [name, value] : answer.headers) response_.insert(name, value);
    response_.body() = std::move(answer.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    if (head) {  // the length of what a GET would get, and no body (RFC 9110, 9.3.2)
      const auto length = response_.body().size();
      response_.body().clear();
      response_.content_length(length);
    }
    stream_.expires_after(std::chrono::seconds(shared_->limits.write_timeout_s));
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](error_code ec, std::size_t) {
                        if (ec) return self->close();
                        if (!keep_alive) return self->linger();
                        self->await_request();
                      });
  }

  void refuse(int status, const std::string& message) {
    HttpResponse answer;
    answer.set(status, error_body(message));
    respond(std::move(answer), 11, false);
  }

  /// Half-closes, then reads and drops what the client still sends (bounded in time and
  /// bytes) before closing, so the client sees the answer rather than a reset.
  void linger() {
    busy_ = false;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(kDrainSeconds));
    drain();
  }
  void drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxDrainBytes) return self->close();
                              self->drain();
                            });
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  const int loop_;
  beast::tcp_stream stream_;  // its executor is the connection's event loop: one thread
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<TransportShared> shared_;
  bool busy_ = false;  // between a request's first byte and the end of its answer
  std::size_t drained_ = 0;
};

std::size_t TransportShared::live_count() const {
  std::lock_guard lock(mutex_);
  return live_.size();
}

int TransportShared::least_loaded_loop() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(std::min_element(load_.begin(), load_.end()) - load_.begin());
}

void TransportShared::add(const std::shared_ptr<Connection>& connection, int loop) {
  std::lock_guard lock(mutex_);
  live_.emplace(connection.get(), std::make_pair(connection, loop));
  ++load_[static_cast<std::size_t>(loop)];
}

void TransportShared::remove(const Connection* connection) {
  std::lock_guard lock(mutex_);
  const auto it = live_.find(connection);
  if (it == live_.end()) return;
  --load_[static_cast<std::size_t>(it->second.second)];
  live_.erase(it);
}

void TransportShared::stop_all() {
  std::vector<std::shared_ptr<Connection>> connections;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, entry] : live_)
      if (auto c = entry.first.lock()) connections.push_back(std::move(c));
  }
  for (auto& c : connections) c->post_stop();
}

void start_connection(tcp::socket socket, std::shared_ptr<TransportShared> shared, int loop) {
  std::make_shared<Connection>(std::move(socket), std::move(shared), loop)->start();
}

}  // namespace tabula::serve
