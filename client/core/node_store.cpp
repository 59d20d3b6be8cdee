#include "client/core/node_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <utility>

#include "client/core/write_gathering_vfs.h"

namespace meadow::client {
namespace {

// Stored in the file header's application_id ("MDNS"): marks a file as a Meadow node store.
constexpr std::int32_t kApplicationId = 0x4D444E53;
// How long a write waits for another process (the CLI, the daemon) to finish its own.
constexpr int kBusyTimeoutMs = 5000;

// kMigrations[n] takes a store from schema version n to n + 1. Append only: a released step
// never changes, because stores in the field have already run it.
constexpr std::array<const char*, 1> kMigrations = {
    R"sql(
CREATE TABLE contributions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id INTEGER NOT NULL,
  job_id INTEGER NOT NULL,
  token INTEGER NOT NULL,
  url TEXT NOT NULL,
  final_url TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL,
  http_status INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  wire_bytes INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT NOT NULL,
  state TEXT NOT NULL,
  record_id TEXT NOT NULL,
  receipt TEXT NOT NULL
) STRICT;
-- Serves log() (a range on started_ms, newest first; the rowid breaks ties) and the part of
-- usage_since() that falls inside one hour.
CREATE INDEX contributions_by_start ON contributions (started_ms);

CREATE TABLE outbox (
  contribution_id INTEGER PRIMARY KEY REFERENCES contributions (id),
  task_id INTEGER NOT NULL,
  token INTEGER NOT NULL,
  frame BLOB NOT NULL
) STRICT;

-- Running counts per (outcome, state), kept by the triggers below in the same transaction as
-- the change, so totals() never scans the log.
CREATE TABLE tallies (
  outcome TEXT NOT NULL,
  state TEXT NOT NULL,
  row_count INTEGER NOT NULL,
  byte_count INTEGER NOT NULL,
  PRIMARY KEY (outcome, state)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER contributions_tally_insert AFTER INSERT ON contributions BEGIN
  INSERT INTO tallies (outcome, state, row_count, byte_count) VALUES (NEW.outcome, NEW.state, 1, NEW.bytes)
    ON CONFLICT (outcome, state) DO UPDATE SET row_count = row_count + 1, byte_count = byte_count + excluded.byte_count;
END;
CREATE TRIGGER contributions_tally_update AFTER UPDATE OF outcome, state, bytes ON contributions BEGIN
  UPDATE tallies SET row_count = row_count - 1, byte_count = byte_count - OLD.bytes
    WHERE outcome = OLD.outcome AND state = OLD.state;
  INSERT INTO tallies (outcome, state, row_count, byte_count) VALUES (NEW.outcome, NEW.state, 1, NEW.bytes)
    ON CONFLICT (outcome, state) DO UPDATE SET row_count = row_count + 1, byte_count = byte_count + excluded.byte_count;
END;
CREATE TRIGGER contributions_tally_delete AFTER DELETE ON contributions BEGIN
  UPDATE tallies SET row_count = row_count - 1, byte_count = byte_count - OLD.bytes
    WHERE outcome = OLD.outcome AND state = OLD.state;
END;

-- Pages and wire bytes per UTC hour of started_ms, kept by triggers, so usage_since() over a
-- month reads some 700 rows however busy the node was.
CREATE TABLE usage_hours (
  hour_ms INTEGER PRIMARY KEY,
  pages INTEGER NOT NULL,
  wire_bytes INTEGER NOT NULL
) STRICT;
CREATE TRIGGER contributions_usage_insert AFTER INSERT ON contributions BEGIN
  INSERT INTO usage_hours (hour_ms, pages, wire_bytes)
    VALUES (NEW.started_ms - NEW.started_ms % 3600000, NEW.outcome <> 'skipped', NEW.wire_bytes)
    ON CONFLICT (hour_ms) DO UPDATE SET pages = pages + excluded.pages, wire_bytes = wire_bytes + excluded.wire_bytes;
END;
CREATE TRIGGER contributions_usage_update AFTER UPDATE OF started_ms, outcome, wire_bytes ON contributions BEGIN
  UPDATE usage_hours SET pages = pages - (OLD.outcome <> 'skipped'), wire_bytes = wire_bytes - OLD.wire_bytes
    WHERE hour_ms = OLD.started_ms - OLD.started_ms % 3600000;
  INSERT INTO usage_hours (hour_ms, pages, wire_bytes)
    VALUES (NEW.started_ms - NEW.started_ms % 3600000, NEW.outcome <> 'skipped', NEW.wire_bytes)
    ON CONFLICT (hour_ms) DO UPDATE SET pages = pages + excluded.pages, wire_bytes = wire_bytes + excluded.wire_bytes;
END;
CREATE TRIGGER contributions_usage_delete AFTER DELETE ON contributions BEGIN
  UPDATE usage_hours SET pages = pages - (OLD.outcome <> 'skipped'), wire_bytes = wire_bytes - OLD.wire_bytes
    WHERE hour_ms = OLD.started_ms - OLD.started_ms % 3600000;
END;

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(kMigrations.size());
// The width of a usage_hours bucket; the schema's triggers spell the same number.
constexpr std::int64_t kHourMs = 3'600'000;

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

std::string path_of(sqlite3* db) {
  const char* p = db ? sqlite3_db_filename(db, "main") : nullptr;
  return p && *p ? p : "(unnamed)";
}

Error not_a_node_store(const std::string& path, const std::string& why) {
  return make_error(ErrorKind::io, "bad-store",
                    "'" + path + "' is not a Meadow node store (" + why +
                        "); it was left untouched. Point meadow at another file, or move this one aside");
}

// Turns an SQLite failure into an error that says what to do about it.
Error store_error(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  const bool same = db && (sqlite3_errcode(db) & 0xff) == primary;
  const std::string detail = same ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const std::string path = path_of(db);
  const std::string head = std::string(what) + " failed in the node store '" + path + "': " + detail;
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return make_error(ErrorKind::unavailable, "store-busy",
                        head + ". Another meadow process kept it locked; try again in a moment");
    case SQLITE_FULL:
      return make_error(ErrorKind::io, "store-full", head + ". The disk is full; free some space and try again");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return make_error(ErrorKind::io, "bad-store",
                        head +
                            ". The file is damaged; stop meadow, move it aside and start again "
                            "(results still waiting in it will be lost)");
    default:
      return make_error(ErrorKind::io, "store-io",
                        head + ". Check that the file and its directory are readable and writable");
  }
}

bool is_one_of(std::string_view v, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}

std::int64_t clamp_to_i64(std::size_t n) {
  return static_cast<std::int64_t>(std::min<std::size_t>(n, std::numeric_limits<std::int64_t>::max()));
}

// One use of a prepared statement. It is reset on scope exit so no read transaction outlives a
// call: an open one would pin an old snapshot, hiding other processes' commits and holding back
// WAL checkpoints. Text and blobs are bound without a copy (a result frame is kilobytes), so
// what is bound must outlive the Query, whose reset and clear release it.
class Query {
 public:
  explicit Query(sqlite3_stmt* s) : s_(s) {}
  ~Query() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int i, std::int64_t v) { return note(sqlite3_bind_int64(s_, i, v)); }
  // Never binds NULL: an empty view may have no data pointer, which SQLite would read as NULL.
  Query& bind_text(int i, std::string_view v) {
    return note(sqlite3_bind_text64(s_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8));
  }
  Query& bind_blob(int i, std::string_view v) {
    return note(sqlite3_bind_blob64(s_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC));
  }

