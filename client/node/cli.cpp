#include "client/node/cli.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "client/node/common.h"

namespace meadow::node {

Args::Args(std::vector<std::string> argv, std::vector<std::string> value_flags, std::vector<std::string> bool_flags) {
  auto known = [](const std::vector<std::string>& v, const std::string& f) { return std::find(v.begin(), v.end(), f) != v.end(); };
  for (std::size_t i = 0; i < argv.size(); ++i) {
    std::string a = argv[i];
    if (a == "--") {
      positional_.insert(positional_.end(), argv.begin() + static_cast<std::ptrdiff_t>(i) + 1, argv.end());
      break;
    }
    if (a.size() > 2 && a.starts_with("--")) {
      std::string value;
      bool inline_value = false;
      if (auto eq = a.find('='); eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        inline_value = true;
      }
      if (known(bool_flags, a) && !inline_value) {
        flags_.emplace_back(a, "");
      } else if (known(value_flags, a)) {
        if (!inline_value) {
          if (i + 1 >= argv.size()) {
            error_ = a + " needs a value";
            return;
          }
          value = argv[++i];
        }
        flags_.emplace_back(a, value);
      } else {
        error_ = "unknown option " + a;
        return;
      }
    } else {
      positional_.push_back(a);
    }
  }
}

bool Args::has(const std::string& flag) const {
  return std::any_of(flags_.begin(), flags_.end(), [&](const auto& f) { return f.first == flag; });
}

std::string Args::get(const std::string& flag, const std::string& fallback) const {
  for (auto it = flags_.rbegin(); it != flags_.rend(); ++it)
    if (it->first == flag) return it->second;
  return fallback;
}

std::vector<std::string> Args::all(const std::string& flag) const {
  std::vector<std::string> out;
  for (const auto& f : flags_)
    if (f.first == flag) out.push_back(f.second);
  return out;
}

namespace {

constexpr const char* kUsage = R"(meadow-node: contribute web data to a Meadow network from this machine.

usage: meadow-node COMMAND [options]      (meadow-node COMMAND --help for each)

commands:
  run       work: take tasks from the coordinator, fetch, upload (the daemon)
  status    what the node is doing, and its totals
  pause     stop taking work (--for 1h, or until resume)
  resume    take work again
  log       every fetch this node made (--csv, --json)
  keygen    make the node key (first start does this too)
  whoami    this node's id, key, account and coordinator
  extract   print the record for one saved HTML page
  robots    check a URL against a robots.txt file
  config    list the config keys (config keys) or check a file (config check FILE)

exit codes: 0 success, 1 a negative answer (robots: disallowed; status: not running), 2 an error
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("meadow-node %s\n", client::kClientVersion);
    return 0;
  }
  const std::string cmd = args[0];
  args.erase(args.begin());
  if (cmd == "run") return cmd_run(args);
  if (cmd == "status") return cmd_status(args);
  if (cmd == "pause") return cmd_pause(args);
  if (cmd == "resume") return cmd_resume(args);
  if (cmd == "log") return cmd_log(args);
  if (cmd == "keygen") return cmd_keygen(args);
  if (cmd == "whoami") return cmd_whoami(args);
  if (cmd == "extract") return cmd_extract(args);
  if (cmd == "robots") return cmd_robots(args);
  if (cmd == "config") return cmd_config(args);
  std::fprintf(stderr, "meadow-node: unknown command '%s'; 'meadow-node --help' lists them\n", cmd.c_str());
  return 2;
}

}  // namespace meadow::node
