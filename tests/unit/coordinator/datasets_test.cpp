// Datasets and the buyer API, through the handlers (no sockets) and a real Assembler on a
// temporary folder: customers and keys, a buyer's job, shards (seekable zstd), the signed
// manifest and Merkle root, downloads with Range and ETag, records since a cursor, and every
// bad request answered with problem+json and no change of state.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <atomic>
#include <map>
#include <sstream>
#include <thread>

#include "common/json.h"
#include "common/merkle.h"
#include "common/zstd.h"
#include "coordinator/api/context.h"
#include "coordinator/api/customers.h"
#include "coordinator/datasets/assembler.h"
#include "coordinator/datasets/shard_file.h"
#include "coordinator/datasets/warc.h"
#include "support/api_fixture.h"
#include "support/test_env.h"

namespace meadow::coordinator {
namespace {

namespace json = boost::json;
using testing::TempDir;
using testing::TestNode;

class DatasetsTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    if (HasFatalFailure()) return;
    ctx_->datasets_dir = dir_.file("datasets");
    datasets::AssemblerOptions a;
    a.dir = ctx_->datasets_dir;
    a.shard_bytes = 600;  // a few test records per shard
    a.shard.frame_records = 2;
    assembler_ = std::make_unique<datasets::Assembler>(*store_, coord_key_, clock_, log_, a);
    ASSERT_EQ(call(node_.register_request(clock_.now_ms())).status, 200);
  }

  static http::Request request(const std::string& method, const std::string& target, const std::string& key,
                               std::string body = "", std::vector<http::Header> extra = {}) {
    http::Request r;
    r.method = method;
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? "" : target.substr(q + 1);
    r.body = std::move(body);
    if (!key.empty()) r.headers.push_back({"authorization", "Bearer " + key});
    r.headers.push_back({"content-type", "application/json"});
    for (auto& h : extra) r.headers.push_back(std::move(h));
    return r;
  }

  // A customer made through the admin API; returns its key's secret.
  std::string add_customer(const std::string& name, const std::string& extra = "") {
    auto resp = call(request("POST", "/v1/admin/customers", kAdminKey, R"({"name":")" + name + "\"" + extra + "}"));
    EXPECT_EQ(resp.status, 201) << resp.body;
    auto o = json::parse(resp.body).as_object();
    customer_ids_[name] = std::string(o.at("id").as_string());
    return std::string(o.at("key").at("secret").as_string());
  }

  std::int64_t submit(const std::string& key, int pages, int expect = 201) {
    json::array urls;
    for (int i = 0; i < pages; ++i) urls.emplace_back("https://shop.example/p/" + std::to_string(i));
    auto resp = call(request("POST", "/v1/jobs", key,
                             R"({"name":"buyer job","site_rate":100,"urls":)" + meadow::to_json(urls) + "}"));
    EXPECT_EQ(resp.status, expect) << resp.body;
    return resp.status == 201 ? json::parse(resp.body).at("id").as_int64() : 0;
  }

  // Leases every task and uploads a record for each; the last two records are the same page
  // (one final URL, one text), so the dataset keeps one of them.
  void crawl(int expected_tasks) {
    auto lease = call(node_.lease_request(clock_.now_ms(), 256));
    auto parsed = protocol::parse_lease_response(lease.body);
    ASSERT_TRUE(parsed.ok()) << lease.body;
    ASSERT_EQ(static_cast<int>(parsed->tasks.size()), expected_tasks);
    std::vector<protocol::ResultLine> lines;
    for (const auto& t : parsed->tasks) lines.push_back(node_.ok_line(t, {}, "text of " + t.url));
    auto& last = lines.back().record;
    const auto& before = lines[lines.size() - 2].record;
    last["final_url"] = before.at("final_url");
    last["text"] = before.at("text");
    last["text_sha256"] = crypto::sha256_hex(before.at("text").as_string());
    lines[lines.size() - 2].record["text_sha256"] = crypto::sha256_hex(before.at("text").as_string());
    for (auto& l : lines) {
      l.record.erase("signature");
      protocol::sign_record(l.record, node_.key());
    }
    auto up = call(node_.upload_request(clock_.now_ms(), lines));
    ASSERT_EQ(up.status, 200) << up.body;
  }

  static std::string read_body(const http::Response& r) {
    if (!r.file) return r.body;
    std::string out(r.file->length, '\0');
    EXPECT_EQ(::pread(r.file->fd, out.data(), out.size(), static_cast<off_t>(r.file->offset)),
              static_cast<ssize_t>(out.size()));
    return out;
  }

  // A job of `pages` tasks for a new customer, crawled and assembled. Returns (key, job).
  std::pair<std::string, std::int64_t> dataset_of(int pages, const std::string& who = "acme") {
    std::string key = add_customer(who);
    std::int64_t job = submit(key, pages);
    crawl(pages);
    auto pass = assembler_->run_once();
    EXPECT_TRUE(pass.ok());
    return {key, job};
  }

  std::unique_ptr<datasets::Assembler> assembler_;
  std::int64_t upload_ms_ = 0;
  TestNode node_;
  std::map<std::string, std::string> customer_ids_;
};

