#include "client/node/common.h"

#include <sys/stat.h>

#include <cstdio>

namespace meadow::node {

const std::vector<std::string> kSettingFlags = {"--config", "--data-dir", "--coordinator", "--account", "--name", "--set"};
const std::vector<std::string> kSettingBoolFlags = {"--allow-loopback"};
const char* const kSettingsHelp =
    "settings (later ones win):\n"
    "  --config FILE       a file of 'key = value' lines ('meadow-node config keys' lists them)\n"
    "  --data-dir DIR      where node.key and node.db live (default meadow-node-data)\n"
    "  --coordinator URL   the coordinator, e.g. https://coordinator.example\n"
    "  --account NAME      the account your work is credited to\n"
    "  --name LABEL        a label for this machine\n"
    "  --set KEY=VALUE     any config key, e.g. --set max_concurrent=8\n"
    "  --allow-loopback    tests and demos only: let fetches reach 127.0.0.1\n";

Result<client::NodeSettings> settings_from(const Args& args) {
  client::NodeSettings s = client::default_node_settings();
  if (args.has("--config")) MEADOW_TRY(client::load_node_config(args.get("--config"), s));
  struct FlagKey {
    const char* flag;
    const char* key;
  };
  for (const FlagKey& fk : {FlagKey{"--data-dir", "data_dir"}, FlagKey{"--coordinator", "coordinator"},
                            FlagKey{"--account", "account"}, FlagKey{"--name", "node_name"}}) {
    if (args.has(fk.flag)) MEADOW_TRY(client::apply_node_setting(s, fk.key, args.get(fk.flag)));
  }
  for (const std::string& kv : args.all("--set")) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      return make_error(ErrorKind::invalid, "bad-config", "--set wants KEY=VALUE, not '" + kv + "'");
    }
    MEADOW_TRY(client::apply_node_setting(s, kv.substr(0, eq), kv.substr(eq + 1)));
  }
  if (args.has("--allow-loopback")) s.fetch.guard.allow_loopback = true;
  return s;
}

Result<std::unique_ptr<client::NodeStore>> open_store(const client::NodeSettings& s, bool create) {
  struct stat st {};
  if (!create && ::stat(s.database_path().c_str(), &st) != 0) {
    return make_error(ErrorKind::not_found, "no-node",
                      "no node database at " + s.database_path() + "; run 'meadow-node run' first (or pass --data-dir)");
  }
  if (create) MEADOW_TRY(client::make_data_dir(s.data_dir));
  return client::NodeStore::open(s.database_path());
}

std::optional<long long> parse_count(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoll(text);
}

int fail(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "meadow-node %s: %s\n", command.c_str(), message.c_str());
  return kExitError;
}

bool handle_help_or_error(const Args& args, const char* help, int& exit_code) {
  if (args.has("--help")) {
    std::fputs(help, stdout);
    exit_code = kExitOk;
    return true;
  }
  if (!args.ok()) {
    std::fprintf(stderr, "%s\n%s", args.error().c_str(), help);
    exit_code = kExitError;
    return true;
  }
  return false;
}

}  // namespace meadow::node
