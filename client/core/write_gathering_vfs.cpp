#include "client/core/write_gathering_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace meadow::client {
namespace {

constexpr int kWalHeaderBytes = 32;
constexpr int kFrameHeaderBytes = 24;
// One write call of the unix VFS carries at most 128 KiB.
constexpr std::size_t kWriteBufferBytes = 64 * 1024;

struct BufferedFile {
  sqlite3_file base;      // what SQLite sees; first, so a sqlite3_file* is a BufferedFile*
  sqlite3_file* real;     // the default VFS's file, in the same allocation, after this struct
  char* buffer;           // kWriteBufferBytes, allocated at the first write
  std::size_t used;       // bytes gathered
  sqlite3_int64 start;    // where they go in the file
  int error;              // a failed write SQLite has not been told of yet
  bool wal;               // the WAL, not the database
  bool write_through;     // WAL: a commit frame is being written, each write goes out at once
  sqlite3_int64 end;      // WAL: the furthest byte written through this handle since the log restarted
  BufferedFile* partner;  // the database's WAL, or the WAL's database, while both are open
};
static_assert(std::is_standard_layout_v<BufferedFile> && std::is_trivially_destructible_v<BufferedFile>);
constexpr int kBufferedFileBytes = static_cast<int>((sizeof(BufferedFile) + 7) / 8 * 8);

BufferedFile* buffered(sqlite3_file* f) { return reinterpret_cast<BufferedFile*>(f); }
sqlite3_file* real(sqlite3_file* f) { return buffered(f)->real; }

// Writes what is gathered. A failure is also kept for the next write, sync or truncate, whose
// results a commit and a checkpoint check, in case this call's result is ignored (a file
// control, an unlock): the transaction or checkpoint those bytes belonged to then fails rather
// than going on without them.
int flush(BufferedFile* b) {
  if (b->used == 0) return SQLITE_OK;
  const int n = static_cast<int>(b->used);
  b->used = 0;
  const int rc = b->real->pMethods->xWrite(b->real, b->buffer, n, b->start);
  if (rc != SQLITE_OK && b->error == SQLITE_OK) b->error = rc;
  return rc;
}

// For write, sync and truncate: also reports (once) a failure kept from an earlier flush.
int flush_and_report(BufferedFile* b) {
  flush(b);
  return std::exchange(b->error, SQLITE_OK);
}

// Whether this WAL write ends what must reach the file before the call returns.
bool wal_write_ends_commit(BufferedFile* b, const unsigned char* data, int n, sqlite3_int64 offset) {
  const bool frame_header = n == kFrameHeaderBytes && offset >= kWalHeaderBytes;
  const bool commit_header = frame_header && (data[4] | data[5] | data[6] | data[7]) != 0;
  if (offset == 0 && n == kWalHeaderBytes) b->end = 0;  // the log restarts from its beginning
  if (frame_header) b->write_through = commit_header;
  // A commit frame's header appended at the end waits for its page, which SQLite writes next.
  // Any other commit header rewrites a frame already written (SQLite fixing checksums at
  // commit); nothing follows it.
  const bool ends = b->write_through && !(commit_header && offset >= b->end);
  b->end = std::max(b->end, offset + n);
  return ends;
}

int buffered_write(sqlite3_file* f, const void* data, int n, sqlite3_int64 offset) {
  BufferedFile* b = buffered(f);
  const bool flush_after = b->wal && wal_write_ends_commit(b, static_cast<const unsigned char*>(data), n, offset);
  if (b->used > 0 && offset != b->start + static_cast<sqlite3_int64>(b->used)) flush(b);
  if (b->used + static_cast<std::size_t>(n) > kWriteBufferBytes) flush(b);
  if (const int rc = std::exchange(b->error, SQLITE_OK); rc != SQLITE_OK) return rc;
  if (!b->buffer) b->buffer = new (std::nothrow) char[kWriteBufferBytes];
  if (!b->buffer || static_cast<std::size_t>(n) > kWriteBufferBytes)
    return b->real->pMethods->xWrite(b->real, data, n, offset);
  if (b->used == 0) b->start = offset;
  std::memcpy(b->buffer + b->used, data, static_cast<std::size_t>(n));
  b->used += static_cast<std::size_t>(n);
  return flush_after ? flush_and_report(b) : SQLITE_OK;
}

int buffered_close(sqlite3_file* f) {
  BufferedFile* b = buffered(f);
  if (b->partner) b->partner->partner = nullptr;
  const int flushed = flush_and_report(b);
  const int closed = b->real->pMethods->xClose(b->real);
  delete[] b->buffer;
  b->buffer = nullptr;
  return flushed != SQLITE_OK ? flushed : closed;
}

// The rest write what is gathered first, then do what the default VFS does.
const sqlite3_io_methods kBufferedMethods = {
    3,
    buffered_close,
    [](sqlite3_file* f, void* out, int n, sqlite3_int64 offset) {
      const int rc = flush(buffered(f));
      return rc != SQLITE_OK ? rc : real(f)->pMethods->xRead(real(f), out, n, offset);
    },
    buffered_write,
    [](sqlite3_file* f, sqlite3_int64 size) {
      const int rc = flush_and_report(buffered(f));
      return rc != SQLITE_OK ? rc : real(f)->pMethods->xTruncate(real(f), size);
    },
    [](sqlite3_file* f, int flags) {
      const int rc = flush_and_report(buffered(f));
      return rc != SQLITE_OK ? rc : real(f)->pMethods->xSync(real(f), flags);
    },
    [](sqlite3_file* f, sqlite3_int64* size) {
      const int rc = flush(buffered(f));
      return rc != SQLITE_OK ? rc : real(f)->pMethods->xFileSize(real(f), size);
    },
    [](sqlite3_file* f, int lock) {
      const int rc = flush(buffered(f));
      return rc != SQLITE_OK ? rc : real(f)->pMethods->xLock(real(f), lock);
    },
    [](sqlite3_file* f, int lock) {
      flush(buffered(f));  // a failure stays kept; unlocking must happen regardless
      return real(f)->pMethods->xUnlock(real(f), lock);
    },
    [](sqlite3_file* f, int* out) { return real(f)->pMethods->xCheckReservedLock(real(f), out); },
    [](sqlite3_file* f, int op, void* arg) {
      const int rc = flush(buffered(f));
      return rc != SQLITE_OK ? rc : real(f)->pMethods->xFileControl(real(f), op, arg);
    },
    [](sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); },
    [](sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); },
    [](sqlite3_file* f, int region, int size, int extend, void volatile** out) {
      return real(f)->pMethods->xShmMap(real(f), region, size, extend, out);
    },
    [](sqlite3_file* f, int offset, int n, int flags) {
      // A failure stays kept for the next write; the lock changes regardless.
      BufferedFile* b = buffered(f);
      if (b->partner) flush(b->partner);
      flush(b);
      return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
    },
    [](sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); },
    [](sqlite3_file* f, int remove) { return real(f)->pMethods->xShmUnmap(real(f), remove); },
    [](sqlite3_file* f, sqlite3_int64 offset, int n, void** out) {
      const int rc = flush(buffered(f));
      return rc != SQLITE_OK ? rc : real(f)->pMethods->xFetch(real(f), offset, n, out);
    },
    [](sqlite3_file* f, sqlite3_int64 offset, void* p) { return real(f)->pMethods->xUnfetch(real(f), offset, p); },
};

