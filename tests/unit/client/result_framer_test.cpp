// Framing at the turn's end: when fetches reach the sink, in what order, in how many batches,
// and that each frame is the signed result line for its own fetch.
#include "client/core/result_framer.h"

#include <gtest/gtest.h>

#include "common/zstd.h"

namespace meadow::client {
namespace {

struct Framed {
  protocol::TaskLease task;
  FetchResult fetch;
  FramedResult framed;
};

protocol::TaskLease task_for(std::int64_t id) {
  protocol::TaskLease t;
  t.task_id = id;
  t.job_id = 4;
  t.token = 900 + id;
  t.url = "https://example.com/p" + std::to_string(id);
  return t;
}

FetchResult page_for(std::int64_t id) {
  FetchResult r;
  r.url = r.final_url = "https://example.com/p" + std::to_string(id);
  r.http_status = 200;
  r.content_type = "text/html";
  r.content_type_header = "text/html; charset=utf-8";
  r.body = "<html><head><title>Page " + std::to_string(id) + "</title></head><body><p>" +
           std::string(static_cast<std::size_t>(id) * 700, 'w') + " words of page " + std::to_string(id) +
           "</p></body></html>";
  return r;
}

FetchResult failure_for(std::int64_t id) {
  FetchResult r;
  r.url = r.final_url = "https://example.com/p" + std::to_string(id);
  r.http_status = 404;
  r.outcome = protocol::Outcome::failed;
  r.reason_code = "http-404";
  r.reason = "the server answered 404";
  return r;
}

class ResultFramerTest : public ::testing::Test {
 protected:
  std::unique_ptr<ResultFramer> framer() {
    return std::make_unique<ResultFramer>(loop_, key_, key_.public_key().id(),
                                          [this](protocol::TaskLease t, FetchResult f, FramedResult fr) {
                                            out_.push_back({std::move(t), std::move(f), std::move(fr)});
                                          });
  }

  // The result line a frame holds.
  protocol::ResultLine line_of(const FramedResult& fr) {
    auto text = zstd::decompress(fr.frame, 1 << 24);
    EXPECT_TRUE(text.ok());
    auto line = protocol::parse_result_line(text.ok() ? *text : "");
    EXPECT_TRUE(line.ok()) << (text.ok() ? *text : "");
    return line.ok() ? *line : protocol::ResultLine{};
  }

  HttpLoop loop_;
  const crypto::KeyPair key_ = crypto::KeyPair::generate();
  std::vector<Framed> out_;
};

TEST_F(ResultFramerTest, FetchesOfOneTurnAreFramedTogetherAtItsEndInOrder) {
  auto f = framer();
  // Added from inside a turn, as the fetcher's callbacks do.
  loop_.post([&] {
    for (std::int64_t id = 1; id <= 12; ++id) f->add(task_for(id), id == 5 ? failure_for(id) : page_for(id));
    EXPECT_EQ(f->queued(), 12u);
  });
  loop_.run_once(0);
  EXPECT_EQ(f->queued(), 0u);
  ASSERT_EQ(out_.size(), 12u);
  EXPECT_EQ(f->stats().batches, 1);
  EXPECT_EQ(f->stats().results, 12);
  for (std::size_t i = 0; i < out_.size(); ++i) {
    const std::int64_t id = static_cast<std::int64_t>(i) + 1;
    EXPECT_EQ(out_[i].task.task_id, id);
    EXPECT_EQ(out_[i].fetch.url, "https://example.com/p" + std::to_string(id));
    const protocol::ResultLine line = line_of(out_[i].framed);
    EXPECT_EQ(line.task_id, id);
    EXPECT_EQ(line.token, 900 + id);
    if (id == 5) {
      EXPECT_EQ(line.outcome, protocol::Outcome::failed);
      EXPECT_TRUE(out_[i].framed.record_id.empty());
      continue;
    }
    EXPECT_EQ(line.outcome, protocol::Outcome::ok);
    EXPECT_TRUE(protocol::verify_record(line.record, key_.public_key()).ok()) << id;
    EXPECT_EQ(line.record.at("title").as_string(), "Page " + std::to_string(id));
    EXPECT_EQ(line.record.at("record_id").as_string(), out_[i].framed.record_id);
    // The same frame as framing this fetch alone.
    EXPECT_EQ(out_[i].framed.frame, frame_result(out_[i].task, out_[i].fetch, key_, key_.public_key().id()).frame);
  }
}

TEST_F(ResultFramerTest, FlushAndDestructionFrameWhatIsQueued) {
  auto f = framer();
  f->add(task_for(1), page_for(1));
  f->add(task_for(2), page_for(2));
  EXPECT_TRUE(out_.empty());
  f->flush();
  ASSERT_EQ(out_.size(), 2u);
  f->add(task_for(3), page_for(3));
  f.reset();
  ASSERT_EQ(out_.size(), 3u);
  EXPECT_EQ(line_of(out_[2].framed).task_id, 3);
  loop_.run_once(0);  // the turn-end flush finds the framer gone
  EXPECT_EQ(out_.size(), 3u);
}

TEST_F(ResultFramerTest, AFullBatchIsFramedAtOnce) {
  auto f = framer();
  for (std::size_t i = 1; i < ResultFramer::kMaxBatch; ++i) f->add(task_for(static_cast<std::int64_t>(i)), failure_for(1));
  EXPECT_TRUE(out_.empty());
  f->add(task_for(static_cast<std::int64_t>(ResultFramer::kMaxBatch)), failure_for(1));
  EXPECT_EQ(out_.size(), ResultFramer::kMaxBatch);
  EXPECT_EQ(f->queued(), 0u);
}

}  // namespace
}  // namespace meadow::client
