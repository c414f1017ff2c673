// One client connection of the HTTP transport, and the state its connections share. Internal
// to http_transport.cpp and http_connection.cpp (includes Boost).
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "serve/http_transport.hpp"

namespace tabula::serve {

class Connection;

/// What every connection of one transport reads, and the registry of live connections: for
/// the connection limit, for spreading connections over the event loops, and for shutdown.
struct TransportShared {
  TransportShared(const HttpLimits& l, HttpHandler h, int loops)
      : limits(l), handler(std::move(h)), load_(static_cast<std::size_t>(loops), 0) {}

  const HttpLimits limits;
  const HttpHandler handler;
  std::atomic<bool> stopping{false};

  std::size_t live_count() const;
  /// The event loop with the fewest live connections.
  int least_loaded_loop() const;
  void add(const std::shared_ptr<Connection>& connection, int loop);
  void remove(const Connection* connection);
  /// Asks every live connection to close once it holds no request.
  void stop_all();

 private:
  mutable std::mutex mutex_;
  std::unordered_map<const Connection*, std::pair<std::weak_ptr<Connection>, int>> live_;
  std::vector<int> load_;  // live connections per event loop
};

/// Starts serving an accepted socket, which belongs to event loop `loop` (one thread).
void start_connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<TransportShared> shared,
                      int loop);

}  // namespace tabula::serve
