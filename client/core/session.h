// The node's side of protocol v1: every request signed with the node key (RFC 9421 shape),
// answers checked for the protocol version and parsed strictly. Problem answers become
// Errors carrying the coordinator's code and message, with the HTTP status.
//
// Loop thread only; callbacks run on the loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <variant>
#include <string>
#include <vector>

#include "client/core/http_loop.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/protocol.h"
#include "common/result.h"

namespace meadow::client {

struct SessionSettings {
  std::string coordinator;     // base URL, e.g. "https://coordinator.example" or "http://127.0.0.1:8480"
  std::string account;         // the contributor account credited
  std::string node_name;       // a label for this machine
  std::string client;          // software and version, e.g. "meadow-node/0.1.0"
  std::int64_t timeout_ms = 30'000;  // beyond any long-poll wait
};

// An answer the coordinator refused, or a failure to reach it. `status` is the HTTP status
// (0 when none arrived).
struct CallError {
  int status = 0;
  Error error;
  // Worth trying again later (network trouble, 5xx, 429) rather than a refusal.
  bool transient() const { return status == 0 || status >= 500 || status == 429 || status == 408; }
};

template <class T>
using CallResult = std::variant<T, CallError>;

class Session {
 public:
  Session(HttpLoop& loop, const Clock& clock, const crypto::KeyPair& key, SessionSettings settings);

  const std::string& node_id() const { return node_id_; }
  const SessionSettings& settings() const { return settings_; }

  void register_node(std::function<void(CallResult<protocol::RegisterResponse>)> done);
  void lease(int max_tasks, std::int64_t wait_ms, std::function<void(CallResult<protocol::LeaseResponse>)> done);
  void extend(const std::vector<protocol::LeaseRef>& leases, std::int64_t extend_ms,
              std::function<void(CallResult<protocol::ExtendResponse>)> done);
  void release(const std::vector<protocol::LeaseRef>& leases,
               std::function<void(CallResult<protocol::ReleaseResponse>)> done);
  // `body`: zstd-compressed NDJSON result lines.
  void upload(std::string body, std::function<void(CallResult<protocol::UploadResponse>)> done);

 private:
  template <class T>
  void call(const std::string& path, std::string body, std::string content_type, bool zstd, std::int64_t extra_wait_ms,
            Result<T> (*parse)(std::string_view), std::function<void(CallResult<T>)> done);

  HttpLoop& loop_;
  const Clock& clock_;
  const crypto::KeyPair& key_;
  SessionSettings settings_;
  std::string node_id_;
};

}  // namespace meadow::client
