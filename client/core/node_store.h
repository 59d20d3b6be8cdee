// The edge node's local SQLite store: the outbox (results waiting for the coordinator's
// receipt), the contribution log (every fetch the node made, kept forever so the user can read
// and export it), and a small key/value table that the daemon and the CLI share.
//
// Promises:
//  - A result handed to add() stays in the outbox until settle() records the coordinator's
//    answer for it; a log row and its outbox entry are written in one transaction, so a crash
//    leaves either both or neither.
//  - Durability: the file runs in WAL mode with synchronous=NORMAL: a commit survives the
//    process being killed (kill -9, a crash), which is what the outbox promises. A power cut
//    may roll back the last commits before a checkpoint; such a result was never uploaded, so
//    its lease simply runs out and another node fetches the page: nothing is counted twice.
//    synchronous=FULL would add an fsync to every fetch, about half a millisecond on the one
//    thread that drives all fetches, for that power-cut case alone.
//  - Ids are never reused (AUTOINCREMENT), so a late settlement cannot land on another row.
//  - pending() and log() read through indexes; usage_since() and totals() read running sums
//    (per hour of start time, per outcome and state) that triggers keep in the same transaction
//    as each change. All stay fast with millions of log rows.
//
// Errors carry these codes: "bad-store" (the file is not a Meadow node store, is damaged, or was
// written by a newer Meadow), "store-busy" (another process held the file past the busy
// timeout), "store-full" (the disk is full), "store-io" (any other failure reading or writing
// the file), and "bad-contribution" / "bad-settlement" (the caller passed a value the store
// does not know).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meadow::client {

// One row of the activity log.
struct Contribution {
  std::int64_t id = 0;       // assigned by the store; ignored by add()
  std::int64_t task_id = 0;  // 0 for fetches that were not a task (robots.txt)
  std::int64_t job_id = 0;
  std::int64_t token = 0;
  std::string url;
  std::string final_url;
  std::int64_t started_ms = 0;
  std::int64_t finished_ms = 0;
  int http_status = 0;          // 0 when no response
  std::int64_t bytes = 0;       // body bytes received after decoding
  std::int64_t wire_bytes = 0;  // bytes on the wire (headers + body as sent); caps and bandwidth count these
  std::string outcome;          // "ok", "failed", "skipped"
  std::string reason;           // code of why, when not ok ("robots-disallowed", "timeout", ...)
  std::string state;            // "pending" (result in outbox), "accepted", "duplicate", "refused",
                                // "reported" (a failure or skip the coordinator took note of), "local"
  std::string record_id;
  std::string receipt;  // the coordinator's receipt JSON once accepted
};

// A result waiting in the outbox.
struct PendingResult {
  std::int64_t contribution_id = 0;
  std::int64_t task_id = 0;
  std::int64_t token = 0;
  std::string frame;  // one zstd frame holding one NDJSON result line; opaque to the store
};

// One fetch for add_many(): its log row and its result frame (empty: nothing to upload).
struct NewContribution {
  Contribution contribution;
  std::string frame;
};

// The coordinator's answer for one uploaded result.
struct Settlement {
  std::int64_t contribution_id = 0;
  std::string state;    // "accepted", "duplicate", "refused", or "reported" (a failed or skipped fetch acknowledged)
  std::string receipt;  // receipt JSON when accepted, or duplicate with a receipt
  std::string reason;   // why refused
};

// What counts against the user's caps.
struct Usage {
  std::int64_t pages = 0;       // log rows whose outcome is "ok" or "failed": a "skipped" URL was never requested
  std::int64_t wire_bytes = 0;  // over every log row, skipped ones included
};

