#include "client/core/settings.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <sstream>

#include "common/config_file.h"
#include "common/url.h"

namespace meadow::client {
namespace {

using config::bad_value;
using config::set_bool;
using config::set_int;
using config::set_small;
using Entry = config::KeyEntry<NodeSettings>;

Status set_string(std::string& out, std::string_view key, std::string_view v, std::size_t max) {
  if (v.size() > max) return bad_value(key, v.substr(0, 40), "at most " + std::to_string(max) + " bytes");
  out = std::string(v);
  return {};
}

Status set_bytes(std::int64_t& out, std::string_view key, std::string_view v) {
  auto n = parse_bytes(v);
  if (!n.ok()) return bad_value(key, v, "a size such as 500MB, 10GB or 0 for none");
  out = *n;
  return {};
}

std::string str(std::int64_t v) { return std::to_string(v); }

const std::vector<Entry>& table() {
  static const std::vector<Entry> entries = {
      {"coordinator", "base URL of the coordinator, e.g. https://coordinator.example",
       [](NodeSettings& s, std::string_view v) { return set_string(s.coordinator, "coordinator", v, 2048); },
       [](const NodeSettings& s) { return s.coordinator; }},
      {"account", "the contributor account your work is credited to",
       [](NodeSettings& s, std::string_view v) { return set_string(s.account, "account", v, 128); },
       [](const NodeSettings& s) { return s.account; }},
      {"node_name", "a label for this machine, shown to the operator",
       [](NodeSettings& s, std::string_view v) { return set_string(s.node_name, "node_name", v, 128); },
       [](const NodeSettings& s) { return s.node_name; }},
      {"data_dir", "folder for the node key and the local database",
       [](NodeSettings& s, std::string_view v) -> Status {
         if (v.empty()) return bad_value("data_dir", v, "a folder path");
         s.data_dir = std::string(v);
         return {};
       },
       [](const NodeSettings& s) { return s.data_dir; }},
      {"key_file", "the node's Ed25519 key, made on first start (default <data_dir>/node.key)",
       [](NodeSettings& s, std::string_view v) { return set_string(s.key_file, "key_file", v, 4096); },
       [](const NodeSettings& s) { return s.key_file; }},
      {"log_level", "debug, info, warn, error or off",
       [](NodeSettings& s, std::string_view v) -> Status {
         if (!parse_log_level(v, s.log_level)) return bad_value("log_level", v, "one of debug, info, warn, error, off");
         return {};
       },
       [](const NodeSettings& s) { return std::string(to_string(s.log_level)); }},
      {"max_concurrent", "fetches in flight at once",
       [](NodeSettings& s, std::string_view v) { return set_small(s.max_concurrent, "max_concurrent", v, 1, 256); },
       [](const NodeSettings& s) { return str(s.max_concurrent); }},
      {"lease_batch", "tasks asked for at once (0: twice max_concurrent)",
       [](NodeSettings& s, std::string_view v) { return set_small(s.lease_batch, "lease_batch", v, 0, protocol::kMaxLeaseBatch); },
       [](const NodeSettings& s) { return str(s.lease_batch); }},
      {"long_poll_ms", "how long a lease request may wait for work",
       [](NodeSettings& s, std::string_view v) { return set_int(s.long_poll_ms, "long_poll_ms", v, 0, protocol::kMaxLongPollMs); },
       [](const NodeSettings& s) { return str(s.long_poll_ms); }},
      {"upload_batch", "results per upload at most",
       [](NodeSettings& s, std::string_view v) { return set_small(s.upload_batch, "upload_batch", v, 1, 1024); },
       [](const NodeSettings& s) { return str(s.upload_batch); }},
      {"upload_delay_ms", "how long a finished result may wait for others to share its upload",
       [](NodeSettings& s, std::string_view v) { return set_int(s.upload_delay_ms, "upload_delay_ms", v, 0, 600'000); },
       [](const NodeSettings& s) { return str(s.upload_delay_ms); }},
      {"max_page_bytes", "a page is cut (and flagged truncated) past this many bytes after decoding",
       [](NodeSettings& s, std::string_view v) -> Status {
         std::int64_t n = 0;
         MEADOW_TRY(set_bytes(n, "max_page_bytes", v));
         if (n < 1024 || n > (1LL << 30)) return bad_value("max_page_bytes", v, "between 1kB and 1GiB");
         s.fetch.max_body_bytes = static_cast<std::size_t>(n);
         return {};
       },
       [](const NodeSettings& s) { return str(static_cast<std::int64_t>(s.fetch.max_body_bytes)); }},
      {"fetch_timeout_ms", "the longest one request may take",
       [](NodeSettings& s, std::string_view v) { return set_int(s.fetch.timeout_ms, "fetch_timeout_ms", v, 100, 600'000); },
       [](const NodeSettings& s) { return str(s.fetch.timeout_ms); }},
      {"connect_timeout_ms", "the longest a connection may take to open",
       [](NodeSettings& s, std::string_view v) { return set_int(s.fetch.connect_timeout_ms, "connect_timeout_ms", v, 100, 120'000); },
       [](const NodeSettings& s) { return str(s.fetch.connect_timeout_ms); }},
      {"low_speed_bytes", "a transfer slower than this many bytes/s for low_speed_ms is dropped",
       [](NodeSettings& s, std::string_view v) { return set_int(s.fetch.low_speed_bytes, "low_speed_bytes", v, 0, 1LL << 30); },
       [](const NodeSettings& s) { return str(s.fetch.low_speed_bytes); }},
      {"low_speed_ms", "see low_speed_bytes",
       [](NodeSettings& s, std::string_view v) { return set_int(s.fetch.low_speed_ms, "low_speed_ms", v, 0, 600'000); },
       [](const NodeSettings& s) { return str(s.fetch.low_speed_ms); }},
      {"max_redirects", "redirects followed per page",
       [](NodeSettings& s, std::string_view v) { return set_small(s.fetch.max_redirects, "max_redirects", v, 0, 20); },
       [](const NodeSettings& s) { return str(s.fetch.max_redirects); }},
      {"host_interval_ms", "the least time between two requests to one host",
       [](NodeSettings& s, std::string_view v) { return set_int(s.fetch.host_interval_ms, "host_interval_ms", v, 0, 3'600'000); },
       [](const NodeSettings& s) { return str(s.fetch.host_interval_ms); }},
      {"max_crawl_delay_ms", "the most a site's Crawl-delay may slow requests to it",
       [](NodeSettings& s, std::string_view v) { return set_int(s.fetch.max_crawl_delay_ms, "max_crawl_delay_ms", v, 0, 3'600'000); },
       [](const NodeSettings& s) { return str(s.fetch.max_crawl_delay_ms); }},
      {"user_agent", "the User-Agent header of page requests",
       [](NodeSettings& s, std::string_view v) -> Status {
         if (v.find("meadow") == std::string_view::npos) return bad_value("user_agent", v, "a User-Agent that names meadow");
         return set_string(s.fetch.user_agent, "user_agent", v, 256);
       },
       [](const NodeSettings& s) { return s.fetch.user_agent; }},
      {"rate", "bandwidth ceiling for fetches, e.g. 2MB (per second); 0: none",
       [](NodeSettings& s, std::string_view v) { return set_bytes(s.rate_bytes_per_s, "rate", v); },
       [](const NodeSettings& s) { return str(s.rate_bytes_per_s); }},
      {"daily_cap", "bytes per day, e.g. 2GB; 0: none",
       [](NodeSettings& s, std::string_view v) { return set_bytes(s.limits.daily_bytes, "daily_cap", v); },
       [](const NodeSettings& s) { return str(s.limits.daily_bytes); }},
      {"monthly_cap", "bytes per month, e.g. 50GB; 0: none",
       [](NodeSettings& s, std::string_view v) { return set_bytes(s.limits.monthly_bytes, "monthly_cap", v); },
       [](const NodeSettings& s) { return str(s.limits.monthly_bytes); }},
      {"schedule", "when to work, local time, e.g. 'mon-fri 22:00-07:00, sat,sun 00:00-24:00'; empty: always",
       [](NodeSettings& s, std::string_view v) -> Status {
         auto w = parse_schedule(v);
         if (!w.ok()) return w.error();
         s.limits.schedule = std::move(w).value();
         s.schedule_text = std::string(v);
         return {};
       },
       [](const NodeSettings& s) { return s.schedule_text; }},
      {"allow_loopback", "tests and demos only: let fetches reach 127.0.0.1 (never a task's choice)",
       [](NodeSettings& s, std::string_view v) { return set_bool(s.fetch.guard.allow_loopback, "allow_loopback", v); },
       [](const NodeSettings& s) { return std::string(s.fetch.guard.allow_loopback ? "true" : "false"); }},
  };
  return entries;
}

}  // namespace

std::string default_user_agent() {
  return std::string("meadow/") + kClientVersion + " (+https://meadow.network/for-site-owners; robots token: meadow)";
}

NodeSettings default_node_settings() {
  NodeSettings s;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) s.node_name = host;
  s.fetch.user_agent = default_user_agent();
  return s;
}

Status make_data_dir(const std::string& path) {
  std::string cur;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) {
        return make_error(ErrorKind::io, "data-dir", "cannot create folder '" + cur + "': " + std::strerror(errno));
      }
    }
    if (i < path.size()) cur += path[i];
  }
  return {};
}

std::string NodeSettings::key_path() const { return key_file.empty() ? data_dir + "/node.key" : key_file; }
std::string NodeSettings::database_path() const { return data_dir + "/node.db"; }
int NodeSettings::effective_lease_batch() const { return lease_batch > 0 ? lease_batch : 2 * max_concurrent; }

std::vector<NodeConfigKey> node_config_keys(const NodeSettings& s) {
  std::vector<NodeConfigKey> out;
  for (const auto& e : table()) out.push_back({e.name, e.help, e.get(s)});
  return out;
}

Status apply_node_setting(NodeSettings& s, std::string_view key, std::string_view value) {
  return config::apply_key(table(), s, key, value, "meadow-node config keys");
}

Status load_node_config(const std::string& path, NodeSettings& s) {
  MEADOW_ASSIGN(std::string text, config::read_file(path));
  auto st = config::parse_lines(text, [&](std::string_view k, std::string_view v) { return apply_node_setting(s, k, v); });
  if (!st.ok()) {
    Error e = std::move(st).error();
    e.message = path + ": " + e.message;
    return e;
  }
  return {};
}

Status validate_node_settings(const NodeSettings& s) {
  if (s.coordinator.empty()) {
    return make_error(ErrorKind::invalid, "bad-config", "no coordinator: pass --coordinator URL or set 'coordinator' in the config file");
  }
  auto u = url::parse(s.coordinator);
  if (!u.ok()) return make_error(ErrorKind::invalid, "bad-config", "coordinator: " + u.error().message);
  if (s.account.empty()) {
    return make_error(ErrorKind::invalid, "bad-config", "no account: pass --account NAME or set 'account' in the config file");
  }
  return {};
}

}  // namespace meadow::client
