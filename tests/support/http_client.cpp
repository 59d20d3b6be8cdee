#include "support/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <thread>

namespace meadow::testing {

namespace {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

Error client_error(std::string_view what, const beast::error_code& ec) {
  return make_error(ErrorKind::io, "http-client", std::string(what) + ": " + ec.message());
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}
}  // namespace

const std::string* TestHttpResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

// Blocking calls are asynchronous operations on a private io_context, run to completion;
// beast::tcp_stream's expiry bounds each of them.
struct TestHttpClient::Impl {
  std::uint16_t port;
  bool tls;
  std::chrono::milliseconds timeout;
  net::io_context ioc;
  std::optional<ssl::context> ssl_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  int connects = 0;

  bool open() const { return plain.has_value() || secure.has_value(); }
  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // Starts `op(stream, handler)` on the open stream and runs it to completion.
  template <class Op>
  beast::error_code run(Op&& op) {
    beast::error_code result;
    auto handler = [&result](beast::error_code ec, auto&&...) { result = ec; };
    if (secure) {
      op(*secure, handler);
    } else {
      op(*plain, handler);
    }
    ioc.restart();
    ioc.run();
    return result;
  }

  // Reads whatever arrives next into `buffer` (up to 4 KiB), within the stream's expiry.
  beast::error_code read_some() {
    return run([&](auto& s, auto h) {
      s.async_read_some(buffer.prepare(4096), [&, h](beast::error_code e, std::size_t n) {
        buffer.commit(n);
        h(e, n);
      });
    });
  }

  void close() {
    if (open()) {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      lowest().close();
    }
    secure.reset();
    plain.reset();
    buffer.clear();
    ioc.restart();
    ioc.run();  // let cancelled operations finish
  }

  Status connect() {
    close();
    if (tls) {
      secure.emplace(ioc, *ssl_ctx);
    } else {
      plain.emplace(ioc);
    }
    ++connects;
    tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
    lowest().expires_after(timeout);
    beast::error_code ec;
    lowest().async_connect(endpoint, [&ec](beast::error_code e) { ec = e; });
    ioc.restart();
    ioc.run();
    if (ec) {
      close();
      return client_error("connect", ec);
    }
    if (tls) {
      lowest().expires_after(timeout);
      ec = run([](auto& s, auto h) {
        // run() instantiates this for the plain stream too, which has no handshake.
        if constexpr (requires { s.async_handshake(ssl::stream_base::client, h); }) {
          s.async_handshake(ssl::stream_base::client, h);
        }
      });
      if (ec) {
        close();
        return client_error("tls handshake", ec);
      }
    }
    return ok_status();
  }

  Status ensure_connected() {
    if (open() && lowest().socket().is_open()) return ok_status();
    return connect();
  }
};

TestHttpClient::TestHttpClient(std::uint16_t port, bool tls, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->tls = tls;
  impl_->timeout = timeout;
  if (tls) {
    impl_->ssl_ctx.emplace(ssl::context::tls_client);
    impl_->ssl_ctx->set_verify_mode(ssl::verify_none);
  }
}

TestHttpClient::~TestHttpClient() { impl_->close(); }

Status TestHttpClient::connect() { return impl_->connect(); }

void TestHttpClient::close() { impl_->close(); }

bool TestHttpClient::connected() const { return impl_->open() && impl_->lowest().socket().is_open(); }

int TestHttpClient::connect_count() const { return impl_->connects; }

void TestHttpClient::set_timeout(std::chrono::milliseconds timeout) { impl_->timeout = timeout; }

Status TestHttpClient::write_raw(std::string_view bytes) {
  MEADOW_TRY(impl_->ensure_connected());
  impl_->lowest().expires_after(impl_->timeout);
  beast::error_code ec =
      impl_->run([bytes](auto& s, auto h) { net::async_write(s, net::buffer(bytes.data(), bytes.size()), h); });
  if (ec) return client_error("write", ec);
  return ok_status();
}

Result<TestHttpResponse> TestHttpClient::request(std::string_view method, std::string_view target,
                                                 std::string_view body, const TestHttpHeaders& headers) {
  MEADOW_TRY(impl_->ensure_connected());
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(impl_->port));
  req.set(bhttp::field::user_agent, "meadow-test-client");
  bool framed = false;
  for (const auto& [name, value] : headers) {
    std::string n = lower(name);
    if (n == "content-length" || n == "transfer-encoding") framed = true;
    if (n == "host" || n == "user-agent") {
      req.set(name, value);
    } else {
      req.insert(name, value);
    }
  }
  req.body() = std::string(body);
  if (!framed && (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")) {
    req.prepare_payload();
  }
  impl_->lowest().expires_after(impl_->timeout);
  beast::error_code ec = impl_->run([&req](auto& s, auto h) { bhttp::async_write(s, req, h); });
  if (ec) {
    impl_->close();
    return client_error("write request", ec);
  }
  return read_response(method == "HEAD");
}

Result<TestHttpResponse> TestHttpClient::read_response(bool head_request) {
  if (!impl_->open()) return make_error(ErrorKind::io, "http-client", "not connected");
  for (;;) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(boost::none);
    parser.header_limit(1024 * 1024);
    if (head_request) parser.skip(true);
    impl_->lowest().expires_after(impl_->timeout);
    beast::error_code ec = impl_->run([&](auto& s, auto h) { bhttp::async_read(s, impl_->buffer, parser, h); });
    if (ec) {
      impl_->close();
      return client_error("read response", ec);
    }
    auto& msg = parser.get();
    const int status = static_cast<int>(msg.result_int());
    if (status >= 100 && status < 200 && status != 101) continue;  // 100 Continue and friends
    TestHttpResponse out;
    out.status = status;
    out.keep_alive = msg.keep_alive();
    for (const auto& field : msg) {
      out.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(msg.body());
    if (!out.keep_alive) impl_->close();
    return out;
  }
}

std::string TestHttpClient::send_raw(std::string_view bytes) {
  if (!write_raw(bytes).ok()) return {};
  std::string received;
  impl_->lowest().expires_after(impl_->timeout);
  for (;;) {
    auto data = impl_->buffer.data();
    received.append(static_cast<const char*>(data.data()), data.size());
    impl_->buffer.consume(impl_->buffer.size());
    beast::error_code ec = impl_->read_some();
    if (ec) {
      auto rest = impl_->buffer.data();
      received.append(static_cast<const char*>(rest.data()), rest.size());
      break;
    }
  }
  impl_->close();
  return received;
}

bool TestHttpClient::wait_closed(std::chrono::milliseconds within) {
  if (!connected()) return true;
  impl_->lowest().expires_after(within);
  for (;;) {
    impl_->buffer.consume(impl_->buffer.size());
    beast::error_code ec = impl_->read_some();
    if (ec) {
      impl_->close();
      return ec != beast::error::timeout;
    }
  }
}

bool wait_ready(std::uint16_t port, std::chrono::milliseconds within, const std::string& path) {
  TestHttpClient c(port, false, std::chrono::milliseconds(500));
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = c.get(path);
    if (r.ok() && r->status == 200) return true;
    c.close();
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

}  // namespace meadow::testing