  // True on a row, false when the statement is done.
  Result<bool> step(std::string_view what) {
    if (bind_rc_ != SQLITE_OK) return store_error(sqlite3_db_handle(s_), bind_rc_, what);
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return store_error(sqlite3_db_handle(s_), rc, what);
  }
  Status run(std::string_view what) {
    MEADOW_ASSIGN(bool row, step(what));
    (void)row;
    return {};
  }

  std::int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    const int n = sqlite3_column_bytes(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
  }
  std::string blob(int col) const {
    const void* p = sqlite3_column_blob(s_, col);
    const int n = sqlite3_column_bytes(s_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
  }

 private:
  Query& note(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }
  sqlite3_stmt* s_;
  int bind_rc_ = SQLITE_OK;
};

// BEGIN IMMEDIATE takes the write lock up front, so a writer waits for another process in the
// busy handler instead of failing halfway when a read would have to turn into a write. Rolls
// back on destruction unless committed.
class Transaction {
 public:
  Transaction(sqlite3_stmt* begin, sqlite3_stmt* commit, sqlite3_stmt* rollback)
      : begin_(begin), commit_(commit), rollback_(rollback) {}
  // Builds no error text, so nothing can throw here; a rollback that fails is undone by SQLite
  // anyway when the connection closes.
  ~Transaction() {
    if (!open_) return;
    sqlite3_step(rollback_);
    sqlite3_reset(rollback_);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status begin() {
    MEADOW_TRY(Query(begin_).run("starting a write"));
    open_ = true;
    return {};
  }
  Status commit() {
    MEADOW_TRY(Query(commit_).run("committing a write"));
    open_ = false;
    return {};
  }

 private:
  sqlite3_stmt* begin_;
  sqlite3_stmt* commit_;
  sqlite3_stmt* rollback_;
  bool open_ = false;
};

Status exec(sqlite3* db, const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return store_error(db, rc, what);
  return {};
}

// The first column of the first row of a one-off query (pragmas at open time).
Result<std::int64_t> read_number(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  StmtHandle s(raw);
  if (rc != SQLITE_OK) return store_error(db, rc, "reading the store header");
  Query q(s.get());
  MEADOW_ASSIGN(bool row, q.step("reading the store header"));
  return row ? q.i64(0) : 0;
}

std::string hex(std::int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%08llx", static_cast<unsigned long long>(static_cast<std::uint32_t>(v)));
  return buf;
}

// Decides whether `db` is a Meadow node store, a fresh file, or neither, by reading only, so a
// file that is not ours is left exactly as it was.
Status identify(sqlite3* db, const std::string& path) {
  auto app_id = read_number(db, "PRAGMA application_id");
  if (!app_id.ok()) {
    if (sqlite3_errcode(db) == SQLITE_NOTADB) return not_a_node_store(path, "it is not an SQLite database");
    return std::move(app_id).error();
  }
  MEADOW_ASSIGN(std::int64_t version, read_number(db, "PRAGMA user_version"));
  if (*app_id == kApplicationId) {
    if (version > kSchemaVersion) {
      return make_error(ErrorKind::io, "bad-store",
                        "the node store '" + path + "' was written by a newer Meadow (store version " +
                            std::to_string(version) + ", this program knows up to " + std::to_string(kSchemaVersion) +
                            "); update Meadow to use it");
    }
    return {};
  }
  if (*app_id != 0) return not_a_node_store(path, "it belongs to another application, id " + hex(*app_id));
  MEADOW_ASSIGN(std::int64_t objects, read_number(db, "SELECT count(*) FROM sqlite_schema"));
  if (objects != 0 || version != 0) return not_a_node_store(path, "it holds another application's tables");
  return {};
}

Status configure(sqlite3* db, const std::string& path) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &raw, nullptr);
  StmtHandle s(raw);
  if (rc != SQLITE_OK) return store_error(db, rc, "switching to write-ahead logging");
  {
    Query q(s.get());
    MEADOW_ASSIGN(bool row, q.step("switching to write-ahead logging"));
    if (!row || q.text(0) != "wal") {
      return make_error(ErrorKind::io, "store-io",
                        "the node store '" + path +
                            "' cannot use write-ahead logging, which lets the daemon and the CLI share it; "
                            "keep it on a local disk rather than a network file system");
    }
  }
  MEADOW_TRY(exec(db, "PRAGMA synchronous=NORMAL", "setting durability"));
  MEADOW_TRY(exec(db, "PRAGMA foreign_keys=ON", "enabling foreign keys"));
  return {};
}

void read_contribution(const Query& q, Contribution& c) {
  c.id = q.i64(0);
  c.task_id = q.i64(1);
  c.job_id = q.i64(2);
  c.token = q.i64(3);
  c.url = q.text(4);
  c.final_url = q.text(5);
  c.started_ms = q.i64(6);
  c.finished_ms = q.i64(7);
  c.http_status = static_cast<int>(q.i64(8));
  c.bytes = q.i64(9);
  c.wire_bytes = q.i64(10);
  c.outcome = q.text(11);
  c.reason = q.text(12);
  c.state = q.text(13);
  c.record_id = q.text(14);
  c.receipt = q.text(15);
}

}  // namespace

