// The edge node's page pipeline on one core, side by side with Scrapy in the same run.
//
// Writes N demo pages (~22 KB each) with `meadow-demo-site --write-pages` and serves them from
// a loopback nginx pinned to the second CPU (meadow-demo-site itself when nginx is missing).
// Meadow: one thread pinned to the first CPU runs what meadow-node does for every page, with a
// fixed number of fetches in flight: Fetcher (robots.txt, guard, content type), the
// ResultFramer the engine uses (the fetches that end in one loop turn extracted, built into
// records, signed with Ed25519 together and compressed with zstd, at the turn's end) and its
// OutboxWriter (those results written to the outbox in one transaction). Every fetch must
// succeed, every frame be non-empty and every outbox write succeed; misses are "errors".
// Scrapy (tests/bench/scrapy_peer.py, Debian's python3-scrapy) then crawls the same URLs from
// the same server on the same CPU, extracting title, text and links. Last, meadow-node runs
// against a coordinator with no work and its idle RSS is read. Between the two runs, the first
// 500 pages go through framing's stages ("stages_ms_per_page": parse, extract with its parse,
// record, signed line, zstd; hashed and signed 16 pages at a time, as in a busy turn) to show
// where a page's CPU goes.
//
// Prints one JSON line on stdout; progress and a short summary go to stderr. Without nginx or
// Scrapy it still prints meadow's figures ("site":"meadow-demo-site", "scrapy":null).
//
//   bench_node [--pages 4000] [--concurrency 32] [--site nginx|demo]
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/core/fetcher.h"
#include "client/core/http_loop.h"
#include "client/core/node_store.h"
#include "client/core/outbox_writer.h"
#include "client/core/record.h"
#include "client/core/result_framer.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/html_dom.h"
#include "common/protocol.h"
#include "common/sha2.h"
#include "common/zstd.h"
#include "support/coordinator_process.h"
#include "support/http_client.h"
#include "support/nginx.h"
#include "support/process.h"
#include "support/test_env.h"

