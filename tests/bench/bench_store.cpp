// Store-level throughput: lease + complete cycles per second on SQLite, in batches of 32
// and of 1, next to a bare SQLite peer doing the same row changes with no store logic in
// one run. Prints one JSON line.
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "coordinator/store/store.h"

namespace {

using namespace meadow;
using namespace meadow::coordinator;
using Clock = std::chrono::steady_clock;

constexpr int kTasks = 100'000;

std::string temp_dir() {
  std::string t = "/tmp/meadow-bench-XXXXXX";
  return mkdtemp(t.data()) ? t : "/tmp";
}

double store_cycles_per_s(const std::string& dir, int batch) {
  auto store = open_sqlite_store(SqliteOptions{dir + "/store-" + std::to_string(batch) + ".db"});
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    std::exit(1);
  }
  std::vector<NewTask> tasks;
  tasks.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) {
    std::string site = "site" + std::to_string(i % 1000) + ".example";
    tasks.push_back({"https://" + site + "/page/" + std::to_string(i), site, 0});
  }
  JobSpec spec;
  spec.name = "bench";
  auto job = (*store)->create_job(spec, tasks, 1);
  Node node;
  node.id = "nbench";
  node.public_key = std::string(32, 'k');
  node.account = "bench";
  (void)(*store)->register_node(node);
  std::int64_t job_id = *job;
  PickFn pick = [job_id](CandidateSource& src, int max) { return src.next(job_id, max); };
  std::string record = R"({"record_id":"r","text":")" + std::string(2000, 'x') + "\"}";
  int done = 0;
  auto start = Clock::now();
  std::int64_t now = 1'000;
  while (done < kTasks) {
    auto grants = (*store)->lease(LeaseParams{"nbench", batch, now, 60'000}, pick);
    if (!grants.ok() || grants->empty()) break;
    std::vector<VerifiedResult> results;
    results.reserve(grants->size());
    for (const auto& g : *grants) {
      VerifiedResult r;
      r.task_id = g.task.task_id;
      r.token = g.token;
      r.record_id = "r" + std::to_string(g.task.task_id);
      r.record_json = record;
      r.record_sha256 = std::string(64, '0');
      r.receipt.receipt_id = r.record_id;
      results.push_back(std::move(r));
    }
    auto items = (*store)->complete("nbench", results, now, 0);
    if (!items.ok()) {
      std::fprintf(stderr, "%s\n", items.error().message.c_str());
      std::exit(1);
    }
    done += static_cast<int>(grants->size());
    ++now;
    if (batch == 1 && done >= 20'000) break;  // batch 1 is slow; a sample is enough
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return done / secs;
}

// The peer: the same per-task row changes (queued -> leased -> done, one result row) in
// plain SQLite, with no scheduling, checks or receipts.
double raw_sqlite_cycles_per_s(const std::string& dir, int batch) {
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/raw-" + std::to_string(batch) + ".db").c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
               "CREATE TABLE t(id INTEGER PRIMARY KEY, url TEXT, state INT, token INT, node TEXT);"
               "CREATE INDEX tq ON t(id) WHERE state=0;"
               "CREATE TABLE r(task INTEGER PRIMARY KEY, body BLOB);",
               nullptr, nullptr, nullptr);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t(url, state) VALUES(?1, 0)", -1, &ins, nullptr);
  for (int i = 0; i < kTasks; ++i) {
    std::string u = "https://site" + std::to_string(i % 1000) + ".example/page/" + std::to_string(i);
    sqlite3_bind_text(ins, 1, u.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(ins);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_stmt *sel, *lease, *done_st, *res;
  sqlite3_prepare_v2(db, "SELECT id FROM t WHERE state=0 ORDER BY id LIMIT ?1", -1, &sel, nullptr);
  sqlite3_prepare_v2(db, "UPDATE t SET state=1, token=?1, node='n' WHERE id=?2", -1, &lease, nullptr);
  sqlite3_prepare_v2(db, "UPDATE t SET state=2 WHERE id=?1", -1, &done_st, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO r(task, body) VALUES(?1, ?2)", -1, &res, nullptr);
  std::string body(700, 'x');  // about what the store keeps after compressing the record
  int done = 0;
  std::int64_t token = 0;
  auto start = Clock::now();
  while (done < kTasks) {
    std::vector<std::int64_t> ids;
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_bind_int(sel, 1, batch);
    while (sqlite3_step(sel) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(sel, 0));
    sqlite3_reset(sel);
    for (auto id : ids) {
      sqlite3_bind_int64(lease, 1, ++token);
      sqlite3_bind_int64(lease, 2, id);
      sqlite3_step(lease);
      sqlite3_reset(lease);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    if (ids.empty()) break;
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (auto id : ids) {
      sqlite3_bind_int64(done_st, 1, id);
      sqlite3_step(done_st);
      sqlite3_reset(done_st);
      sqlite3_bind_int64(res, 1, id);
      sqlite3_bind_blob(res, 2, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
      sqlite3_step(res);
      sqlite3_reset(res);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    done += static_cast<int>(ids.size());
    if (batch == 1 && done >= 20'000) break;
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto* s : {sel, lease, done_st, res}) sqlite3_finalize(s);
  sqlite3_close(db);
  return done / secs;
}

}  // namespace

int main() {
  std::string dir = temp_dir();
  double s32 = store_cycles_per_s(dir, 32);
  double s1 = store_cycles_per_s(dir, 1);
  double r32 = raw_sqlite_cycles_per_s(dir, 32);
  double r1 = raw_sqlite_cycles_per_s(dir, 1);
  std::filesystem::remove_all(dir);
  std::printf(
      "{\"bench\":\"store\",\"backend\":\"sqlite\",\"tasks\":%d,"
      "\"store_cycles_per_s_batch32\":%.0f,\"store_cycles_per_s_batch1\":%.0f,"
      "\"raw_sqlite_cycles_per_s_batch32\":%.0f,\"raw_sqlite_cycles_per_s_batch1\":%.0f,"
      "\"goal_batch32\":40000}\n",
      kTasks, s32, s1, r32, r1);
  return 0;
}