TEST_F(DatasetsTest, AFinishedJobBecomesSignedSeekableShardsWithAMerkleRootAndDuplicatesDropped) {
  auto [key, job] = dataset_of(7);
  auto m = call(request("GET", "/v1/datasets/" + std::to_string(job) + "/manifest.json", key));
  ASSERT_EQ(m.status, 200) << m.body;
  auto manifest = json::parse(read_body(m)).as_object();

  // Signed by the coordinator over canonical JSON of everything else.
  auto sig = crypto::base64_decode(manifest.at("signature").as_string());
  ASSERT_TRUE(sig.ok());
  json::object unsigned_part = manifest;
  unsigned_part.erase("signature");
  EXPECT_TRUE(coord_key_.public_key().verify(canonical_json(unsigned_part), *sig));
  unsigned_part["records"] = 1000;
  EXPECT_FALSE(coord_key_.public_key().verify(canonical_json(unsigned_part), *sig)) << "the signature covers the counts";

  // Seven accepted, one the same page as another: six records, in more than one shard.
  EXPECT_EQ(manifest.at("records").as_int64(), 6);
  EXPECT_EQ(manifest.at("duplicates_dropped").as_int64(), 1);
  const auto& shards = manifest.at("shards").as_array();
  ASSERT_GE(shards.size(), 2u);
  std::vector<crypto::Sha256> leaves;
  std::int64_t counted = 0;
  for (const auto& s : shards) {
    const auto& o = s.as_object();
    std::string file = testing::file_contents(dir_.file("datasets/" + std::to_string(job) + "/" + std::string(o.at("name").as_string())));
    EXPECT_EQ(static_cast<std::int64_t>(file.size()), o.at("bytes").as_int64());
    EXPECT_EQ(crypto::sha256_hex(file), std::string(o.at("sha256").as_string()));
    // Independent frames of two records each, listed in the seek table.
    auto table = datasets::read_seek_table(file);
    ASSERT_TRUE(table.ok()) << table.error().message;
    EXPECT_EQ(static_cast<std::int64_t>(table->size()), o.at("frames").as_int64());
    std::size_t at = 0;
    for (const auto& f : *table) {
      auto frame = zstd::decompress(std::string_view(file).substr(at, f.compressed), 1 << 20);
      ASSERT_TRUE(frame.ok());
      EXPECT_EQ(frame->size(), f.decompressed);
      EXPECT_LE(std::count(frame->begin(), frame->end(), '\n'), 2);
      at += f.compressed;
    }
    auto all = zstd::decompress(file, 1 << 20);  // a plain zstd reader skips the seek table
    ASSERT_TRUE(all.ok());
    std::istringstream lines(*all);
    for (std::string line; std::getline(lines, line);) {
      ASSERT_TRUE(parse_json_object(line, "record").ok());
      leaves.push_back(crypto::sha256(line));
      ++counted;
    }
  }
  EXPECT_EQ(counted, 6);
  crypto::Sha256 root = merkle::root(leaves);
  EXPECT_EQ(std::string(manifest.at("merkle").at("root").as_string()),
            crypto::to_hex(std::string_view(reinterpret_cast<const char*>(root.data()), root.size())));

  // The card has the front matter dataset hubs read.
  auto card = call(request("GET", "/v1/datasets/" + std::to_string(job) + "/README.md", key));
  ASSERT_EQ(card.status, 200);
  std::string text = read_body(card);
  EXPECT_EQ(text.rfind("---\n", 0), 0u);
  EXPECT_NE(text.find("data_files:"), std::string::npos);
  EXPECT_NE(text.find("num_examples: 6"), std::string::npos);
  EXPECT_NE(text.find("features:"), std::string::npos);
}

