// The whole network on one machine: the real coordinator, real meadow-node processes and the
// demo site, over loopback. A site crawl completes with one accepted, schema-valid record per
// allowed page and no request for a disallowed one; a node killed with -9 between fetching
// and uploading loses nothing and counts nothing twice.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <boost/json/serialize.hpp>
#include <thread>

#include "common/json.h"
#include "coordinator/service.h"
#include "support/coordinator_process.h"
#include "support/demo_site.h"
#include "support/test_env.h"

namespace meadow {
namespace {

using namespace std::chrono_literals;
using coordinator::JobState;

class NodeNetwork : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(site_.start().ok()); }

  static bool make_dirs(const testing::TempDir& d) {
    return std::filesystem::create_directories(d.file("site")) && std::filesystem::create_directories(d.file("coordinator"));
  }

  std::unique_ptr<testing::ChildProcess> start_node(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {testing::binary("client/node/meadow-node"),
                                     "run",
                                     "--coordinator",
                                     "http://127.0.0.1:" + std::to_string(coordinator_.port()),
                                     "--account",
                                     name,
                                     "--name",
                                     name,
                                     "--data-dir",
                                     dir_.file(name),
                                     "--allow-loopback",
                                     "--status-every",
                                     "0",
                                     "--set",
                                     "host_interval_ms=0",
                                     "--set",
                                     "fetch_timeout_ms=2000",
                                     "--set",
                                     "max_page_bytes=2MB",
                                     "--set",
                                     "upload_delay_ms=200"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<testing::ChildProcess>(argv, dir_.file(name + ".log"));
  }

  std::string add_job(const std::vector<std::string>& urls, std::vector<std::string> flags) {
    {
      std::ofstream out(dir_.file("urls.txt"));
      for (const auto& u : urls) out << u << "\n";
    }
    std::vector<std::string> args = {"job", "add", "--name", "e2e", "--urls", dir_.file("urls.txt")};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = coordinator_.cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  // Polls the job through the CLI until it is done, or the deadline passes.
  bool wait_job_done(std::chrono::seconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = coordinator_.cli({"job", "show", "1", "--json"});
      if (r.exit_code == 0 && r.out.find("\"state\":\"done\"") != std::string::npos) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  std::string node_cli(const std::vector<std::string>& args, const std::string& name) {
    std::vector<std::string> argv = {testing::binary("client/node/meadow-node")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--data-dir", dir_.file(name)});
    return testing::run_command(argv, 20s).out;
  }

  testing::TempDir dir_;
  bool dirs_made_ = make_dirs(dir_);
  testing::DemoSite site_{dir_.file("site"), {"--huge-mib", "8"}};
  testing::CoordinatorProcess coordinator_{dir_.file("coordinator"),
                                           "allow_loopback_targets = true\nretry_delay_ms = 100\nreap_interval_ms = 100\n"
                                           "site_rate = 200\nsite_burst = 200\nidle_poll_ms = 200\n"};
};

TEST_F(NodeNetwork, TwoNodesCrawlTheDemoSiteOneValidRecordPerAllowedPageAndNothingDisallowedIsRequested) {
  ASSERT_TRUE(coordinator_.start().ok());
  add_job({site_.url("/")}, {"--scope", "site", "--max-depth", "3", "--max-pages", "200", "--site-rate", "100", "--field",
                             "heading=css:h1", "--field", "post_times=xpath://div[@class='post-meta']/time/@datetime"});
  auto alice = start_node("alice");
  auto bob = start_node("bob");
  ASSERT_TRUE(wait_job_done(120s)) << coordinator_.cli({"job", "show", "1"}).out;
  alice->signal(SIGTERM);
  bob->signal(SIGTERM);
  EXPECT_EQ(alice->wait(15s), 0);
  EXPECT_EQ(bob->wait(15s), 0);
  coordinator_.process().signal(SIGTERM);
  coordinator_.process().wait(10s);

  // Nothing robots.txt disallows was ever requested, by either node.
  for (const auto& e : site_.access_log()) {
    EXPECT_FALSE(e.target.starts_with("/private/secret")) << e.target;
    EXPECT_FALSE(e.target.starts_with("/articles/draft-")) << e.target;
    EXPECT_FALSE(e.target.starts_with("/no-meadow/")) << e.target;
    EXPECT_NE(e.user_agent.find("meadow"), std::string::npos) << e.user_agent;
  }
  EXPECT_LE(site_.requests_to("/robots.txt"), 2u) << "each node reads robots.txt once and keeps it";

  auto store = coordinator::open_sqlite_store(coordinator::SqliteOptions{coordinator_.database()});
  ASSERT_TRUE(store.ok());
  auto results = (*store)->results(1, 0, 10'000);
  ASSERT_TRUE(results.ok());
  std::map<std::string, int> records_per_url;
  std::map<std::string, boost::json::object> record_of;
  std::filesystem::create_directories(dir_.file("samples"));
  std::ofstream ndjson(dir_.file("samples/record--e2e.ndjson"));
  std::set<std::string> nodes;
  for (const auto& r : *results) {
    auto rec = parse_json_object(r.record_json, "record");
    ASSERT_TRUE(rec.ok());
    records_per_url[std::string(rec->at("url").get_string())]++;
    record_of[std::string(rec->at("url").get_string())] = *rec;
    nodes.insert(r.node_id);
    ndjson << r.record_json << "\n";
  }
  ndjson.close();
  for (const auto& [u, n] : records_per_url) EXPECT_EQ(n, 1) << u;
  for (const char* page : {"/", "/articles/", "/articles/1.html", "/articles/6.html", "/forum/thread-1.html",
                           "/docs/install.html", "/charsets/windows-1252.html", "/charsets/shift_jis.html",
                           "/private/press.html"}) {
    EXPECT_EQ(records_per_url[site_.url(page)], 1) << page;
  }
  // The page's metadata and the job's fields come with the record, from the same parse.
  auto json_string = [](const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string("(none)");
  };
  const auto& article = record_of[site_.url("/articles/1.html")];
  EXPECT_EQ(json_string(article, "author"), "Maren Lindqvist");
  EXPECT_EQ(json_string(article, "published"), "2024-07-28");
  ASSERT_TRUE(article.contains("fields"));
  EXPECT_EQ(boost::json::serialize(article.at("fields")),
            R"({"heading":"Cutting the hay meadow late: what our first year taught us"})");
  const auto& thread = record_of[site_.url("/forum/thread-1.html")];
  ASSERT_TRUE(thread.contains("fields"));
  const auto& times = thread.at("fields").at("post_times");
  ASSERT_TRUE(times.is_array()) << boost::json::serialize(times);
  EXPECT_GE(times.as_array().size(), 7u);
  EXPECT_EQ(times.as_array()[0], "2024-02-11T19:42");
  for (const char* never : {"/private/secret.html", "/no-meadow/page.html", "/files/report.pdf", "/files/logo.png"}) {
    EXPECT_EQ(records_per_url.count(site_.url(never)), 0u) << never;
  }

  // Every record validates against schemas/record.schema.json (Debian's python3-jsonschema).
  auto check = testing::run_command({"/usr/bin/python3", std::string(MEADOW_SOURCE_DIR) + "/tests/integration/check_schemas.py",
                                     "--schemas", std::string(MEADOW_SOURCE_DIR) + "/schemas", "--samples",
                                     dir_.file("samples")},
                                    120s);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

  // The nodes' own logs agree: receipts for what was accepted, nothing left in the outbox.
  std::int64_t accepted_by_nodes = 0;
  for (const char* name : {"alice", "bob"}) {
    auto status = parse_json_object(node_cli({"status", "--json"}, name), "status");
    ASSERT_TRUE(status.ok()) << name;
    const auto& totals = status->at("totals").as_object();
    EXPECT_EQ(totals.at("pending").as_int64(), 0) << name;
    EXPECT_EQ(totals.at("refused").as_int64(), 0) << name;
  }
  auto node_rows = (*store)->list_nodes();
  ASSERT_TRUE(node_rows.ok());
  for (const auto& n : *node_rows) accepted_by_nodes += n.accepted;
  EXPECT_EQ(accepted_by_nodes, static_cast<std::int64_t>(results->size()));
}

TEST_F(NodeNetwork, NodeKilledBetweenFetchAndUploadUploadsItsOutboxAfterRestartWithNothingLostOrDoubled) {
  constexpr int kPages = 40;
  ASSERT_TRUE(coordinator_.start().ok());
  std::vector<std::string> urls;
  for (int i = 0; i < kPages; ++i) urls.push_back(site_.url("/pages/" + std::to_string(i) + ".html"));
  add_job(urls, {"--site-rate", "100"});

  // Uploads wait for a batch of 1000 or ten minutes: every result stays in the outbox.
  auto node = start_node("carol", {"--set", "upload_batch=1000", "--set", "upload_delay_ms=600000"});
  auto deadline = std::chrono::steady_clock::now() + 60s;
  std::int64_t pending = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    auto status = parse_json_object(node_cli({"status", "--json"}, "carol"), "status");
    if (status.ok()) pending = status->at("totals").as_object().at("pending").as_int64();
    if (pending == kPages) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(pending, kPages);
  node->signal(SIGKILL);
  node->wait(5s);
  auto before = coordinator_.cli({"job", "show", "1", "--json"});
  EXPECT_NE(before.out.find("\"done\":0"), std::string::npos) << before.out;

  auto again = start_node("carol");
  ASSERT_TRUE(wait_job_done(60s)) << coordinator_.cli({"job", "show", "1"}).out;
  // Until the outbox is empty the node may still be settling receipts.
  auto settle_deadline = std::chrono::steady_clock::now() + 20s;
  std::string status_text;
  while (std::chrono::steady_clock::now() < settle_deadline) {
    status_text = node_cli({"status", "--json"}, "carol");
    if (status_text.find("\"pending\":0") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  again->signal(SIGTERM);
  EXPECT_EQ(again->wait(15s), 0);
  coordinator_.process().signal(SIGTERM);
  coordinator_.process().wait(10s);

  auto status = parse_json_object(status_text, "status");
  ASSERT_TRUE(status.ok()) << status_text;
  const auto& totals = status->at("totals").as_object();
  EXPECT_EQ(totals.at("accepted").as_int64(), kPages);
  EXPECT_EQ(totals.at("pending").as_int64(), 0);
  EXPECT_EQ(totals.at("refused").as_int64(), 0);

  auto store = coordinator::open_sqlite_store(coordinator::SqliteOptions{coordinator_.database()});
  ASSERT_TRUE(store.ok());
  auto results = (*store)->results(1, 0, 1000);
  ASSERT_TRUE(results.ok());
  EXPECT_EQ(results->size(), static_cast<std::size_t>(kPages));  // one per task, never two
  std::set<std::int64_t> tasks;
  for (const auto& r : *results) tasks.insert(r.task_id);
  EXPECT_EQ(tasks.size(), static_cast<std::size_t>(kPages));
  auto nodes = (*store)->list_nodes();
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ(nodes->front().accepted, kPages);
  // The site saw each page once: the restart re-fetched nothing.
  EXPECT_EQ(site_.requests_to("/pages/"), static_cast<std::size_t>(kPages));
}

}  // namespace
}  // namespace meadow

namespace meadow {
namespace {

// The job's task counts, from `meadow-coordinator job show 1 --json`.
boost::json::object job_counts(testing::CoordinatorProcess& c) {
  auto r = c.cli({"job", "show", "1", "--json"});
  auto o = parse_json_object(r.out, "job");
  if (!o.ok()) return {};
  return o->at("counts").as_object();
}

TEST_F(NodeNetwork, PausedNodeHandsBackTasksItHasNotStartedAndSaysWhy) {
  ASSERT_TRUE(coordinator_.start().ok());
  std::vector<std::string> urls;
  for (int i = 0; i < 20; ++i) urls.push_back(site_.url("/pages/" + std::to_string(i) + ".html"));
  add_job(urls, {"--site-rate", "100"});
  // One fetch at a time, 0.3 s apart: most leased tasks wait in the node's queue.
  auto node = start_node("dave", {"--set", "max_concurrent=1", "--set", "lease_batch=12", "--set", "host_interval_ms=300"});
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline && job_counts(coordinator_)["leased"].to_number<std::int64_t>() < 5) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_GE(job_counts(coordinator_)["leased"].to_number<std::int64_t>(), 5);

  node_cli({"pause", "--for", "1h"}, "dave");
  std::int64_t leased = 99;
  deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    leased = job_counts(coordinator_)["leased"].to_number<std::int64_t>();
    if (leased <= 1) break;  // at most the fetch that was already running
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_LE(leased, 1);
  EXPECT_GE(job_counts(coordinator_)["queued"].to_number<std::int64_t>(), 10);
  auto status = parse_json_object(node_cli({"status", "--json"}, "dave"), "status");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(std::string(status->at("state").as_string()), "limited");
  EXPECT_NE(std::string(status->at("reason").as_string()).find("paused until"), std::string::npos);

  // Resumed, it finishes the job; handing back cost no attempts.
  node_cli({"resume"}, "dave");
  ASSERT_TRUE(wait_job_done(60s)) << coordinator_.cli({"job", "show", "1"}).out;
  EXPECT_EQ(job_counts(coordinator_)["done"].to_number<std::int64_t>(), 20);
  node->signal(SIGTERM);
  EXPECT_EQ(node->wait(15s), 0);
}

}  // namespace
}  // namespace meadow

namespace meadow {
namespace {

TEST_F(NodeNetwork, DailyCapStopsTheNodeWhichSaysWhyAndLeavesTheRestToOthers) {
  ASSERT_TRUE(coordinator_.start().ok());
  std::vector<std::string> urls;
  for (int i = 0; i < 20; ++i) urls.push_back(site_.url("/pages/" + std::to_string(i) + ".html"));
  add_job(urls, {"--site-rate", "100"});
  // Pages are about 22 kB: the cap is reached after a few of them.
  auto node = start_node("erin", {"--set", "daily_cap=100kB", "--set", "max_concurrent=1", "--set", "host_interval_ms=100"});
  auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string state;
  boost::json::object status;
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = parse_json_object(node_cli({"status", "--json"}, "erin"), "status");
    if (s.ok()) {
      status = *s;
      state = std::string(status["state"].as_string());
      if (state == "limited" && status["in_flight"].as_int64() == 0) break;
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(state, "limited");
  EXPECT_NE(std::string(status["reason"].as_string()).find("cap"), std::string::npos) << status["reason"];
  const std::int64_t fetched = status["totals"].as_object()["fetched"].as_int64();
  EXPECT_GE(fetched, 4);
  EXPECT_LE(fetched, 8);  // it stopped soon after the cap, not at the end of the job

  // Nothing stays leased to the capped node: the rest of the job waits for others.
  deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline && job_counts(coordinator_)["leased"].to_number<std::int64_t>() > 0) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(job_counts(coordinator_)["leased"].to_number<std::int64_t>(), 0);
  auto other = start_node("frank");
  ASSERT_TRUE(wait_job_done(60s)) << coordinator_.cli({"job", "show", "1"}).out;
  node->signal(SIGTERM);
  other->signal(SIGTERM);
  EXPECT_EQ(node->wait(15s), 0);
  EXPECT_EQ(other->wait(15s), 0);
  EXPECT_EQ(site_.requests_to("/pages/"), 20u);  // no page was fetched twice
}

}  // namespace
}  // namespace meadow

namespace meadow {
namespace {

TEST_F(NodeNetwork, LeaseOfASlowPageIsExtendedSoItsResultIsAccepted) {
  // Leases of 2 s, a page that takes 4 s: only extensions keep the task this node's.
  std::filesystem::create_directories(dir_.file("coordinator-short"));
  testing::CoordinatorProcess coord(dir_.file("coordinator-short"),
                                    "allow_loopback_targets = true\nlease_ms = 2000\nreap_interval_ms = 100\n");
  ASSERT_TRUE(coord.start().ok());
  {
    std::ofstream out(dir_.file("slow.txt"));
    out << site_.url("/slow?seconds=4") << "\n";
  }
  auto add = coord.cli({"job", "add", "--name", "slow", "--urls", dir_.file("slow.txt")});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  std::vector<std::string> argv = {testing::binary("client/node/meadow-node"), "run", "--coordinator",
                                   "http://127.0.0.1:" + std::to_string(coord.port()), "--account", "gina",
                                   "--data-dir", dir_.file("gina"), "--allow-loopback", "--status-every", "0",
                                   "--set", "fetch_timeout_ms=10000", "--set", "upload_delay_ms=100"};
  testing::ChildProcess node(argv, dir_.file("gina.log"));
  auto deadline = std::chrono::steady_clock::now() + 30s;
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    done = coord.cli({"job", "show", "1", "--json"}).out.find("\"state\":\"done\"") != std::string::npos;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(done) << coord.cli({"job", "show", "1"}).out;
  auto status = parse_json_object(node_cli({"status", "--json"}, "gina"), "status");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->at("totals").as_object().at("accepted").as_int64(), 1);
  EXPECT_EQ(status->at("totals").as_object().at("refused").as_int64(), 0);
  auto show = coord.cli({"job", "show", "1", "--json"});
  EXPECT_NE(show.out.find("\"done\":1"), std::string::npos) << show.out;
  node.signal(SIGTERM);
  EXPECT_EQ(node.wait(15s), 0);
}

}  // namespace
}  // namespace meadow
