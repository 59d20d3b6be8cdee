// HTTP/1.1 server on Boost.Beast: keep-alive, read/write/idle timeouts, header and body
// size limits, optional TLS, long-poll parking, and graceful shutdown.
//
// Threading: run() drives the io_context on `threads` threads and returns after shutdown
// completes. The handler is called on those threads, possibly concurrently; it must be
// thread-safe. notify_waiters() and shutdown() may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/log.h"
#include "common/result.h"
#include "coordinator/http/message.h"

namespace meadow::coordinator::http {

struct ServerOptions {
  std::string bind_address = "127.0.0.1";  // IPv4 or IPv6 literal
  std::uint16_t port = 8080;                 // 0 picks a free port; see Server::port()
  int threads = 2;                           // io threads
  std::string tls_cert_file;                 // PEM chain; TLS is on when both files are set
  std::string tls_key_file;                  // PEM private key
  std::int64_t header_timeout_ms = 10'000;   // to receive a whole request header
  std::int64_t body_timeout_ms = 30'000;     // to receive a whole body
  std::int64_t write_timeout_ms = 30'000;    // to send a whole response
  std::int64_t idle_timeout_ms = 60'000;     // keep-alive: between requests on one connection
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;  // default for every route
  // Per-route body limit; when set, it is asked with the method and path after the header
  // arrives, and its answer replaces max_body_bytes for that request.
  std::function<std::size_t(std::string_view method, std::string_view path)> body_limit;
  std::size_t max_connections = 20'000;      // further connections are closed at once
  std::int64_t shutdown_grace_ms = 10'000;   // in-flight requests get this long to finish
};

// Called after each response is written: for metrics and access logs.
using Observer = std::function<void(const Request&, const Response&, double seconds)>;

class Server {
 public:
  // Binds and listens at once, so port() is known before run(). Errors (address in use,
  // unreadable certificate) come back as values.
  static Result<std::unique_ptr<Server>> start(ServerOptions options, Handler handler,
                                               Logger& log, Observer observer = nullptr);
  ~Server();

  std::uint16_t port() const noexcept;
  bool tls() const noexcept;

  // Runs the io threads until shutdown() has finished; returns then.
  void run();
  // Stops accepting, answers parked long-polls with resume(true), lets in-flight requests
  // finish (up to shutdown_grace_ms), then closes every connection. Idempotent.
  void shutdown();
  // Wakes up to `n` parked long-polls, oldest first (all when n is SIZE_MAX).
  void notify_waiters(std::size_t n);
  // Runs `fn` once, soon, on an io thread (not during shutdown's final steps).
  void post(std::function<void()> fn);
  // Runs `fn` every `period_ms` on an io thread until shutdown (lease reaper, metrics).
  void every(std::int64_t period_ms, std::function<void()> fn);

  std::size_t open_connections() const noexcept;
  std::size_t parked_requests() const noexcept;

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meadow::coordinator::http
