#include "support/demo_site.h"

#include <fstream>
#include <thread>

#include "common/json.h"
#include "support/http_client.h"

namespace meadow::testing {

DemoSite::DemoSite(std::string dir, std::vector<std::string> extra_args)
    : dir_(std::move(dir)), extra_args_(std::move(extra_args)) {}

Status DemoSite::start() {
  port_ = free_port();
  std::vector<std::string> argv = {binary("tests/demo_site/meadow-demo-site"), "--port", std::to_string(port_),
                                   "--access-log", dir_ + "/access.log"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  process_ = std::make_unique<ChildProcess>(argv, dir_ + "/demo-site.out");
  if (!wait_ready(port_, std::chrono::seconds(10), "/articles/")) {
    return make_error(ErrorKind::unavailable, "demo-site", "the demo site did not start on port " + std::to_string(port_));
  }
  return {};
}

std::string DemoSite::url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

std::vector<AccessLogEntry> DemoSite::access_log() const {
  std::vector<AccessLogEntry> out;
  std::ifstream in(dir_ + "/access.log");
  std::string line;
  while (std::getline(in, line)) {
    auto o = parse_json_object(line, "access log line");
    if (!o.ok()) continue;
    JsonFields f(*o, "access log line");
    AccessLogEntry e{f.string_or("method", ""), f.string_or("target", ""),
                     static_cast<int>(f.integer_or("status", 0, 999, 0)), f.string_or("user_agent", "")};
    out.push_back(std::move(e));
  }
  return out;
}

std::size_t DemoSite::requests_to(const std::string& prefix) const {
  std::size_t n = 0;
  for (const auto& e : access_log())
    if (e.target.starts_with(prefix)) ++n;
  return n;
}

}  // namespace meadow::testing
