// The project's demo site (tests/demo_site, meadow-demo-site) in a child process on a free
// loopback port, with its access log, for tests and benchmarks that fetch real pages.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "support/process.h"

namespace meadow::testing {

struct AccessLogEntry {
  std::string method;
  std::string target;  // path and query as requested
  int status = 0;
  std::string user_agent;
};

class DemoSite {
 public:
  // `dir`: where the access log and the site's output go. `extra_args`: e.g. {"--robots", "503"}.
  DemoSite(std::string dir, std::vector<std::string> extra_args = {});

  // Starts the site and waits up to 10 s until it answers.
  Status start();
  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:PORT" + path
  std::string url(const std::string& path) const;
  std::vector<AccessLogEntry> access_log() const;
  // Requests whose target starts with `prefix`.
  std::size_t requests_to(const std::string& prefix) const;
  ChildProcess& process() { return *process_; }

 private:
  std::string dir_;
  std::vector<std::string> extra_args_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace meadow::testing
