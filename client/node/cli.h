// meadow-node's commands. Exit codes: 0 success, 1 a negative answer (robots: disallowed;
// status: the daemon is not running), 2 an error (bad arguments, unreadable files, refusals).
#pragma once

#include <string>
#include <vector>

namespace meadow::node {

int main(int argc, char** argv);

// The parsed command line: flags (--name value or --name) and the remaining arguments.
class Args {
 public:
  Args(std::vector<std::string> argv, std::vector<std::string> value_flags, std::vector<std::string> bool_flags);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool has(const std::string& flag) const;
  std::string get(const std::string& flag, const std::string& fallback = {}) const;
  std::vector<std::string> all(const std::string& flag) const;  // a flag given several times
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::vector<std::pair<std::string, std::string>> flags_;
  std::vector<std::string> positional_;
  std::string error_;
};

int cmd_run(const std::vector<std::string>& argv);
int cmd_status(const std::vector<std::string>& argv);
int cmd_pause(const std::vector<std::string>& argv);
int cmd_resume(const std::vector<std::string>& argv);
int cmd_log(const std::vector<std::string>& argv);
int cmd_keygen(const std::vector<std::string>& argv);
int cmd_whoami(const std::vector<std::string>& argv);
int cmd_extract(const std::vector<std::string>& argv);
int cmd_robots(const std::vector<std::string>& argv);
int cmd_config(const std::vector<std::string>& argv);

}  // namespace meadow::node