struct NodeStore::Impl {
  // Declared first so it is destroyed last, after every statement is finalized.
  DbHandle db;
  std::int64_t data_version = 0;

  StmtHandle begin, commit, rollback;
  StmtHandle insert_contribution, insert_outbox;
  StmtHandle pending, pending_count;
  StmtHandle delete_outbox, settle_row;
  StmtHandle log, usage, tallies;
  StmtHandle set_value, get_value;
  StmtHandle data_version_query;

  Transaction transaction() { return Transaction(begin.get(), commit.get(), rollback.get()); }

  Status prepare(StmtHandle& out, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    out.reset(raw);
    if (rc != SQLITE_OK) return store_error(db.get(), rc, "preparing a statement");
    return {};
  }

  Status prepare_transactions() {
    MEADOW_TRY(prepare(begin, "BEGIN IMMEDIATE"));
    MEADOW_TRY(prepare(commit, "COMMIT"));
    MEADOW_TRY(prepare(rollback, "ROLLBACK"));
    return {};
  }

  // Each step runs in its own transaction and re-reads the version inside it, so two processes
  // opening an old or new file at once migrate it exactly once. A current store is only read,
  // so opening it never waits for another process's write.
  Status migrate() {
    MEADOW_ASSIGN(std::int64_t current, read_number(db.get(), "PRAGMA user_version"));
    if (current == kSchemaVersion) return {};
    for (;;) {
      Transaction tx = transaction();
      MEADOW_TRY(tx.begin());
      MEADOW_ASSIGN(std::int64_t version, read_number(db.get(), "PRAGMA user_version"));
      if (version > kSchemaVersion) return identify(db.get(), path_of(db.get()));
      if (version == kSchemaVersion) return tx.commit();
      MEADOW_TRY(exec(db.get(), kMigrations[static_cast<std::size_t>(version)], "upgrading the store"));
      const std::string stamp = "PRAGMA user_version=" + std::to_string(version + 1) +
                                "; PRAGMA application_id=" + std::to_string(kApplicationId);
      MEADOW_TRY(exec(db.get(), stamp.c_str(), "upgrading the store"));
      MEADOW_TRY(tx.commit());
    }
  }

