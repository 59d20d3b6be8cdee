// meadow-coordinator's command line. Each command is a small function over the same
// Config, Store and Scheduler the server uses; no command needs the server running.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "common/json.h"
#include "common/selector.h"
#include "coordinator/api/context.h"
#include "coordinator/api/customers.h"
#include "coordinator/service.h"
#include "coordinator/store/job_codec.h"

namespace meadow::coordinator {
namespace {

constexpr const char* kUsage = R"(meadow-coordinator: the Meadow task queue, result ingestion and rewards ledger

usage: meadow-coordinator COMMAND [options]

commands:
  serve                 run the coordinator until SIGTERM or SIGINT
  admin-key create      make an admin API key (shown once; only its hash is kept)
  customer add NAME     a data buyer with quotas, and its first API key (shown once)
  customer key NAME     another API key for a customer (shown once)
  customer revoke KEY   revoke an API key (by its key_... id)
  customer list         customers, quotas and keys (never the secrets)
  job add               create a job from a file of URLs
  job list              list jobs with their task counts
  job show ID           one job
  job pause ID          stop leasing the job's tasks
  job resume ID         lease them again
  job cancel ID         cancel the job; queued tasks are dropped
  job dead ID           dead-lettered tasks of a job with every failure reason
  node list             registered nodes
  node ban ID           ban a node; its leases end at once
  queue                 task counts by state, job and site
  config keys           every config key with its default and meaning
  config check          load the config and report the first problem

common options:
  --config FILE         config file (key = value lines); defaults apply without one
  --json                print JSON instead of text (list and show commands)
  --help                help for a command
)";

constexpr const char* kCustomerUsage = R"(usage: meadow-coordinator customer add NAME [options]
       meadow-coordinator customer key NAME|ID [key options]
       meadow-coordinator customer revoke KEY_ID
       meadow-coordinator customer list [--json]

  --max-jobs N          jobs the customer may run at once (default 10)
  --max-pages N         pages over all the customer's jobs (default 100000)
key options:
  --scopes S            read, submit or read,submit (default read,submit)
  --rate N              requests a minute the key may make (default 600)
  --label TEXT          a note to tell keys apart
The API key is printed once on standard output; only its SHA-256 is stored.
)";

constexpr const char* kJobAddUsage = R"(usage: meadow-coordinator job add --name NAME --urls FILE [options]

  --name NAME           a label for the job
  --urls FILE           one URL per line ('-' for standard input); blank lines and # comments skipped
  --scope listed|site   listed: only these URLs (default); site: follow links on the same site
  --max-depth N         site scope: link depth from a listed URL (0..16, default 0)
  --max-pages N         site scope: pages in the job at most (default: the listed count)
  --priority N          1..1000, capacity is shared in proportion (default 1)
  --site-rate R         this job's requests per second per site (default 1)
  --max-attempts N      tries before a task is dead-lettered (1..20, default 3)
  --replication R       share of tasks fetched twice for verification, 0..1 (default 0)
  --field NAME=KIND:EXPR  a field to extract, KIND css or xpath; repeatable
  --captures            nodes send the raw responses too; the dataset gets WARC files
  --owner ID            the customer the job belongs to
)";

struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> options;
  bool help = false;
  bool json = false;

  const std::string* get(const std::string& k) const {
    auto it = options.find(k);
    return it == options.end() ? nullptr : &it->second;
  }
};

Result<Args> parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      a.help = true;
    } else if (s == "--json") {
      a.json = true;
    } else if (s == "--captures") {
      a.options.emplace(s, "true");
    } else if (s.rfind("--", 0) == 0) {
      auto eq = s.find('=');
      if (eq != std::string::npos) {
        a.options.emplace(s.substr(0, eq), s.substr(eq + 1));
      } else if (i + 1 < argc) {
        a.options.emplace(s, argv[++i]);
      } else {
        return make_error(ErrorKind::invalid, "usage", "option " + s + " needs a value");
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

int fail(const Error& e) {
  std::fprintf(stderr, "meadow-coordinator: %s\n", e.message.c_str());
  return e.code == "usage" ? 2 : 1;
}

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "meadow-coordinator: %s\nrun 'meadow-coordinator --help' for usage\n", msg.c_str());
  return 2;
}

