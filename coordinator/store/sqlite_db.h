// A thin owner of a sqlite3 connection and its prepared statements. Not thread-safe: the
// store that owns it serialises access.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meadow::coordinator::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};

// A prepared statement, reset and cleared of bindings by each bind_all()/reset().
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}

  Stmt& bind(int i, std::int64_t v) { sqlite3_bind_int64(s_.get(), i, v); return *this; }
  Stmt& bind(int i, int v) { sqlite3_bind_int64(s_.get(), i, v); return *this; }
  Stmt& bind(int i, double v) { sqlite3_bind_double(s_.get(), i, v); return *this; }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob(s_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_null(int i) { sqlite3_bind_null(s_.get(), i); return *this; }

  // SQLITE_ROW -> true, SQLITE_DONE -> false (and the statement resets), errors -> Error.
  Result<bool> step();
  // Runs to completion, expecting no rows.
  Status exec();
  void reset() noexcept;

  std::int64_t i64(int col) const { return sqlite3_column_int64(s_.get(), col); }
  int i32(int col) const { return sqlite3_column_int(s_.get(), col); }
  double f64(int col) const { return sqlite3_column_double(s_.get(), col); }
  bool is_null(int col) const { return sqlite3_column_type(s_.get(), col) == SQLITE_NULL; }
  std::string text(int col) const;
  std::string blob(int col) const;

 private:
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, StmtFinalizer> s_;
};

// Steps `s` to the end, turning each row into a T with `read(s)`.
template <class T, class Read>
Result<std::vector<T>> collect(Stmt& s, Read read) {
  std::vector<T> out;
  for (;;) {
    MEADOW_ASSIGN(bool row, s.step());
    if (!row) break;
    out.push_back(read(s));
  }
  return out;
}

class Db {
 public:
  static Result<Db> open(const std::string& path, int busy_timeout_ms);

  Status exec(std::string_view sql);
  Result<Stmt> prepare(std::string_view sql);
  sqlite3* raw() const noexcept { return db_.get(); }
  std::int64_t changes() const noexcept { return sqlite3_changes64(db_.get()); }
  std::int64_t last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(db_.get()); }
  Error error(std::string_view what) const;

 private:
  std::unique_ptr<sqlite3, DbCloser> db_;
};

// BEGIN IMMEDIATE on construction, ROLLBACK on destruction unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  Status begin();
  Status commit();
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

 private:
  Db& db_;
  bool open_ = false;
};

}  // namespace meadow::coordinator::sqlite