sqlite3_vfs* base_vfs(sqlite3_vfs* v) { return static_cast<sqlite3_vfs*>(v->pAppData); }

int open_file(sqlite3_vfs* v, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  sqlite3_vfs* base = base_vfs(v);
  if ((flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) == 0) return base->xOpen(base, name, f, flags, out_flags);
  BufferedFile* b = new (f) BufferedFile{};
  b->wal = (flags & SQLITE_OPEN_WAL) != 0;
  b->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + kBufferedFileBytes);
  b->real->pMethods = nullptr;
  const int rc = base->xOpen(base, name, b->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (b->real->pMethods) b->real->pMethods->xClose(b->real);
    f->pMethods = nullptr;
    return rc;
  }
  // Offers no more methods than the default VFS's file has, so SQLite never calls one it lacks.
  static const std::array<sqlite3_io_methods, 3> kByVersion = [] {
    std::array<sqlite3_io_methods, 3> all{kBufferedMethods, kBufferedMethods, kBufferedMethods};
    for (int i = 0; i < 3; ++i) all[static_cast<std::size_t>(i)].iVersion = i + 1;
    return all;
  }();
  f->pMethods = &kByVersion[static_cast<std::size_t>(std::clamp(b->real->pMethods->iVersion, 1, 3) - 1)];
  if (b->wal) {
    sqlite3_file* db = sqlite3_database_file_object(name);
    const auto ours = [db](const sqlite3_io_methods& m) { return db->pMethods == &m; };
    if (db && std::any_of(kByVersion.begin(), kByVersion.end(), ours)) {
      b->partner = buffered(db);
      b->partner->partner = b;
    }
  }
  return SQLITE_OK;
}

}  // namespace

