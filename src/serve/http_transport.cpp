// Accepting connections (with the connection limit), the event-loop threads, and shutdown.
#include "serve/http_transport.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "serve/http_connection.hpp"
#include "tabula/core/error.hpp"

namespace tabula::serve {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 39\r\n"
    "Connection: close\r\n\r\n{\"error\":\"too many connections; retry\"}";

/// Each connection is a file descriptor: raise the soft limit towards the hard one when the
/// connection limit needs it, and say so when it cannot.
void ensure_descriptors(int max_connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = static_cast<rlim_t>(max_connections) + 256;  // + files, models, pipes
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted)
    spdlog::warn(
        "serve: the open-file limit ({}) is below --max-connections + 256; connections "
        "beyond it are refused by the kernel, not answered 503",
        limit.rlim_cur);
}

}  // namespace

struct HttpTransport::State {
  State(const HttpLimits& limits, HttpHandler handler, int loops)
      : shared(std::make_shared<TransportShared>(limits, std::move(handler), loops)),
        acceptor(accept_loop),
        retry(accept_loop) {
    for (int i = 0; i < loops; ++i) {
      // One thread per loop: no locking inside asio, no hand-over between threads.
      this->loops.push_back(std::make_unique<net::io_context>(1));
      guards.push_back(net::make_work_guard(*this->loops.back()));
    }
  }

  void accept() {
    if (shared->stopping || !acceptor.is_open()) return;
    const int loop = shared->least_loaded_loop();
    acceptor.async_accept(
        loops[static_cast<std::size_t>(loop)]->get_executor(),
        [this, loop](boost::system::error_code ec, tcp::socket socket) {
          if (shared->stopping || !acceptor.is_open()) return;
          if (ec) {
            // Out of descriptors, typically: pause rather than spin.
            spdlog::warn("serve: accept failed: {}", ec.message());
            retry.expires_after(std::chrono::milliseconds(50));
            retry.async_wait([this](boost::system::error_code) { accept(); });
            return;
          }
          boost::system::error_code ignored;
          if (shared->live_count() >= static_cast<std::size_t>(shared->limits.max_connections)) {
            socket.non_blocking(true, ignored);
            socket.write_some(net::buffer(kBusy.data(), kBusy.size()), ignored);
            socket.shutdown(tcp::socket::shutdown_both, ignored);
          } else {
            socket.set_option(tcp::no_delay(true), ignored);
            start_connection(std::move(socket), shared, loop);
          }
          accept();
        });
  }

  std::shared_ptr<TransportShared> shared;
  net::io_context accept_loop{1};  // accepting only, on the thread that calls run()
  tcp::acceptor acceptor;
  net::steady_timer retry;
  std::vector<std::unique_ptr<net::io_context>> loops;  // connections, one thread each
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  std::mutex guards_mutex;
};

HttpTransport::HttpTransport(const std::string& host, int port, const HttpLimits& limits,
                             int threads, HttpHandler handler)
    : state_(std::make_unique<State>(limits, std::move(handler), std::max(1, threads))) {
  ensure_descriptors(limits.max_connections);
  const std::string where = host + ":" + std::to_string(port);
  boost::system::error_code ec;
  tcp::resolver resolver(state_->accept_loop);
  const auto found = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || found.empty()) throw Error("serve: cannot resolve --host '" + host + "'");
  const tcp::endpoint endpoint = found.begin()->endpoint();
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw Error("serve: cannot listen on " + where +
                " (in use, or not an address of this machine): " + ec.message());
}

HttpTransport::~HttpTransport() = default;

void HttpTransport::run() {
  std::vector<std::thread> pool;
  for (auto& loop : state_->loops) pool.emplace_back([&loop] { loop->run(); });
  net::post(state_->accept_loop, [this] { state_->accept(); });
  state_->accept_loop.run();  // until the acceptor is closed
  for (auto& t : pool) t.join();
}

void HttpTransport::stop() {
  state_->shared->stopping = true;
  net::post(state_->accept_loop, [this] {
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    state_->retry.cancel();
  });
  state_->shared->stop_all();
  std::lock_guard lock(state_->guards_mutex);
  for (auto& guard : state_->guards) guard.reset();  // each loop ends once its connections have
}

}  // namespace tabula::serve