  Status prepare_queries() {
    struct Named {
      StmtHandle* stmt;
      const char* sql;
    };
    const Named all[] = {
        {&insert_contribution,
         "INSERT INTO contributions (task_id, job_id, token, url, final_url, started_ms, finished_ms, http_status,"
         " bytes, wire_bytes, outcome, reason, state, record_id, receipt)"
         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"},
        {&insert_outbox, "INSERT INTO outbox (contribution_id, task_id, token, frame) VALUES (?1, ?2, ?3, ?4)"},
        {&pending,
         "SELECT contribution_id, task_id, token, length(frame), frame FROM outbox"
         " ORDER BY contribution_id LIMIT ?1"},
        {&pending_count, "SELECT count(*) FROM outbox"},
        {&delete_outbox, "DELETE FROM outbox WHERE contribution_id = ?1"},
        {&settle_row,
         "UPDATE contributions SET state = ?2, receipt = ?3,"
         " reason = CASE WHEN ?4 = '' THEN reason ELSE ?4 END WHERE id = ?1"},
        {&log,
         "SELECT id, task_id, job_id, token, url, final_url, started_ms, finished_ms, http_status, bytes,"
         " wire_bytes, outcome, reason, state, record_id, receipt FROM contributions"
         " WHERE started_ms >= ?1 ORDER BY started_ms DESC, id DESC LIMIT ?2"},
        // The rows of since_ms's own hour (?2 is its start, ?3 its last millisecond) one by one,
        // then the later hours from the rollup; one statement, so both parts read one snapshot.
        {&usage,
         "SELECT coalesce(sum(pages), 0), coalesce(sum(wire), 0) FROM ("
         " SELECT outcome <> 'skipped' AS pages, wire_bytes AS wire FROM contributions"
         "  WHERE started_ms >= ?1 AND started_ms <= ?3"
         " UNION ALL"
         " SELECT pages, wire_bytes FROM usage_hours WHERE hour_ms > ?2)"},
        {&tallies, "SELECT outcome, state, row_count, byte_count FROM tallies"},
        {&set_value,
         "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"},
        {&get_value, "SELECT value FROM settings WHERE key = ?1"},
        {&data_version_query, "PRAGMA data_version"},
    };
    for (const auto& n : all) MEADOW_TRY(prepare(*n.stmt, n.sql));
    return {};
  }

  // One log row and, with a frame, its outbox entry; inside the caller's transaction.
  Result<std::int64_t> insert(const Contribution& c, std::string_view state, std::string_view frame);

  Result<std::int64_t> read_data_version() {
    Query q(data_version_query.get());
    MEADOW_ASSIGN(bool row, q.step("checking for changes"));
    return row ? q.i64(0) : 0;
  }
};

NodeStore::NodeStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NodeStore::~NodeStore() = default;

Result<std::unique_ptr<NodeStore>> NodeStore::open(const std::string& path) {
  if (path.empty()) {
    return make_error(ErrorKind::invalid, "bad-store",
                      "no node store path was given; name the file that should hold the outbox and activity log");
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 write_gathering_vfs());
  auto impl = std::make_unique<Impl>();
  impl->db.reset(raw);
  if (rc != SQLITE_OK) {
    return make_error(ErrorKind::io, "store-io",
                      "cannot open the node store '" + path + "': " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)) +
                          ". Check that its directory exists and is writable");
  }
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  MEADOW_TRY(identify(raw, path));
  MEADOW_TRY(configure(raw, path));
  MEADOW_TRY(impl->prepare_transactions());
  MEADOW_TRY(impl->migrate());
  MEADOW_TRY(impl->prepare_queries());
  MEADOW_ASSIGN(impl->data_version, impl->read_data_version());
  return std::unique_ptr<NodeStore>(new NodeStore(std::move(impl)));
}