const char* write_gathering_vfs() {
  static const char* const name = []() -> const char* {
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    if (!base || base->iVersion < 2) return nullptr;
    static sqlite3_vfs vfs{};
    vfs.iVersion = 2;
    vfs.szOsFile = kBufferedFileBytes + base->szOsFile;
    vfs.mxPathname = base->mxPathname;
    vfs.zName = "meadow-batched-writes";
    vfs.pAppData = base;
    vfs.xOpen = open_file;
    vfs.xDelete = [](sqlite3_vfs* v, const char* p, int sync) { return base_vfs(v)->xDelete(base_vfs(v), p, sync); };
    vfs.xAccess = [](sqlite3_vfs* v, const char* p, int flags, int* out) {
      return base_vfs(v)->xAccess(base_vfs(v), p, flags, out);
    };
    vfs.xFullPathname = [](sqlite3_vfs* v, const char* p, int n, char* out) {
      return base_vfs(v)->xFullPathname(base_vfs(v), p, n, out);
    };
    vfs.xDlOpen = [](sqlite3_vfs* v, const char* p) { return base_vfs(v)->xDlOpen(base_vfs(v), p); };
    vfs.xDlError = [](sqlite3_vfs* v, int n, char* out) { base_vfs(v)->xDlError(base_vfs(v), n, out); };
    vfs.xDlSym = [](sqlite3_vfs* v, void* h, const char* sym) { return base_vfs(v)->xDlSym(base_vfs(v), h, sym); };
    vfs.xDlClose = [](sqlite3_vfs* v, void* h) { base_vfs(v)->xDlClose(base_vfs(v), h); };
    vfs.xRandomness = [](sqlite3_vfs* v, int n, char* out) { return base_vfs(v)->xRandomness(base_vfs(v), n, out); };
    vfs.xSleep = [](sqlite3_vfs* v, int us) { return base_vfs(v)->xSleep(base_vfs(v), us); };
    vfs.xCurrentTime = [](sqlite3_vfs* v, double* out) { return base_vfs(v)->xCurrentTime(base_vfs(v), out); };
    vfs.xGetLastError = [](sqlite3_vfs* v, int n, char* out) {
      return base_vfs(v)->xGetLastError(base_vfs(v), n, out);
    };
    vfs.xCurrentTimeInt64 = [](sqlite3_vfs* v, sqlite3_int64* out) {
      return base_vfs(v)->xCurrentTimeInt64(base_vfs(v), out);
    };
    return sqlite3_vfs_register(&vfs, 0) == SQLITE_OK ? vfs.zName : nullptr;
  }();
  return name;
}

}  // namespace meadow::client
