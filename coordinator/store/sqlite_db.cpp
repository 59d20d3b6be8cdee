#include "coordinator/store/sqlite_db.h"

namespace meadow::coordinator::sqlite {

namespace {
Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  ErrorKind kind = ErrorKind::io;
  std::string code = "storage-error";
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    kind = ErrorKind::unavailable;
    code = "storage-busy";
  } else if (rc == SQLITE_FULL) {
    code = "storage-full";
  } else if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
    code = "storage-corrupt";
  }
  return make_error(kind, code,
                    std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}
}  // namespace

Result<bool> Stmt::step() {
  int rc = sqlite3_step(s_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    reset();
    return false;
  }
  Error e = sqlite_error(db_, rc, "database statement failed");
  reset();
  return e;
}

Status Stmt::exec() {
  MEADOW_ASSIGN(bool row, step());
  if (row) reset();
  return {};
}

void Stmt::reset() noexcept {
  sqlite3_reset(s_.get());
  sqlite3_clear_bindings(s_.get());
}

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(s_.get(), col);
  int n = sqlite3_column_bytes(s_.get(), col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::string Stmt::blob(int col) const {
  const void* p = sqlite3_column_blob(s_.get(), col);
  int n = sqlite3_column_bytes(s_.get(), col);
  return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

Result<Db> Db::open(const std::string& path, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db;
  db.db_.reset(raw);
  if (rc != SQLITE_OK) {
    return make_error(ErrorKind::io, "storage-open",
                      "cannot open database '" + path + "': " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  sqlite3_extended_result_codes(raw, 0);
  return db;
}

Status Db::exec(std::string_view sql) {
  char* msg = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    std::string m = msg ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    Error e = sqlite_error(nullptr, rc, "database command failed");
    e.message = "database command failed: " + m;
    return e;
  }
  return {};
}

Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db_.get(), rc, "cannot prepare statement");
  return Stmt(db_.get(), s);
}

Error Db::error(std::string_view what) const {
  return sqlite_error(db_.get(), sqlite3_errcode(db_.get()), what);
}

Status Transaction::begin() {
  MEADOW_TRY(db_.exec("BEGIN IMMEDIATE"));
  open_ = true;
  return {};
}

Status Transaction::commit() {
  MEADOW_TRY(db_.exec("COMMIT"));
  open_ = false;
  return {};
}

Transaction::~Transaction() {
  if (open_) (void)db_.exec("ROLLBACK");
}

}  // namespace meadow::coordinator::sqlite
