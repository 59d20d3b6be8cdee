// Debian's nginx on loopback, the peer benchmarks measure meadow's servers against, and the
// CPU pinning that keeps such a comparison fair (server on one CPU, client on another, the
// same CPUs for both peers).
//
//   auto nginx = Nginx::start(dir.file("nginx"), root, /*cpu=*/1, "/robots.txt");
//   if (!nginx.ok()) ... nginx.error().message says why, with nginx's own output
//   fetch http://127.0.0.1:(*nginx)->port()/FILE ...
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "support/process.h"

namespace meadow::testing {

// The CPUs this process may run on, in order; empty when they cannot be read.
std::vector<int> allowed_cpus();

// Pins the calling thread (not the process) to `cpu`; false when the kernel refused.
bool pin_calling_thread(int cpu);

// Pins every thread of the running process `pid` to `cpu` (threads it starts later inherit
// it); false when a thread could not be pinned.
bool pin_process(pid_t pid, int cpu);

// The executable `name` on PATH or in one of `also`; empty when there is none.
std::string find_program(const std::string& name, const std::vector<std::string>& also = {});

// `argv` prefixed with `taskset -c CPU`, so the child runs on that CPU; unchanged when `cpu`
// is negative or taskset is not installed (see can_pin_children()).
std::vector<std::string> pinned(std::vector<std::string> argv, int cpu);
bool can_pin_children();

// nginx serving the files under a directory on a free 127.0.0.1 port: no master process,
// one worker, sendfile and tcp_nopush on, no access log, keep-alive without a request limit.
// Its config, pid file, logs and temporary directories live in its own directory.
class Nginx {
 public:
  // The nginx binary (PATH, then /usr/sbin and the usual source-install places); empty when
  // nginx is not installed (apt install nginx).
  static std::string find();

  // Starts nginx with `root` as its document root, pinned to `cpu` when that is >= 0, and
  // waits up to 10 s for GET `ready_path` to answer 200. `dir` is created if missing. Fails
  // when nginx is not installed or did not become ready; the message then carries the end
  // of nginx's output and error log.
  static Result<std::unique_ptr<Nginx>> start(const std::string& dir, const std::string& root, int cpu,
                                              const std::string& ready_path);

  // Stops nginx: SIGTERM, then SIGKILL if it has not exited after 10 s.
  ~Nginx();
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return process_->pid(); }

 private:
  Nginx(std::unique_ptr<ChildProcess> process, std::uint16_t port) : process_(std::move(process)), port_(port) {}

  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

}  // namespace meadow::testing