Result<Config> config_from(const Args& a) {
  if (const std::string* path = a.get("--config")) return load_config(*path);
  return Config{};
}

Result<std::int64_t> id_arg(const Args& a, std::size_t index, const char* what) {
  if (a.positional.size() <= index) return make_error(ErrorKind::invalid, "usage", std::string("give the ") + what);
  const std::string& s = a.positional[index];
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v <= 0) {
    return make_error(ErrorKind::invalid, "usage", "'" + s + "' is not a " + what);
  }
  return static_cast<std::int64_t>(v);
}

void print_job_line(const Job& j) {
  std::printf("%6lld  %-9s  %-24s  queued %lld  leased %lld  done %lld  skipped %lld  dead %lld  cancelled %lld\n",
              static_cast<long long>(j.id), to_string(j.state), j.spec.name.c_str(),
              static_cast<long long>(j.counts.queued), static_cast<long long>(j.counts.leased),
              static_cast<long long>(j.counts.done), static_cast<long long>(j.counts.skipped),
              static_cast<long long>(j.counts.dead), static_cast<long long>(j.counts.cancelled));
}

int cmd_serve(const Args& a) {
  auto cfg = config_from(a);
  if (!cfg.ok()) return fail(cfg.error());
  Logger log(cfg->log_json ? Logger::stderr_json_sink() : Logger::stderr_text_sink(), cfg->log_level);
  // Signals go to one waiting thread, never to the io threads.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  auto svc = Service::start(*cfg, system_clock(), log);
  if (!svc.ok()) return fail(svc.error());
  Service* s = svc->get();
  std::thread waiter([s, set, &log] {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == 0) return;
    log.info("coordinator", std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                                "; finishing in-flight requests");
    s->shutdown();
  });
  s->run();
  // run() also returns when shutdown came from elsewhere; release the waiter either way.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  svc->reset();
  log.info("coordinator", "stopped");
  return 0;
}

int cmd_admin_key(const Args& a) {
  if (a.positional.size() < 2 || a.positional[1] != "create") return usage_error("usage: admin-key create [--label TEXT]");
  auto cfg = config_from(a);
  if (!cfg.ok()) return fail(cfg.error());
  auto store = open_store(*cfg);
  if (!store.ok()) return fail(store.error());
  std::string key = "mdw_admin_" + crypto::random_token(24);
  std::string id = "ak_" + crypto::random_token(6);
  const std::string* label = a.get("--label");
  auto st = (*store)->add_admin_key(id, api::hash_admin_key(key), label ? *label : "", system_clock().now_ms());
  if (!st.ok()) return fail(st.error());
  std::printf("%s\n", key.c_str());
  std::fprintf(stderr, "admin key %s created; it is shown only now, keep it safe\n", id.c_str());
  return 0;
}

Result<std::int64_t> int_option(const Args& a, const char* flag, std::int64_t fallback) {
  const std::string* v = a.get(flag);
  if (!v) return fallback;
  char* end = nullptr;
  long long n = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0') return make_error(ErrorKind::invalid, "usage", std::string(flag) + " takes a number, not '" + *v + "'");
  return static_cast<std::int64_t>(n);
}

Result<api::NewKey> key_options(const Args& a) {
  api::NewKey k;
  if (const std::string* s = a.get("--scopes"); s && !parse_scopes(*s, k.scopes)) {
    return make_error(ErrorKind::invalid, "usage", "--scopes takes read, submit or read,submit, not '" + *s + "'");
  }
  MEADOW_ASSIGN(k.rate_per_minute, int_option(a, "--rate", k.rate_per_minute));
  if (const std::string* l = a.get("--label")) k.label = *l;
  MEADOW_TRY(api::validate(k));
  return k;
}

int print_issued(const api::IssuedKey& k, const std::string& customer) {
  std::printf("%s\n", k.secret.c_str());
  std::fprintf(stderr, "API key %s for %s (scopes %s, %lld requests a minute); it is shown only now, keep it safe\n",
               k.key.id.c_str(), customer.c_str(), scopes_text(k.key.scopes).c_str(),
               static_cast<long long>(k.key.rate_per_minute));
  return 0;
}

