// The node store's SQLite VFS: writes gathered into fewer system calls.
//
// SQLite writes a WAL frame with two calls (its 24-byte header, then the page) and copies
// each page back into the database file at a checkpoint with one more, so a batch of results
// costs some five write calls a row, at about a microsecond each on a VM. This VFS passes
// every file straight to the default VFS except the database and its WAL, whose writes it
// gathers while each one follows the last, and writes out with one call:
//  - in the WAL, when the page of a frame that commits a transaction has arrived (only a
//    commit frame's header carries the database size). SQLite writes that page before it
//    publishes the transaction to readers in the wal-index and before COMMIT returns, so
//    readers in other processes, and a kill -9 at any later moment, find the file as they
//    would without this VFS, and a failed write fails the commit as it always did;
//  - in the database file, at the checkpoint's sync, before the checkpoint records how far it
//    got. In WAL mode SQLite writes the database file only at checkpoints, which sync it
//    (synchronous=NORMAL; OFF would not), and no reader reads a page there before that record
//    says it may;
//  - and in both, before anything else touches the file (a read, sync, truncate, size, lock,
//    file control, mapping, close) or a write lands elsewhere, when the buffer is full, and
//    before any lock on the wal-index changes, so nothing gathered is written after this
//    connection has let go of the write or checkpoint lock.
// Frames of a transaction not yet committed (a cache spill) may wait in memory; a crash loses
// them, but without their commit frame SQLite ignores them anyway.
#pragma once

namespace meadow::client {

// The VFS, registered once (not as the default), by name for sqlite3_open_v2. Null when SQLite
// refuses it; the store then runs on the default VFS, unbatched.
const char* write_gathering_vfs();

}  // namespace meadow::client
