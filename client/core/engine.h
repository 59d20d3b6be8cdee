// The engine every front end runs: registers with the coordinator, leases tasks, fetches
// them through the guarded fetcher, turns each page into a signed record in the outbox,
// uploads in batches and keeps the receipts, within the contributor's limits.
//
// Threads: run() drives everything on the calling thread (the HttpLoop's thread). stop(),
// pause(), resume() and status() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "client/core/settings.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/result.h"

namespace meadow::client {

// A snapshot for status lines, `meadow-node status` and the desktop dashboard.
struct EngineStatus {
  std::string state = "starting";  // starting, registering, working, waiting, limited, backing-off, stopping, stopped, failed
  std::string reason;              // why it is not working, in words
  std::string node_id;
  std::string account;
  std::string coordinator;
  std::int64_t queued = 0;         // leased, not started
  std::int64_t in_flight = 0;      // being fetched
  std::int64_t pending_upload = 0; // in the outbox
  std::int64_t fetched = 0;        // pages fetched since start
  std::int64_t accepted = 0;       // records the coordinator accepted, ever
  std::int64_t refused = 0;        // results it refused, ever
  std::int64_t bytes_today = 0;
  std::int64_t bytes_month = 0;
  std::int64_t paused_until_ms = 0;  // 0 not paused, -1 until resumed
  std::string last_error;
  std::int64_t updated_ms = 0;
  std::int64_t pid = 0;
};

std::string to_json(const EngineStatus& s);
Result<EngineStatus> parse_engine_status(std::string_view json);

class Engine {
 public:
  // Opens (or creates) the data folder, the node key (0600) and the node database.
  static Result<std::unique_ptr<Engine>> create(NodeSettings settings, const Clock& clock, Logger& log);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Works until stop(). Returns an error when the coordinator refuses this node for good
  // (banned, key registered to another account, protocol too new).
  Status run();

  // Stops leasing, hands back tasks not started, lets fetches in progress finish for a
  // short grace, uploads what it can and returns from run().
  void stop();
  // -1: until resume(); otherwise until that time (ms since the epoch).
  void pause(std::int64_t until_ms);
  void resume();

  EngineStatus status() const;
  const std::string& node_id() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meadow::client
