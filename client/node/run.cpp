#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "client/core/engine.h"
#include "client/core/limits.h"
#include "client/node/common.h"

namespace meadow::node {
namespace {

const std::string kHelp = std::string(R"(usage: meadow-node run [settings] [--json] [--status-every SECONDS]

Takes tasks from the coordinator and works until stopped (Ctrl-C or SIGTERM): fetches each
page from this machine, turns it into a signed record and uploads it. Results wait in the
outbox (node.db) until the coordinator's receipt arrives, so nothing is lost on a crash.

  --json                 log JSON lines instead of text
  --status-every SECONDS a status line this often (default 10; 0: never)

)") + kSettingsHelp;

std::string status_line(const client::EngineStatus& s) {
  std::string line = s.state;
  if (!s.reason.empty()) line += " (" + s.reason + ")";
  line += ": " + std::to_string(s.in_flight) + " fetching, " + std::to_string(s.queued) + " queued, " +
          std::to_string(s.fetched) + " fetched this run, " + std::to_string(s.accepted) + " accepted, " +
          std::to_string(s.pending_upload) + " waiting to upload, " + client::human_bytes(s.bytes_today) + " today";
  return line;
}

}  // namespace

int cmd_run(const std::vector<std::string>& argv) {
  std::vector<std::string> value_flags = kSettingFlags;
  value_flags.push_back("--status-every");
  std::vector<std::string> bool_flags = kSettingBoolFlags;
  bool_flags.insert(bool_flags.end(), {"--json", "--help"});
  Args args(argv, value_flags, bool_flags);
  int code = 0;
  if (handle_help_or_error(args, kHelp.c_str(), code)) return code;
  auto settings = settings_from(args);
  if (!settings.ok()) return fail("run", settings.error().message);
  const auto every = parse_count(args.get("--status-every", "10"));
  if (!every) return fail("run", "--status-every wants whole seconds (0: never), not '" + args.get("--status-every") + "'");
  const long long status_every = *every;

  Logger log(args.has("--json") ? Logger::stderr_json_sink() : Logger::stderr_text_sink(), settings->log_level);
  // Signals go to one waiting thread, which asks the engine to stop; the engine thread is
  // never interrupted in the middle of a write.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto engine = client::Engine::create(std::move(settings).value(), system_clock(), log);
  if (!engine.ok()) return fail("run", engine.error().message);
  client::Engine& e = **engine;
  log.info("node", "node " + e.node_id() + " starting (meadow-node " + client::kClientVersion + ")");

  std::atomic<bool> done{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (!done.load()) {
      log.info("node", std::string("stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
      e.stop();
    }
  });
  std::thread status_thread;
  if (status_every > 0) {
    status_thread = std::thread([&] {
      long waited = 0;
      while (!done.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (++waited < status_every * 5) continue;
        waited = 0;
        log.info("status", status_line(e.status()));
      }
    });
  }
  Status st = e.run();
  done.store(true);
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  if (status_thread.joinable()) status_thread.join();
  if (!st.ok()) return fail("run", st.error().message);
  log.info("node", "stopped: " + status_line(e.status()));
  return kExitOk;
}

}  // namespace meadow::node
