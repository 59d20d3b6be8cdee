// The shared shape of Meadow's config files: lines of `key = value`, `#` starts a comment,
// values may be quoted with "..." or '...'. Each component keeps one struct with documented defaults and one
// table of KeyEntry that loads, validates and documents it; these helpers parse the lines
// and the common value types, with errors that name the line, the key and what is wanted.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meadow::config {

// One key of a component's table.
template <class Settings>
struct KeyEntry {
  const char* name;
  const char* help;
  std::function<Status(Settings&, std::string_view)> set;
  std::function<std::string(const Settings&)> get;
};

Error bad_value(std::string_view key, std::string_view value, std::string_view want);
Status set_int(std::int64_t& out, std::string_view key, std::string_view v, std::int64_t min, std::int64_t max);
Status set_double(double& out, std::string_view key, std::string_view v, double min, double max);
Status set_bool(bool& out, std::string_view key, std::string_view v);

template <class T>
Status set_small(T& out, std::string_view key, std::string_view v, std::int64_t min, std::int64_t max) {
  std::int64_t n = 0;
  MEADOW_TRY(set_int(n, key, v, min, max));
  out = static_cast<T>(n);
  return {};
}

// Calls `apply` for every `key = value` line; an error gets "line N: " in front.
Status parse_lines(std::string_view text, const std::function<Status(std::string_view, std::string_view)>& apply);

// Applies one key from `table`; an unknown key names `list_command` as where to look.
template <class Settings>
Status apply_key(const std::vector<KeyEntry<Settings>>& table, Settings& s, std::string_view key,
                 std::string_view value, std::string_view list_command) {
  for (const auto& e : table)
    if (key == e.name) return e.set(s, value);
  return make_error(ErrorKind::invalid, "bad-config",
                    "unknown config key '" + std::string(key) + "'; '" + std::string(list_command) + "' lists them");
}

// A config file's text, refused past 1 MiB.
Result<std::string> read_file(const std::string& path);

}  // namespace meadow::config
