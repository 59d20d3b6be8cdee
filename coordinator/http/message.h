// The transport-neutral request and response that handlers see. The Beast server only
// reads, routes and writes; everything a handler needs is in Request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meadow::coordinator::http {

struct Header {
  std::string name;  // lower-case
  std::string value;
};

struct Request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // as sent: "/v1/jobs?limit=10"
  std::string path;     // percent-decoded path without the query: "/v1/jobs"
  std::string query;    // raw query without '?': "limit=10"
  std::vector<Header> headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1"

  // The first header with this lower-case name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
  // The value of query parameter `name` (percent-decoded), or nullptr when absent.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct Response;
struct Park;

// Work that parks woken together can share. Parks woken by one Server::notify_waiters call
// that point at the same ParkBatch are first handed to its prepare(), all at once and on
// the notifying thread, before any of them resumes: a handler can then do in one step
// (one database transaction, say) what each resume would otherwise do alone.
class ParkBatch {
 public:
  virtual ~ParkBatch() = default;
  virtual void prepare(const std::vector<Park*>& parks) = 0;
};

// A long-poll: the transport holds the connection for up to `wait_ms`, calling resume(false)
// each time it is woken by Server::notify_waiters, and resume(true) when the time is up or
// the server is shutting down. resume(true) must return a response that does not park again.
struct Park {
  virtual ~Park() = default;
  std::int64_t wait_ms = 0;
  std::function<Response(bool final)> resume;
  std::shared_ptr<ParkBatch> batch;  // optional
};

// A body streamed from an open file instead of Response::body: `length` bytes from `offset`.
// The transport sends it in chunks (HEAD sends only the header) and closes the descriptor.
struct FileBody {
  int fd = -1;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  FileBody() = default;
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;
  ~FileBody();
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<Header> headers;  // extra headers; names lower-case
  std::string body;
  std::string route;  // a low-cardinality label for metrics ("lease", "upload", "not_found")
  std::shared_ptr<Park> park;  // set to hold the connection open (long-poll)
  std::shared_ptr<FileBody> file;  // set to send a file's bytes as the body (`body` is ignored)

  void set_header(std::string name, std::string value);
};

using Handler = std::function<Response(const Request&)>;

}  // namespace meadow::coordinator::http
