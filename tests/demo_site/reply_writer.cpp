// Framing and writing of one reply; see reply_writer.h for the rules.
#include "reply_writer.h"

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/status.hpp>
#include <cstdio>
#include <ctime>
#include <string>

namespace meadow::demo_site {

namespace net = boost::asio;
namespace http = boost::beast::http;

namespace {

bool body_allowed(int status) { return status >= 200 && status != 204 && status != 304; }

std::string status_line(int status) {
  const auto known = http::int_to_status(static_cast<unsigned>(status));
  std::string reason = known == http::status::unknown ? "Unknown" : std::string(http::obsolete_reason(known));
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
}

bool safe_header_value(const std::string& value) {
  return value.find_first_of("\r\n") == std::string::npos && value.find('\0') == std::string::npos;
}

// Everything up to and including the blank line. `framing` is a Content-Length or
// Transfer-Encoding line, or empty.
std::string head_block(const Reply& reply, const std::string& framing, const ReplyMode& mode) {
  std::string head = status_line(reply.status);
  head += "Server: meadow-demo-site\r\nDate: " + http_date() + "\r\n";
  if (!reply.content_type.empty()) head += "Content-Type: " + reply.content_type + "\r\n";
  head += framing;
  for (const auto& [name, value] : reply.headers) {
    if (safe_header_value(name) && safe_header_value(value)) head += name + ": " + value + "\r\n";
  }
  if (!mode.keep_alive) {
    head += "Connection: close\r\n";
  } else if (!mode.http11) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
  return head;
}

template <class Buffers>
bool write_buffers(WriteContext& context, const Buffers& buffers) {
  context.stream.set_timeout_ms(context.write_timeout_ms);
  boost::system::error_code ec;
  net::write(context.stream, buffers, ec);
  return !ec;
}

std::string chunk_size_line(std::size_t size) {
  char line[32];
  int n = std::snprintf(line, sizeof line, "%zx\r\n", size);
  return std::string(line, static_cast<std::size_t>(n));
}

// Streams the body of `source`. False when the client left or a write failed; `bytes_sent`
// says how far it got either way.
bool stream_body(WriteContext& context, BodySource& source, bool chunked, std::uint64_t& bytes_sent) {
  std::string piece;
  std::int64_t wait_ms = 0;
  while (source.next(piece, wait_ms)) {
    if (wait_ms > 0 && !context.stream.linger(wait_ms)) return false;
    if (piece.empty()) continue;
    bool ok = true;
    if (chunked) {
      const std::string size_line = chunk_size_line(piece.size());
      static const std::string kCrlf = "\r\n";
      ok = write_buffers(
          context, std::array<net::const_buffer, 3>{net::buffer(size_line), net::buffer(piece), net::buffer(kCrlf)});
    } else {
      ok = write_buffers(context, net::buffer(piece));
    }
    if (!ok) return false;
    bytes_sent += piece.size();
  }
  if (chunked) return write_buffers(context, net::buffer(std::string_view("0\r\n\r\n")));
  return true;
}

}  // namespace

std::string http_date() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[64];
  std::size_t n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(text, n);
}

bool write_reply(WriteContext& context, const Request& request, Reply reply, ReplyMode mode) {
  AccessEntry entry{context.arrived_ms, request.method, request.target, reply.status, 0, request.user_agent};
  auto log = [&] {
    if (context.access_log != nullptr) context.access_log->write(entry);
  };
  if (reply.delay_ms > 0 && !context.stream.linger(reply.delay_ms)) {
    log();
    return false;
  }
  const bool with_body = body_allowed(reply.status);

  if (reply.stream && with_body) {
    const auto length = reply.stream->length();
    std::string framing;
    bool chunked = false;
    if (length) {
      framing = "Content-Length: " + std::to_string(*length) + "\r\n";
    } else if (mode.http11) {
      framing = "Transfer-Encoding: chunked\r\n";
      chunked = true;
    } else {
      mode.keep_alive = false;
    }
    const std::string head = head_block(reply, framing, mode);
    if (!write_buffers(context, net::buffer(head))) {
      log();
      return false;
    }
    bool complete = true;
    if (!mode.head) complete = stream_body(context, *reply.stream, chunked, entry.bytes);
    log();
    return complete && mode.keep_alive;
  }

  const std::string& body = reply.shared_body ? *reply.shared_body : reply.body;
  std::string framing;
  if (with_body) framing = "Content-Length: " + std::to_string(body.size()) + "\r\n";
  const std::string head = head_block(reply, framing, mode);
  const bool send_body = with_body && !mode.head;
  entry.bytes = send_body ? body.size() : 0;
  log();
  const bool ok = send_body
                      ? write_buffers(context, std::array<net::const_buffer, 2>{net::buffer(head), net::buffer(body)})
                      : write_buffers(context, net::buffer(head));
  return ok && mode.keep_alive;
}

}  // namespace meadow::demo_site
