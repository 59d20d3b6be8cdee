// The demo site's HTTP/1.1 server: Boost.Beast parsing over synchronous sockets, one thread
// per connection, keep-alive, HEAD, chunked or close-delimited streaming, and waits (a
// delayed status line, a slow body) that end the moment the client leaves.
//
// Threading: start() binds and starts an accept thread; each accepted connection gets its
// own thread, which calls the handler (so the handler must be thread-safe). A slow response
// holds only its own thread. stop() may be called from any thread once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "access_log.h"
#include "common/result.h"
#include "reply.h"

namespace meadow::demo_site {

struct ServerOptions {
  std::uint16_t port = 8481;               // on 127.0.0.1; 0 picks a free port, see Server::port()
  std::int64_t idle_timeout_ms = 30'000;   // to receive a whole request, from the end of the last one
  std::int64_t write_timeout_ms = 30'000;  // to send each piece of a response
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 64 * 1024;  // request bodies are read and ignored
  std::size_t max_connections = 512;       // further connections are closed at once
};

using Handler = std::function<Reply(const Request&)>;

class Server {
 public:
  // Binds 127.0.0.1:port and starts accepting. `access_log` may be null; it must outlive
  // the server.
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options, Handler handler, AccessLog* access_log);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  // Stops accepting, ends every connection (a response in progress is cut off) and returns
  // when all connection threads have finished. Idempotent.
  void stop();

 private:
  struct Impl;  // the listening socket and what connection threads share
  explicit Server(std::unique_ptr<Impl> impl);
  void accept_loop();
  void connection_ended();

  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  std::thread accept_thread_;

  std::mutex mutex_;  // guards connections_ and stopped_
  std::condition_variable all_ended_;
  std::size_t connections_ = 0;
  bool stopped_ = false;
};

}  // namespace meadow::demo_site
