// SQLite implementation of Store: WAL, one connection owned under a mutex, statements
// prepared once, numbered migrations, every mutation one IMMEDIATE transaction.
#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>
#include <set>

#include "common/json.h"
#include "common/zstd.h"
#include "coordinator/store/job_codec.h"
#include "coordinator/store/sqlite_catalog.h"
#include "coordinator/store/sqlite_db.h"
#include "coordinator/store/store.h"

namespace meadow::coordinator {
namespace {

using sqlite::Db;
using sqlite::Stmt;
using sqlite::Transaction;

// Migration N brings the schema from version N-1 to N. Never edit a released one.
constexpr const char* kMigrations[] = {
    // 1: the first schema.
    R"sql(
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  state INTEGER NOT NULL,
  owner TEXT NOT NULL DEFAULT '',
  task_count INTEGER NOT NULL DEFAULT 0,
  open_tasks INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE TABLE tasks(
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  url TEXT NOT NULL,
  site TEXT NOT NULL,
  depth INTEGER NOT NULL,
  state INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  token INTEGER NOT NULL DEFAULT 0,
  node_id TEXT,
  deadline_ms INTEGER NOT NULL DEFAULT 0,
  available_ms INTEGER NOT NULL DEFAULT 0,
  UNIQUE(job_id, url));
CREATE INDEX tasks_queued ON tasks(job_id, id) WHERE state = 0;
CREATE INDEX tasks_leased ON tasks(deadline_ms) WHERE state = 1;
CREATE TABLE task_failures(
  task_id INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  node_id TEXT,
  reason TEXT NOT NULL,
  at_ms INTEGER NOT NULL);
CREATE INDEX task_failures_task ON task_failures(task_id);
CREATE TABLE results(
  seq INTEGER PRIMARY KEY,
  task_id INTEGER NOT NULL UNIQUE,
  job_id INTEGER NOT NULL,
  node_id TEXT NOT NULL,
  token INTEGER NOT NULL,
  record_id TEXT NOT NULL,
  record BLOB NOT NULL,
  sha256 TEXT NOT NULL,
  receipt TEXT NOT NULL,
  accepted_ms INTEGER NOT NULL);
CREATE INDEX results_job ON results(job_id, seq);
CREATE TABLE nodes(
  id TEXT PRIMARY KEY,
  public_key BLOB NOT NULL,
  account TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  client TEXT NOT NULL DEFAULT '',
  banned INTEGER NOT NULL DEFAULT 0,
  ban_reason TEXT NOT NULL DEFAULT '',
  registered_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  accepted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE admin_keys(
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0);
)sql",
    // 2: customers and their API keys; datasets (entries with their Merkle leaves, shards).
    R"sql(
CREATE TABLE customers(
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  max_active_jobs INTEGER NOT NULL,
  max_pages INTEGER NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE api_keys(
  id TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  hash TEXT NOT NULL UNIQUE,
  scopes INTEGER NOT NULL,
  rate_per_minute INTEGER NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  revoked_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE dataset_entries(
  job_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  url TEXT NOT NULL,
  text_sha256 TEXT NOT NULL,
  leaf TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  shard INTEGER NOT NULL DEFAULT -1,
  PRIMARY KEY(job_id, seq)) WITHOUT ROWID;
CREATE UNIQUE INDEX dataset_entries_unique ON dataset_entries(job_id, url, text_sha256);
CREATE INDEX dataset_entries_unsealed ON dataset_entries(job_id, seq) WHERE shard < 0;
CREATE TABLE datasets(
  job_id INTEGER PRIMARY KEY,
  records INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  updated_ms INTEGER NOT NULL);
CREATE TABLE shards(
  job_id INTEGER NOT NULL,
  number INTEGER NOT NULL,
  records INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL,
  frames INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY(job_id, number));
CREATE TABLE catalog_state(
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL);
INSERT INTO catalog_state(name, value) VALUES('ingested_seq', 0);
)sql",
    // 3: raw captures (response bodies, zstd) of jobs that want WARC, and each shard's
    // captures file beside it.
    R"sql(
CREATE TABLE captures(
  seq INTEGER PRIMARY KEY,
  body BLOB NOT NULL);
ALTER TABLE shards ADD COLUMN captures_records INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shards ADD COLUMN captures_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shards ADD COLUMN captures_sha256 TEXT NOT NULL DEFAULT '';
)sql",
    // 4: each dataset's unsealed entries counted as they come and go, so the assembler's look
    // at what waits costs a row per job rather than a pass over every waiting entry.
    R"sql(
ALTER TABLE datasets ADD COLUMN unsealed_records INTEGER NOT NULL DEFAULT 0;
ALTER TABLE datasets ADD COLUMN unsealed_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE datasets SET
  unsealed_records = (SELECT COUNT(*) FROM dataset_entries e WHERE e.job_id = datasets.job_id AND e.shard < 0),
  unsealed_bytes = (SELECT COALESCE(SUM(e.bytes), 0) FROM dataset_entries e WHERE e.job_id = datasets.job_id AND e.shard < 0);
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

Error not_found(std::string code, std::string message) {
  return make_error(ErrorKind::not_found, std::move(code), std::move(message));
}

bool is_final(TaskState s) { return s != TaskState::queued && s != TaskState::leased; }

class SqliteStore;

class SqliteCandidates final : public CandidateSource {
 public:
  SqliteCandidates(Stmt& stmt, std::int64_t now_ms, Status& status)
      : stmt_(stmt), now_ms_(now_ms), status_(status) {}

  std::vector<LeaseCandidate> next(std::int64_t job_id, int limit) override {
    std::vector<LeaseCandidate> out;
    if (!status_.ok() || limit <= 0) return out;
    std::int64_t& after = cursor_[job_id];
    stmt_.bind(1, job_id).bind(2, now_ms_).bind(3, after).bind(4, limit);
    for (;;) {
      auto row = stmt_.step();
      if (!row.ok()) {
        status_ = std::move(row).error();
        return {};
      }
      if (!*row) break;
      LeaseCandidate c;
      c.task_id = stmt_.i64(0);
      c.job_id = job_id;
      c.url = stmt_.text(1);
      c.site = stmt_.text(2);
      c.depth = stmt_.i32(3);
      c.attempts = stmt_.i32(4);
      after = c.task_id;
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  Stmt& stmt_;
  std::int64_t now_ms_;
  Status& status_;
  std::map<std::int64_t, std::int64_t> cursor_;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(Db db) : db_(std::move(db)) {}

  Status init(const SqliteOptions& opt) {
    MEADOW_TRY(db_.exec("PRAGMA journal_mode=WAL"));
    MEADOW_TRY(db_.exec(opt.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
    MEADOW_TRY(db_.exec("PRAGMA foreign_keys=ON"));
    MEADOW_TRY(db_.exec("PRAGMA temp_store=MEMORY"));
    MEADOW_TRY(migrate(opt.path));
    MEADOW_TRY(prepare_all());
    MEADOW_ASSIGN(catalog_, make_sqlite_catalog(db_, mu_));
    MEADOW_ASSIGN(Stmt max_token, db_.prepare("SELECT COALESCE(MAX(token), 0) FROM tasks"));
    MEADOW_ASSIGN(bool row, max_token.step());
    last_token_ = row ? max_token.i64(0) : 0;
    max_token.reset();
    return {};
  }

  // --- jobs

  Result<std::int64_t> create_job(const JobSpec& spec, const std::vector<NewTask>& tasks,
                                  std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    MEADOW_TRY(tx.begin());
    JobSpec stored = spec;
    stored.urls.clear();
    std::string spec_json = meadow::to_json(to_json(stored, false));
    MEADOW_TRY(s_insert_job_.bind(1, spec.name).bind(2, spec_json).bind(3, static_cast<int>(JobState::active))
                   .bind(4, spec.owner).bind(5, now_ms).exec());
    std::int64_t job_id = db_.last_insert_rowid();
    MEADOW_ASSIGN(std::int64_t added, insert_tasks(job_id, tasks, INT64_MAX));
    if (added == 0) {
      MEADOW_TRY(s_set_job_state_.bind(1, static_cast<int>(JobState::done)).bind(2, now_ms).bind(3, job_id).exec());
    }
    MEADOW_TRY(tx.commit());
    ++local_job_writes_;
    return job_id;
  }

  Result<Job> get_job(std::int64_t job_id) override {
    std::lock_guard lock(mu_);
    MEADOW_ASSIGN(auto jobs, read_jobs(s_get_job_, [&](Stmt& s) { s.bind(1, job_id); }, true));
    if (jobs.empty()) return not_found("unknown-job", "there is no job " + std::to_string(job_id));
    return std::move(jobs.front());
  }

  Result<std::vector<Job>> list_jobs(const std::string& owner) override {
    std::lock_guard lock(mu_);
    return read_jobs(s_list_jobs_, [&](Stmt& s) { s.bind(1, owner); }, true);
  }

  Result<std::vector<Job>> active_jobs() override {
    std::lock_guard lock(mu_);
    return read_jobs(s_active_jobs_, [](Stmt&) {}, false);
  }

  Status set_job_state(std::int64_t job_id, JobState state, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    MEADOW_TRY(tx.begin());
    MEADOW_ASSIGN(auto job, job_row(job_id));
    if (!job) return not_found("unknown-job", "there is no job " + std::to_string(job_id));
    JobState from = job->state;
    if (from == state) return {};
    if (from == JobState::cancelled || from == JobState::done) {
      return make_error(ErrorKind::conflict, "job-finished",
                        "job " + std::to_string(job_id) + " is " + to_string(from) + " and cannot become " +
                            to_string(state));
    }
    if (state == JobState::done) {
      return make_error(ErrorKind::invalid, "bad-job-state", "a job becomes done by itself when its tasks finish");
    }
    MEADOW_TRY(s_set_job_state_.bind(1, static_cast<int>(state)).bind(2, now_ms).bind(3, job_id).exec());
    if (state == JobState::cancelled) {
      MEADOW_TRY(s_cancel_queued_.bind(1, job_id).exec());
      MEADOW_TRY(s_add_open_.bind(1, -db_.changes()).bind(2, job_id).exec());
    }
    MEADOW_TRY(tx.commit());
    ++local_job_writes_;
    return {};
  }

  std::uint64_t jobs_version() override {
    std::lock_guard lock(mu_);
    auto row = s_data_version_.step();
    std::uint64_t dv = row.ok() && *row ? static_cast<std::uint64_t>(s_data_version_.i64(0)) : 0;
    s_data_version_.reset();
    return (dv << 32) ^ local_job_writes_;
  }

  Result<std::vector<DeadTask>> dead_tasks(std::int64_t job_id, int limit) override {
    std::lock_guard lock(mu_);
    MEADOW_ASSIGN(std::vector<DeadTask> out,
                  sqlite::collect<DeadTask>(s_dead_tasks_.bind(1, job_id).bind(2, limit),
                                            [](Stmt& s) { return DeadTask{read_task(s), {}}; }));
    for (auto& d : out) {
      const std::int64_t id = d.task.id;
      MEADOW_ASSIGN(d.failures, sqlite::collect<TaskFailure>(s_failures_.bind(1, id), [id](Stmt& s) {
                      return TaskFailure{id, s.i32(0), s.text(1), s.text(2), s.i64(3)};
                    }));
    }
    return out;
  }

  Result<Task> get_task(std::int64_t task_id) override {
    std::lock_guard lock(mu_);
    return get_task_locked(task_id);
  }

  // --- leasing

  Result<std::vector<LeaseGrant>> lease(const LeaseParams& p, const PickFn& pick) override {
    MEADOW_ASSIGN(auto all, lease_batch({p}, pick));
    return std::move(all.front());
  }

  Result<std::vector<std::vector<LeaseGrant>>> lease_batch(const std::vector<LeaseParams>& params,
                                                           const PickFn& pick) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    MEADOW_TRY(tx.begin());
    std::vector<std::vector<LeaseGrant>> out;
    out.reserve(params.size());
    std::int64_t token = last_token_;
    for (const auto& p : params) {
      Status source_status;
      SqliteCandidates source(s_candidates_, p.now_ms, source_status);
      std::vector<LeaseCandidate> picked = pick(source, p.max_tasks);
      s_candidates_.reset();
      MEADOW_TRY(source_status);
      std::vector<LeaseGrant> grants;
      grants.reserve(picked.size());
      std::int64_t deadline = p.now_ms + p.lease_ms;
      for (auto& c : picked) {
        ++token;
        MEADOW_TRY(s_lease_task_.bind(1, token).bind(2, p.node_id).bind(3, deadline).bind(4, c.task_id).exec());
        if (db_.changes() != 1) continue;  // the pick returned a task that is not queued
        LeaseGrant g;
        g.attempt = c.attempts + 1;
        g.task = std::move(c);
        g.token = token;
        g.deadline_ms = deadline;
        grants.push_back(std::move(g));
      }
      out.push_back(std::move(grants));
    }
    MEADOW_TRY(tx.commit());
    last_token_ = token;
    return out;
  }

  Result<protocol::ExtendResponse> extend(const std::string& node_id, const std::vector<protocol::LeaseRef>& leases,
                                          std::int64_t new_deadline_ms, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    MEADOW_TRY(tx.begin());
    protocol::ExtendResponse out;
    for (const auto& ref : leases) {
      auto task = get_task_locked(ref.task_id);
      if (!task.ok()) {
        out.refused.push_back({ref.task_id, task.error().code, task.error().message});
        continue;
      }
      auto check = check_lease(*task, node_id, ref.token, now_ms);
      if (!check.ok()) {
        out.refused.push_back({ref.task_id, check.error().code, check.error().message});
        continue;
      }
      MEADOW_TRY(s_extend_.bind(1, new_deadline_ms).bind(2, ref.task_id).exec());
      out.extended.push_back({ref.task_id, ref.token, new_deadline_ms});
    }
    MEADOW_TRY(tx.commit());
    return out;
  }

  Result<protocol::ReleaseResponse> release(const std::string& node_id, const std::vector<protocol::LeaseRef>& leases,
                                            std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    MEADOW_TRY(tx.begin());
    protocol::ReleaseResponse out;
    for (const auto& ref : leases) {
      auto task = get_task_locked(ref.task_id);
      Status check = task.ok() ? check_lease(*task, node_id, ref.token, now_ms) : Status(task.error());
      if (!check.ok()) {
        out.refused.push_back({ref.task_id, check.error().code, check.error().message});
        continue;
      }
      MEADOW_TRY(s_release_.bind(1, now_ms).bind(2, ref.task_id).exec());
      out.released.push_back(ref.task_id);
    }
    MEADOW_TRY(tx.commit());
    return out;
  }

  Result<ReapResult> reap_expired(std::int64_t now_ms, int limit) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    MEADOW_TRY(tx.begin());
    MEADOW_ASSIGN(std::vector<Task> expired, sqlite::collect<Task>(s_expired_.bind(1, now_ms).bind(2, limit), read_task));
    ReapResult r;
    if (expired.empty()) return r;
    open_delta_.clear();
    std::map<std::int64_t, std::optional<Job>> jobs;  // each job read once
    for (const auto& t : expired) {
      auto it = jobs.find(t.job_id);
      if (it == jobs.end()) {
        MEADOW_ASSIGN(auto job, job_row(t.job_id));
        it = jobs.emplace(t.job_id, std::move(job)).first;
      }
      std::string reason = "lease expired: node " + t.node_id + " did not report within its lease";
      MEADOW_TRY(s_add_failure_.bind(1, t.id).bind(2, t.attempts).bind(3, t.node_id).bind(4, reason).bind(5, now_ms).exec());
      TaskState next = after_failure(t, it->second);
      MEADOW_TRY(finish_task(t, next));
      if (next == TaskState::queued) ++r.requeued;
      if (next == TaskState::dead) ++r.dead;
    }
    MEADOW_TRY(flush_open_counts(now_ms));
    MEADOW_TRY(tx.commit());
    return r;
  }

  Result<std::optional<std::int64_t>> next_available_ms() override {
    std::lock_guard lock(mu_);
    MEADOW_ASSIGN(bool row, s_next_available_.step());
    std::optional<std::int64_t> out;
    if (row && !s_next_available_.is_null(0)) out = s_next_available_.i64(0);
    s_next_available_.reset();
    return out;
  }

  // --- results

  Result<std::vector<protocol::UploadItem>> complete(const std::string& node_id,
                                                     const std::vector<VerifiedResult>& results,
                                                     std::int64_t now_ms, std::int64_t retry_delay_ms) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    MEADOW_TRY(tx.begin());
    open_delta_.clear();
    std::vector<protocol::UploadItem> items;
    items.reserve(results.size());
    std::vector<ItemError> bad;
    std::int64_t accepted = 0;
    std::set<std::int64_t> seen;
    for (const auto& r : results) {
      protocol::UploadItem item;
      item.task_id = r.task_id;
      item.outcome = r.outcome;
      if (!seen.insert(r.task_id).second) {
        bad.push_back({r.task_id, make_error(ErrorKind::invalid, "duplicate-task",
                                             "the upload names task " + std::to_string(r.task_id) + " twice")});
        continue;
      }
      auto task = get_task_locked(r.task_id);
      if (!task.ok()) {
        bad.push_back({r.task_id, std::move(task).error()});
        continue;
      }
      const Task& t = *task;
      // A retried upload of something already taken in: answer as before, count nothing. A
      // record for a task that has since been requeued, dead-lettered or cancelled falls
      // through to check_lease and is refused.
      bool same_lease = t.token == r.token && t.node_id == node_id && t.state != TaskState::leased;
      bool ok_again = r.outcome == protocol::Outcome::ok && t.state == TaskState::done;
      bool failure_again = r.outcome != protocol::Outcome::ok && t.state != TaskState::done;
      if (same_lease && (ok_again || failure_again)) {
        item.duplicate = true;
        if (ok_again) {
          MEADOW_ASSIGN(auto receipt, stored_receipt(t.id));
          item.receipt = std::move(receipt);
        }
        items.push_back(std::move(item));
        continue;
      }
      auto check = check_lease(t, node_id, r.token, now_ms);
      if (!check.ok()) {
        bad.push_back({r.task_id, std::move(check).error()});
        continue;
      }
      if (!bad.empty()) continue;  // nothing will be written; keep checking for the report
      if (r.outcome == protocol::Outcome::ok) {
        std::string blob = zstd::compress(r.record_json, 1);
        std::string receipt = meadow::to_json(protocol::to_json_object(r.receipt));
        MEADOW_TRY(s_insert_result_.bind(1, t.id).bind(2, t.job_id).bind(3, node_id).bind(4, r.token)
                       .bind(5, r.record_id).bind_blob(6, blob).bind(7, r.record_sha256).bind(8, receipt)
                       .bind(9, now_ms).exec());
        if (!r.capture_body.empty())
          MEADOW_TRY(s_insert_capture_.bind(1, db_.last_insert_rowid()).bind_blob(2, zstd::compress(r.capture_body, 1)).exec());
        if (!r.discovered.empty()) MEADOW_TRY(discover(t.job_id, r.discovered));
        MEADOW_TRY(finish_task(t, TaskState::done));
        item.receipt = r.receipt;
        ++accepted;
      } else if (r.outcome == protocol::Outcome::skipped) {
        MEADOW_TRY(s_add_failure_.bind(1, t.id).bind(2, t.attempts).bind(3, node_id).bind(4, "skipped: " + r.reason).bind(5, now_ms).exec());
        MEADOW_TRY(finish_task(t, TaskState::skipped));
      } else {
        MEADOW_TRY(s_add_failure_.bind(1, t.id).bind(2, t.attempts).bind(3, node_id).bind(4, r.reason).bind(5, now_ms).exec());
        MEADOW_ASSIGN(auto job, job_row(t.job_id));
        MEADOW_TRY(finish_task(t, after_failure(t, job), now_ms + retry_delay_ms));
      }
      items.push_back(std::move(item));
    }
    if (!bad.empty()) {
      Error e = bad.front().error;
      if (bad.size() > 1) {
        e.message += " (and " + std::to_string(bad.size() - 1) + " more:";
        for (std::size_t i = 1; i < bad.size() && i < 10; ++i) {
          e.message += " task " + std::to_string(bad[i].task_id) + " " + bad[i].error.code + ";";
        }
        e.message += ")";
      }
      e.message = "nothing was accepted: " + e.message;
      return e;
    }
    if (accepted > 0) MEADOW_TRY(s_node_accepted_.bind(1, accepted).bind(2, now_ms).bind(3, node_id).exec());
    MEADOW_TRY(flush_open_counts(now_ms));
    MEADOW_TRY(tx.commit());
    return items;
  }

  Result<std::vector<StoredResult>> results(std::int64_t job_id, std::int64_t after_task_id, int limit) override {
    std::lock_guard lock(mu_);
    std::vector<StoredResult> out;
    s_results_.bind(1, job_id).bind(2, after_task_id).bind(3, limit);
    for (;;) {
      MEADOW_ASSIGN(bool row, s_results_.step());
      if (!row) break;
      StoredResult r;
      r.task_id = s_results_.i64(0);
      r.job_id = job_id;
      r.node_id = s_results_.text(1);
      auto record = zstd::decompress(s_results_.blob(2), kMaxStoredRecord);
      if (!record.ok()) {
        s_results_.reset();
        return make_error(ErrorKind::internal, "storage-corrupt",
                          "stored record of task " + std::to_string(r.task_id) + " cannot be read: " +
                              record.error().message);
      }
      r.record_json = std::move(record).value();
      r.receipt_json = s_results_.text(3);
      r.accepted_ms = s_results_.i64(4);
      out.push_back(std::move(r));
    }
    return out;
  }

  // --- nodes

  Result<Node> register_node(const Node& node) override {
    std::lock_guard lock(mu_);
    auto existing = get_node_locked(node.id);
    if (existing.ok()) return existing;
    MEADOW_TRY(s_insert_node_.bind(1, node.id).bind_blob(2, node.public_key).bind(3, node.account)
                   .bind(4, node.name).bind(5, node.client).bind(6, node.registered_ms).exec());
    return get_node_locked(node.id);
  }

  Result<Node> get_node(const std::string& node_id) override {
    std::lock_guard lock(mu_);
    return get_node_locked(node_id);
  }

  Result<std::vector<Node>> list_nodes() override {
    std::lock_guard lock(mu_);
    return sqlite::collect<Node>(s_list_nodes_, read_node);
  }

  Status ban_node(const std::string& node_id, const std::string& reason, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    MEADOW_TRY(tx.begin());
    MEADOW_TRY(s_ban_node_.bind(1, reason).bind(2, node_id).exec());
    if (db_.changes() == 0) return not_found("unknown-node", "there is no node " + node_id);
    // Its leases end now, so the tasks return to the queue at the next reap.
    MEADOW_TRY(s_expire_node_leases_.bind(1, now_ms).bind(2, node_id).exec());
    MEADOW_TRY(tx.commit());
    return {};
  }

  // --- admin keys

  Status add_admin_key(const std::string& key_id, const std::string& key_hash, const std::string& label,
                       std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    return s_add_admin_key_.bind(1, key_id).bind(2, key_hash).bind(3, label).bind(4, now_ms).exec();
  }

  Result<std::optional<std::string>> find_admin_key(const std::string& key_hash) override {
    std::lock_guard lock(mu_);
    s_find_admin_key_.bind(1, key_hash);
    MEADOW_ASSIGN(bool row, s_find_admin_key_.step());
    std::optional<std::string> out;
    if (row) out = s_find_admin_key_.text(0);
    s_find_admin_key_.reset();
    return out;
  }

  // --- stats

  Result<QueueStats> queue_stats() override {
    std::lock_guard lock(mu_);
    QueueStats st;
    std::map<std::int64_t, std::size_t> job_index;
    MEADOW_ASSIGN(auto jobs, read_jobs(s_list_jobs_all_, [](Stmt&) {}, false));
    for (const auto& j : jobs) {
      job_index[j.id] = st.jobs.size();
      st.jobs.push_back({j.id, j.spec.name, j.state, {}});
    }
    for (;;) {
      MEADOW_ASSIGN(bool row, s_counts_by_job_.step());
      if (!row) break;
      auto it = job_index.find(s_counts_by_job_.i64(0));
      auto state = static_cast<TaskState>(s_counts_by_job_.i32(1));
      std::int64_t n = s_counts_by_job_.i64(2);
      add_count(st.total, state, n);
      if (it != job_index.end()) add_count(st.jobs[it->second].counts, state, n);
    }
    for (;;) {
      MEADOW_ASSIGN(bool row, s_counts_by_site_.step());
      if (!row) break;
      std::string site = s_counts_by_site_.text(0);
      if (st.sites.empty() || st.sites.back().site != site) st.sites.push_back({site, {}});
      add_count(st.sites.back().counts, static_cast<TaskState>(s_counts_by_site_.i32(1)), s_counts_by_site_.i64(2));
    }
    std::sort(st.sites.begin(), st.sites.end(), [](const auto& a, const auto& b) {
      return a.counts.queued + a.counts.leased > b.counts.queued + b.counts.leased;
    });
    if (st.sites.size() > 100) st.sites.resize(100);
    return st;
  }

  Status ping() override {
    std::lock_guard lock(mu_);
    return db_.exec("SELECT 1");
  }

 private:
  static void add_count(TaskCounts& c, TaskState s, std::int64_t n) {
    switch (s) {
      case TaskState::queued: c.queued += n; break;
      case TaskState::leased: c.leased += n; break;
      case TaskState::done: c.done += n; break;
      case TaskState::skipped: c.skipped += n; break;
      case TaskState::dead: c.dead += n; break;
      case TaskState::cancelled: c.cancelled += n; break;
    }
  }

  Status migrate(const std::string& path) {
    MEADOW_ASSIGN(Stmt v, db_.prepare("PRAGMA user_version"));
    MEADOW_ASSIGN(bool row, v.step());
    int version = row ? v.i32(0) : 0;
    v.reset();
    if (version > kSchemaVersion) {
      return make_error(ErrorKind::io, "storage-too-new",
                        "database '" + path + "' has schema version " + std::to_string(version) +
                            " but this program knows up to " + std::to_string(kSchemaVersion) +
                            "; run a newer meadow-coordinator");
    }
    for (int next = version + 1; next <= kSchemaVersion; ++next) {
      Transaction tx(db_);
      MEADOW_TRY(tx.begin());
      MEADOW_TRY(db_.exec(kMigrations[next - 1]));
      MEADOW_TRY(db_.exec("PRAGMA user_version=" + std::to_string(next)));
      MEADOW_TRY(tx.commit());
    }
    return {};
  }

  Status prepare_all() {
    struct P {
      Stmt* s;
      const char* sql;
    };
    static constexpr const char* kJobCols =
        "SELECT id, spec, state, created_ms, updated_ms FROM jobs ";
    static constexpr const char* kTaskCols =
        "SELECT id, job_id, url, site, depth, state, attempts, token, COALESCE(node_id,''), deadline_ms, available_ms FROM tasks ";
    const std::string job_cols = kJobCols;
    const std::string task_cols = kTaskCols;
    const std::string get_job = job_cols + "WHERE id=?1";
    const std::string list_jobs = job_cols + "WHERE ?1='' OR owner=?1 ORDER BY id DESC";
    const std::string list_all = job_cols + "ORDER BY id";
    const std::string active = job_cols + "WHERE state=0 ORDER BY id";
    const std::string get_task = task_cols + "WHERE id=?1";
    const std::string dead = task_cols + "WHERE job_id=?1 AND state=4 ORDER BY id LIMIT ?2";
    const std::string expired = task_cols + "WHERE state=1 AND deadline_ms<=?1 ORDER BY deadline_ms LIMIT ?2";
    P all[] = {
        {&s_insert_job_, "INSERT INTO jobs(name, spec, state, owner, created_ms, updated_ms) VALUES(?1,?2,?3,?4,?5,?5)"},
        {&s_insert_task_, "INSERT OR IGNORE INTO tasks(job_id, url, site, depth, state) VALUES(?1,?2,?3,?4,0)"},
        {&s_add_tasks_, "UPDATE jobs SET task_count=task_count+?1, open_tasks=open_tasks+?1 WHERE id=?2"},
        {&s_add_open_, "UPDATE jobs SET open_tasks=open_tasks+?1 WHERE id=?2"},
        {&s_job_task_count_, "SELECT task_count FROM jobs WHERE id=?1"},
        {&s_job_done_, "UPDATE jobs SET state=3, updated_ms=?1 WHERE id=?2 AND open_tasks=0 AND state IN (0,1)"},
        {&s_get_job_, get_job.c_str()},
        {&s_list_jobs_, list_jobs.c_str()},
        {&s_list_jobs_all_, list_all.c_str()},
        {&s_active_jobs_, active.c_str()},
        {&s_job_counts_, "SELECT state, COUNT(*) FROM tasks WHERE job_id=?1 GROUP BY state"},
        {&s_set_job_state_, "UPDATE jobs SET state=?1, updated_ms=?2 WHERE id=?3"},
        {&s_cancel_queued_, "UPDATE tasks SET state=5 WHERE job_id=?1 AND state=0"},
        {&s_data_version_, "PRAGMA data_version"},
        {&s_get_task_, get_task.c_str()},
        {&s_dead_tasks_, dead.c_str()},
        {&s_failures_, "SELECT attempt, COALESCE(node_id,''), reason, at_ms FROM task_failures WHERE task_id=?1 ORDER BY rowid"},
        {&s_candidates_, "SELECT id, url, site, depth, attempts FROM tasks WHERE job_id=?1 AND state=0 AND available_ms<=?2 AND id>?3 ORDER BY id LIMIT ?4"},
        {&s_lease_task_, "UPDATE tasks SET state=1, attempts=attempts+1, token=?1, node_id=?2, deadline_ms=?3 WHERE id=?4 AND state=0"},
        {&s_extend_, "UPDATE tasks SET deadline_ms=?1 WHERE id=?2"},
        {&s_release_, "UPDATE tasks SET state=0, attempts=MAX(attempts-1,0), available_ms=?1, deadline_ms=0 WHERE id=?2"},
        {&s_expired_, expired.c_str()},
        {&s_set_task_state_, "UPDATE tasks SET state=?1, available_ms=?2 WHERE id=?3"},
        {&s_add_failure_, "INSERT INTO task_failures(task_id, attempt, node_id, reason, at_ms) VALUES(?1,?2,?3,?4,?5)"},
        {&s_next_available_, "SELECT MIN(t.available_ms) FROM tasks t JOIN jobs j ON j.id=t.job_id WHERE t.state=0 AND j.state=0"},
        {&s_insert_capture_, "INSERT INTO captures(seq, body) VALUES(?1,?2)"},
        {&s_insert_result_, "INSERT INTO results(task_id, job_id, node_id, token, record_id, record, sha256, receipt, accepted_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"},
        {&s_receipt_, "SELECT receipt FROM results WHERE task_id=?1"},
        {&s_results_, "SELECT task_id, node_id, record, receipt, accepted_ms FROM results WHERE job_id=?1 AND task_id>?2 ORDER BY task_id LIMIT ?3"},
        {&s_node_accepted_, "UPDATE nodes SET accepted=accepted+?1, last_seen_ms=?2 WHERE id=?3"},
        {&s_insert_node_, "INSERT INTO nodes(id, public_key, account, name, client, registered_ms, last_seen_ms) VALUES(?1,?2,?3,?4,?5,?6,?6)"},
        {&s_get_node_, "SELECT id, public_key, account, name, client, banned, ban_reason, registered_ms, last_seen_ms, accepted FROM nodes WHERE id=?1"},
        {&s_list_nodes_, "SELECT id, public_key, account, name, client, banned, ban_reason, registered_ms, last_seen_ms, accepted FROM nodes ORDER BY registered_ms, id"},
        {&s_ban_node_, "UPDATE nodes SET banned=1, ban_reason=?1 WHERE id=?2"},
        {&s_expire_node_leases_, "UPDATE tasks SET deadline_ms=?1 WHERE state=1 AND node_id=?2"},
        {&s_add_admin_key_, "INSERT INTO admin_keys(id, hash, label, created_ms) VALUES(?1,?2,?3,?4)"},
        {&s_find_admin_key_, "SELECT id FROM admin_keys WHERE hash=?1 AND revoked=0"},
        {&s_counts_by_job_, "SELECT job_id, state, COUNT(*) FROM tasks GROUP BY job_id, state"},
        {&s_counts_by_site_, "SELECT site, state, COUNT(*) FROM tasks WHERE state IN (0,1) GROUP BY site, state ORDER BY site"},
    };
    for (auto& p : all) {
      MEADOW_ASSIGN(*p.s, db_.prepare(p.sql));
    }
    return {};
  }

  template <class Bind>
  Result<std::vector<Job>> read_jobs(Stmt& s, Bind bind, bool with_counts) {
    bind(s);
    std::vector<Job> out;
    for (;;) {
      MEADOW_ASSIGN(bool row, s.step());
      if (!row) break;
      Job j;
      j.id = s.i64(0);
      auto spec_obj = parse_json_object(s.text(1), "stored job spec");
      if (spec_obj.ok()) {
        auto spec = job_spec_from_json(*spec_obj);
        if (spec.ok()) j.spec = std::move(spec).value();
      }
      j.state = static_cast<JobState>(s.i32(2));
      j.created_ms = s.i64(3);
      j.updated_ms = s.i64(4);
      out.push_back(std::move(j));
    }
    if (with_counts) {
      for (auto& j : out) {
        s_job_counts_.bind(1, j.id);
        for (;;) {
          MEADOW_ASSIGN(bool row, s_job_counts_.step());
          if (!row) break;
          add_count(j.counts, static_cast<TaskState>(s_job_counts_.i32(0)), s_job_counts_.i64(1));
        }
      }
    }
    return out;
  }

  static Task read_task(Stmt& s) {
    Task t;
    t.id = s.i64(0);
    t.job_id = s.i64(1);
    t.url = s.text(2);
    t.site = s.text(3);
    t.depth = s.i32(4);
    t.state = static_cast<TaskState>(s.i32(5));
    t.attempts = s.i32(6);
    t.token = s.i64(7);
    t.node_id = s.text(8);
    t.deadline_ms = s.i64(9);
    t.available_at_ms = s.i64(10);
    return t;
  }

  static Node read_node(Stmt& s) {
    Node n;
    n.id = s.text(0);
    n.public_key = s.blob(1);
    n.account = s.text(2);
    n.name = s.text(3);
    n.client = s.text(4);
    n.banned = s.i32(5) != 0;
    n.ban_reason = s.text(6);
    n.registered_ms = s.i64(7);
    n.last_seen_ms = s.i64(8);
    n.accepted = s.i64(9);
    return n;
  }

  Result<Task> get_task_locked(std::int64_t task_id) {
    s_get_task_.bind(1, task_id);
    MEADOW_ASSIGN(bool row, s_get_task_.step());
    if (!row) return not_found("unknown-task", "there is no task " + std::to_string(task_id));
    Task t = read_task(s_get_task_);
    s_get_task_.reset();
    return t;
  }

  Result<Node> get_node_locked(const std::string& node_id) {
    s_get_node_.bind(1, node_id);
    MEADOW_ASSIGN(bool row, s_get_node_.step());
    if (!row) return not_found("unknown-node", "there is no node " + node_id + "; register first");
    Node n = read_node(s_get_node_);
    s_get_node_.reset();
    return n;
  }

  Result<protocol::Receipt> stored_receipt(std::int64_t task_id) {
    s_receipt_.bind(1, task_id);
    MEADOW_ASSIGN(bool row, s_receipt_.step());
    if (!row) return make_error(ErrorKind::internal, "storage-corrupt", "a done task has no stored result");
    std::string text = s_receipt_.text(0);
    s_receipt_.reset();
    MEADOW_ASSIGN(auto obj, parse_json_object(text, "stored receipt"));
    return protocol::parse_receipt(obj);
  }

  static Status check_lease(const Task& t, const std::string& node_id, std::int64_t token, std::int64_t now_ms) {
    std::string id = std::to_string(t.id);
    if (t.state != TaskState::leased) {
      return make_error(ErrorKind::conflict, "task-not-leased",
                        "task " + id + " is " + to_string(t.state) + ", not leased; lease it again");
    }
    if (t.node_id != node_id) {
      return make_error(ErrorKind::conflict, "not-your-lease", "task " + id + " is leased to another node");
    }
    if (t.token != token) {
      return make_error(ErrorKind::conflict, "stale-token",
                        "fencing token " + std::to_string(token) + " for task " + id +
                            " is stale; the task was leased again with a newer token");
    }
    if (t.deadline_ms < now_ms) {
      return make_error(ErrorKind::conflict, "lease-expired",
                        "the lease of task " + id + " expired; the task goes back to the queue");
    }
    return {};
  }

  // One job without task counts, or nullopt when there is no such job.
  Result<std::optional<Job>> job_row(std::int64_t job_id) {
    MEADOW_ASSIGN(auto jobs, read_jobs(s_get_job_, [&](Stmt& s) { s.bind(1, job_id); }, false));
    if (jobs.empty()) return std::optional<Job>{};
    return std::optional<Job>{std::move(jobs.front())};
  }

  // Where a task goes after a failed attempt (an expired lease or a failure report): back to
  // the queue, to dead-letter once it has used max_attempts, or cancelled with its job.
  static TaskState after_failure(const Task& t, const std::optional<Job>& job) {
    if (!job || job->state == JobState::cancelled) return TaskState::cancelled;
    return t.attempts >= job->spec.max_attempts ? TaskState::dead : TaskState::queued;
  }

  // Moves a task out of queued/leased; the job's open count changes in flush_open_counts().
  Status finish_task(const Task& t, TaskState next, std::int64_t available_ms = 0) {
    MEADOW_TRY(s_set_task_state_.bind(1, static_cast<int>(next)).bind(2, available_ms).bind(3, t.id).exec());
    if (is_final(next)) --open_delta_[t.job_id];
    return {};
  }

  // Applies the open-task changes of this transaction once per job, and marks jobs with
  // nothing left open as done.
  Status flush_open_counts(std::int64_t now_ms) {
    auto deltas = std::move(open_delta_);
    open_delta_.clear();
    for (const auto& [job_id, delta] : deltas) {
      MEADOW_TRY(s_add_open_.bind(1, delta).bind(2, job_id).exec());
      MEADOW_TRY(s_job_done_.bind(1, now_ms).bind(2, job_id).exec());
      if (db_.changes() > 0) ++local_job_writes_;
    }
    return {};
  }

  Result<std::int64_t> insert_tasks(std::int64_t job_id, const std::vector<NewTask>& tasks, std::int64_t room) {
    std::int64_t added = 0;
    for (const auto& t : tasks) {
      if (added >= room) break;
      MEADOW_TRY(s_insert_task_.bind(1, job_id).bind(2, t.url).bind(3, t.site).bind(4, t.depth).exec());
      added += db_.changes();
    }
    if (added > 0) MEADOW_TRY(s_add_tasks_.bind(1, added).bind(2, job_id).exec());
    return added;
  }

  Status discover(std::int64_t job_id, const std::vector<NewTask>& found) {
    MEADOW_ASSIGN(auto job, job_row(job_id));
    if (!job || job->state == JobState::cancelled) return {};
    s_job_task_count_.bind(1, job_id);
    MEADOW_ASSIGN(bool row, s_job_task_count_.step());
    std::int64_t count = row ? s_job_task_count_.i64(0) : 0;
    s_job_task_count_.reset();
    std::int64_t room = job->spec.max_pages - count;
    if (room <= 0) return {};
    MEADOW_ASSIGN(std::int64_t added, insert_tasks(job_id, found, room));
    (void)added;
    return {};
  }

  Catalog& catalog() override { return *catalog_; }

  std::mutex mu_;  // guards db_, every statement (the catalog's too), last_token_ and local_job_writes_
  Db db_;
  std::unique_ptr<Catalog> catalog_;
  std::int64_t last_token_ = 0;
  std::uint64_t local_job_writes_ = 0;
  std::map<std::int64_t, std::int64_t> open_delta_;  // per job, within the open transaction
  Stmt s_insert_job_, s_insert_task_, s_add_tasks_, s_add_open_, s_job_task_count_, s_job_done_, s_get_job_,
      s_list_jobs_, s_list_jobs_all_, s_active_jobs_, s_job_counts_, s_set_job_state_, s_cancel_queued_,
      s_data_version_, s_get_task_, s_dead_tasks_, s_failures_, s_candidates_, s_lease_task_, s_extend_, s_release_,
      s_expired_, s_set_task_state_, s_add_failure_, s_next_available_, s_insert_result_, s_insert_capture_, s_receipt_,
      s_results_, s_node_accepted_, s_insert_node_, s_get_node_, s_list_nodes_, s_ban_node_,
      s_expire_node_leases_, s_add_admin_key_, s_find_admin_key_, s_counts_by_job_, s_counts_by_site_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  MEADOW_ASSIGN(sqlite::Db db, sqlite::Db::open(options.path, options.busy_timeout_ms));
  auto store = std::make_unique<SqliteStore>(std::move(db));
  MEADOW_TRY(store->init(options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace meadow::coordinator
