// Shared pieces for coordinator tests: a sandboxed temp directory, a node identity that
// signs requests the way meadow-node does, and builders for records and uploads.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "common/protocol.h"
#include "coordinator/http/message.h"
#include "support/http_client.h"

namespace meadow::testing {

// The bytes of a file; empty when it cannot be read.
std::string file_contents(const std::string& path);

// A fresh directory under $TMPDIR, removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class TestNode {
 public:
  TestNode();
  explicit TestNode(crypto::KeyPair key);

  const std::string& id() const { return id_; }
  const crypto::KeyPair& key() const { return key_; }

  // A request signed at `now_ms` with a fresh nonce, as protocol v1 wants.
  coordinator::http::Request request(const std::string& method, const std::string& path, std::string body,
                                     std::int64_t now_ms, const std::string& content_type = "application/json") const;
  coordinator::http::Request register_request(std::int64_t now_ms, const std::string& account = "alice") const;
  coordinator::http::Request lease_request(std::int64_t now_ms, int max_tasks, std::int64_t wait_ms = 0) const;
  coordinator::http::Request upload_request(std::int64_t now_ms, const std::vector<protocol::ResultLine>& lines) const;

  // A signed record for a leased task, with the fields the coordinator checks.
  boost::json::object record_for(const protocol::TaskLease& task, const std::string& text = "hello",
                                 const std::vector<std::string>& links = {}) const;
  // `text` is the record's page text; benchmarks pass a realistic size (a few KB).
  protocol::ResultLine ok_line(const protocol::TaskLease& task, const std::vector<std::string>& links = {},
                               const std::string& text = "hello") const;

 private:
  crypto::KeyPair key_;
  std::string id_;
};

// zstd-compressed NDJSON of the lines.
std::string upload_body(const std::vector<protocol::ResultLine>& lines);

// Sends a request built by TestNode over the client; closes the connection after a
// transport error so the next call reconnects.
Result<TestHttpResponse> send(TestHttpClient& c, const coordinator::http::Request& r);

}  // namespace meadow::testing
