// A buyer's whole path over real HTTP: an operator adds a customer with the CLI; the buyer
// submits a crawl of the demo site with its API key; two meadow-node processes do the work;
// the example Python client (client/python/meadow_buyer.py) downloads the dataset and checks
// every shard's SHA-256, the Merkle root and the coordinator's signature; every record
// validates against the record schema; and a download broken off halfway resumes with Range
// to the same bytes.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/coordinator_process.h"
#include "support/demo_site.h"
#include "support/http_client.h"
#include "support/test_env.h"

namespace meadow {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

class BuyerNetwork : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.file("site"));
    std::filesystem::create_directories(dir_.file("coordinator"));
    site_ = std::make_unique<testing::DemoSite>(dir_.file("site"));
    ASSERT_TRUE(site_->start().ok());
    coordinator_ = std::make_unique<testing::CoordinatorProcess>(
        dir_.file("coordinator"),
        "allow_loopback_targets = true\nretry_delay_ms = 100\nreap_interval_ms = 100\nsite_rate = 200\n"
        "site_burst = 200\nidle_poll_ms = 200\nshard_bytes = 30000\nshard_frame_records = 4\n");
    ASSERT_TRUE(coordinator_->start().ok());
  }

  std::unique_ptr<testing::ChildProcess> start_node(const std::string& name) {
    return std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{testing::binary("client/node/meadow-node"), "run", "--coordinator",
                                 api(), "--account", name, "--data-dir", dir_.file(name),
                                 "--allow-loopback", "--status-every", "0", "--set", "host_interval_ms=0", "--set",
                                 "fetch_timeout_ms=2000", "--set", "upload_delay_ms=200"},
        dir_.file(name + ".log"));
  }

  std::string api() const { return "http://127.0.0.1:" + std::to_string(coordinator_->port()); }

  Result<testing::TestHttpResponse> call(const std::string& method, const std::string& target,
                                         const std::string& body = "") {
    testing::TestHttpClient c(coordinator_->port());
    return c.request(method, target, body, {{"Authorization", "Bearer " + key_}, {"Content-Type", "application/json"}});
  }

  testing::RunResult client(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/python3", std::string(MEADOW_SOURCE_DIR) + "/client/python/meadow_buyer.py",
                                     "--api", api(), "--key", key_};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run_command(argv, 120s);
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::DemoSite> site_;
  std::unique_ptr<testing::CoordinatorProcess> coordinator_;
  std::string key_;
};

