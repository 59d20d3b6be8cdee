// The SQLite Catalog shares the task store's connection and lock, so one database file holds
// everything and tests on ":memory:" see one database.
#pragma once

#include <memory>
#include <mutex>

#include "coordinator/store/catalog.h"
#include "coordinator/store/sqlite_db.h"

namespace meadow::coordinator {

// Records are kept zstd-compressed in results.record; one never inflates past this.
inline constexpr std::size_t kMaxStoredRecord = 64 * 1024 * 1024;

// `db` and `mu` must outlive the catalog; every call takes `mu`.
Result<std::unique_ptr<Catalog>> make_sqlite_catalog(sqlite::Db& db, std::mutex& mu);

}  // namespace meadow::coordinator
