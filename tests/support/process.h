// Child processes for tests that run the real binaries: start, signal, wait, capture.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace meadow::testing {

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  std::string out;     // standard output
  std::string err;     // standard error
};

// Runs a command to completion (killed after `timeout`), capturing both streams.
RunResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                      const std::string& stdin_text = "");

// A background process whose output goes to `log_file`. Killed with SIGKILL when destroyed
// if still running.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_file);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits up to `timeout` for exit; returns the exit code, or -1 (signal or still running).
  int wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t free_port();

// The path of a built program (MEADOW_BINARY_DIR + relative path).
std::string binary(const std::string& relative);

// Figures benchmarks print, read from /proc: a process's resident memory and CPU time
// (user + system), this process's CPU time, and the whole machine's busy CPU time (to show
// when something else competed for the cores). -1 when unreadable.
double rss_mib(pid_t pid);
double cpu_seconds_of(pid_t pid);
double own_cpu_seconds();
double machine_cpu_seconds();

}  // namespace meadow::testing
