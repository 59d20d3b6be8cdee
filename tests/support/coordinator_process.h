// The real meadow-coordinator binary in a child process, for tests and benchmarks that need
// a separate process (kill -9, RSS, CPU time): a config on a free loopback port, the CLI
// against the same config, start and readiness.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "support/process.h"

namespace meadow::testing {

class CoordinatorProcess {
 public:
  // Writes <dir>/coordinator.conf: listen on a free 127.0.0.1 port, data_dir <dir>/data,
  // log_level warn, then `extra_config` lines (which may override those).
  explicit CoordinatorProcess(std::string dir, const std::string& extra_config = "");

  // Starts `serve` (its output goes to log_file()) and waits up to 10 s for /readyz.
  Status start();
  // Runs `meadow-coordinator ARGS --config <config>` to completion.
  RunResult cli(std::vector<std::string> args, const std::string& stdin_text = "") const;

  ChildProcess& process() { return *process_; }
  std::uint16_t port() const { return port_; }
  const std::string& config() const { return config_; }
  std::string log_file() const { return dir_ + "/coordinator.log"; }
  std::string database() const { return dir_ + "/data/coordinator.db"; }

 private:
  std::string dir_;
  std::uint16_t port_;
  std::string config_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace meadow::testing