namespace {

using namespace meadow;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr double kGoalRatio = 10;
constexpr double kGoalRssMib = 30;
constexpr auto kIdleWait = 5s;

struct Settings {
  int pages = 4000;
  int concurrency = 32;
  bool nginx = true;  // --site demo: serve with meadow-demo-site even when nginx is installed
};

struct MeadowRun {
  int pages = 0;  // fetched, framed and stored without a fault
  int errors = 0;
  std::string first_error;
  std::int64_t html_bytes = 0;
  double seconds = 0;
  double thread_cpu_s = 0;
  double frame_s = 0;  // wall time framing (ResultFramer::Stats::frame_ns)
  double store_s = 0;  // wall time writing the outbox
  std::int64_t store_batches = 0;
  std::int64_t frame_bytes = 0;
};

struct ScrapyRun {
  double pages = 0;
  double errors = 0;
  double seconds = 0;
  double cpu_s = 0;
  double text_bytes_avg = 0;
  double links_avg = 0;
  std::string version;
};

// What else ran on the machine during a phase, as cores' worth of CPU.
struct Phase {
  double machine0 = 0, own0 = 0, site0 = 0;
  Steady::time_point t0;
  void begin(pid_t site) {
    machine0 = testing::machine_cpu_seconds();
    own0 = testing::own_cpu_seconds();
    site0 = testing::cpu_seconds_of(site);
    t0 = Steady::now();
  }
  // (other cores busy, site CPU seconds) since begin(); `extra_s`: CPU of a child we ran.
  std::pair<double, double> end(pid_t site, double extra_s) const {
    const double wall = std::chrono::duration<double>(Steady::now() - t0).count();
    const double site_s = testing::cpu_seconds_of(site) - site0;
    const double other =
        (testing::machine_cpu_seconds() - machine0) - (testing::own_cpu_seconds() - own0) - site_s - extra_s;
    return {wall > 0 ? std::max(0.0, other) / wall : 0, site_s};
  }
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double seconds_since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string tail(const std::string& s, std::size_t n = 2000) { return s.size() > n ? s.substr(s.size() - n) : s; }

// fetch -> frame_result -> OutboxWriter for every URL, `concurrency` fetches in flight, on
// the calling thread (pinned to `cpu` when >= 0).
MeadowRun run_meadow(const std::vector<std::string>& urls, int concurrency, int cpu, const std::string& db) {
  MeadowRun run;
  auto fail = [&run](const std::string& what) {
    ++run.errors;
    if (run.first_error.empty()) run.first_error = what;
  };
  if (cpu >= 0 && !testing::pin_calling_thread(cpu)) std::fprintf(stderr, "bench_node: could not pin to CPU %d\n", cpu);

  auto store = client::NodeStore::open(db);
  if (!store.ok()) {
    fail("node store: " + store.error().message);
    return run;
  }
  const crypto::KeyPair key = crypto::KeyPair::generate();
  const std::string node_id = key.public_key().id();

  client::HttpLoop loop;
  client::FetchSettings fs;
  fs.user_agent = "meadow-node/bench (+https://meadow.example/bench)";
  fs.host_interval_ms = 0;
  fs.guard.allow_loopback = true;
  client::Fetcher fetcher(loop, system_clock(), fs);
  client::OutboxWriter outbox(**store, loop, [&](const Error& e, std::size_t rows) {
    run.errors += static_cast<int>(rows);
    run.pages -= static_cast<int>(rows);
    if (run.first_error.empty()) run.first_error = "outbox: " + e.message;
  });
  // The fetches that end in one loop turn are framed together at its end, as the engine does.
  client::ResultFramer framer(loop, key, node_id,
                              [&](protocol::TaskLease task, client::FetchResult r, client::FramedResult framed) {
                                run.frame_bytes += static_cast<std::int64_t>(framed.frame.size());
                                const std::string& url = task.url;
                                if (r.outcome != protocol::Outcome::ok || r.http_status != 200 || r.truncated) {
                                  fail(url + ": " + std::to_string(r.http_status) + " " + r.reason_code + " " + r.reason);
                                } else if (!framed.error.empty() || framed.frame.empty() || framed.record_id.empty()) {
                                  fail(url + ": no record: " + framed.error);
                                } else {
                                  ++run.pages;  // until the outbox write fails
                                  run.html_bytes += static_cast<std::int64_t>(r.body.size());
                                }
                                outbox.add(client::contribution_of(task, r, framed), std::move(framed.frame));
                              });

  const std::int64_t deadline_ms = system_clock().now_ms() + 3'600'000;
  std::size_t next = 0, done = 0, in_flight = 0;
  bool launching = false;
  std::function<void()> launch;
  auto on_fetched = [&](std::size_t i, client::FetchResult r) {
    --in_flight;
    ++done;
    protocol::TaskLease task;
    task.task_id = static_cast<std::int64_t>(i) + 1;
    task.job_id = 1;
    task.url = urls[i];
    task.token = static_cast<std::int64_t>(i) + 1;
    task.deadline_ms = deadline_ms;
    framer.add(std::move(task), std::move(r));
    launch();
  };
  launch = [&] {
    if (launching) return;  // a fetch that ends at once calls back into here
    launching = true;
    while (next < urls.size() && in_flight < static_cast<std::size_t>(concurrency)) {
      const std::size_t i = next++;
      ++in_flight;
      fetcher.fetch(urls[i], [&on_fetched, i](client::FetchResult r) { on_fetched(i, std::move(r)); });
    }
    launching = false;
  };

  const auto t0 = Steady::now();
  const double cpu0 = thread_cpu_seconds();
  launch();
  const auto give_up = t0 + std::chrono::seconds(60 + urls.size() / 10);
  while (done < urls.size() && Steady::now() < give_up) {
    loop.run_once(50);
    if (in_flight == 0 && next < urls.size()) launch();
  }
  framer.flush();
  outbox.flush();
  run.frame_s = static_cast<double>(framer.stats().frame_ns) / 1e9;
  run.store_s = static_cast<double>(outbox.stats().write_ns) / 1e9;
  run.store_batches = outbox.stats().batches;
  run.seconds = seconds_since(t0);
  run.thread_cpu_s = thread_cpu_seconds() - cpu0;
  if (done < urls.size()) fail("timed out with " + std::to_string(urls.size() - done) + " pages not done");
  return run;
}

std::optional<ScrapyRun> parse_scrapy(const std::string& out) {
  std::string line;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);)
    if (!l.empty() && l.front() == '{') line = l;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  auto number = [&o](const char* k) {
    const boost::json::value* f = o.if_contains(k);
    if (f == nullptr) return 0.0;
    boost::system::error_code e;
    double d = f->to_number<double>(e);
    return e ? 0.0 : d;
  };
  ScrapyRun s;
  s.pages = number("pages");
  s.errors = number("errors");
  s.seconds = number("seconds");
  s.cpu_s = number("cpu_s");
  s.text_bytes_avg = number("text_bytes_avg");
  s.links_avg = number("links_avg");
  if (const auto* ver = o.if_contains("scrapy"); ver != nullptr && ver->is_string())
    s.version = ver->as_string().c_str();
  if (s.seconds <= 0) return std::nullopt;
  return s;
}

