#include "coordinator/config.h"

#include "common/config_file.h"

#include <sstream>

namespace meadow::coordinator {
namespace {

using config::bad_value;
using config::set_bool;
using config::set_double;
using config::set_int;
using config::set_small;
using Entry = config::KeyEntry<Config>;

Status set_listen(Config& c, std::string_view key, std::string_view v) {
  auto colon = v.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad_value(key, v, "ADDRESS:PORT, e.g. 127.0.0.1:8080");
  std::string_view host = v.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::int64_t port = 0;
  auto st = set_int(port, key, v.substr(colon + 1), 0, 65535);
  if (!st.ok()) return bad_value(key, v, "ADDRESS:PORT with a port from 0 to 65535");
  c.server.bind_address = std::string(host);
  c.server.port = static_cast<std::uint16_t>(port);
  return {};
}

const std::vector<Entry>& table() {
  constexpr std::int64_t kDay = 86'400'000;
  constexpr std::int64_t kGiB = 1LL << 30;
  static const std::vector<Entry> entries = {
      {"listen", "address and port to serve on (port 0 picks a free one)",
       [](Config& c, std::string_view v) { return set_listen(c, "listen", v); },
       [](const Config& c) { return c.server.bind_address + ":" + std::to_string(c.server.port); }},
      {"threads", "io threads serving HTTP",
       [](Config& c, std::string_view v) { return set_small(c.server.threads, "threads", v, 1, 64); },
       [](const Config& c) { return std::to_string(c.server.threads); }},
      {"data_dir", "folder for the database and the coordinator key",
       [](Config& c, std::string_view v) -> Status {
         if (v.empty()) return bad_value("data_dir", v, "a folder path");
         c.data_dir = std::string(v);
         return {};
       },
       [](const Config& c) { return c.data_dir; }},
      {"database", "SQLite database file (default <data_dir>/coordinator.db)",
       [](Config& c, std::string_view v) -> Status { c.database = std::string(v); return {}; },
       [](const Config& c) { return c.database; }},
      {"key_file", "coordinator signing key, made on first start (default <data_dir>/coordinator.key)",
       [](Config& c, std::string_view v) -> Status { c.key_file = std::string(v); return {}; },
       [](const Config& c) { return c.key_file; }},
      {"tls_cert", "PEM certificate chain; TLS is on when tls_cert and tls_key are both set",
       [](Config& c, std::string_view v) -> Status { c.server.tls_cert_file = std::string(v); return {}; },
       [](const Config& c) { return c.server.tls_cert_file; }},
      {"tls_key", "PEM private key for tls_cert",
       [](Config& c, std::string_view v) -> Status { c.server.tls_key_file = std::string(v); return {}; },
       [](const Config& c) { return c.server.tls_key_file; }},
      {"datasets_dir", "folder for dataset shards, manifests and cards (default <data_dir>/datasets)",
       [](Config& c, std::string_view v) -> Status { c.datasets.dir = std::string(v); return {}; },
       [](const Config& c) { return c.datasets.dir; }},
      {"shard_bytes", "NDJSON bytes a dataset shard collects before it is sealed (a job's last shard seals when the job ends)",
       [](Config& c, std::string_view v) { return set_int(c.datasets.shard_bytes, "shard_bytes", v, 1, 4 * kGiB); },
       [](const Config& c) { return std::to_string(c.datasets.shard_bytes); }},
      {"shard_frame_records", "records per independent zstd frame in a shard (what a seeking reader skips by)",
       [](Config& c, std::string_view v) { return set_int(c.datasets.shard.frame_records, "shard_frame_records", v, 1, 1'000'000); },
       [](const Config& c) { return std::to_string(c.datasets.shard.frame_records); }},
      {"seal_after_ms", "a dataset's records wait at most this long for a shard; then the ones gathered are sealed (0: wait for shard_bytes or the job's end)",
       [](Config& c, std::string_view v) { return set_int(c.datasets.seal_after_ms, "seal_after_ms", v, 0, 30LL * 86'400'000); },
       [](const Config& c) { return std::to_string(c.datasets.seal_after_ms); }},
      {"shard_zstd_level", "zstd level for shards, 1..19",
       [](Config& c, std::string_view v) { return set_small(c.datasets.shard.level, "shard_zstd_level", v, 1, 19); },
       [](const Config& c) { return std::to_string(c.datasets.shard.level); }},
      {"log_level", "debug, info, warn, error or off",
       [](Config& c, std::string_view v) -> Status {
         if (!parse_log_level(v, c.log_level)) return bad_value("log_level", v, "one of debug, info, warn, error, off");
         return {};
       },
       [](const Config& c) { return std::string(to_string(c.log_level)); }},
      {"log_json", "write logs as JSON lines",
       [](Config& c, std::string_view v) { return set_bool(c.log_json, "log_json", v); },
       [](const Config& c) { return std::string(c.log_json ? "true" : "false"); }},
      {"header_timeout_ms", "time to receive a request header",
       [](Config& c, std::string_view v) { return set_int(c.server.header_timeout_ms, "header_timeout_ms", v, 100, 600'000); },
       [](const Config& c) { return std::to_string(c.server.header_timeout_ms); }},
      {"body_timeout_ms", "time to receive a request body",
       [](Config& c, std::string_view v) { return set_int(c.server.body_timeout_ms, "body_timeout_ms", v, 100, 3'600'000); },
       [](const Config& c) { return std::to_string(c.server.body_timeout_ms); }},
      {"write_timeout_ms", "time to send a response",
       [](Config& c, std::string_view v) { return set_int(c.server.write_timeout_ms, "write_timeout_ms", v, 100, 3'600'000); },
       [](const Config& c) { return std::to_string(c.server.write_timeout_ms); }},
      {"idle_timeout_ms", "keep-alive connections idle longer are closed",
       [](Config& c, std::string_view v) { return set_int(c.server.idle_timeout_ms, "idle_timeout_ms", v, 100, 3'600'000); },
       [](const Config& c) { return std::to_string(c.server.idle_timeout_ms); }},
      {"max_connections", "open connections at most; more are closed at once",
       [](Config& c, std::string_view v) { return set_small(c.server.max_connections, "max_connections", v, 1, 1'000'000); },
       [](const Config& c) { return std::to_string(c.server.max_connections); }},
      {"shutdown_grace_ms", "on SIGTERM, in-flight requests get this long to finish",
       [](Config& c, std::string_view v) { return set_int(c.server.shutdown_grace_ms, "shutdown_grace_ms", v, 0, 600'000); },
       [](const Config& c) { return std::to_string(c.server.shutdown_grace_ms); }},
      {"max_json_bytes", "largest JSON request body",
       [](Config& c, std::string_view v) { return set_small(c.api.max_json_body, "max_json_bytes", v, 1024, kGiB); },
       [](const Config& c) { return std::to_string(c.api.max_json_body); }},
      {"max_upload_bytes", "largest compressed result upload",
       [](Config& c, std::string_view v) { return set_small(c.api.max_upload_body, "max_upload_bytes", v, 1024, 4 * kGiB); },
       [](const Config& c) { return std::to_string(c.api.max_upload_body); }},
      {"max_upload_expanded_bytes", "what one upload may decompress to",
       [](Config& c, std::string_view v) { return set_small(c.api.max_upload_decompressed, "max_upload_expanded_bytes", v, 1024, 16 * kGiB); },
       [](const Config& c) { return std::to_string(c.api.max_upload_decompressed); }},
      {"max_upload_results", "results in one upload",
       [](Config& c, std::string_view v) { return set_small(c.api.max_upload_lines, "max_upload_results", v, 1, 100'000); },
       [](const Config& c) { return std::to_string(c.api.max_upload_lines); }},
      {"max_long_poll_ms", "longest a lease request may wait for work",
       [](Config& c, std::string_view v) { return set_int(c.api.max_long_poll_ms, "max_long_poll_ms", v, 0, protocol::kMaxLongPollMs); },
       [](const Config& c) { return std::to_string(c.api.max_long_poll_ms); }},
      {"signature_window_s", "how far a signed request's time may be from the coordinator's",
       [](Config& c, std::string_view v) { return set_int(c.api.signature_window_s, "signature_window_s", v, 5, 3600); },
       [](const Config& c) { return std::to_string(c.api.signature_window_s); }},
      {"lease_ms", "how long a node holds a task before it returns to the queue",
       [](Config& c, std::string_view v) { return set_int(c.scheduler.lease_ms, "lease_ms", v, 1000, kDay); },
       [](const Config& c) { return std::to_string(c.scheduler.lease_ms); }},
      {"max_extend_ms", "the most one lease extension may ask for",
       [](Config& c, std::string_view v) { return set_int(c.scheduler.max_extend_ms, "max_extend_ms", v, 1000, kDay); },
       [](const Config& c) { return std::to_string(c.scheduler.max_extend_ms); }},
      {"retry_delay_ms", "a failed task waits this long before it is leased again",
       [](Config& c, std::string_view v) { return set_int(c.scheduler.retry_delay_ms, "retry_delay_ms", v, 0, kDay); },
       [](const Config& c) { return std::to_string(c.scheduler.retry_delay_ms); }},
      {"site_rate", "network-wide requests per second to one registrable domain",
       [](Config& c, std::string_view v) { return set_double(c.scheduler.site_rate, "site_rate", v, 0.001, 10'000); },
       [](const Config& c) { std::ostringstream s; s << c.scheduler.site_rate; return s.str(); }},
      {"site_burst", "requests one registrable domain may get at once after a quiet spell",
       [](Config& c, std::string_view v) { return set_double(c.scheduler.site_burst, "site_burst", v, 1, 100'000); },
       [](const Config& c) { std::ostringstream s; s << c.scheduler.site_burst; return s.str(); }},
      {"scan_limit", "queued tasks examined per job per lease call",
       [](Config& c, std::string_view v) { return set_small(c.scheduler.scan_limit, "scan_limit", v, 1, 100'000); },
       [](const Config& c) { return std::to_string(c.scheduler.scan_limit); }},
      {"idle_poll_ms", "what nodes are told to wait when there is nothing to do",
       [](Config& c, std::string_view v) { return set_int(c.scheduler.idle_poll_ms, "idle_poll_ms", v, 100, 600'000); },
       [](const Config& c) { return std::to_string(c.scheduler.idle_poll_ms); }},
      {"reap_interval_ms", "how often expired leases return to the queue",
       [](Config& c, std::string_view v) { return set_int(c.reap_interval_ms, "reap_interval_ms", v, 10, 600'000); },
       [](const Config& c) { return std::to_string(c.reap_interval_ms); }},
      {"allow_loopback_targets", "demos and tests only: jobs may name 127.0.0.1 and localhost",
       [](Config& c, std::string_view v) { return set_bool(c.scheduler.allow_loopback_targets, "allow_loopback_targets", v); },
       [](const Config& c) { return std::string(c.scheduler.allow_loopback_targets ? "true" : "false"); }},
  };
  return entries;
}

}  // namespace

std::string Config::database_path() const { return database.empty() ? data_dir + "/coordinator.db" : database; }
std::string Config::key_path() const { return key_file.empty() ? data_dir + "/coordinator.key" : key_file; }
std::string Config::datasets_path() const { return datasets.dir.empty() ? data_dir + "/datasets" : datasets.dir; }

std::vector<std::pair<ConfigKey, std::string>> config_keys(const Config& defaults) {
  std::vector<std::pair<ConfigKey, std::string>> out;
  for (const auto& e : table()) out.emplace_back(ConfigKey{e.name, e.help}, e.get(defaults));
  return out;
}

Status apply_config_value(Config& config, std::string_view key, std::string_view value) {
  return config::apply_key(table(), config, key, value, "meadow-coordinator config keys");
}

Status parse_config(std::string_view text, Config& config) {
  MEADOW_TRY(config::parse_lines(text, [&](std::string_view k, std::string_view v) { return apply_config_value(config, k, v); }));
  return validate_config(config);
}

Result<Config> load_config(const std::string& path) {
  MEADOW_ASSIGN(std::string text, config::read_file(path));
  Config c;
  auto st = parse_config(text, c);
  if (!st.ok()) {
    Error e = std::move(st).error();
    e.message = path + ": " + e.message;
    return e;
  }
  return c;
}

Status validate_config(const Config& c) {
  if (c.server.tls_cert_file.empty() != c.server.tls_key_file.empty()) {
    return make_error(ErrorKind::invalid, "bad-config", "tls_cert and tls_key must be set together");
  }
  if (c.scheduler.max_extend_ms < c.scheduler.lease_ms / 10) {
    return make_error(ErrorKind::invalid, "bad-config", "max_extend_ms must be at least a tenth of lease_ms");
  }
  return {};
}

}  // namespace meadow::coordinator
