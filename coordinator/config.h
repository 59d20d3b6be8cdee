// meadow-coordinator's settings: one struct with documented defaults and one key table that
// loads, validates and documents them. A config file is lines of `key = value`; `#` starts a
// comment. An unknown key or a bad value stops start-up with the line, the key and the reason.
#pragma once

#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "coordinator/api/context.h"
#include "coordinator/datasets/assembler.h"
#include "coordinator/http/server.h"
#include "coordinator/scheduler/scheduler.h"

namespace meadow::coordinator {

struct Config {
  std::string data_dir = "meadow-data";   // database and coordinator key live here
  std::string database;                   // default: <data_dir>/coordinator.db
  std::string key_file;                   // default: <data_dir>/coordinator.key (0600)
  LogLevel log_level = LogLevel::info;
  bool log_json = false;
  std::int64_t reap_interval_ms = 1000;   // how often expired leases are returned to the queue
  http::ServerOptions server;
  SchedulerOptions scheduler;
  api::ApiOptions api;
  datasets::AssemblerOptions datasets;    // dir empty: <data_dir>/datasets

  std::string database_path() const;
  std::string datasets_path() const;
  std::string key_path() const;
};

struct ConfigKey {
  const char* name;
  const char* help;
};

// Every key with its help text and its default, for `meadow-coordinator config keys`.
std::vector<std::pair<ConfigKey, std::string>> config_keys(const Config& defaults = {});

// Applies one `key = value`; errors name the key and what a good value looks like.
Status apply_config_value(Config& config, std::string_view key, std::string_view value);

// Parses a whole file's text on top of `config`.
Status parse_config(std::string_view text, Config& config);
Result<Config> load_config(const std::string& path);

// Checks what single keys cannot (TLS needs both files, and so on).
Status validate_config(const Config& config);

}  // namespace meadow::coordinator