// meadow-node's resident memory once it has registered and is long-polling a coordinator
// that has no work; the highest of a few readings. -1 when it could not be measured.
double node_idle_rss(const std::string& dir) {
  std::filesystem::create_directories(dir + "/coordinator");
  std::filesystem::create_directories(dir + "/node");
  testing::CoordinatorProcess coordinator(dir + "/coordinator");
  if (auto st = coordinator.start(); !st.ok()) {
    std::fprintf(stderr, "bench_node: idle RSS not measured: %s\n", st.error().message.c_str());
    return -1;
  }
  testing::ChildProcess node({testing::binary("client/node/meadow-node"), "run", "--coordinator",
                              "http://127.0.0.1:" + std::to_string(coordinator.port()), "--account", "bench",
                              "--data-dir", dir + "/node", "--status-every", "0"},
                             dir + "/node.log");
  std::this_thread::sleep_for(kIdleWait);
  double rss = -1;
  for (int i = 0; i < 5 && node.running(); ++i) {
    rss = std::max(rss, testing::rss_mib(node.pid()));
    std::this_thread::sleep_for(200ms);
  }
  if (!node.running()) {
    std::fprintf(stderr, "bench_node: meadow-node stopped while idle; its log:\n%s\n",
                 tail(read_file(dir + "/node.log")).c_str());
    rss = -1;
  } else if (read_file(dir + "/node.log").find("registered as") == std::string::npos) {
    std::fprintf(stderr, "bench_node: meadow-node had not registered when its RSS was read; its log:\n%s\n",
                 tail(read_file(dir + "/node.log")).c_str());
  }
  node.signal(SIGTERM);
  if (node.wait(15s) != 0) std::fprintf(stderr, "bench_node: meadow-node did not stop cleanly on SIGTERM\n");
  coordinator.process().signal(SIGTERM);
  coordinator.process().wait(15s);
  return rss;
}

// Where a page's CPU goes: the first `n` written pages through the calls frame_result makes,
// timed one stage at a time on the calling thread (pinned to `cpu` when >= 0), best of three
// passes. Parse is part of extract; signed line is canonical JSON plus Ed25519.
struct Stages {
  double parse_ms = -1, extract_ms = -1, record_ms = -1, signed_line_ms = -1, zstd_ms = -1;
};