TEST_F(DatasetsTest, ShardDownloadsAnswerRangeETagAndTheirSha256) {
  auto [key, job] = dataset_of(5);
  const std::string base = "/v1/datasets/" + std::to_string(job) + "/shards/records-00000.jsonl.zst";
  auto whole = call(request("GET", base, key));
  ASSERT_EQ(whole.status, 200) << whole.body;
  std::string bytes = read_body(whole);
  const std::string* etag = nullptr;
  for (const auto& h : whole.headers) {
    if (h.name == "etag") etag = &h.value;
  }
  ASSERT_NE(etag, nullptr);
  EXPECT_EQ(*etag, "\"" + crypto::sha256_hex(bytes) + "\"");

  auto part = call(request("GET", base, key, "", {{"range", "bytes=10-19"}}));
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(read_body(part), bytes.substr(10, 10));
  auto tail = call(request("GET", base, key, "", {{"range", "bytes=-7"}}));
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(read_body(tail), bytes.substr(bytes.size() - 7));
  auto rest = call(request("GET", base, key, "", {{"range", "bytes=5-"}, {"if-range", *etag}}));
  EXPECT_EQ(read_body(rest), bytes.substr(5));
  auto stale = call(request("GET", base, key, "", {{"range", "bytes=5-"}, {"if-range", "\"other\""}}));
  EXPECT_EQ(stale.status, 200) << "a changed file is sent whole";
  auto cached = call(request("GET", base, key, "", {{"if-none-match", *etag}}));
  EXPECT_EQ(cached.status, 304);
  EXPECT_EQ(cached.file, nullptr);

  auto past = call(request("GET", base, key, "", {{"range", "bytes=" + std::to_string(bytes.size()) + "-"}}));
  expect_problem(past, 416, "range-not-satisfiable");
  bool has_range = false;
  for (const auto& h : past.headers) has_range |= h.name == "content-range" && h.value == "bytes */" + std::to_string(bytes.size());
  EXPECT_TRUE(has_range);
}

TEST_F(DatasetsTest, RecordsWaitingPastSealAfterBecomeAShardWhileTheJobRuns) {
  std::string key = add_customer("slowco");
  std::int64_t job = submit(key, 3);
  auto lease = protocol::parse_lease_response(call(node_.lease_request(clock_.now_ms(), 256)).body);
  ASSERT_TRUE(lease.ok());
  ASSERT_EQ(lease->tasks.size(), 3u);
  // One page comes back, smaller than a shard; the others are still being fetched.
  ASSERT_EQ(call(node_.upload_request(clock_.now_ms(), {node_.ok_line(lease->tasks[0], {}, "slow text")})).status, 200);
  const std::string shards = "/v1/datasets/" + std::to_string(job) + "/shards/records-00000.jsonl.zst";

  ASSERT_TRUE(assembler_->run_once().ok());
  expect_problem(call(request("GET", shards, key)), 404, "unknown-shard");
  clock_.advance_ms(599'000);
  ASSERT_TRUE(assembler_->run_once().ok());
  expect_problem(call(request("GET", shards, key)), 404, "unknown-shard");

  clock_.advance_ms(1'000);  // ten minutes since they were accepted
  auto pass = assembler_->run_once();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->sealed, 1);
  auto got = call(request("GET", shards, key));
  ASSERT_EQ(got.status, 200) << got.body;
  auto ndjson = zstd::decompress(read_body(got), 1 << 20);
  ASSERT_TRUE(ndjson.ok());
  EXPECT_EQ(std::count(ndjson->begin(), ndjson->end(), '\n'), 1);
  EXPECT_NE(ndjson->find("slow text"), std::string::npos);
  auto job_view = json::parse(call(request("GET", "/v1/jobs/" + std::to_string(job), key)).body).as_object();
  EXPECT_EQ(job_view.at("state"), "active");
}

// What waits to be sealed is counted as entries are ingested and sealed, and those counts are
// what the entries themselves add up to: after part of a job (full shards sealed, the rest
// waiting), after a database from before the counts is upgraded, and after the job ends.
TEST_F(DatasetsTest, WhatWaitsToBeSealedIsCountedAsEntriesComeAndGo) {
  const std::string key = add_customer("acme");
  const std::int64_t job = submit(key, 9);
  auto lease = call(node_.lease_request(clock_.now_ms(), 256));
  auto tasks = protocol::parse_lease_response(lease.body);
  ASSERT_TRUE(tasks.ok()) << lease.body;
  ASSERT_EQ(tasks->tasks.size(), 9u);
  auto upload = [&](std::size_t from, std::size_t to) {
    std::vector<protocol::ResultLine> lines;
    for (std::size_t i = from; i < to; ++i) lines.push_back(node_.ok_line(tasks->tasks[i], {}, "text of " + tasks->tasks[i].url));
    ASSERT_EQ(call(node_.upload_request(clock_.now_ms(), lines)).status, 200);
  };
  // The counts against the waiting entries themselves.
  auto expect_counts_match = [&](Store& store, const char* when) {
    SCOPED_TRACE(when);
    auto entries = store.catalog().unsealed_records(job, 0, 1000);
    ASSERT_TRUE(entries.ok());
    std::int64_t bytes = 0;
    for (const auto& [e, record] : *entries) bytes += e.bytes;
    auto waiting = store.catalog().unsealed();
    ASSERT_TRUE(waiting.ok());
    if (entries->empty()) {
      EXPECT_TRUE(waiting->empty());
      return;
    }
    ASSERT_EQ(waiting->size(), 1u);
    EXPECT_EQ((*waiting)[0].job_id, job);
    EXPECT_EQ((*waiting)[0].records, static_cast<std::int64_t>(entries->size()));
    EXPECT_EQ((*waiting)[0].bytes, bytes);
    EXPECT_EQ((*waiting)[0].oldest_ms, upload_ms_);
  };
  upload_ms_ = clock_.now_ms();
  upload(0, 5);
  ASSERT_TRUE(assembler_->run_once().ok());
  auto shards = store_->catalog().shards(job);
  ASSERT_TRUE(shards.ok());
  EXPECT_GE(shards->size(), 1u);  // full shards sealed, the rest waits
  auto waiting = store_->catalog().unsealed();
  ASSERT_TRUE(waiting.ok());
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_GT((*waiting)[0].records, 0);
  expect_counts_match(*store_, "part of the job sealed");

  // A database of schema 3 (before the counts) gets them counted when it is opened.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("api.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "ALTER TABLE datasets DROP COLUMN unsealed_records; "
                         "ALTER TABLE datasets DROP COLUMN unsealed_bytes; PRAGMA user_version=3",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(raw);
  sqlite3_close(raw);
  auto reopened = open_sqlite_store(SqliteOptions{dir_.file("api.db")});
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  expect_counts_match(**reopened, "upgraded from schema 3");
  reopened->reset();

  // The job's last results end it: everything is sealed and nothing waits. (The fixture's
  // store goes on, its statements prepared again on the upgraded schema.)
  upload(5, 9);
  ASSERT_TRUE(assembler_->run_once().ok());
  expect_counts_match(*store_, "the job over");
}

TEST_F(DatasetsTest, RecordsSinceACursorArriveAsZstdNdjsonAndPageOn) {
  auto [key, job] = dataset_of(5);
  const std::string base = "/v1/datasets/" + std::to_string(job) + "/records";
  std::int64_t cursor = 0, seen = 0;
  for (int round = 0; round < 10; ++round) {
    auto r = call(request("GET", base + "?since=" + std::to_string(cursor) + "&limit=2", key));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, "application/zstd");
    auto ndjson = zstd::decompress(r.body, 1 << 20);
    ASSERT_TRUE(ndjson.ok());
    auto n = std::count(ndjson->begin(), ndjson->end(), '\n');
    std::int64_t next = 0;
    for (const auto& h : r.headers) {
      if (h.name == "meadow-next-cursor") next = std::stoll(h.value);
    }
    if (n == 0) {
      EXPECT_EQ(next, cursor);
      break;
    }
    EXPECT_GT(next, cursor);
    cursor = next;
    seen += n;
  }
  EXPECT_EQ(seen, 4) << "five accepted, one a duplicate";
}