int cmd_customer(const Args& a) {
  const std::string sub = a.positional.size() > 1 ? a.positional[1] : "";
  if (a.help || sub.empty()) {
    std::fputs(kCustomerUsage, a.help ? stdout : stderr);
    return a.help ? 0 : 2;
  }
  auto cfg = config_from(a);
  if (!cfg.ok()) return fail(cfg.error());
  auto store = open_store(*cfg);
  if (!store.ok()) return fail(store.error());
  Catalog& cat = (*store)->catalog();
  const std::int64_t now = system_clock().now_ms();
  if (sub == "list") {
    auto list = cat.list_customers();
    if (!list.ok()) return fail(list.error());
    boost::json::array out;
    for (const auto& c : *list) {
      auto keys = cat.list_api_keys(c.id);
      if (!keys.ok()) return fail(keys.error());
      if (a.json) {
        boost::json::object o = api::to_json(c);
        boost::json::array ks;
        for (const auto& k : *keys) ks.push_back(api::to_json(k));
        o["keys"] = std::move(ks);
        out.push_back(std::move(o));
        continue;
      }
      std::printf("%s  %-24s  max jobs %lld  max pages %lld\n", c.id.c_str(), c.name.c_str(),
                  static_cast<long long>(c.max_active_jobs), static_cast<long long>(c.max_pages));
      for (const auto& k : *keys) {
        std::printf("    %s  %-12s  %lld/min  %s%s\n", k.id.c_str(), scopes_text(k.scopes).c_str(),
                    static_cast<long long>(k.rate_per_minute), k.revoked_ms ? "revoked " : "", k.label.c_str());
      }
    }
    if (a.json) std::printf("%s\n", meadow::to_json(out).c_str());
    return 0;
  }
  if (a.positional.size() < 3) return usage_error("give the customer name or key id; see 'customer --help'");
  const std::string& target = a.positional[2];
  if (sub == "revoke") {
    auto st = cat.revoke_api_key(target, now);
    if (!st.ok()) return fail(st.error());
    std::printf("API key %s revoked\n", target.c_str());
    return 0;
  }
  auto key = key_options(a);
  if (!key.ok()) return fail(key.error());
  if (sub == "add") {
    api::NewCustomer nc;
    nc.name = target;
    auto jobs = int_option(a, "--max-jobs", nc.max_active_jobs);
    if (!jobs.ok()) return fail(jobs.error());
    auto pages = int_option(a, "--max-pages", nc.max_pages);
    if (!pages.ok()) return fail(pages.error());
    nc.max_active_jobs = *jobs;
    nc.max_pages = *pages;
    auto c = api::create_customer(cat, nc, now);
    if (!c.ok()) return fail(c.error());
    auto issued = api::issue_key(cat, c->id, *key, now);
    if (!issued.ok()) return fail(issued.error());
    std::fprintf(stderr, "customer %s '%s' created\n", c->id.c_str(), c->name.c_str());
    return print_issued(*issued, c->id);
  }
  if (sub == "key") {
    auto c = cat.get_customer(target);
    if (!c.ok()) return fail(c.error());
    auto issued = api::issue_key(cat, c->id, *key, now);
    if (!issued.ok()) return fail(issued.error());
    return print_issued(*issued, c->id);
  }
  return usage_error("unknown customer command '" + sub + "'; see 'customer --help'");
}

Result<std::vector<std::string>> read_url_file(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) return make_error(ErrorKind::io, "usage", "cannot read URL file '" + path + "'");
    in = &file;
  }
  std::vector<std::string> urls;
  std::string line;
  while (std::getline(*in, line)) {
    auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    auto e = line.find_last_not_of(" \t\r");
    urls.push_back(line.substr(b, e - b + 1));
    if (urls.size() > kMaxJobUrls) {
      return make_error(ErrorKind::invalid, "usage", "a job takes at most " + std::to_string(kMaxJobUrls) + " URLs");
    }
  }
  return urls;
}

