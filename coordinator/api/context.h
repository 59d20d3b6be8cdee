// What handlers depend on. Handlers are plain functions of (request, context) -> response:
// they know no sockets, so tests call them directly.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "coordinator/http/message.h"
#include "coordinator/metrics.h"
#include "coordinator/scheduler/scheduler.h"
#include "coordinator/store/store.h"

namespace meadow::coordinator::api {

struct ApiOptions {
  std::int64_t signature_window_s = 300;             // a signed request's created time may be this far off
  std::size_t max_json_body = 1024 * 1024;           // JSON requests
  std::size_t max_upload_body = 32 * 1024 * 1024;    // compressed upload bodies
  std::size_t max_upload_decompressed = 128 * 1024 * 1024;  // what an upload may expand to
  std::size_t max_upload_lines = 1024;               // results in one upload
  std::size_t max_record_bytes = 16 * 1024 * 1024;   // one record's canonical bytes
  std::int64_t max_long_poll_ms = 30'000;
};

// Remembers (node, nonce) pairs for twice the signature window so a replayed request is
// refused. Bounded: at capacity it refuses new requests rather than forgetting early.
// Thread-safe. (Per process: replicas behind a load balancer share it through the store
// when that store is PostgreSQL.)
class NonceCache {
 public:
  explicit NonceCache(std::size_t capacity = 2'000'000) : capacity_(capacity) {}
  // False when the pair was seen within its lifetime or the cache is full.
  bool remember(const std::string& node_id, const std::string& nonce, std::int64_t now_ms,
                std::int64_t lifetime_ms, bool& full);

 private:
  std::size_t capacity_;
  std::mutex mu_;  // guards seen_ and next_sweep_ms_
  std::unordered_map<std::string, std::int64_t> seen_;  // key -> expiry
  std::int64_t next_sweep_ms_ = 0;
};

// Per-key request budgets for the buyer API: a token bucket per key refilled at its
// rate_per_minute, holding a burst of a tenth of a minute's requests (at least 5).
// Per process, like the nonce cache. Thread-safe.
class RateLimiter {
 public:
  // True when a request by `key_id` fits now; else false with the whole seconds until one will.
  bool admit(const std::string& key_id, std::int64_t rate_per_minute, std::int64_t now_ms,
             std::int64_t& retry_after_s);

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t last_ms = 0;
  };
  std::mutex mu_;  // guards buckets_
  std::unordered_map<std::string, Bucket> buckets_;
};

// The ParkBatch of parked lease requests: leases for many woken nodes in one transaction.
std::shared_ptr<http::ParkBatch> make_lease_batch(Scheduler& scheduler);

struct Context {
  Store& store;
  Scheduler& scheduler;
  const Clock& clock;
  const crypto::KeyPair& key;  // the coordinator's signing key (receipts)
  Metrics& metrics;
  Logger& log;
  ApiOptions options;
  NonceCache nonces;
  std::function<void(std::size_t)> notify_work;  // wakes parked long-polls; may be empty
  std::atomic<bool> draining{false};             // shutting down: /readyz says so
  std::shared_ptr<http::ParkBatch> lease_batch;  // shared by every parked lease request
  RateLimiter rate_limiter;                      // buyer API keys
  std::string datasets_dir;                      // where dataset files live (see datasets::Assembler)
  std::function<void()> results_accepted;        // wakes dataset assembly; may be empty
  // Held from a buyer's quota check to the job's creation, so that submissions at the same
  // moment cannot both pass a check that only one of them fits. (One coordinator process
  // owns a SQLite store; a shared PostgreSQL store would need the check in its transaction.)
  std::mutex quota_mu;

  Context(Store& s, Scheduler& sch, const Clock& c, const crypto::KeyPair& k, Metrics& m, Logger& l,
          ApiOptions o = {})
      : store(s), scheduler(sch), clock(c), key(k), metrics(m), log(l), options(o),
        lease_batch(make_lease_batch(sch)) {}
};

// The whole API: routes a request to its handler. Never throws.
http::Response handle(const http::Request& request, Context& ctx);

// The body limit for a request, asked by the transport once the header is in.
std::size_t body_limit(const Context& ctx, std::string_view method, std::string_view path);

// Handlers, by area. Node handlers authenticate the node themselves (registration needs the
// body's key); admin handlers run after handle() has checked the admin key.
http::Response node_register(const http::Request& r, Context& ctx);
http::Response node_lease(const http::Request& r, Context& ctx);
http::Response node_extend(const http::Request& r, Context& ctx);
http::Response node_release(const http::Request& r, Context& ctx);
http::Response node_upload(const http::Request& r, Context& ctx);

http::Response admin_jobs_create(const http::Request& r, Context& ctx);
http::Response admin_jobs_list(const http::Request& r, Context& ctx);
http::Response admin_job_get(const http::Request& r, Context& ctx, std::int64_t job_id);
http::Response admin_job_state(const http::Request& r, Context& ctx, std::int64_t job_id, std::string_view action);
http::Response admin_job_dead(const http::Request& r, Context& ctx, std::int64_t job_id);
http::Response admin_queue(const http::Request& r, Context& ctx);
http::Response admin_nodes(const http::Request& r, Context& ctx);
http::Response admin_node_ban(const http::Request& r, Context& ctx, const std::string& node_id);
http::Response admin_customers(const http::Request& r, Context& ctx);
http::Response admin_customer_keys(const http::Request& r, Context& ctx, const std::string& customer);
http::Response admin_key_revoke(const http::Request& r, Context& ctx, const std::string& key_id);

// The buyer API (API key, or an admin key acting for the operator): jobs and datasets.
// Routes /v1/jobs... and /v1/datasets...; `parts` is the split path.
http::Response buyer_route(const http::Request& r, Context& ctx, const std::vector<std::string_view>& parts);

// Helpers shared by handlers.
http::Response json_response(int status, std::string body, std::string route);
// A positive decimal id of at most 18 digits, as paths carry job and dataset ids.
bool parse_id(std::string_view s, std::int64_t& out);
// 405 for a known path asked with a method it does not serve.
Error method_not_allowed(const http::Request& r);
// The credential of `Authorization: Bearer <credential>`; nullopt when the header is missing,
// names another scheme or carries nothing.
std::optional<std::string_view> bearer_credential(const http::Request& r);
Result<Node> authenticate_node(const http::Request& r, Context& ctx, const crypto::PublicKey* registering);
Status authenticate_admin(const http::Request& r, Context& ctx);
std::string hash_admin_key(std::string_view key);

}  // namespace meadow::coordinator::api
