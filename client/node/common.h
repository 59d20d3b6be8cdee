// Pieces every meadow-node command shares: the settings from --config and flags, opening
// the node database, and one way to report errors.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/core/node_store.h"
#include "client/core/settings.h"
#include "client/node/cli.h"

namespace meadow::node {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNo = 1;
inline constexpr int kExitError = 2;

// Flags that choose the settings, accepted by every command that reads them.
extern const std::vector<std::string> kSettingFlags;       // take a value
extern const std::vector<std::string> kSettingBoolFlags;   // --allow-loopback
extern const char* const kSettingsHelp;

// Defaults, then --config FILE, then --data-dir/--coordinator/--account/--name/--set k=v,
// then --allow-loopback.
Result<client::NodeSettings> settings_from(const Args& args);

// The node database of the settings' data folder; an error when there is none yet.
Result<std::unique_ptr<client::NodeStore>> open_store(const client::NodeSettings& s, bool create);

int fail(const std::string& command, const std::string& message);
// A whole non-negative decimal number, or nullopt.
std::optional<long long> parse_count(const std::string& text);
// Prints `help` and returns 0 when --help was given, or the parse error and 2.
bool handle_help_or_error(const Args& args, const char* help, int& exit_code);

}  // namespace meadow::node
