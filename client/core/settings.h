// meadow-node's settings (the desktop app keeps the same struct): one struct with documented
// defaults and one key table that loads, validates and documents it. The file is lines of
// `key = value` (common/config_file.h); `meadow-node config keys` lists every key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/core/fetcher.h"
#include "client/core/limits.h"
#include "common/log.h"
#include "common/result.h"

namespace meadow::client {

inline constexpr const char* kClientVersion = "0.1.0";

// The User-Agent every page request carries: it names Meadow and where a site owner can
// read what it is and how to keep it out (robots.txt token "meadow").
std::string default_user_agent();

struct NodeSettings {
  std::string coordinator;        // base URL of the coordinator; required
  std::string account;            // contributor account credited; required
  std::string node_name;          // label shown to the operator; default: the host name
  std::string data_dir = "meadow-node-data";  // node.key, node.db live here
  std::string key_file;           // default <data_dir>/node.key (0600)
  LogLevel log_level = LogLevel::info;

  int max_concurrent = 4;         // fetches in flight at once
  int lease_batch = 0;            // tasks asked for at once; 0: twice max_concurrent
  std::int64_t long_poll_ms = 25'000;  // how long a lease request may wait for work
  int upload_batch = 64;          // results per upload at most
  std::int64_t upload_delay_ms = 1'000;  // a result waits at most this long for others to share an upload
  std::int64_t extend_ms = 120'000;      // lease extension asked for slow tasks

  FetchSettings fetch;            // caps, timeouts, politeness, guard (allow_loopback)
  std::int64_t rate_bytes_per_s = 0;     // bandwidth ceiling across all fetches; 0: none
  LimitSettings limits;           // daily/monthly caps and schedule
  std::string schedule_text;      // as written, for display

  std::string key_path() const;
  std::string database_path() const;
  int effective_lease_batch() const;
};

NodeSettings default_node_settings();

struct NodeConfigKey {
  const char* name;
  const char* help;
  std::string value;  // the value in the settings given
};
std::vector<NodeConfigKey> node_config_keys(const NodeSettings& s);

// Creates `path` and any missing parents, private to the user (0700).
Status make_data_dir(const std::string& path);

Status apply_node_setting(NodeSettings& s, std::string_view key, std::string_view value);
// Reads a config file on top of `s` (keys it does not name keep their values).
Status load_node_config(const std::string& path, NodeSettings& s);
// What single keys cannot check: the coordinator URL, the account.
Status validate_node_settings(const NodeSettings& s);

}  // namespace meadow::client