namespace {

// The state add() stores for `c`, or why `c` cannot be added.
Result<std::string> state_to_add(const Contribution& c, bool has_frame) {
  if (!is_one_of(c.outcome, {"ok", "failed", "skipped"})) {
    return make_error(ErrorKind::invalid, "bad-contribution",
                      "outcome '" + c.outcome + "' is not one of ok, failed, skipped");
  }
  if (c.started_ms < 0) {
    return make_error(
        ErrorKind::invalid, "bad-contribution",
        "started_ms " + std::to_string(c.started_ms) + " is before 1970; pass milliseconds since the Unix epoch");
  }
  if (has_frame) {
    if (!c.state.empty() && c.state != "pending") {
      return make_error(ErrorKind::invalid, "bad-contribution",
                        "a contribution with a result to upload is 'pending', not '" + c.state + "'");
    }
    return std::string("pending");
  }
  std::string state = c.state.empty() ? "local" : c.state;
  if (!is_one_of(state, {"local", "accepted", "duplicate", "refused"})) {
    return make_error(
        ErrorKind::invalid, "bad-contribution",
        "state '" + state + "' needs a result frame or is unknown; without one use local, accepted, duplicate or refused");
  }
  return state;
}

}  // namespace

Result<std::int64_t> NodeStore::Impl::insert(const Contribution& c, std::string_view state, std::string_view frame) {
  {
    Query q(insert_contribution.get());
    q.bind(1, c.task_id).bind(2, c.job_id).bind(3, c.token);
    q.bind_text(4, c.url).bind_text(5, c.final_url);
    q.bind(6, c.started_ms).bind(7, c.finished_ms).bind(8, c.http_status);
    q.bind(9, c.bytes).bind(10, c.wire_bytes);
    q.bind_text(11, c.outcome).bind_text(12, c.reason).bind_text(13, state);
    q.bind_text(14, c.record_id).bind_text(15, c.receipt);
    MEADOW_TRY(q.run("recording a fetch"));
  }
  const std::int64_t id = sqlite3_last_insert_rowid(db.get());
  if (!frame.empty()) {
    Query q(insert_outbox.get());
    q.bind(1, id).bind(2, c.task_id).bind(3, c.token).bind_blob(4, frame);
    MEADOW_TRY(q.run("queueing a result"));
  }
  return id;
}