TEST_F(DatasetsTest, KeysAreCheckedAndOtherCustomersDataIsNotFound) {
  auto [key, job] = dataset_of(3);
  const std::string path = "/v1/datasets/" + std::to_string(job);
  expect_problem(call(request("GET", path, "")), 401, "no-api-key");
  expect_problem(call(request("GET", path, "mdw_not_a_key")), 401, "bad-api-key");

  std::string other = add_customer("globex");
  expect_problem(call(request("GET", path, other)), 404, "unknown-dataset");
  expect_problem(call(request("GET", "/v1/datasets/999", other)), 404, "unknown-dataset");
  expect_problem(call(request("GET", path + "/manifest.json", other)), 404, "unknown-dataset");
  expect_problem(call(request("GET", "/v1/jobs/" + std::to_string(job), other)), 404, "unknown-job");
  expect_problem(call(request("POST", "/v1/jobs/" + std::to_string(job) + "/cancel", other)), 404, "unknown-job");
  EXPECT_EQ(store_->get_job(job)->state, JobState::done);
  auto list = call(request("GET", "/v1/datasets", other));
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(json::parse(list.body).at("datasets").as_array().size(), 0u);

  // Names that try to leave the dataset's folder, or are not shards of it.
  for (const char* name : {"../manifest.json", "..", "records-00000.jsonl.zst/../../c.db", "records-99999.jsonl.zst",
                           "c.db", "%2e%2e"}) {
    auto r = call(request("GET", path + "/shards/" + name, key));
    EXPECT_EQ(r.status, 404) << name;
    EXPECT_EQ(r.content_type, "application/problem+json") << name;
  }

  for (const char* q : {"?limit=99999999", "?limit=0", "?since=-1", "?since=1e3"}) {
    expect_problem(call(request("GET", path + "/records" + q, key)), 400, "bad-parameter");
  }

  // A revoked key stops working at once.
  auto keys = store_->catalog().list_api_keys(customer_ids_["acme"]);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  ASSERT_EQ(call(request("POST", "/v1/admin/keys/" + keys->front().id + "/revoke", kAdminKey)).status, 200);
  expect_problem(call(request("GET", path, key)), 401, "bad-api-key");
  expect_problem(call(request("POST", "/v1/admin/keys/key_nope/revoke", kAdminKey)), 404, "unknown-key");
}

