#include "client/core/result_framer.h"

#include <chrono>
#include <utility>

namespace meadow::client {

ResultFramer::ResultFramer(HttpLoop& loop, const crypto::KeyPair& key, std::string node_id, Sink sink)
    : key_(key), node_id_(std::move(node_id)), sink_(std::move(sink)), turn_end_(loop, [this] { flush(); }) {}

ResultFramer::~ResultFramer() { flush(); }

void ResultFramer::add(protocol::TaskLease task, FetchResult fetch) {
  queued_.push_back({std::move(task), std::move(fetch)});
  if (queued_.size() >= kMaxBatch) return flush();
  turn_end_.arm();
}

void ResultFramer::flush() {
  if (queued_.empty()) return;
  // Taken out first: the sink may add more (a flush of its own then frames those).
  std::vector<Queued> batch = std::exchange(queued_, {});
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<FrameJob> jobs;
  jobs.reserve(batch.size());
  for (const Queued& q : batch) jobs.push_back({&q.task, &q.fetch});
  std::vector<FramedResult> framed = frame_results(jobs, key_, node_id_);
  stats_.frame_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  ++stats_.batches;
  stats_.results += static_cast<std::int64_t>(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (sink_) sink_(std::move(batch[i].task), std::move(batch[i].fetch), std::move(framed[i]));
  }
}

}  // namespace meadow::client