Result<JobSpec> job_spec_from_args(const Args& a) {
  boost::json::object o;
  const std::string* name = a.get("--name");
  const std::string* urls = a.get("--urls");
  if (!name || !urls) return make_error(ErrorKind::invalid, "usage", "job add needs --name and --urls");
  o["name"] = *name;
  MEADOW_ASSIGN(auto list, read_url_file(*urls));
  boost::json::array arr;
  for (auto& u : list) arr.emplace_back(u);
  o["urls"] = std::move(arr);
  auto number = [&](const char* flag, const char* key) -> Status {
    const std::string* v = a.get(flag);
    if (!v) return {};
    auto parsed = parse_json(*v);
    if (!parsed.ok() || !parsed->is_number()) {
      return make_error(ErrorKind::invalid, "usage", std::string(flag) + " needs a number, not '" + *v + "'");
    }
    o[key] = *parsed;
    return {};
  };
  MEADOW_TRY(number("--max-depth", "max_depth"));
  MEADOW_TRY(number("--max-pages", "max_pages"));
  MEADOW_TRY(number("--priority", "priority"));
  MEADOW_TRY(number("--site-rate", "site_rate"));
  MEADOW_TRY(number("--max-attempts", "max_attempts"));
  MEADOW_TRY(number("--replication", "replication_rate"));
  if (const std::string* v = a.get("--scope")) o["scope"] = *v;
  if (const std::string* v = a.get("--owner")) o["owner"] = *v;
  if (a.get("--captures")) o["captures"] = true;
  std::vector<std::string> field_options;
  auto range = a.options.equal_range("--field");
  for (auto it = range.first; it != range.second; ++it) field_options.push_back(it->second);
  MEADOW_ASSIGN(auto fields, extract::parse_field_options(field_options));
  o["fields"] = protocol::to_json_array(fields);
  return job_spec_from_json(o);
}

int cmd_job(const Args& a) {
  if (a.positional.size() < 2) return usage_error("job needs a subcommand: add, list, show, pause, resume, cancel, dead");
  const std::string& sub = a.positional[1];
  if (a.help && sub == "add") {
    std::fputs(kJobAddUsage, stdout);
    return 0;
  }
  auto cfg = config_from(a);
  if (!cfg.ok()) return fail(cfg.error());
  auto store = open_store(*cfg);
  if (!store.ok()) return fail(store.error());
  Store& st = **store;
  if (sub == "add") {
    auto spec = job_spec_from_args(a);
    if (!spec.ok()) return fail(spec.error());
    Scheduler sched(st, system_clock(), cfg->scheduler);
    auto id = sched.create_job(std::move(spec).value());
    if (!id.ok()) return fail(id.error());
    auto job = st.get_job(*id);
    if (!job.ok()) return fail(job.error());
    if (a.json) std::printf("%s\n", meadow::to_json(to_json(*job)).c_str());
    else std::printf("job %lld created with %lld tasks\n", static_cast<long long>(*id), static_cast<long long>(job->counts.total()));
    return 0;
  }
  if (sub == "list") {
    const std::string* owner = a.get("--owner");
    auto jobs = st.list_jobs(owner ? *owner : std::string());
    if (!jobs.ok()) return fail(jobs.error());
    if (a.json) {
      boost::json::array arr;
      for (const auto& j : *jobs) arr.push_back(to_json(j));
      std::printf("%s\n", meadow::to_json(arr).c_str());
    } else {
      if (jobs->empty()) std::printf("no jobs yet; add one with 'meadow-coordinator job add'\n");
      for (const auto& j : *jobs) print_job_line(j);
    }
    return 0;
  }
  auto id = id_arg(a, 2, "job id");
  if (!id.ok()) return fail(id.error());
  if (sub == "pause" || sub == "resume" || sub == "cancel") {
    JobState target = sub == "pause" ? JobState::paused : sub == "resume" ? JobState::active : JobState::cancelled;
    auto s = st.set_job_state(*id, target, system_clock().now_ms());
    if (!s.ok()) return fail(s.error());
  } else if (sub == "dead") {
    auto dead = st.dead_tasks(*id, 1000);
    if (!dead.ok()) return fail(dead.error());
    for (const auto& d : *dead) {
      std::printf("task %lld  %s  (%d attempts)\n", static_cast<long long>(d.task.id), d.task.url.c_str(), d.task.attempts);
      for (const auto& f : d.failures) std::printf("    attempt %d on %s: %s\n", f.attempt, f.node_id.c_str(), f.reason.c_str());
    }
    return 0;
  } else if (sub != "show") {
    return usage_error("unknown job subcommand '" + sub + "'");
  }
  auto job = st.get_job(*id);
  if (!job.ok()) return fail(job.error());
  if (a.json) std::printf("%s\n", meadow::to_json(to_json(*job)).c_str());
  else print_job_line(*job);
  return 0;
}

