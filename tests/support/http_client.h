// A small blocking HTTP/1.1 client for tests that talk to a server over loopback.
//
//   TestHttpClient client(server->port());
//   auto r = client.get("/v1/health");
//   ASSERT_TRUE(r.ok()) << r.error().message;
//   EXPECT_EQ(r->status, 200);
//
// One client is one connection at a time: it connects on first use, keeps the connection
// while the server keeps it alive, and reconnects on the next request after a close
// (connect_count() tells how many connections were opened). Every blocking call gives up
// after the client's timeout (5 s unless set), so a test never hangs on the network.
// TLS skips certificate verification, for the tests' self-signed certificates.
// Not thread-safe: use one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace meadow::testing {

// Header fields in the order given; names are sent as written.
using TestHttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct TestHttpResponse {
  int status = 0;
  TestHttpHeaders headers;  // names lower-case, in the order received
  std::string body;
  bool keep_alive = false;  // the server leaves the connection open after this response

  // The first value of the header with this lower-case name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

class TestHttpClient {
 public:
  explicit TestHttpClient(std::uint16_t port, bool tls = false,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~TestHttpClient();
  TestHttpClient(const TestHttpClient&) = delete;
  TestHttpClient& operator=(const TestHttpClient&) = delete;

  // Sends one request and reads its response (1xx interim responses are skipped). Adds
  // Host and User-Agent unless given, and Content-Length for a body unless the headers
  // already set Content-Length or Transfer-Encoding (then the body is framed as they say).
  Result<TestHttpResponse> request(std::string_view method, std::string_view target, std::string_view body = {},
                                   const TestHttpHeaders& headers = {});
  Result<TestHttpResponse> get(std::string_view target, const TestHttpHeaders& headers = {}) {
    return request("GET", target, {}, headers);
  }
  Result<TestHttpResponse> post(std::string_view target, std::string_view body, const TestHttpHeaders& headers = {}) {
    return request("POST", target, body, headers);
  }

  // Opens the connection now (the calls below connect when needed).
  Status connect();
  // Sends bytes exactly as given: for malformed or partial requests.
  Status write_raw(std::string_view bytes);
  // Reads one response from the connection (after write_raw, say).
  Result<TestHttpResponse> read_response(bool head_request = false);
  // write_raw, then everything the server sends until it closes or the timeout passes.
  std::string send_raw(std::string_view bytes);
  // Reads (and drops) until the server closes the connection: true when it does so
  // within `within`, false when the connection is still open then.
  bool wait_closed(std::chrono::milliseconds within);

  void close();
  bool connected() const;
  int connect_count() const;
  void set_timeout(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Polls GET /readyz on 127.0.0.1:port until it answers 200 or `within` passes.
bool wait_ready(std::uint16_t port, std::chrono::milliseconds within = std::chrono::seconds(10),
                const std::string& path = "/readyz");

}  // namespace meadow::testing
