// Accepting connections and running one thread per connection: read a request with Beast,
// ask the handler, write the reply (see reply_writer.h), repeat while keep-alive holds.
#include "server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <chrono>
#include <exception>

#include "reply_writer.h"
#include "timed_stream.h"

namespace meadow::demo_site {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

// What every connection thread reads; constant while the server runs.
struct Shared {
  ServerOptions options;
  Handler handler;
  AccessLog* access_log = nullptr;
  int stop_fd = -1;
};

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The status a request that could not be parsed gets, or 0 to close without an answer.
int status_for_read_error(const boost::system::error_code& ec) {
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::header_limit) return 431;
  const auto& http_errors = http::make_error_code(http::error::end_of_stream).category();
  if (ec.category() == http_errors && ec != http::error::end_of_stream && ec != http::error::partial_message)
    return 400;
  return 0;
}

Reply call_handler(const Shared& shared, const Request& request) {
  try {
    return shared.handler(request);
  } catch (const std::exception& e) {
    Reply reply;
    reply.status = 500;
    reply.content_type = "text/plain; charset=utf-8";
    reply.body = std::string("internal error: ") + e.what() + "\n";
    return reply;
  }
}

void serve(const Shared& shared, tcp::socket& socket) {
  TimedStream stream(socket, shared.stop_fd);
  boost::beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(shared.options.max_header_bytes));
    parser.body_limit(shared.options.max_body_bytes);
    stream.set_timeout_ms(shared.options.idle_timeout_ms);
    boost::system::error_code ec;
    http::read(stream, buffer, parser, ec);
    const std::int64_t arrived_ms = unix_ms();
    if (ec) {
      if (int status = status_for_read_error(ec); status != 0) {
        Reply reply;
        reply.status = status;
        reply.content_type = "text/plain; charset=utf-8";
        reply.body = "the request could not be read: " + ec.message() + "\n";
        WriteContext context{stream, shared.access_log, shared.options.write_timeout_ms, arrived_ms};
        write_reply(context, Request{}, std::move(reply), {.http11 = true, .keep_alive = false, .head = false});
      }
      return;
    }
    const auto& message = parser.get();
    Request request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    if (auto it = message.find(http::field::user_agent); it != message.end())
      request.user_agent = std::string(it->value());

    ReplyMode mode;
    mode.http11 = message.version() >= 11;
    mode.keep_alive = message.keep_alive();
    mode.head = message.method() == http::verb::head;
    WriteContext context{stream, shared.access_log, shared.options.write_timeout_ms, arrived_ms};
    if (!write_reply(context, request, call_handler(shared, request), mode)) return;
  }
}

}  // namespace

struct Server::Impl {
  Shared shared;
  net::io_context io;
  tcp::acceptor acceptor{io};

  ~Impl() {
    if (shared.stop_fd >= 0) ::close(shared.stop_fd);
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options, Handler handler, AccessLog* access_log) {
  auto impl = std::make_unique<Impl>();
  impl->shared = Shared{options, std::move(handler), access_log, -1};
  impl->shared.stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->shared.stop_fd < 0)
    return make_error(ErrorKind::internal, "eventfd", "cannot create an eventfd for the demo site");

  const tcp::endpoint endpoint(net::ip::make_address_v4("127.0.0.1"), options.port);
  boost::system::error_code ec;
  auto& acceptor = impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) acceptor.non_blocking(true, ec);
  if (ec) {
    return make_error(ErrorKind::unavailable, "listen",
                      "cannot listen on 127.0.0.1:" + std::to_string(options.port) + ": " + ec.message() +
                          "; pick another --port, or --port 0 for a free one");
  }

  std::unique_ptr<Server> server(new Server(std::move(impl)));
  server->port_ = server->impl_->acceptor.local_endpoint(ec).port();
  server->accept_thread_ = std::thread([s = server.get()] { s->accept_loop(); });
  return server;
}

void Server::accept_loop() {
  auto& acceptor = impl_->acceptor;
  for (;;) {
    pollfd fds[2] = {{acceptor.native_handle(), POLLIN, 0}, {impl_->shared.stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;

    auto socket = std::make_unique<tcp::socket>(impl_->io);
    boost::system::error_code ec;
    acceptor.accept(*socket, ec);
    if (ec == net::error::would_block || ec == net::error::try_again) continue;
    if (ec) {
      // Out of descriptors, most likely: give connections a moment to end.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      if (connections_ >= impl_->shared.options.max_connections) continue;  // closes the socket
      ++connections_;
    }
    try {
      std::thread([this, socket = std::move(socket)]() mutable {
        serve(impl_->shared, *socket);
        boost::system::error_code ignored;
        socket->shutdown(tcp::socket::shutdown_both, ignored);
        socket.reset();
        connection_ended();
      }).detach();
    } catch (const std::system_error&) {
      connection_ended();
    }
  }
}

void Server::connection_ended() {
  std::lock_guard lock(mutex_);
  --connections_;
  all_ended_.notify_all();
}

void Server::stop() {
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    first = !stopped_;
    stopped_ = true;
  }
  if (first) {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(impl_->shared.stop_fd, &one, sizeof one);
    if (accept_thread_.joinable()) accept_thread_.join();
  }
  std::unique_lock lock(mutex_);
  all_ended_.wait(lock, [this] { return connections_ == 0; });
}

}  // namespace meadow::demo_site
