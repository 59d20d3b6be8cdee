// One JSON line per request, appended with a single write(2).
#include "access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/json.h"

namespace meadow::demo_site {

Result<std::unique_ptr<AccessLog>> AccessLog::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error(
        ErrorKind::io, "access-log-open",
        "cannot open access log " + path + ": " + std::strerror(errno) + "; pass a writable file to --access-log");
  }
  return std::unique_ptr<AccessLog>(new AccessLog(fd));
}

AccessLog::~AccessLog() { ::close(fd_); }

void AccessLog::write(const AccessEntry& e) {
  std::string line = "{\"ts_ms\":" + std::to_string(e.ts_ms) + ",\"method\":" + json_quote(e.method) +
                     ",\"target\":" + json_quote(e.target) + ",\"status\":" + std::to_string(e.status) +
                     ",\"bytes\":" + std::to_string(e.bytes) + ",\"user_agent\":" + json_quote(e.user_agent) + "}\n";
  std::lock_guard lock(mutex_);
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk must not take the site down; the line is lost
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace meadow::demo_site