Result<std::int64_t> NodeStore::add(const Contribution& c, std::string_view result_frame) {
  MEADOW_ASSIGN(std::string state, state_to_add(c, !result_frame.empty()));
  Transaction tx = impl_->transaction();
  MEADOW_TRY(tx.begin());
  MEADOW_ASSIGN(std::int64_t id, impl_->insert(c, state, result_frame));
  MEADOW_TRY(tx.commit());
  return id;
}

Result<std::vector<std::int64_t>> NodeStore::add_many(const std::vector<NewContribution>& items) {
  std::vector<std::string> states;
  states.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto state = state_to_add(items[i].contribution, !items[i].frame.empty());
    if (!state.ok()) {
      Error e = std::move(state).error();
      e.message = "item " + std::to_string(i) + " (" + items[i].contribution.url + "): " + e.message +
                  "; nothing in this batch was written";
      return e;
    }
    states.push_back(std::move(state).value());
  }
  std::vector<std::int64_t> ids;
  if (items.empty()) return ids;
  ids.reserve(items.size());
  Transaction tx = impl_->transaction();
  MEADOW_TRY(tx.begin());
  for (std::size_t i = 0; i < items.size(); ++i) {
    MEADOW_ASSIGN(std::int64_t id, impl_->insert(items[i].contribution, states[i], items[i].frame));
    ids.push_back(id);
  }
  MEADOW_TRY(tx.commit());
  return ids;
}

Result<std::vector<PendingResult>> NodeStore::pending(std::size_t max_items, std::size_t max_bytes) {
  std::vector<PendingResult> out;
  if (max_items == 0) return out;
  Query q(impl_->pending.get());
  q.bind(1, clamp_to_i64(max_items));
  std::size_t bytes = 0;
  for (;;) {
    MEADOW_ASSIGN(bool row, q.step("reading the outbox"));
    if (!row) break;
    const auto size = static_cast<std::size_t>(q.i64(3));
    if (!out.empty() && size > max_bytes - std::min(bytes, max_bytes)) break;
    PendingResult p;
    p.contribution_id = q.i64(0);
    p.task_id = q.i64(1);
    p.token = q.i64(2);
    p.frame = q.blob(4);
    bytes += size;
    out.push_back(std::move(p));
  }
  return out;
}

std::int64_t NodeStore::pending_count() {
  Query q(impl_->pending_count.get());
  auto row = q.step("counting the outbox");
  if (!row.ok() || !*row) return -1;
  return q.i64(0);
}

