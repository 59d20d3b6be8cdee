// The transport-neutral request and reply of the demo site. Routes turn a Request into a
// Reply and never touch a socket; the server reads, writes, waits and logs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meadow::demo_site {

struct Request {
  std::string method;      // "GET", "HEAD", ...
  std::string target;      // as sent: "/redirect/to?url=http%3A%2F%2Fx%2F"
  std::string user_agent;  // empty when the client sent none
};

// A body produced piece by piece, for bodies too big to hold or too slow to have at once.
// Used from one connection thread only.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // The total size when known in advance (sent as Content-Length); otherwise the server
  // uses chunked encoding (HTTP/1.1) or closes the connection at the end (HTTP/1.0).
  virtual std::optional<std::uint64_t> length() const = 0;
  // Fills `piece` with the next bytes and `wait_ms` with how long the server waits before
  // sending them (it stops early when the client leaves). False when the body is complete.
  virtual bool next(std::string& piece, std::int64_t& wait_ms) = 0;
};

struct Reply {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  // Headers besides Server, Date, Content-Type, Content-Length, Transfer-Encoding and
  // Connection, which the server writes itself.
  std::vector<std::pair<std::string, std::string>> headers;
  // The body is the first of these that is set: `stream`, `shared_body`, then `body`.
  std::string body;
  std::shared_ptr<const std::string> shared_body;  // large constant bodies, not copied
  std::unique_ptr<BodySource> stream;
  // How long to wait before sending the status line at all.
  std::int64_t delay_ms = 0;
};

}  // namespace meadow::demo_site
