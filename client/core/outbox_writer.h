// Groups the outbox writes of results that are framed close together into one transaction
// (NodeStore::add_many). A transaction of its own costs each fetch about 0.09 ms of the one
// thread that drives every fetch, mostly in the pages every commit rewrites, the file's locks
// and checkpoints; in a batch of 16 a row costs about a quarter of that.
//
// Promises:
//  - A row queued with add() is written at the end of the loop turn it was queued in
//    (HttpLoop::at_turn_end), at the next flush(), or when the writer is destroyed, whichever
//    comes first; rows are written in the order queued. Batches grow with the load: the
//    busier the node, the more fetches end in one turn.
//  - Until then it lives only in memory. A crash loses it just as it loses a fetch still in
//    flight: it was never uploaded, so its lease runs out and another node fetches the page;
//    nothing is counted twice. Whoever reads the outbox to upload calls flush() first, so
//    nothing reaches the coordinator before it is in the store.
//  - When the store refuses a batch, its rows are written one at a time, so a row the store
//    refuses costs only itself. The rows still refused are reported once per flush to
//    `on_failure`, with the first one's error and their number, and dropped, as add()
//    failing drops its one.
//
// Thread affinity: the loop's thread. The writer must not outlive the store or the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/core/http_loop.h"
#include "client/core/node_store.h"
#include "common/result.h"

namespace meadow::client {

class OutboxWriter {
 public:
  using OnFailure = std::function<void(const Error& error, std::size_t rows)>;

  // What the writer has done so far; a benchmark reads it.
  struct Stats {
    std::int64_t batches = 0;   // transactions written
    std::int64_t rows = 0;      // rows written
    std::int64_t write_ns = 0;  // steady time spent writing
  };

  // A batch this big is written at once.
  static constexpr std::size_t kMaxBatch = 64;

  OutboxWriter(NodeStore& store, HttpLoop& loop, OnFailure on_failure);
  // Writes what is still queued.
  ~OutboxWriter();
  OutboxWriter(const OutboxWriter&) = delete;
  OutboxWriter& operator=(const OutboxWriter&) = delete;

  // Queues a row for NodeStore::add_many(); `frame` as for NodeStore::add().
  void add(Contribution c, std::string frame);
  // Writes what is queued now.
  void flush();

  std::size_t queued() const noexcept { return queued_.size(); }
  // Queued rows that carry a result frame: outbox entries not yet in the store.
  std::size_t queued_results() const noexcept { return queued_results_; }
  const Stats& stats() const noexcept { return stats_; }

 private:
  NodeStore& store_;
  OnFailure on_failure_;
  std::vector<NewContribution> queued_;
  std::size_t queued_results_ = 0;
  Stats stats_;
  TurnEndFlush turn_end_;
};

}  // namespace meadow::client
