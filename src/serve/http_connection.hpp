// One client connection of the HTTP transport, and the state its connections share. Internal
// to http_transport.cpp and http_connection.cpp (includes Boost).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "serve/http_transport.hpp"

namespace tabula::serve {

class Connection;

/// What every connection of one transport reads, and the registry of live connections (for
/// the connection limit and for shutdown).
struct TransportShared {
  TransportShared(const HttpLimits& l, HttpHandler h) : limits(l), handler(std::move(h)) {}

  boost::asio::io_context io;
  const HttpLimits limits;
  const HttpHandler handler;
  std::atomic<bool> stopping{false};

  std::size_t live_count() const;
  void add(const std::shared_ptr<Connection>& connection);
  void remove(const Connection* connection);
  /// Asks every live connection to close once it holds no request.
  void stop_all();

 private:
  mutable std::mutex mutex_;
  std::unordered_map<const Connection*, std::weak_ptr<Connection>> live_;
};

/// Starts serving an accepted socket (whose executor is a strand of `shared->io`).
void start_connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<TransportShared> shared);

}  // namespace tabula::serve
