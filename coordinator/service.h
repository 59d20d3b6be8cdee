// One running coordinator: store, signing key, scheduler, API and HTTP server wired together.
// Tests start it on port 0 in-process; main() starts it from a config file.
#pragma once

#include <memory>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "coordinator/api/context.h"
#include "coordinator/config.h"
#include "coordinator/http/server.h"
#include "coordinator/metrics.h"
#include "coordinator/scheduler/scheduler.h"
#include "coordinator/store/store.h"

namespace meadow::coordinator {

class Service {
 public:
  // Opens the database (migrating it), loads or makes the key, binds the listener.
  static Result<std::unique_ptr<Service>> start(const Config& config, const Clock& clock, Logger& log);
  ~Service();

  // Serves until shutdown(); returns when every connection is closed and the store flushed.
  void run();
  // Graceful: stop accepting, finish in-flight requests, answer long-polls. Thread-safe.
  void shutdown();

  std::uint16_t port() const;
  Store& store() { return *store_; }
  Scheduler& scheduler() { return *scheduler_; }
  api::Context& api() { return *api_; }
  const crypto::KeyPair& key() const { return key_; }
  http::Server& server() { return *server_; }
  datasets::Assembler& assembler() { return *assembler_; }

 private:
  Service(const Config& config, const Clock& clock, Logger& log, std::unique_ptr<Store> store, crypto::KeyPair key);
  void tick();

  Config config_;
  const Clock& clock_;
  Logger& log_;
  std::unique_ptr<Store> store_;
  crypto::KeyPair key_;
  Metrics metrics_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<api::Context> api_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<datasets::Assembler> assembler_;
};

// Creates data_dir if needed (mode 0700) and opens, migrating it, the config's database.
// The server and every CLI command open the store this way.
Result<std::unique_ptr<Store>> open_store(const Config& config);

// The command line: serve, admin-key, customer, job, dataset, config. Returns the process exit code.
int run_cli(int argc, char** argv);

}  // namespace meadow::coordinator