Stages stage_figures(const std::string& site_dir, int n, int cpu) {
  Stages best;
  if (cpu >= 0) testing::pin_calling_thread(cpu);
  std::vector<std::string> bodies;
  for (int i = 0; i < n; ++i) bodies.push_back(read_file(site_dir + "/pages/" + std::to_string(i) + ".html"));
  const crypto::KeyPair key = crypto::KeyPair::generate();
  const std::string node_id = key.public_key().id();
  auto keep_best = [](double& slot, double ms) { slot = slot < 0 ? ms : std::min(slot, ms); };
  constexpr std::size_t kGroup = 16;  // signed together, as a busy node's loop turn does
  for (int pass = 0; pass < 3; ++pass) {
    double parse = 0, extract = 0, record = 0, line = 0, zstd_s = 0;
    for (std::size_t g = 0; g < bodies.size(); g += kGroup) {
      std::vector<client::FetchResult> fetches;
      std::vector<protocol::TaskLease> tasks;
      std::vector<extract::Page> pages;
      for (std::size_t i = g; i < std::min(bodies.size(), g + kGroup); ++i) {
        client::FetchResult fetch;
        fetch.url = fetch.final_url = "http://127.0.0.1/pages/" + std::to_string(i) + ".html";
        fetch.http_status = 200;
        fetch.content_type = "text/html";
        fetch.content_type_header = "text/html; charset=utf-8";
        fetch.body = bodies[i];
        protocol::TaskLease task;
        task.task_id = static_cast<std::int64_t>(i) + 1;
        task.job_id = 1;
        task.token = 1;
        task.url = fetch.url;
        auto t0 = Steady::now();
        { const extract::HtmlDoc doc = extract::parse_html(fetch.body); }
        auto t1 = Steady::now();
        auto page = extract::extract({fetch.body, fetch.final_url, fetch.content_type_header, {}, &task.fields});
        auto t2 = Steady::now();
        parse += std::chrono::duration<double>(t1 - t0).count();
        extract += std::chrono::duration<double>(t2 - t1).count();
        if (!page.ok()) continue;
        fetches.push_back(std::move(fetch));
        tasks.push_back(std::move(task));
        pages.push_back(std::move(page).value());
      }
      // Records: the bodies' and texts' SHA-256 together, as frame_results does, then each.
      auto t3 = Steady::now();
      std::vector<std::string_view> to_hash;
      for (std::size_t k = 0; k < pages.size(); ++k) {
        to_hash.push_back(fetches[k].body);
        to_hash.push_back(pages[k].text);
      }
      std::vector<crypto::Sha256> digests(to_hash.size());
      crypto::sha256_many(to_hash, digests.data());
      std::vector<boost::json::object> records;
      std::vector<protocol::OkLineInput> lines;
      records.reserve(pages.size());
      for (std::size_t k = 0; k < pages.size(); ++k) {
        const client::PageHashes hashes{digests[2 * k], digests[2 * k + 1]};
        records.push_back(client::build_record(tasks[k], fetches[k], pages[k], node_id, &hashes));
        lines.push_back({tasks[k].task_id, tasks[k].token, &records.back(), {}});
      }
      record += std::chrono::duration<double>(Steady::now() - t3).count();
      auto t4 = Steady::now();
      std::vector<std::string> signed_lines = protocol::signed_ok_lines_json(lines, key);
      for (std::string& l : signed_lines) l += '\n';
      auto t5 = Steady::now();
      for (const std::string& l : signed_lines) (void)zstd::compress(l);
      auto t6 = Steady::now();
      line += std::chrono::duration<double>(t5 - t4).count();
      zstd_s += std::chrono::duration<double>(t6 - t5).count();
    }
    const double per = 1000.0 / static_cast<double>(std::max<std::size_t>(bodies.size(), 1));
    keep_best(best.parse_ms, parse * per);
    keep_best(best.extract_ms, extract * per);
    keep_best(best.record_ms, record * per);
    keep_best(best.signed_line_ms, line * per);
    keep_best(best.zstd_ms, zstd_s * per);
  }
  return best;
}

