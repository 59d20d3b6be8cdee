// Frames the fetches that end in one loop turn together, at the turn's end: records signed
// together cost less than one at a time (frame_results), and a busy node ends many fetches a
// turn. Each fetch then goes with its framed result to the sink, which logs it and queues it
// for the outbox (OutboxWriter, whose flush then runs later in the same turn).
//
// Promises:
//  - A fetch added is framed and handed to the sink at the end of the loop turn it was added
//    in (HttpLoop::at_turn_end), at the next flush(), or when the framer is destroyed,
//    whichever comes first, in the order added; at most kMaxBatch wait at once.
//  - Until then it lives only in memory, as a fetch in flight does: a crash loses it, its lease
//    runs out and another node fetches the page; nothing is counted twice.
//
// Thread affinity: the loop's thread. The framer must not outlive the loop or the key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "client/core/fetcher.h"
#include "client/core/http_loop.h"
#include "client/core/record.h"
#include "common/crypto.h"
#include "common/protocol.h"

namespace meadow::client {

class ResultFramer {
 public:
  using Sink = std::function<void(protocol::TaskLease task, FetchResult fetch, FramedResult framed)>;

  // What the framer has done so far; a benchmark reads it.
  struct Stats {
    std::int64_t batches = 0;
    std::int64_t results = 0;
    std::int64_t frame_ns = 0;  // steady time spent framing (not in the sink)
  };

  // A batch this big is framed at once.
  static constexpr std::size_t kMaxBatch = 64;

  ResultFramer(HttpLoop& loop, const crypto::KeyPair& key, std::string node_id, Sink sink);
  // Frames what is still queued.
  ~ResultFramer();
  ResultFramer(const ResultFramer&) = delete;
  ResultFramer& operator=(const ResultFramer&) = delete;

  void add(protocol::TaskLease task, FetchResult fetch);
  // Frames what is queued now and hands it to the sink.
  void flush();

  std::size_t queued() const noexcept { return queued_.size(); }
  const Stats& stats() const noexcept { return stats_; }

 private:
  struct Queued {
    protocol::TaskLease task;
    FetchResult fetch;
  };
  const crypto::KeyPair& key_;
  std::string node_id_;
  Sink sink_;
  std::vector<Queued> queued_;
  Stats stats_;
  TurnEndFlush turn_end_;
};

}  // namespace meadow::client
