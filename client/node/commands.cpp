// The commands that read or change a node's state without running it: status, pause,
// resume, log, keygen, whoami, config.
#include <signal.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cstdio>

#include "client/core/engine.h"
#include "client/core/limits.h"
#include "client/node/common.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"

namespace meadow::node {
namespace {

namespace json = boost::json;

std::vector<std::string> with(std::vector<std::string> a, std::initializer_list<const char*> more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Reads the settings and opens the store, or prints why not. Returns nullptr on failure.
std::unique_ptr<client::NodeStore> store_for(const std::string& cmd, const Args& args, client::NodeSettings* out,
                                             int& code) {
  auto settings = settings_from(args);
  if (!settings.ok()) {
    code = fail(cmd, settings.error().message);
    return nullptr;
  }
  auto store = open_store(*settings, false);
  if (!store.ok()) {
    code = fail(cmd, store.error().message);
    return nullptr;
  }
  if (out) *out = *settings;
  return std::move(store).value();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

int cmd_status(const std::vector<std::string>& argv) {
  static const std::string help = std::string("usage: meadow-node status [settings] [--json]\n\n"
                                              "What the node is doing and its totals. Exit 0 when the daemon is running, 1 when not.\n\n") +
                                  kSettingsHelp;
  Args args(argv, kSettingFlags, with(kSettingBoolFlags, {"--json", "--help"}));
  int code = 0;
  if (handle_help_or_error(args, help.c_str(), code)) return code;
  auto store = store_for("status", args, nullptr, code);
  if (!store) return code;
  client::EngineStatus s;
  if (auto v = store->value("status"); v.ok() && v->has_value()) {
    if (auto parsed = client::parse_engine_status(**v); parsed.ok()) s = *parsed;
  }
  const std::int64_t now = system_clock().now_ms();
  const bool running = s.pid > 0 && s.state != "stopped" && s.state != "failed" &&
                       ::kill(static_cast<pid_t>(s.pid), 0) == 0 && now - s.updated_ms < 10'000;
  auto totals = store->totals();
  if (!totals.ok()) return fail("status", totals.error().message);
  if (auto p = store->value("pause_until_ms"); p.ok() && p->has_value()) s.paused_until_ms = std::strtoll((*p)->c_str(), nullptr, 10);
  if (args.has("--json")) {
    json::object o = parse_json_object(client::to_json(s), "status").value();
    o["running"] = running;
    o["totals"] = json::object{{"fetched", totals->fetched},   {"accepted", totals->accepted}, {"refused", totals->refused},
                               {"pending", totals->pending},   {"reported", totals->reported}, {"skipped", totals->skipped},
                               {"failed", totals->failed},
                               {"accepted_bytes", totals->accepted_bytes}};
    std::printf("%s\n", meadow::to_json(o).c_str());
    return running ? kExitOk : kExitNo;
  }
  std::printf("node        %s\n", s.node_id.c_str());
  std::printf("running     %s\n", running ? ("yes (pid " + std::to_string(s.pid) + ")").c_str() : "no");
  if (running) std::printf("state       %s%s\n", s.state.c_str(), s.reason.empty() ? "" : (" - " + s.reason).c_str());
  if (s.paused_until_ms == -1) std::printf("paused      until resumed\n");
  else if (s.paused_until_ms > now) std::printf("paused      until %s\n", format_rfc3339_ms(s.paused_until_ms).c_str());
  if (running) std::printf("now         %lld fetching, %lld queued\n", static_cast<long long>(s.in_flight), static_cast<long long>(s.queued));
  std::printf("pages       %lld fetched, %lld skipped, %lld failed\n", static_cast<long long>(totals->fetched),
              static_cast<long long>(totals->skipped), static_cast<long long>(totals->failed));
  std::printf("records     %lld accepted (%s), %lld refused, %lld waiting to upload\n", static_cast<long long>(totals->accepted),
              client::human_bytes(totals->accepted_bytes).c_str(), static_cast<long long>(totals->refused),
              static_cast<long long>(totals->pending));
  if (running) std::printf("traffic     %s today, %s this month\n", client::human_bytes(s.bytes_today).c_str(), client::human_bytes(s.bytes_month).c_str());
  if (!s.last_error.empty()) std::printf("last error  %s\n", s.last_error.c_str());
  return running ? kExitOk : kExitNo;
}

int cmd_pause(const std::vector<std::string>& argv) {
  static const std::string help = std::string("usage: meadow-node pause [settings] [--for DURATION]\n\n"
                                              "Stops taking work (a running daemon notices within a second and hands back\n"
                                              "tasks it has not started). --for 30m, 2h, 1d: resume by itself after that.\n\n") +
                                  kSettingsHelp;
  Args args(argv, with(kSettingFlags, {"--for"}), with(kSettingBoolFlags, {"--help"}));
  int code = 0;
  if (handle_help_or_error(args, help.c_str(), code)) return code;
  std::int64_t until = -1;
  if (args.has("--for")) {
    auto d = client::parse_duration_ms(args.get("--for"));
    if (!d.ok()) return fail("pause", d.error().message);
    until = system_clock().now_ms() + *d;
  }
  auto store = store_for("pause", args, nullptr, code);
  if (!store) return code;
  if (auto st = store->set_value("pause_until_ms", std::to_string(until)); !st.ok()) return fail("pause", st.error().message);
  std::printf(until == -1 ? "paused until 'meadow-node resume'\n" : "paused until %s\n",
              format_rfc3339_ms(until).c_str());
  return kExitOk;
}

int cmd_resume(const std::vector<std::string>& argv) {
  static const std::string help = std::string("usage: meadow-node resume [settings]\n\nTakes work again after a pause.\n\n") + kSettingsHelp;
  Args args(argv, kSettingFlags, with(kSettingBoolFlags, {"--help"}));
  int code = 0;
  if (handle_help_or_error(args, help.c_str(), code)) return code;
  auto store = store_for("resume", args, nullptr, code);
  if (!store) return code;
  if (auto st = store->set_value("pause_until_ms", "0"); !st.ok()) return fail("resume", st.error().message);
  std::printf("resumed\n");
  return kExitOk;
}

int cmd_log(const std::vector<std::string>& argv) {
  static const std::string help =
      std::string("usage: meadow-node log [settings] [--csv | --json] [--since DURATION] [--limit N]\n\n"
                  "Every fetch this node made, newest first: time, URL, HTTP status, bytes, outcome,\n"
                  "and what the coordinator said (accepted with a receipt, refused, or waiting).\n"
                  "  --since 1d   only the last day (default: everything)\n"
                  "  --limit N    at most N rows (default 100; 0: all)\n\n") +
      kSettingsHelp;
  Args args(argv, with(kSettingFlags, {"--since", "--limit"}), with(kSettingBoolFlags, {"--csv", "--json", "--help"}));
  int code = 0;
  if (handle_help_or_error(args, help.c_str(), code)) return code;
  std::int64_t since = 0;
  if (args.has("--since")) {
    auto d = client::parse_duration_ms(args.get("--since"));
    if (!d.ok()) return fail("log", d.error().message);
    since = system_clock().now_ms() - *d;
  }
  const auto limit_arg = parse_count(args.get("--limit", "100"));
  if (!limit_arg) return fail("log", "--limit wants a whole number of rows (0: all), not '" + args.get("--limit") + "'");
  const long long limit = *limit_arg;
  auto store = store_for("log", args, nullptr, code);
  if (!store) return code;
  auto rows = store->log(since, limit <= 0 ? static_cast<std::size_t>(-1) : static_cast<std::size_t>(limit));
  if (!rows.ok()) return fail("log", rows.error().message);
  if (args.has("--json")) {
    for (const auto& c : *rows) {
      json::object o{{"time", format_rfc3339_ms(c.started_ms)}, {"task_id", c.task_id}, {"job_id", c.job_id},
                     {"url", c.url},  {"final_url", c.final_url}, {"http_status", c.http_status}, {"bytes", c.bytes},
                     {"wire_bytes", c.wire_bytes}, {"outcome", c.outcome}, {"reason", c.reason}, {"state", c.state},
                     {"record_id", c.record_id}};
      if (!c.receipt.empty()) {
        if (auto r = parse_json_object(c.receipt, "receipt"); r.ok()) o["receipt"] = *r;
      }
      std::printf("%s\n", meadow::to_json(o).c_str());
    }
    return kExitOk;
  }
  if (args.has("--csv")) {
    std::printf("time,task_id,url,final_url,http_status,bytes,wire_bytes,outcome,reason,state,record_id,receipt\n");
    for (const auto& c : *rows) {
      std::printf("%s,%lld,%s,%s,%d,%lld,%lld,%s,%s,%s,%s,%s\n", format_rfc3339_ms(c.started_ms).c_str(),
                  static_cast<long long>(c.task_id), csv_field(c.url).c_str(), csv_field(c.final_url).c_str(), c.http_status,
                  static_cast<long long>(c.bytes), static_cast<long long>(c.wire_bytes), c.outcome.c_str(),
                  csv_field(c.reason).c_str(), c.state.c_str(), c.record_id.c_str(), csv_field(c.receipt).c_str());
    }
    return kExitOk;
  }
  for (const auto& c : *rows) {
    std::printf("%s  %-7s %3d %9s  %-9s %s%s\n", format_rfc3339_ms(c.started_ms).substr(0, 19).c_str(), c.outcome.c_str(),
                c.http_status, client::human_bytes(c.bytes).c_str(), c.state.c_str(), c.url.c_str(),
                c.reason.empty() ? "" : ("  (" + c.reason + ")").c_str());
  }
  if (rows->empty()) std::printf("no fetches yet\n");
  return kExitOk;
}

int cmd_keygen(const std::vector<std::string>& argv) {
  static const std::string help =
      std::string("usage: meadow-node keygen [settings] [--force]\n\n"
                  "Makes the node's Ed25519 key (a 0600 file; 'run' also makes one on first start) and\n"
                  "prints the node id. An existing key is kept unless --force: a new key is a new node,\n"
                  "and receipts of the old one stay tied to the old key.\n\n") +
      kSettingsHelp;
  Args args(argv, kSettingFlags, with(kSettingBoolFlags, {"--force", "--help"}));
  int code = 0;
  if (handle_help_or_error(args, help.c_str(), code)) return code;
  auto settings = settings_from(args);
  if (!settings.ok()) return fail("keygen", settings.error().message);
  const std::string path = settings->key_path();
  if (file_exists(path) && !args.has("--force")) {
    return fail("keygen", "a key already exists at " + path + "; --force replaces it (this node then gets a new identity)");
  }
  if (auto st = client::make_data_dir(settings->data_dir); !st.ok()) return fail("keygen", st.error().message);
  crypto::KeyPair key = crypto::KeyPair::generate();
  if (auto st = key.save(path); !st.ok()) return fail("keygen", st.error().message);
  std::printf("%s\n", key.public_key().id().c_str());
  return kExitOk;
}

int cmd_whoami(const std::vector<std::string>& argv) {
  static const std::string help = std::string("usage: meadow-node whoami [settings] [--json]\n\n"
                                              "This node's id and public key, and the account and coordinator it works for.\n\n") +
                                  kSettingsHelp;
  Args args(argv, kSettingFlags, with(kSettingBoolFlags, {"--json", "--help"}));
  int code = 0;
  if (handle_help_or_error(args, help.c_str(), code)) return code;
  auto settings = settings_from(args);
  if (!settings.ok()) return fail("whoami", settings.error().message);
  auto key = crypto::KeyPair::load(settings->key_path());
  if (!key.ok()) return fail("whoami", key.error().message + " (make one with 'meadow-node keygen')");
  const std::string id = key->public_key().id();
  if (args.has("--json")) {
    json::object o{{"node_id", id}, {"public_key", key->public_key().base64()}, {"account", settings->account},
                   {"coordinator", settings->coordinator}, {"key_file", settings->key_path()}};
    std::printf("%s\n", meadow::to_json(o).c_str());
    return kExitOk;
  }
  std::printf("node         %s\npublic key   %s\nkey file     %s\naccount      %s\ncoordinator  %s\n", id.c_str(),
              key->public_key().base64().c_str(), settings->key_path().c_str(),
              settings->account.empty() ? "(not set)" : settings->account.c_str(),
              settings->coordinator.empty() ? "(not set)" : settings->coordinator.c_str());
  return kExitOk;
}

int cmd_config(const std::vector<std::string>& argv) {
  static const char* help =
      "usage: meadow-node config keys        every config key, its default and what it does\n"
      "       meadow-node config check FILE  read FILE and say what is wrong with it, if anything\n";
  Args args(argv, {}, {"--help"});
  int code = 0;
  if (handle_help_or_error(args, help, code)) return code;
  const auto& pos = args.positional();
  if (pos.size() == 1 && pos[0] == "keys") {
    for (const auto& k : client::node_config_keys(client::default_node_settings())) {
      std::printf("%-20s %-28s %s\n", k.name, k.value.empty() ? "\"\"" : k.value.c_str(), k.help);
    }
    return kExitOk;
  }
  if (pos.size() == 2 && pos[0] == "check") {
    client::NodeSettings s = client::default_node_settings();
    if (auto st = client::load_node_config(pos[1], s); !st.ok()) return fail("config", st.error().message);
    if (auto st = client::validate_node_settings(s); !st.ok()) return fail("config", st.error().message);
    std::printf("%s: ok\n", pos[1].c_str());
    return kExitOk;
  }
  std::fputs(help, stderr);
  return kExitError;
}

}  // namespace meadow::node