std::string num(double v, int decimals) {
  if (!std::isfinite(v) || v < 0) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

bool parse_args(int argc, char** argv, Settings& s) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--pages" || a == "--concurrency") && i + 1 < argc) {
      const int v = std::atoi(argv[++i]);
      if (v <= 0 || v > 1'000'000) return false;
      (a == "--pages" ? s.pages : s.concurrency) = v;
    } else if (a == "--site" && i + 1 < argc) {
      const std::string v = argv[++i];
      if (v != "nginx" && v != "demo") return false;
      s.nginx = v == "nginx";
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Settings set;
  if (!parse_args(argc, argv, set)) {
    std::fprintf(stderr, "usage: bench_node [--pages N (4000)] [--concurrency C (32)] [--site nginx|demo]\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);

  testing::TempDir dir;
  const std::string site_dir = dir.file("site");
  std::filesystem::create_directories(site_dir);
  std::filesystem::create_directories(dir.file("meadow"));

  std::fprintf(stderr, "bench_node: writing %d pages ...\n", set.pages);
  const std::string demo = testing::binary("tests/demo_site/meadow-demo-site");
  auto wrote = testing::run_command({demo, "--write-pages", site_dir, std::to_string(set.pages)}, 300s);
  if (wrote.exit_code != 0) {
    std::fprintf(stderr, "bench_node: meadow-demo-site --write-pages failed (%d): %s%s\n", wrote.exit_code,
                 wrote.out.c_str(), wrote.err.c_str());
    return 1;
  }
  std::int64_t written_bytes = 0;
  for (int i = 0; i < set.pages; ++i) {
    std::error_code ec;
    auto n = std::filesystem::file_size(site_dir + "/pages/" + std::to_string(i) + ".html", ec);
    if (!ec) written_bytes += static_cast<std::int64_t>(n);
  }

  const std::vector<int> cpus = testing::allowed_cpus();
  const int meadow_cpu = cpus.empty() ? -1 : cpus[0];
  const int site_cpu = cpus.size() >= 2 ? cpus[1] : -1;
  if (!testing::can_pin_children()) std::fprintf(stderr, "bench_node: no taskset; the site and Scrapy run unpinned\n");

  // The site: nginx serving the written files, or the demo site generating the same bytes.
  std::string site = "nginx";
  std::unique_ptr<testing::Nginx> nginx;
  std::unique_ptr<testing::ChildProcess> demo_site;
  if (set.nginx) {
    auto started = testing::Nginx::start(dir.file("nginx"), site_dir, site_cpu, "/robots.txt");
    if (started.ok()) {
      nginx = std::move(started).value();
    } else {
      std::fprintf(stderr, "bench_node: %s\nbench_node: serving with meadow-demo-site\n",
                   started.error().message.c_str());
    }
  }
  std::uint16_t port = nginx ? nginx->port() : 0;
  if (!nginx) {
    site = "meadow-demo-site";
    port = testing::free_port();
    demo_site = std::make_unique<testing::ChildProcess>(
        testing::pinned({demo, "--port", std::to_string(port)}, site_cpu), dir.file("demo-site.out"));
    if (!testing::wait_ready(port, 10s, "/robots.txt")) {
      std::fprintf(stderr, "bench_node: meadow-demo-site did not start:\n%s\n",
                   tail(read_file(dir.file("demo-site.out"))).c_str());
      return 1;
    }
  }
  const pid_t site_pid = nginx ? nginx->pid() : demo_site->pid();

  std::vector<std::string> urls;
  urls.reserve(static_cast<std::size_t>(set.pages));
  {
    std::ofstream out(dir.file("urls.txt"));
    for (int i = 0; i < set.pages; ++i) {
      urls.push_back("http://127.0.0.1:" + std::to_string(port) + "/pages/" + std::to_string(i) + ".html");
      out << urls.back() << "\n";
    }
  }

  char load[64] = {};
  {
    std::ifstream la("/proc/loadavg");
    la.getline(load, sizeof load);
  }
  const double load1 = std::atof(load);

  // Meadow, on its own thread so only that thread is pinned.
  std::fprintf(stderr, "bench_node: meadow: %d pages from %s on 127.0.0.1:%u, %d in flight, CPU %d ...\n", set.pages,
               site.c_str(), port, set.concurrency, meadow_cpu);
  Phase mp;
  mp.begin(site_pid);
  MeadowRun meadow;
  const auto meadow_t0 = Steady::now();
  std::thread([&] { meadow = run_meadow(urls, set.concurrency, meadow_cpu, dir.file("meadow/node.db")); }).join();
  std::fprintf(stderr, "bench_node: meadow: %.2f s measured, %.2f s more opening and closing the store and loop\n",
               meadow.seconds, seconds_since(meadow_t0) - meadow.seconds);
  const auto [meadow_other, meadow_site_s] = mp.end(site_pid, 0);
  const double meadow_process_cpu = testing::own_cpu_seconds() - mp.own0;
  if (meadow.errors > 0)
    std::fprintf(stderr, "bench_node: meadow: %d errors; first: %s\n", meadow.errors, meadow.first_error.c_str());

  Stages stages;
  std::thread([&] { stages = stage_figures(site_dir, std::min(set.pages, 500), meadow_cpu); }).join();
  std::fprintf(stderr,
               "bench_node: stages, ms per page: parse %.3f, extract with its parse %.3f, record %.3f, signed line "
               "%.3f, zstd %.3f\n",
               stages.parse_ms, stages.extract_ms, stages.record_ms, stages.signed_line_ms, stages.zstd_ms);

  // Scrapy, same CPU, same server, same URLs.
  std::optional<ScrapyRun> scrapy;
  double scrapy_other = -1, scrapy_site_s = -1;
  const std::string python = "/usr/bin/python3";
  const std::string peer = std::string(MEADOW_SOURCE_DIR) + "/tests/bench/scrapy_peer.py";
  if (access(python.c_str(), X_OK) != 0 || testing::run_command({python, "-c", "import scrapy"}, 60s).exit_code != 0) {
    std::fprintf(stderr, "bench_node: Scrapy not available (apt install python3-scrapy); no peer figures\n");
  } else {
    std::fprintf(stderr, "bench_node: scrapy: the same %d pages, CPU %d ...\n", set.pages, meadow_cpu);
    Phase sp;
    sp.begin(site_pid);
    const auto timeout = std::chrono::seconds(120 + set.pages / 10);
    auto r = testing::run_command(testing::pinned({python, peer, "--urls", dir.file("urls.txt"), "--concurrency",
                                                   std::to_string(set.concurrency)},
                                                  meadow_cpu),
                                  timeout);
    scrapy = parse_scrapy(r.out);
    std::tie(scrapy_other, scrapy_site_s) = sp.end(site_pid, scrapy ? scrapy->cpu_s : 0);
    if (!scrapy) {
      std::fprintf(stderr, "bench_node: scrapy_peer.py gave no figures (exit %d):\n%s%s\n", r.exit_code,
                   tail(r.out).c_str(), tail(r.err).c_str());
    } else if (r.exit_code != 0 || scrapy->errors > 0) {
      std::fprintf(stderr, "bench_node: scrapy_peer.py exit %d, %.0f errors:\n%s\n", r.exit_code, scrapy->errors,
                   tail(r.err).c_str());
    }
  }
  nginx.reset();
  if (demo_site) {
    demo_site->signal(SIGTERM);
    if (demo_site->wait(10s) == -1) demo_site->signal(SIGKILL);
  }

  std::fprintf(stderr, "bench_node: meadow-node idle RSS (%lld s after start) ...\n",
               static_cast<long long>(kIdleWait.count()));
  const double rss = node_idle_rss(dir.file("idle"));

  const double pages = meadow.pages;
  const double meadow_pps = meadow.seconds > 0 ? pages / meadow.seconds : 0;
  const double scrapy_pps = scrapy ? scrapy->pages / scrapy->seconds : -1;
  const double ratio = scrapy && scrapy_pps > 0 ? meadow_pps / scrapy_pps : -1;
  auto per_page_ms = [](double secs, double n) { return n > 0 ? 1000 * secs / n : -1; };

  std::string scrapy_json = "null";
  if (scrapy) {
    scrapy_json = "{\"version\":\"" + scrapy->version + "\",\"pages_per_s\":" + num(scrapy_pps, 1) +
                  ",\"seconds\":" + num(scrapy->seconds, 3) + ",\"pages\":" + num(scrapy->pages, 0) +
                  ",\"errors\":" + num(scrapy->errors, 0) +
                  ",\"cpu_ms_per_page\":" + num(per_page_ms(scrapy->cpu_s, scrapy->pages), 3) +
                  ",\"site_cpu_ms_per_page\":" + num(per_page_ms(scrapy_site_s, scrapy->pages), 3) +
                  ",\"text_bytes_avg\":" + num(scrapy->text_bytes_avg, 0) +
                  ",\"links_avg\":" + num(scrapy->links_avg, 1) + "}";
  }
  std::printf(
      "{\"bench\":\"node\",\"pages\":%d,\"concurrency\":%d,\"site\":\"%s\",\"page_bytes_avg\":%s,"
      "\"meadow\":{\"pages_per_s\":%s,\"mb_per_s\":%s,\"cpu_ms_per_page\":%s,\"thread_cpu_ms_per_page\":%s,"
      "\"frame_ms_per_page\":%s,\"store_ms_per_page\":%s,\"store_rows_per_batch\":%s,\"frame_bytes_avg\":%s,\"site_cpu_ms_per_page\":%s,"
      "\"seconds\":%s,\"errors\":%d,\"stages_ms_per_page\":{\"parse\":%s,\"extract\":%s,\"record\":%s,"
      "\"signed_line\":%s,\"zstd\":%s}},"
      "\"scrapy\":%s,\"ratio\":%s,\"goal_ratio\":%.0f,\"node_idle_rss_mib\":%s,\"goal_rss_mib\":%.0f,"
      "\"machine_busy\":{\"cores\":%zu,\"load1_at_start\":%.2f,\"other_cores_during_meadow\":%s,"
      "\"other_cores_during_scrapy\":%s}}\n",
      set.pages, set.concurrency, site.c_str(), num(static_cast<double>(written_bytes) / set.pages, 0).c_str(),
      num(meadow_pps, 1).c_str(), num(static_cast<double>(meadow.html_bytes) / 1e6 / meadow.seconds, 2).c_str(),
      num(per_page_ms(meadow_process_cpu, pages), 3).c_str(), num(per_page_ms(meadow.thread_cpu_s, pages), 3).c_str(),
      num(per_page_ms(meadow.frame_s, pages), 3).c_str(), num(per_page_ms(meadow.store_s, pages), 3).c_str(),
      num(meadow.store_batches > 0 ? pages / static_cast<double>(meadow.store_batches) : -1, 1).c_str(),
      num(pages > 0 ? static_cast<double>(meadow.frame_bytes) / pages : -1, 0).c_str(),
      num(per_page_ms(meadow_site_s, pages), 3).c_str(), num(meadow.seconds, 3).c_str(), meadow.errors,
      num(stages.parse_ms, 3).c_str(), num(stages.extract_ms, 3).c_str(), num(stages.record_ms, 3).c_str(),
      num(stages.signed_line_ms, 3).c_str(), num(stages.zstd_ms, 3).c_str(),
      scrapy_json.c_str(), num(ratio, 2).c_str(), kGoalRatio, num(rss, 1).c_str(), kGoalRssMib, cpus.size(), load1,
      num(meadow_other, 2).c_str(), num(scrapy_other, 2).c_str());
  std::fflush(stdout);

  std::fprintf(stderr, "bench_node: meadow %.0f pages/s (%.2f ms CPU/page, %d errors)", meadow_pps,
               per_page_ms(meadow_process_cpu, pages), meadow.errors);
  if (scrapy)
    std::fprintf(stderr, "; scrapy %.0f pages/s (%.2f ms CPU/page); ratio %.1fx (goal %.0fx)", scrapy_pps,
                 per_page_ms(scrapy->cpu_s, scrapy->pages), ratio, kGoalRatio);
  else
    std::fprintf(stderr, "; no scrapy peer");
  std::fprintf(stderr, "; meadow-node idle RSS %s MiB (goal < %.0f); other load %.2f cores\n", num(rss, 1).c_str(),
               kGoalRssMib, meadow_other);
  return meadow.errors == 0 && meadow.pages == set.pages ? 0 : 1;
}
