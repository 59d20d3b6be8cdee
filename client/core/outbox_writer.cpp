#include "client/core/outbox_writer.h"

#include <chrono>
#include <optional>
#include <utility>

namespace meadow::client {

OutboxWriter::OutboxWriter(NodeStore& store, HttpLoop& loop, OnFailure on_failure)
    : store_(store), on_failure_(std::move(on_failure)), turn_end_(loop, [this] { flush(); }) {}

OutboxWriter::~OutboxWriter() { flush(); }

void OutboxWriter::add(Contribution c, std::string frame) {
  if (!frame.empty()) ++queued_results_;
  queued_.push_back({std::move(c), std::move(frame)});
  if (queued_.size() >= kMaxBatch) return flush();
  turn_end_.arm();
}

void OutboxWriter::flush() {
  if (queued_.empty()) return;
  std::vector<NewContribution> batch = std::exchange(queued_, {});
  queued_results_ = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto ids = store_.add_many(batch);
  std::size_t written = batch.size();
  if (ids.ok()) {
    ++stats_.batches;
  } else if (batch.size() == 1) {
    written = 0;
    if (on_failure_) on_failure_(ids.error(), 1);
  } else {
    // One refused row fails the whole transaction; row by row, only the rows that fail are
    // lost. A store that refuses everything (a full disk) fails each of them again.
    written = 0;
    std::optional<Error> first;
    for (const NewContribution& row : batch) {
      if (auto id = store_.add(row.contribution, row.frame); id.ok()) {
        ++written;
        ++stats_.batches;
      } else if (!first) {
        first = std::move(id).error();
      }
    }
    if (first && on_failure_) on_failure_(*first, batch.size() - written);
  }
  stats_.write_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  stats_.rows += static_cast<std::int64_t>(written);
  batch.clear();
  queued_ = std::move(batch);  // keeps the capacity for the next batch
}

}  // namespace meadow::client
