// Grouped outbox writes: when queued rows reach the store, in what order, and what a failed
// write reports.
#include "client/core/outbox_writer.h"

#include <gtest/gtest.h>

#include "support/test_env.h"

namespace meadow::client {
namespace {

using testing::TempDir;

constexpr std::int64_t kT0 = 1'700'000'000'000;

Contribution fetch(std::int64_t task_id, std::string outcome = "ok") {
  Contribution c;
  c.task_id = task_id;
  c.job_id = 3;
  c.token = 500 + task_id;
  c.url = "https://example.com/w" + std::to_string(task_id);
  c.final_url = c.url;
  c.started_ms = kT0 + task_id;
  c.finished_ms = kT0 + task_id + 20;
  c.http_status = 200;
  c.bytes = 100;
  c.wire_bytes = 150;
  c.outcome = std::move(outcome);
  return c;
}

std::string frame_for(std::int64_t task_id) { return "frame-" + std::to_string(task_id); }

struct Failure {
  std::string code;
  std::size_t rows = 0;
};

class OutboxWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = NodeStore::open(dir_.file("node.db"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }

  std::unique_ptr<OutboxWriter> writer() {
    return std::make_unique<OutboxWriter>(*store_, loop_, [this](const Error& e, std::size_t rows) {
      failures_.push_back({e.code, rows});
    });
  }

  TempDir dir_;
  std::unique_ptr<NodeStore> store_;
  HttpLoop loop_;
  std::vector<Failure> failures_;
};

TEST_F(OutboxWriterTest, RowsQueuedInOneTurnAreWrittenTogetherAtItsEnd) {
  auto w = writer();
  // Queued from a callback of one loop turn, as the engine queues the results of the
  // fetches that end in it.
  loop_.post([&] {
    for (std::int64_t i = 1; i <= 3; ++i) w->add(fetch(i), frame_for(i));
    w->add(fetch(4, "skipped"), "");
    EXPECT_EQ(w->queued(), 4u);
    EXPECT_EQ(w->queued_results(), 3u);
    EXPECT_EQ(store_->pending_count(), 0);
  });
  loop_.run_once(0);
  EXPECT_EQ(w->queued(), 0u);
  EXPECT_EQ(w->queued_results(), 0u);
  EXPECT_EQ(store_->pending_count(), 3);
  EXPECT_EQ(w->stats().batches, 1);
  EXPECT_EQ(w->stats().rows, 4);

  auto p = store_->pending(10, 1 << 20);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ((*p)[i].frame, frame_for(static_cast<std::int64_t>(i) + 1));
  auto rows = store_->log(0, 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ(rows->front().state, "local");
  EXPECT_TRUE(failures_.empty());
}

TEST_F(OutboxWriterTest, FlushAndDestructionWriteWhatIsQueued) {
  auto w = writer();
  w->add(fetch(1), frame_for(1));
  w->flush();
  EXPECT_EQ(store_->pending_count(), 1);
  w->flush();  // nothing queued: no empty transaction
  EXPECT_EQ(w->stats().batches, 1);

  w->add(fetch(2), frame_for(2));
  w.reset();
  EXPECT_EQ(store_->pending_count(), 2);
  loop_.run_once(0);  // the flush queued for the turn's end finds no writer, and knows it
  EXPECT_TRUE(failures_.empty());
}

TEST_F(OutboxWriterTest, AFullBatchIsWrittenAtOnce) {
  auto w = writer();
  for (std::size_t i = 1; i <= OutboxWriter::kMaxBatch; ++i) {
    w->add(fetch(static_cast<std::int64_t>(i)), frame_for(static_cast<std::int64_t>(i)));
  }
  EXPECT_EQ(store_->pending_count(), static_cast<std::int64_t>(OutboxWriter::kMaxBatch));
  EXPECT_EQ(w->queued(), 0u);
}

TEST_F(OutboxWriterTest, ARefusedRowCostsOnlyItselfAndIsReportedOnce) {
  auto w = writer();
  w->add(fetch(1), frame_for(1));
  w->add(fetch(2, "maybe"), frame_for(2));  // an outcome the store refuses
  w->add(fetch(3), frame_for(3));
  w->add(fetch(4, "skipped"), "");
  loop_.run_once(0);
  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_EQ(failures_[0].code, "bad-contribution");
  EXPECT_EQ(failures_[0].rows, 1u);
  EXPECT_EQ(w->queued(), 0u);
  EXPECT_EQ(w->stats().rows, 3);

  // The rows around the refused one are in the store, in the order queued.
  auto p = store_->pending(10, 1 << 20);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].frame, frame_for(1));
  EXPECT_EQ((*p)[1].frame, frame_for(3));
  auto rows = store_->log(0, 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);

  w->add(fetch(5), frame_for(5));
  loop_.run_once(0);
  EXPECT_EQ(failures_.size(), 1u);
  EXPECT_EQ(store_->pending_count(), 3);
}

TEST_F(OutboxWriterTest, ABatchOfRefusedRowsIsReportedOnceWithTheirNumber) {
  auto w = writer();
  w->add(fetch(1, "maybe"), frame_for(1));
  w->add(fetch(2, "perhaps"), frame_for(2));
  loop_.run_once(0);
  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_EQ(failures_[0].code, "bad-contribution");
  EXPECT_EQ(failures_[0].rows, 2u);
  EXPECT_EQ(store_->pending_count(), 0);
  EXPECT_EQ(w->stats().rows, 0);

  w->add(fetch(3, "maybe"), frame_for(3));
  w->flush();
  ASSERT_EQ(failures_.size(), 2u);
  EXPECT_EQ(failures_[1].rows, 1u);
}

}  // namespace
}  // namespace meadow::client
