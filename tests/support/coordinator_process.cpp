#include "support/coordinator_process.h"

#include <fstream>

#include "support/http_client.h"

namespace meadow::testing {

CoordinatorProcess::CoordinatorProcess(std::string dir, const std::string& extra_config)
    : dir_(std::move(dir)), port_(free_port()), config_(dir_ + "/coordinator.conf") {
  std::ofstream conf(config_);
  conf << "listen = 127.0.0.1:" << port_ << "\n"
       << "data_dir = " << dir_ << "/data\n"
       << "log_level = warn\n"
       << extra_config;
}

Status CoordinatorProcess::start() {
  process_.reset();
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{binary("coordinator/meadow-coordinator"), "serve", "--config", config_}, log_file());
  if (!wait_ready(port_)) {
    return make_error(ErrorKind::unavailable, "not-ready",
                      "the coordinator did not become ready; see " + log_file());
  }
  return {};
}

RunResult CoordinatorProcess::cli(std::vector<std::string> args, const std::string& stdin_text) const {
  args.insert(args.begin(), binary("coordinator/meadow-coordinator"));
  args.push_back("--config");
  args.push_back(config_);
  return run_command(args, std::chrono::seconds(120), stdin_text);
}

}  // namespace meadow::testing