int cmd_node(const Args& a) {
  auto cfg = config_from(a);
  if (!cfg.ok()) return fail(cfg.error());
  auto store = open_store(*cfg);
  if (!store.ok()) return fail(store.error());
  std::string sub = a.positional.size() > 1 ? a.positional[1] : "";
  if (sub == "list") {
    auto nodes = (*store)->list_nodes();
    if (!nodes.ok()) return fail(nodes.error());
    for (const auto& n : *nodes) {
      std::printf("%s  %-20s  %-16s  accepted %lld%s\n", n.id.c_str(), n.account.c_str(), n.name.c_str(),
                  static_cast<long long>(n.accepted), n.banned ? "  BANNED" : "");
    }
    return 0;
  }
  if (sub == "ban" && a.positional.size() > 2) {
    const std::string* reason = a.get("--reason");
    auto st = (*store)->ban_node(a.positional[2], reason ? *reason : "", system_clock().now_ms());
    if (!st.ok()) return fail(st.error());
    std::printf("node %s banned\n", a.positional[2].c_str());
    return 0;
  }
  return usage_error("usage: node list | node ban ID [--reason TEXT]");
}

int cmd_queue(const Args& a) {
  auto cfg = config_from(a);
  if (!cfg.ok()) return fail(cfg.error());
  auto store = open_store(*cfg);
  if (!store.ok()) return fail(store.error());
  auto stats = (*store)->queue_stats();
  if (!stats.ok()) return fail(stats.error());
  const TaskCounts& c = stats->total;
  std::printf("queued %lld  leased %lld  done %lld  skipped %lld  dead %lld  cancelled %lld\n",
              static_cast<long long>(c.queued), static_cast<long long>(c.leased), static_cast<long long>(c.done),
              static_cast<long long>(c.skipped), static_cast<long long>(c.dead), static_cast<long long>(c.cancelled));
  for (const auto& s : stats->sites) {
    std::printf("  %-32s queued %lld  leased %lld\n", s.site.c_str(), static_cast<long long>(s.counts.queued),
                static_cast<long long>(s.counts.leased));
  }
  return 0;
}

int cmd_config(const Args& a) {
  std::string sub = a.positional.size() > 1 ? a.positional[1] : "";
  if (sub == "keys") {
    for (const auto& [key, def] : config_keys()) {
      std::printf("%-26s %s\n%-26s default: %s\n", key.name, key.help, "", def.empty() ? "(none)" : def.c_str());
    }
    return 0;
  }
  if (sub == "check") {
    auto cfg = config_from(a);
    if (!cfg.ok()) return fail(cfg.error());
    std::printf("config is valid\n");
    return 0;
  }
  return usage_error("usage: config keys | config check --config FILE");
}

}  // namespace

int run_cli(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (!args.ok()) return fail(args.error());
  const Args& a = *args;
  if (a.positional.empty()) {
    std::fputs(kUsage, a.help ? stdout : stderr);
    return a.help ? 0 : 2;
  }
  const std::string& cmd = a.positional[0];
  if (cmd == "customer") return cmd_customer(a);
  if (a.help && cmd != "job") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (a.help && cmd == "job" && (a.positional.size() < 2 || a.positional[1] != "add")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "serve") return cmd_serve(a);
  if (cmd == "admin-key") return cmd_admin_key(a);
  if (cmd == "job") return cmd_job(a);
  if (cmd == "node") return cmd_node(a);
  if (cmd == "queue") return cmd_queue(a);
  if (cmd == "config") return cmd_config(a);
  return usage_error("unknown command '" + cmd + "'");
}

}  // namespace meadow::coordinator
