// The demo site's access log: one JSON object per request, appended and written through at
// once, so a test can read the file while the site runs and see every request it served:
//   {"ts_ms":1763800000000,"method":"GET","target":"/x?y","status":200,"bytes":123,"user_agent":"..."}
// `ts_ms` is when the request arrived (Unix milliseconds); `bytes` counts body bytes sent.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"

namespace meadow::demo_site {

struct AccessEntry {
  std::int64_t ts_ms = 0;
  std::string method;
  std::string target;
  int status = 0;
  std::uint64_t bytes = 0;
  std::string user_agent;
};

// Thread-safe: each entry is one write(2) of one line to a file opened with O_APPEND.
class AccessLog {
 public:
  // Opens (creating when missing, mode 0644) `path` for appending.
  static Result<std::unique_ptr<AccessLog>> open(const std::string& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void write(const AccessEntry& entry);

 private:
  explicit AccessLog(int fd) : fd_(fd) {}

  std::mutex mutex_;  // keeps lines whole even if a write is split by the kernel
  int fd_;
};

}  // namespace meadow::demo_site