TEST_F(BuyerNetwork, ABuyersCrawlBecomesAVerifiedDatasetThatResumesWithRange) {
  auto added = coordinator_->cli({"customer", "add", "acme", "--max-pages", "500"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  key_ = added.out.substr(0, added.out.find('\n'));
  ASSERT_EQ(key_.rfind("mdw_", 0), 0u) << added.out;

  auto job = call("POST", "/v1/jobs",
                  R"({"name":"demo site","scope":"site","max_depth":3,"max_pages":200,"site_rate":100,"captures":true,"urls":[")" +
                      site_->url("/") + "\"]}");
  ASSERT_TRUE(job.ok());
  ASSERT_EQ(job->status, 201) << job->body;
  const std::int64_t job_id = json::parse(job->body).at("id").as_int64();

  auto alice = start_node("alice");
  auto bob = start_node("bob");
  // The job finishes, and its last shard is sealed soon after.
  std::int64_t records = 0, shards = 0, duplicates = 0;
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto d = call("GET", "/v1/datasets/" + std::to_string(job_id));
    if (d.ok() && d->status == 200) {
      auto o = json::parse(d->body).as_object();
      records = o.at("records").as_int64();
      shards = o.at("shards").as_int64();
      duplicates = o.at("duplicates_dropped").as_int64();
      if (o.at("job_state").as_string() == "done" && o.at("sealed_records").as_int64() == records) break;
    }
    std::this_thread::sleep_for(200ms);
  }
  alice->signal(SIGTERM);
  bob->signal(SIGTERM);
  EXPECT_EQ(alice->wait(15s), 0);
  EXPECT_EQ(bob->wait(15s), 0);
  ASSERT_GE(records, 10) << "the demo site has more pages than this";
  ASSERT_GE(shards, 2) << "20 kB shards: a crawl of the demo site fills several";

  auto progress = call("GET", "/v1/jobs/" + std::to_string(job_id));
  ASSERT_TRUE(progress.ok());
  auto p = json::parse(progress->body).at("progress").as_object();
  EXPECT_EQ(p.at("pending").as_int64(), 0);
  EXPECT_EQ(p.at("done").as_int64(), records + duplicates) << "every accepted page is in the dataset once";

  // The example client downloads and verifies everything.
  const std::string out = dir_.file("download");
  auto dl = client({"download", std::to_string(job_id), "--out", out});
  ASSERT_EQ(dl.exit_code, 0) << dl.out << dl.err;
  EXPECT_NE(dl.out.find("manifest signature: valid"), std::string::npos) << dl.out;
  EXPECT_NE(dl.out.find("verified"), std::string::npos) << dl.out;
  EXPECT_EQ(dl.out.find("MISMATCH"), std::string::npos) << dl.out;
  // The job asked for captures: each shard has its WARC file beside it, one response per record,
  // checked by the client against the records' signed body hashes.
  std::int64_t captured = 0;
  for (std::size_t at = dl.out.find(" captured responses"); at != std::string::npos;
       at = dl.out.find(" captured responses", at + 1)) {
    const std::size_t start = dl.out.rfind(": ", at);
    captured += std::stoll(dl.out.substr(start + 2, at - start - 2));
  }
  EXPECT_EQ(captured, records) << dl.out;
  auto warc_text = testing::run_command({"/usr/bin/zstd", "-dcq", out + "/captures-00000.warc.zst"}, 30s);
  ASSERT_EQ(warc_text.exit_code, 0) << warc_text.err;
  EXPECT_EQ(warc_text.out.rfind("WARC/1.1\r\nWARC-Type: warcinfo\r\n", 0), 0u);
  EXPECT_NE(warc_text.out.find("WARC-Type: request"), std::string::npos);
  EXPECT_NE(warc_text.out.find("\r\nUser-Agent: meadow/"), std::string::npos) << "the request head as the node sent it";
  EXPECT_NE(warc_text.out.find("WARC-IP-Address: 127.0.0.1"), std::string::npos);

  // Every record validates against the record schema, and the manifest against its own.
  auto schema = testing::run_command(
      {"/usr/bin/python3", "-c",
       "import json,subprocess,sys,glob,jsonschema\n"
       "schema=json.load(open(sys.argv[1]))\n"
       "v=jsonschema.Draft202012Validator(schema)\n"
       "n=0\n"
       "for f in sorted(glob.glob(sys.argv[2]+'/records-*.jsonl.zst')):\n"
       "  for line in subprocess.run(['zstd','-dcq',f],check=True,capture_output=True).stdout.splitlines():\n"
       "    v.validate(json.loads(line)); n+=1\n"
       "m=json.load(open(sys.argv[2]+'/manifest.json'))\n"
       "jsonschema.Draft202012Validator(json.load(open(sys.argv[3]))).validate(m)\n"
       "print(n)\n",
       std::string(MEADOW_SOURCE_DIR) + "/schemas/record.schema.json", out,
       std::string(MEADOW_SOURCE_DIR) + "/schemas/dataset-manifest.schema.json"},
      60s);
  ASSERT_EQ(schema.exit_code, 0) << schema.err;
  EXPECT_EQ(std::stoll(schema.out), records);

  // Break one shard off halfway; the client resumes it with Range and gets the same bytes.
  const std::string shard = out + "/records-00001.jsonl.zst";
  const std::string whole = testing::file_contents(shard);
  ASSERT_GT(whole.size(), 1000u);
  {
    std::ofstream part(shard + ".part", std::ios::binary);
    part.write(whole.data(), static_cast<std::streamsize>(whole.size() / 2));
  }
  std::filesystem::remove(shard);
  auto again = client({"download", std::to_string(job_id), "--out", out});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(testing::file_contents(shard), whole);
  EXPECT_FALSE(std::filesystem::exists(shard + ".part"));

  // Records since a cursor, through the same client.
  auto since = client({"records", std::to_string(job_id), "--since", "0", "--limit", "5"});
  ASSERT_EQ(since.exit_code, 0) << since.err;
  EXPECT_EQ(std::count(since.out.begin(), since.out.end(), '\n'), 5);
  coordinator_->process().signal(SIGTERM);
  EXPECT_EQ(coordinator_->process().wait(10s), 0);
}

}  // namespace
}  // namespace meadow