Status NodeStore::settle(const std::vector<Settlement>& items) {
  for (const auto& s : items) {
    if (!is_one_of(s.state, {"accepted", "duplicate", "refused", "reported"})) {
      return make_error(ErrorKind::invalid, "bad-settlement",
                        "settlement for contribution " + std::to_string(s.contribution_id) + " has state '" + s.state +
                            "'; expected accepted, duplicate, refused or reported");
    }
  }
  if (items.empty()) return {};
  Transaction tx = impl_->transaction();
  MEADOW_TRY(tx.begin());
  for (const auto& s : items) {
    {
      Query del(impl_->delete_outbox.get());
      del.bind(1, s.contribution_id);
      MEADOW_TRY(del.run("settling a result"));
    }
    if (sqlite3_changes64(impl_->db.get()) == 0) continue;
    Query up(impl_->settle_row.get());
    up.bind(1, s.contribution_id).bind_text(2, s.state).bind_text(3, s.receipt).bind_text(4, s.reason);
    MEADOW_TRY(up.run("settling a result"));
  }
  return tx.commit();
}

Result<std::vector<Contribution>> NodeStore::log(std::int64_t since_ms, std::size_t limit) {
  std::vector<Contribution> out;
  Query q(impl_->log.get());
  q.bind(1, since_ms).bind(2, clamp_to_i64(limit));
  for (;;) {
    MEADOW_ASSIGN(bool row, q.step("reading the activity log"));
    if (!row) break;
    read_contribution(q, out.emplace_back());
  }
  return out;
}

Result<Usage> NodeStore::usage_since(std::int64_t since_ms) {
  // No row starts before the epoch (add() refuses it), so a negative bound means "everything".
  since_ms = std::max<std::int64_t>(since_ms, 0);
  const std::int64_t hour_start = since_ms - since_ms % kHourMs;
  const std::int64_t last = std::numeric_limits<std::int64_t>::max();
  const std::int64_t hour_end = hour_start > last - (kHourMs - 1) ? last : hour_start + (kHourMs - 1);
  Query q(impl_->usage.get());
  q.bind(1, since_ms).bind(2, hour_start).bind(3, hour_end);
  MEADOW_ASSIGN(bool row, q.step("summing usage"));
  Usage u;
  if (row) {
    u.pages = q.i64(0);
    u.wire_bytes = q.i64(1);
  }
  return u;
}

Result<Totals> NodeStore::totals() {
  Totals t;
  Query q(impl_->tallies.get());
  for (;;) {
    MEADOW_ASSIGN(bool row, q.step("reading totals"));
    if (!row) break;
    const std::string outcome = q.text(0);
    const std::string state = q.text(1);
    const std::int64_t rows = q.i64(2);
    if (outcome == "ok") t.fetched += rows;
    if (outcome == "failed") t.failed += rows;
    if (outcome == "skipped") t.skipped += rows;
    if (state == "accepted" || state == "duplicate") {
      t.accepted += rows;
      t.accepted_bytes += q.i64(3);
    }
    if (state == "refused") t.refused += rows;
    if (state == "reported") t.reported += rows;
    if (state == "pending") t.pending += rows;
  }
  return t;
}

Status NodeStore::set_value(std::string_view key, std::string_view value) {
  Query q(impl_->set_value.get());
  q.bind_text(1, key).bind_text(2, value);
  return q.run("saving a setting");
}

Result<std::optional<std::string>> NodeStore::value(std::string_view key) {
  Query q(impl_->get_value.get());
  q.bind_text(1, key);
  MEADOW_ASSIGN(bool row, q.step("reading a setting"));
  if (!row) return std::optional<std::string>{};
  return std::optional<std::string>{q.text(0)};
}

bool NodeStore::changed_elsewhere() {
  auto now = impl_->read_data_version();
  if (!now.ok()) return true;
  const bool changed = *now != impl_->data_version;
  impl_->data_version = *now;
  return changed;
}

}  // namespace meadow::client