TEST_F(DatasetsTest, ScopesQuotasPageSizesAndRatesAreEnforcedWithoutChangingState) {
  std::string key = add_customer("initech", R"(,"max_active_jobs":1,"max_pages":10,"rate_per_minute":600)");
  EXPECT_EQ(submit(key, 11, 403), 0) << "over the page quota";
  std::int64_t job = submit(key, 4);
  EXPECT_EQ(submit(key, 1, 403), 0) << "over the active-job quota";
  auto jobs = store_->list_jobs(customer_ids_["initech"]);
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), 1u) << "refused jobs left nothing behind";

  auto read_only = call(request("POST", "/v1/admin/customers/" + customer_ids_["initech"] + "/keys", kAdminKey,
                                R"({"scopes":"read","rate_per_minute":6})"));
  ASSERT_EQ(read_only.status, 201) << read_only.body;
  std::string reader = std::string(json::parse(read_only.body).at("secret").as_string());
  expect_problem(call(request("POST", "/v1/jobs", reader, R"({"name":"x","urls":["https://a.example/"]})")), 403,
                 "missing-scope");
  expect_problem(call(request("POST", "/v1/jobs/" + std::to_string(job) + "/cancel", reader)), 403, "missing-scope");
  EXPECT_EQ(store_->get_job(job)->state, JobState::active);

  for (const char* q : {"?limit=0", "?limit=1000001", "?limit=-5", "?limit=abc", "?page_token=0", "?job=x"}) {
    expect_problem(call(request("GET", std::string("/v1/datasets") + q, key)), 400, "bad-parameter");
  }

  // Six a minute: a burst of five (the floor), then 429 with a Retry-After in seconds.
  int ok = 0;
  http::Response limited;
  for (int i = 0; i < 8; ++i) {
    auto r = call(request("GET", "/v1/jobs", reader));
    if (r.status == 200) {
      ++ok;
    } else {
      limited = r;
    }
  }
  EXPECT_EQ(ok, 5);
  expect_problem(limited, 429, "rate-limited");
  std::string retry;
  for (const auto& h : limited.headers) {
    if (h.name == "retry-after") retry = h.value;
  }
  EXPECT_EQ(retry, "10");
  clock_.advance_ms(10'000);
  EXPECT_EQ(call(request("GET", "/v1/jobs", reader)).status, 200) << "the bucket refills";
}

TEST_F(DatasetsTest, SubmissionsAtTheSameMomentCannotTogetherPassTheQuota) {
  std::string key = add_customer("racer", R"(,"max_active_jobs":1,"max_pages":1000,"rate_per_minute":600)");
  std::vector<std::thread> threads;
  std::atomic<int> created{0}, refused{0};
  std::atomic<bool> go{false};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      auto r = call(request("POST", "/v1/jobs", key,
                            R"({"name":"race","urls":["https://race.example/)" + std::to_string(i) + "\"]}"));
      (r.status == 201 ? created : refused)++;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1) << "one job may run at once";
  EXPECT_EQ(refused.load(), 7);
  EXPECT_EQ(store_->list_jobs(customer_ids_["racer"])->size(), 1u);
}

TEST_F(DatasetsTest, BuyersSeeProgressAndCanCancelTheirJob) {
  std::string key = add_customer("umbrella");
  std::int64_t job = submit(key, 3);
  auto view = call(request("GET", "/v1/jobs/" + std::to_string(job), key));
  ASSERT_EQ(view.status, 200);
  auto p = json::parse(view.body).at("progress").as_object();
  EXPECT_EQ(p.at("pending").as_int64(), 3);
  EXPECT_EQ(p.at("done").as_int64(), 0);
  EXPECT_TRUE(p.at("eta_ms").is_null()) << "no rate yet";
  EXPECT_EQ(std::string(json::parse(view.body).at("spec").at("owner").as_string()), customer_ids_["umbrella"]);
  auto cancel = call(request("POST", "/v1/jobs/" + std::to_string(job) + "/cancel", key));
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(std::string(json::parse(cancel.body).at("state").as_string()), "cancelled");
  auto lease = call(node_.lease_request(clock_.now_ms(), 10));
  EXPECT_EQ(protocol::parse_lease_response(lease.body)->tasks.size(), 0u);
}

TEST(MerkleRoot, FollowsRfc6962Splits) {
  auto h = [](const char* s) { return crypto::sha256(s); };
  auto leaf = [&](const char* s) { return merkle::leaf_hash(h(s)); };
  EXPECT_EQ(merkle::root({}), crypto::sha256(""));
  EXPECT_EQ(merkle::root({h("a")}), leaf("a"));
  EXPECT_EQ(merkle::root({h("a"), h("b"), h("c")}),
            merkle::node_hash(merkle::node_hash(leaf("a"), leaf("b")), leaf("c")));
  EXPECT_EQ(merkle::root({h("a"), h("b"), h("c"), h("d"), h("e")}),
            merkle::node_hash(merkle::node_hash(merkle::node_hash(leaf("a"), leaf("b")),
                                                merkle::node_hash(leaf("c"), leaf("d"))),
                              leaf("e")));
  EXPECT_NE(merkle::root({h("a"), h("b")}), merkle::root({h("b"), h("a")})) << "order matters";
}

TEST(SeekTable, RefusesFilesWithoutOne) {
  EXPECT_FALSE(datasets::read_seek_table("").ok());
  EXPECT_FALSE(datasets::read_seek_table(zstd::compress("plain")).ok());
  std::string shard;
  datasets::encode_shard({"a", "b", "c"}, datasets::ShardOptions{1, 1 << 20, 3}, shard);
  ASSERT_TRUE(datasets::read_seek_table(shard).ok());
  std::string cut = shard.substr(1);
  EXPECT_FALSE(datasets::read_seek_table(cut).ok()) << "frames no longer add up";
}

// ---- raw captures (WARC) -------------------------------------------------------------------

struct WarcRecord {
  std::map<std::string, std::string> fields;  // names lower-cased
  std::string block;
};

// Parses uncompressed WARC strictly: each record "WARC/1.1", fields, a blank line, exactly
// Content-Length bytes of block and CRLF CRLF. Adds a test failure and stops at anything else.
std::vector<WarcRecord> parse_warc(std::string_view data) {
  std::vector<WarcRecord> out;
  std::size_t at = 0;
  while (at < data.size()) {
    const std::size_t head_end = data.find("\r\n\r\n", at);
    if (data.substr(at, 10) != "WARC/1.1\r\n" || head_end == std::string_view::npos) {
      ADD_FAILURE() << "no WARC/1.1 record at byte " << at;
      return out;
    }
    WarcRecord r;
    std::size_t line = at + 10;
    while (line < head_end) {
      const std::size_t eol = data.find("\r\n", line);
      const std::string_view l = data.substr(line, eol - line);
      const std::size_t colon = l.find(": ");
      EXPECT_NE(colon, std::string_view::npos) << l;
      std::string name(l.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.fields[name] = std::string(l.substr(colon + 2));
      line = eol + 2;
    }
    const std::size_t length = std::stoull(r.fields["content-length"]);
    r.block = std::string(data.substr(head_end + 4, length));
    EXPECT_EQ(data.substr(head_end + 4 + length, 4), "\r\n\r\n");
    at = head_end + 4 + length + 4;
    out.push_back(std::move(r));
  }
  return out;
}

std::string sha256_label(std::string_view bytes) {
  const crypto::Sha256 d = crypto::sha256(bytes);
  return "sha256:" + datasets::base32(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

TEST(Warc, Base32IsRfc4648) {
  EXPECT_EQ(datasets::base32(""), "");
  EXPECT_EQ(datasets::base32("f"), "MY======");
  EXPECT_EQ(datasets::base32("fo"), "MZXQ====");
  EXPECT_EQ(datasets::base32("foo"), "MZXW6===");
  EXPECT_EQ(datasets::base32("foob"), "MZXW6YQ=");
  EXPECT_EQ(datasets::base32("fooba"), "MZXW6YTB");
  EXPECT_EQ(datasets::base32("foobar"), "MZXW6YTBOI======");
}

// A node's record for a captured page: raw heads signed with the record, the body beside it.
void add_capture(protocol::ResultLine& line, const std::string& body, const TestNode& node, bool truncated = false) {
  auto& rec = line.record;
  rec.erase("signature");
  rec["body_sha256"] = crypto::sha256_hex(body);
  rec["truncated"] = truncated;
  rec["fetched_at"] = "2026-11-22T10:00:00.250Z";
  const std::string url(rec.at("url").as_string());
  rec["raw"] = json::object{
      {"status_line", "HTTP/1.1 200 OK"},
      {"headers", json::array{json::object{{"name", "Content-Type"}, {"value", "text/html; charset=utf-8"}},
                              json::object{{"name", "Content-Encoding"}, {"value", "gzip"}},
                              json::object{{"name", "Content-Length"}, {"value", "31"}},
                              json::object{{"name", "X-Served-By"}, {"value", "shop-7"}}}},
      {"request", "GET " + url.substr(url.find('/', 8)) + " HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: meadow\r\n\r\n"},
      {"ip_address", "203.0.113.9"}};
  protocol::sign_record(rec, node.key());
  line.capture_body = body;
}

TEST(Warc, AResponseRecordHoldsTheDecodedBodyWithItsDigests) {
  TestNode node;
  protocol::TaskLease task;
  task.task_id = 4;
  task.job_id = 1;
  task.token = 9;
  task.url = "https://shop.example/p/4";
  auto line = node.ok_line(task);
  const std::string body = "<html><body>Scythe, 89.00</body></html>";
  add_capture(line, body, node, true);
  std::string file;
  for (const auto& r : datasets::capture_records(line.record, body)) file += r;
  auto records = parse_warc(file);
  ASSERT_EQ(records.size(), 2u);
  const WarcRecord& req = records[0];
  const WarcRecord& resp = records[1];
  EXPECT_EQ(req.fields.at("warc-type"), "request");
  EXPECT_EQ(resp.fields.at("warc-type"), "response");
  EXPECT_EQ(req.fields.at("warc-concurrent-to"), resp.fields.at("warc-record-id"));
  EXPECT_TRUE(resp.fields.at("warc-record-id").starts_with("<urn:uuid:")) << resp.fields.at("warc-record-id");
  EXPECT_EQ(resp.fields.at("warc-target-uri"), "https://shop.example/p/4");
  EXPECT_EQ(resp.fields.at("warc-date"), "2026-11-22T10:00:00.250Z");
  EXPECT_EQ(resp.fields.at("warc-ip-address"), "203.0.113.9");
  EXPECT_EQ(resp.fields.at("warc-truncated"), "length");
  EXPECT_EQ(resp.fields.at("content-type"), "application/http;msgtype=response");
  EXPECT_EQ(req.block, "GET /p/4 HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: meadow\r\n\r\n");
  // The block is the response as a reader can replay it: the decoded body, so no
  // Content-Encoding, and a Content-Length that is the body's.
  EXPECT_EQ(resp.block, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nX-Served-By: shop-7\r\n"
                        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(resp.fields.at("warc-payload-digest"), sha256_label(body));
  EXPECT_EQ(resp.fields.at("warc-block-digest"), sha256_label(resp.block));
  EXPECT_EQ(req.fields.at("warc-block-digest"), sha256_label(req.block));
  // The same capture gives the same bytes (ids come from the record id).
  std::string again;
  for (const auto& r : datasets::capture_records(line.record, body)) again += r;
  EXPECT_EQ(again, file);
  // A record without raw has no capture.
  EXPECT_TRUE(datasets::capture_records(node.ok_line(task).record, body).empty());
}

TEST_F(DatasetsTest, CapturesBecomeAWarcFileBesideTheShardAndBadCapturesChangeNothing) {
  std::string key = add_customer("archiver");
  json::array urls{"https://shop.example/p/1", "https://shop.example/p/2"};
  auto created = call(request("POST", "/v1/jobs", key,
                              R"({"name":"with captures","site_rate":100,"captures":true,"urls":)" + meadow::to_json(urls) + "}"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::int64_t job = json::parse(created.body).at("id").as_int64();
  auto lease = protocol::parse_lease_response(call(node_.lease_request(clock_.now_ms(), 256)).body);
  ASSERT_TRUE(lease.ok());
  ASSERT_EQ(lease->tasks.size(), 2u);
  for (const auto& t : lease->tasks) EXPECT_TRUE(t.captures) << "the lease tells the node to capture";

  std::string big;
  for (int i = 0; big.size() < (4u << 20); ++i) big += "<p>line " + std::to_string(i * 7919 % 100003) + "</p>\n";
  std::vector<std::string> bodies = {"<html><body>First page body</body></html>", big};
  auto good_lines = [&] {
    std::vector<protocol::ResultLine> lines;
    for (std::size_t i = 0; i < 2; ++i) {
      lines.push_back(node_.ok_line(lease->tasks[i], {}, "text " + std::to_string(i)));
      add_capture(lines.back(), bodies[i], node_);
    }
    return lines;
  };
  // Refused, all or nothing, and nothing accepted: a body that is not the one the record names;
  // a header that would break a WARC line; the body without raw.
  auto wrong_body = good_lines();
  wrong_body[1].capture_body = "something else";
  expect_problem(call(node_.upload_request(clock_.now_ms(), wrong_body)), 400, "capture-mismatch");
  auto injected = good_lines();
  injected[0].record["raw"].as_object()["headers"].as_array().push_back(
      json::object{{"name", "X-Evil"}, {"value", "a\r\nWARC-Type: resource"}});
  injected[0].record.erase("signature");
  protocol::sign_record(injected[0].record, node_.key());
  expect_problem(call(node_.upload_request(clock_.now_ms(), injected)), 400, "bad-field");
  auto no_raw = good_lines();
  no_raw[0].record.erase("raw");
  no_raw[0].record.erase("signature");
  protocol::sign_record(no_raw[0].record, node_.key());
  expect_problem(call(node_.upload_request(clock_.now_ms(), no_raw)), 400, "capture-mismatch");
  ASSERT_TRUE(store_->results(job, 0, 100)->empty());

  ASSERT_EQ(call(node_.upload_request(clock_.now_ms(), good_lines())).status, 200);
  ASSERT_TRUE(assembler_->run_once().ok());
  auto manifest = json::parse(read_body(call(request("GET", "/v1/datasets/" + std::to_string(job) + "/manifest.json", key))))
                      .as_object();
  const auto& shards = manifest.at("shards").as_array();
  ASSERT_FALSE(shards.empty());
  std::map<std::string, std::string> body_sha256_by_url;
  auto stored = store_->results(job, 0, 100);
  ASSERT_TRUE(stored.ok());
  for (const auto& r : *stored) {
    auto rec = parse_json_object(r.record_json, "record");
    body_sha256_by_url[std::string(rec->at("url").as_string())] = std::string(rec->at("body_sha256").as_string());
  }
  int responses = 0;
  for (const auto& s : shards) {
    ASSERT_TRUE(s.as_object().contains("captures")) << meadow::to_json(s);
    const auto& cap = s.at("captures").as_object();
    const std::string name(cap.at("name").as_string());
    EXPECT_EQ(name.substr(0, 9), "captures-");
    auto got = call(request("GET", "/v1/datasets/" + std::to_string(job) + "/shards/" + name, key));
    ASSERT_EQ(got.status, 200) << got.body;
    const std::string file = read_body(got);
    EXPECT_EQ(crypto::sha256_hex(file), std::string(cap.at("sha256").as_string()));
    // One WARC record per zstd frame, the first a warcinfo.
    auto table = datasets::read_seek_table(file);
    ASSERT_TRUE(table.ok());
    EXPECT_EQ(static_cast<std::int64_t>(table->size()), cap.at("warc_records").as_int64());
    std::size_t at = 0;
    std::string whole;
    for (const auto& f : *table) {
      auto frame = zstd::decompress(std::string_view(file).substr(at, f.compressed), 64 << 20);
      ASSERT_TRUE(frame.ok()) << frame.error().message;
      EXPECT_EQ(parse_warc(*frame).size(), 1u) << "one record per frame";
      whole += *frame;
      at += f.compressed;
    }
    auto records = parse_warc(whole);
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records[0].fields["warc-type"], "warcinfo");
    EXPECT_EQ(records[0].fields["warc-filename"], name);
    for (const auto& r : records) {
      EXPECT_EQ(r.fields.at("warc-block-digest"), sha256_label(r.block));
      if (r.fields.at("warc-type") != "response") continue;
      ++responses;
      const std::string payload = r.block.substr(r.block.find("\r\n\r\n") + 4);
      EXPECT_EQ(r.fields.at("warc-payload-digest"), sha256_label(payload));
      EXPECT_EQ(crypto::sha256_hex(payload), body_sha256_by_url[r.fields.at("warc-target-uri")])
          << "the captured body is the one the signed record names";
    }
  }
  EXPECT_EQ(responses, 2);
}

TEST_F(DatasetsTest, ARawCaptureForAJobThatDidNotAskIsRefused) {
  std::string other_key = add_customer("plain");
  const std::int64_t plain = submit(other_key, 1);
  auto lease = protocol::parse_lease_response(call(node_.lease_request(clock_.now_ms(), 256)).body);
  ASSERT_TRUE(lease.ok());
  ASSERT_EQ(lease->tasks.size(), 1u);
  EXPECT_FALSE(lease->tasks[0].captures);
  auto line = node_.ok_line(lease->tasks[0]);
  add_capture(line, "<html></html>", node_);
  expect_problem(call(node_.upload_request(clock_.now_ms(), {line})), 400, "capture-not-wanted");
  EXPECT_TRUE(store_->results(plain, 0, 100)->empty());
}

}  // namespace
}  // namespace meadow::coordinator