// Lifetime figures for the dashboard. fetched + failed + skipped is every log row (robots.txt
// fetches included); accepted, refused and pending split the rows by what the coordinator said.
struct Totals {
  std::int64_t fetched = 0;         // outcome "ok"
  std::int64_t accepted = 0;        // state "accepted" or "duplicate" (a duplicate was accepted before and counts once)
  std::int64_t refused = 0;         // state "refused"
  std::int64_t reported = 0;        // state "reported": failures and skips the coordinator acknowledged
  std::int64_t pending = 0;         // state "pending": in the outbox
  std::int64_t skipped = 0;         // outcome "skipped"
  std::int64_t failed = 0;          // outcome "failed"
  std::int64_t accepted_bytes = 0;  // decoded body bytes of the accepted rows
};

// One owner: a NodeStore is used from one thread at a time (it may move between threads, never
// be shared by two at once). Another process, such as the meadow-node CLI while the daemon runs,
// may open the same file: WAL lets readers and the writer proceed together, and writers wait up
// to a busy timeout for each other before failing with "store-busy".
class NodeStore {
 public:
  // Opens or creates the store at `path`; the directory must exist. A new file gets the current
  // schema; an older Meadow node store is migrated forward. A file that is not a Meadow node
  // store (not SQLite, or another application's database) or one written by a newer Meadow is
  // refused with "bad-store" and left untouched.
  static Result<std::unique_ptr<NodeStore>> open(const std::string& path);
  ~NodeStore();
  NodeStore(const NodeStore&) = delete;
  NodeStore& operator=(const NodeStore&) = delete;

  // Appends a log row and, when `result_frame` is not empty, its outbox entry, in one
  // transaction. With a frame the row's state is "pending" (c.state must be empty or "pending");
  // without one it is c.state, "local" when empty, and may not be "pending" (nothing would ever
  // settle it). c.outcome must be "ok", "failed" or "skipped", and c.started_ms not negative.
  // Returns the new row id.
  Result<std::int64_t> add(const Contribution& c, std::string_view result_frame);

  // add() for many fetches in one transaction, so a crash leaves all of them or none. Each
  // item is checked as add() checks it; one that fails its check fails the whole batch
  // ("bad-contribution", naming the item) before anything is written. Returns the new row ids
  // in the order given. Much cheaper per row than add(): the pages the rows share (the log's
  // index, the running sums) are written once per batch.
  Result<std::vector<std::int64_t>> add_many(const std::vector<NewContribution>& items);

  // Outbox entries, oldest first: at most `max_items`, and no more than fit in `max_bytes` of
  // frames, except that the first entry is always returned (when max_items > 0) so one frame
  // larger than the budget cannot block the queue. Entries stay until settled.
  Result<std::vector<PendingResult>> pending(std::size_t max_items, std::size_t max_bytes);

  // Entries in the outbox; -1 when the store cannot be read (the next call returning a Result
  // says why).
  std::int64_t pending_count();

  // Records the coordinator's answers in one transaction: each entry leaves the outbox and its
  // log row takes the state, the receipt, and the reason when one is given. Only rows still in
  // the outbox change, so settling an id twice or an unknown id does nothing; the first answer
  // wins. A state other than "accepted", "duplicate", "refused" or "reported" fails the whole batch
  // ("bad-settlement") before anything is written.
  Status settle(const std::vector<Settlement>& items);

  // The activity log: rows with started_ms >= since_ms, newest first (by start, then id), at
  // most `limit`.
  Result<std::vector<Contribution>> log(std::int64_t since_ms, std::size_t limit);

  // Pages and wire bytes over the log rows started at or after since_ms, exact for any since_ms
  // (not only whole hours); see Usage.
  Result<Usage> usage_since(std::int64_t since_ms);

  Result<Totals> totals();

  // Settings shared by the daemon and the CLI ("pause_until_ms", "status" JSON, "node_id", ...).
  // Each write commits at once.
  Status set_value(std::string_view key, std::string_view value);
  Result<std::optional<std::string>> value(std::string_view key);

  // True when another connection (usually another process) committed to the file since this
  // store was opened or since the previous call, so the daemon notices a CLI's pause at once
  // with one cheap query. This store's own writes do not count. When the question cannot be
  // answered it says true: a needless re-read is cheap, a missed pause is not.
  bool changed_elsewhere();

 private:
  struct Impl;
  explicit NodeStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meadow::client
