// The node's outbox, activity log and shared settings: what survives, what is refused, and what
// two processes sharing the file see.
#include "client/core/node_store.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "support/test_env.h"

namespace meadow::client {
namespace {

using testing::TempDir;

constexpr std::int64_t kT0 = 1'700'000'000'000;

Contribution fetch(std::int64_t task_id, std::int64_t started_ms, std::string outcome = "ok") {
  Contribution c;
  c.task_id = task_id;
  c.job_id = 7;
  c.token = 1000 + task_id;
  c.url = "https://example.com/p" + std::to_string(task_id);
  c.final_url = c.url + "?final";
  c.started_ms = started_ms;
  c.finished_ms = started_ms + 150;
  c.http_status = outcome == "ok" ? 200 : 0;
  c.bytes = 1000 + task_id;
  c.wire_bytes = 600 + task_id;
  c.outcome = std::move(outcome);
  return c;
}

std::string frame_for(std::int64_t task_id, std::size_t size = 64) {
  std::string f = "frame-" + std::to_string(task_id) + ":";
  f.resize(std::max(size, f.size()), static_cast<char>('a' + task_id % 26));
  return f;
}

// Tasks 1..n, each fetched with a result to upload.
std::vector<NewContribution> fetches_with_frames(std::int64_t n) {
  std::vector<NewContribution> items;
  for (std::int64_t i = 1; i <= n; ++i) items.push_back({fetch(i, kT0 + i), frame_for(i)});
  return items;
}

std::unique_ptr<NodeStore> open_ok(const std::string& path) {
  auto s = NodeStore::open(path);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(s).value() : nullptr;
}

std::int64_t add_ok(NodeStore& s, const Contribution& c, std::string_view frame) {
  auto id = s.add(c, frame);
  EXPECT_TRUE(id.ok()) << (id.ok() ? "" : id.error().message);
  return id.ok() ? *id : 0;
}

// Runs SQL on the file through a connection of its own, as another program would.
void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

std::string raw_text(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    const auto* p = sqlite3_column_text(s, 0);
    out = p ? reinterpret_cast<const char*>(p) : "";
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

TEST(NodeStore, AddPendingSettleRoundTrip) {
  TempDir dir;
  auto s = open_ok(dir.file("node.db"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->pending_count(), 0);

  Contribution c = fetch(11, kT0);
  c.record_id = "rec-11";
  std::int64_t id = add_ok(*s, c, frame_for(11));
  EXPECT_GT(id, 0);
  EXPECT_EQ(s->pending_count(), 1);

  auto p = s->pending(10, 1 << 20);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0].contribution_id, id);
  EXPECT_EQ((*p)[0].task_id, 11);
  EXPECT_EQ((*p)[0].token, 1011);
  EXPECT_EQ((*p)[0].frame, frame_for(11));

  auto before = s->log(0, 10);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].state, "pending");

  ASSERT_TRUE(s->settle({{id, "accepted", R"({"receipt_id":"r1"})", ""}}).ok());
  EXPECT_EQ(s->pending_count(), 0);
  auto after = s->log(0, 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  const Contribution& row = (*after)[0];
  EXPECT_EQ(row.id, id);
  EXPECT_EQ(row.state, "accepted");
  EXPECT_EQ(row.receipt, R"({"receipt_id":"r1"})");
  EXPECT_EQ(row.record_id, "rec-11");
  EXPECT_EQ(row.url, c.url);
  EXPECT_EQ(row.final_url, c.final_url);
  EXPECT_EQ(row.job_id, 7);
  EXPECT_EQ(row.token, 1011);
  EXPECT_EQ(row.started_ms, kT0);
  EXPECT_EQ(row.finished_ms, kT0 + 150);
  EXPECT_EQ(row.http_status, 200);
  EXPECT_EQ(row.bytes, 1011);
  EXPECT_EQ(row.wire_bytes, 611);
  EXPECT_EQ(row.outcome, "ok");
}

TEST(NodeStore, RowsWithoutFrameAreLocalAndNeverQueued) {
  TempDir dir;
  auto s = open_ok(dir.file("node.db"));
  ASSERT_TRUE(s);
  Contribution robots = fetch(0, kT0);
  robots.url = "https://example.com/robots.txt";
  add_ok(*s, robots, "");
  Contribution skipped = fetch(12, kT0 + 1, "skipped");
  skipped.reason = "robots-disallowed";
  add_ok(*s, skipped, "");
  EXPECT_EQ(s->pending_count(), 0);
  auto rows = s->log(0, 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].state, "local");
  EXPECT_EQ((*rows)[0].reason, "robots-disallowed");
  EXPECT_EQ((*rows)[1].state, "local");
}

TEST(NodeStore, AddRefusesStatesThatWouldBreakTheOutbox) {
  TempDir dir;
  auto s = open_ok(dir.file("node.db"));
  ASSERT_TRUE(s);
  Contribution c = fetch(1, kT0);
  c.state = "pending";
  auto no_frame = s->add(c, "");
  ASSERT_FALSE(no_frame.ok());
  EXPECT_EQ(no_frame.error().code, "bad-contribution");

  c.state = "accepted";
  auto frame_but_settled = s->add(c, "frame");
  ASSERT_FALSE(frame_but_settled.ok());
  EXPECT_EQ(frame_but_settled.error().code, "bad-contribution");

  Contribution odd = fetch(2, kT0, "maybe");
  auto bad_outcome = s->add(odd, "");
  ASSERT_FALSE(bad_outcome.ok());
  EXPECT_EQ(bad_outcome.error().code, "bad-contribution");
  EXPECT_NE(bad_outcome.error().message.find("maybe"), std::string::npos);

  Contribution before_epoch = fetch(3, -1);
  auto negative = s->add(before_epoch, "");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().code, "bad-contribution");

  auto rows = s->log(0, 10);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

TEST(NodeStore, AddManyWritesEveryItemInOrder) {
  TempDir dir;
  auto s = open_ok(dir.file("node.db"));
  ASSERT_TRUE(s);
  std::vector<NewContribution> items = fetches_with_frames(5);
  Contribution robots = fetch(0, kT0 + 6);
  robots.url = "https://example.com/robots.txt";
  items.push_back({robots, ""});
  Contribution skipped = fetch(6, kT0 + 7, "skipped");
  skipped.reason = "robots-disallowed";
  items.push_back({skipped, ""});

  auto ids = s->add_many(items);
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  ASSERT_EQ(ids->size(), items.size());
  for (std::size_t i = 1; i < ids->size(); ++i) EXPECT_GT((*ids)[i], (*ids)[i - 1]);

  auto p = s->pending(100, 1 << 20);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ((*p)[i].contribution_id, (*ids)[i]);
    EXPECT_EQ((*p)[i].task_id, static_cast<std::int64_t>(i) + 1);
    EXPECT_EQ((*p)[i].frame, frame_for(static_cast<std::int64_t>(i) + 1));
  }
  auto rows = s->log(0, 100);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), items.size());
  EXPECT_EQ(rows->front().state, "local");  // newest first: the skipped page
  EXPECT_EQ(rows->front().reason, "robots-disallowed");
  EXPECT_EQ(rows->back().state, "pending");
  auto t = s->totals();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->fetched, 6);
  EXPECT_EQ(t->skipped, 1);
  EXPECT_EQ(t->pending, 5);
  auto u = s->usage_since(0);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->pages, 6);

  auto none = s->add_many({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(NodeStore, AddManyWithOneBadItemWritesNothingAndNamesIt) {
  TempDir dir;
  auto s = open_ok(dir.file("node.db"));
  ASSERT_TRUE(s);
  std::vector<NewContribution> items = fetches_with_frames(3);
  items[2].contribution.state = "accepted";  // has a frame, so it cannot be settled already

  auto ids = s->add_many(items);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.error().code, "bad-contribution");
  EXPECT_NE(ids.error().message.find("item 2"), std::string::npos) << ids.error().message;
  EXPECT_NE(ids.error().message.find(items[2].contribution.url), std::string::npos) << ids.error().message;
  EXPECT_NE(ids.error().message.find("'accepted'"), std::string::npos) << ids.error().message;
  EXPECT_EQ(s->pending_count(), 0);
  auto rows = s->log(0, 10);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

TEST(NodeStore, PendingIsOldestFirstWithinItemAndByteBudgets) {
  TempDir dir;
  auto s = open_ok(dir.file("node.db"));
  ASSERT_TRUE(s);
  std::vector<std::int64_t> ids;
  // Start times run backwards: the outbox order is the order results were queued.
  for (int i = 1; i <= 5; ++i) ids.push_back(add_ok(*s, fetch(i, kT0 - i), frame_for(i, 100)));

  auto three = s->pending(3, 1 << 20);
  ASSERT_TRUE(three.ok());
  ASSERT_EQ(three->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ((*three)[i].contribution_id, ids[i]);

  auto by_bytes = s->pending(10, 250);
  ASSERT_TRUE(by_bytes.ok());
  EXPECT_EQ(by_bytes->size(), 2u);

  auto exact = s->pending(10, 300);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->size(), 3u);

  auto tiny = s->pending(10, 10);
  ASSERT_TRUE(tiny.ok());
  ASSERT_EQ(tiny->size(), 1u) << "one frame over the budget must still go out";
  EXPECT_EQ((*tiny)[0].contribution_id, ids[0]);

  auto none = s->pending(0, 1 << 20);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  ASSERT_TRUE(s->settle({{ids[0], "accepted", "{}", ""}, {ids[2], "refused", "", "stale-token"}}).ok());
  auto rest = s->pending(10, 1 << 20);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ((*rest)[0].contribution_id, ids[1]);
  EXPECT_EQ((*rest)[1].contribution_id, ids[3]);
  EXPECT_EQ((*rest)[2].contribution_id, ids[4]);
}

TEST(NodeStore, SettleIsIdempotentAndFirstAnswerWins) {
  TempDir dir;
  auto s = open_ok(dir.file("node.db"));
  ASSERT_TRUE(s);
  std::int64_t a = add_ok(*s, fetch(1, kT0), frame_for(1));
  std::int64_t b = add_ok(*s, fetch(2, kT0 + 1), frame_for(2));
  std::int64_t local = add_ok(*s, fetch(3, kT0 + 2), "");

  ASSERT_TRUE(s->settle({{a, "accepted", "{\"n\":1}", ""}}).ok());
  // Again, a different answer for the same id, an unknown id, and a row that never was queued.
  ASSERT_TRUE(s->settle({{a, "refused", "", "late"}, {9999, "accepted", "{}", ""}, {local, "refused", "", "x"}}).ok());
  ASSERT_TRUE(s->settle({}).ok());
  EXPECT_EQ(s->pending_count(), 1);

  auto rows = s->log(0, 10);
  ASSERT_TRUE(rows.ok());
  std::map<std::int64_t, Contribution> by_id;
  for (auto& r : *rows) by_id[r.id] = r;
  EXPECT_EQ(by_id[a].state, "accepted");
  EXPECT_EQ(by_id[a].receipt, "{\"n\":1}");
  EXPECT_EQ(by_id[a].reason, "");
  EXPECT_EQ(by_id[b].state, "pending");
  EXPECT_EQ(by_id[local].state, "local");

  ASSERT_TRUE(s->settle({{b, "refused", "", "content-mismatch"}}).ok());
  rows = s->log(0, 10);
  ASSERT_TRUE(rows.ok());
  for (auto& r : *rows) by_id[r.id] = r;
  EXPECT_EQ(by_id[b].state, "refused");
  EXPECT_EQ(by_id[b].reason, "content-mismatch");
  EXPECT_EQ(s->pending_count(), 0);
}

TEST(NodeStore, SettleWithUnknownStateWritesNothing) {
  TempDir dir;
  auto s = open_ok(dir.file("node.db"));
  ASSERT_TRUE(s);
  std::int64_t a = add_ok(*s, fetch(1, kT0), frame_for(1));
  std::int64_t b = add_ok(*s, fetch(2, kT0 + 1), frame_for(2));
  auto st = s->settle({{a, "accepted", "{}", ""}, {b, "maybe", "", ""}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "bad-settlement");
  EXPECT_EQ(s->pending_count(), 2);
}

TEST(NodeStore, FrameSurvivesClosingAndReopening) {
  TempDir dir;
  const std::string path = dir.file("node.db");
  std::int64_t id = 0;
  const std::string frame = frame_for(5, 200'000);
  {
    auto s = open_ok(path);
    ASSERT_TRUE(s);
    id = add_ok(*s, fetch(5, kT0), frame);
    ASSERT_TRUE(s->set_value("node_id", "n-123").ok());
  }
  auto s = open_ok(path);
  ASSERT_TRUE(s);
  auto p = s->pending(10, 1 << 20);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0].contribution_id, id);
  EXPECT_EQ((*p)[0].frame, frame);
  auto v = s->value("node_id");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value_or(""), "n-123");
  EXPECT_GT(add_ok(*s, fetch(6, kT0), frame_for(6)), id);
}

// A kill -9 leaves the files as they are when it lands. So after add_many() returns, a copy of
// the database and its WAL, opened without the wal-index (SQLite then rebuilds it from the WAL
// alone, checking every frame), must hold every row so far with its frame. The batches run the
// WAL through checkpoints, and the last one is larger than the page cache, so SQLite writes part
// of it early and rewrites some of those frames when it commits.
TEST(NodeStore, EveryBatchIsInTheFilesWhenAddManyReturns) {
  TempDir dir;
  const std::string path = dir.file("node.db");
  auto s = open_ok(path);
  ASSERT_TRUE(s);
  constexpr std::size_t kFrameBytes = 20'000;
  std::int64_t tasks = 0;
  auto add_batch = [&](int n) {
    std::vector<NewContribution> items;
    for (int i = 0; i < n; ++i) {
      ++tasks;
      items.push_back({fetch(tasks, kT0 + tasks), frame_for(tasks, kFrameBytes)});
    }
    auto ids = s->add_many(items);
    ASSERT_TRUE(ids.ok()) << ids.error().message;
  };
  auto check_copy = [&](const std::string& name) {
    const std::string copy = dir.file(name + ".db");
    std::filesystem::copy_file(path, copy);
    if (std::filesystem::exists(path + "-wal")) std::filesystem::copy_file(path + "-wal", copy + "-wal");
    auto c = open_ok(copy);
    ASSERT_TRUE(c);
    auto pending = c->pending(1'000'000, std::numeric_limits<std::size_t>::max());
    ASSERT_TRUE(pending.ok());
    ASSERT_EQ(static_cast<std::int64_t>(pending->size()), tasks) << name;
    for (const auto& p : *pending)
      ASSERT_EQ(p.frame, frame_for(p.task_id, kFrameBytes)) << name << ", task " << p.task_id;
    auto t = c->totals();
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->pending, tasks) << name;
    EXPECT_EQ(raw_text(copy, "PRAGMA integrity_check"), "ok") << name;
  };
  for (int i = 1; i <= 40; ++i) {
    add_batch(8);
    if (i % 10 == 0) check_copy("after-" + std::to_string(i) + "-batches");
  }
  add_batch(200);
  check_copy("after-a-large-batch");
}

TEST(NodeStore, TwoConnectionsShareSettingsAndNoticeEachOther) {
  TempDir dir;
  const std::string path = dir.file("node.db");
  auto daemon = open_ok(path);
  auto cli = open_ok(path);
  ASSERT_TRUE(daemon && cli);
  EXPECT_FALSE(daemon->changed_elsewhere());

  auto missing = daemon->value("pause_until_ms");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(cli->set_value("pause_until_ms", "1700000360000").ok());
  EXPECT_FALSE(cli->changed_elsewhere()) << "a store's own writes are not news to it";
  EXPECT_TRUE(daemon->changed_elsewhere());
  EXPECT_FALSE(daemon->changed_elsewhere());
  auto seen = daemon->value("pause_until_ms");
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->value_or(""), "1700000360000");

  ASSERT_TRUE(cli->set_value("pause_until_ms", "0").ok());
  EXPECT_TRUE(daemon->changed_elsewhere());
  seen = daemon->value("pause_until_ms");
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->value_or(""), "0");

  add_ok(*daemon, fetch(1, kT0), frame_for(1));
  EXPECT_TRUE(cli->changed_elsewhere());
  EXPECT_EQ(cli->pending_count(), 1);
  auto log = cli->log(0, 10);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->size(), 1u);

  ASSERT_TRUE(daemon->set_value("status", R"({"state":"running"})").ok());
  ASSERT_TRUE(daemon->set_value("", "empty keys and values are values too").ok());
  auto empty_key = cli->value("");
  ASSERT_TRUE(empty_key.ok());
  EXPECT_EQ(empty_key->value_or("?"), "empty keys and values are values too");
}

TEST(NodeStore, LogIsNewestFirstFromSinceWithLimit) {
  TempDir dir;
  auto s = open_ok(dir.file("node.db"));
  ASSERT_TRUE(s);
  for (std::int64_t i = 0; i < 6; ++i) add_ok(*s, fetch(i + 1, kT0 + i * 1000), "");
  std::int64_t tie = add_ok(*s, fetch(99, kT0 + 5000), "");

  auto rows = s->log(kT0 + 2000, 100);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 5u);
  EXPECT_EQ((*rows)[0].id, tie) << "same start: the later row first";
  EXPECT_EQ((*rows)[1].task_id, 6);
  EXPECT_EQ((*rows)[4].task_id, 3);

  auto two = s->log(0, 2);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].id, tie);

  auto none = s->log(kT0 + 10'000, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(NodeStore, UsageSinceAndTotals) {
  TempDir dir;
  auto s = open_ok(dir.file("node.db"));
  ASSERT_TRUE(s);
  auto empty = s->totals();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->fetched, 0);

  std::int64_t a = add_ok(*s, fetch(1, kT0), frame_for(1));       // wire 601, bytes 1001
  std::int64_t b = add_ok(*s, fetch(2, kT0 + 10), frame_for(2));  // wire 602, bytes 1002
  std::int64_t c = add_ok(*s, fetch(3, kT0 + 20), frame_for(3));  // wire 603
  add_ok(*s, fetch(4, kT0 + 30), frame_for(4));                   // wire 604, stays pending
  add_ok(*s, fetch(0, kT0 + 40), "");                             // robots.txt, wire 600
  add_ok(*s, fetch(5, kT0 + 50, "failed"), "");                   // wire 605
  Contribution skipped = fetch(6, kT0 + 60, "skipped");           // never requested
  skipped.wire_bytes = 0;
  add_ok(*s, skipped, "");
  ASSERT_TRUE(s->settle({{a, "accepted", "{}", ""}, {b, "duplicate", "{}", ""}, {c, "refused", "", "bad"}}).ok());

  auto all = s->usage_since(0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->pages, 6) << "the skipped row was never requested";
  EXPECT_EQ(all->wire_bytes, 601 + 602 + 603 + 604 + 600 + 605);

  auto recent = s->usage_since(kT0 + 30);
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(recent->pages, 3);
  EXPECT_EQ(recent->wire_bytes, 604 + 600 + 605);

  auto future = s->usage_since(kT0 + 1000);
  ASSERT_TRUE(future.ok());
  EXPECT_EQ(future->pages, 0);
  EXPECT_EQ(future->wire_bytes, 0);

  auto t = s->totals();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->fetched, 5);
  EXPECT_EQ(t->failed, 1);
  EXPECT_EQ(t->skipped, 1);
  EXPECT_EQ(t->accepted, 2);
  EXPECT_EQ(t->accepted_bytes, 1001 + 1002);
  EXPECT_EQ(t->refused, 1);
  EXPECT_EQ(t->pending, 1);
  EXPECT_EQ(t->pending, s->pending_count());
}

// usage_since() adds whole hours from a rollup to the rows of the first, partial hour; the
// result must equal a plain sum over the rows for any bound.
TEST(NodeStore, UsageSinceIsExactForAnyBound) {
  TempDir dir;
  auto s = open_ok(dir.file("node.db"));
  ASSERT_TRUE(s);
  constexpr std::int64_t kHour = 3'600'000;
  const std::int64_t h0 = kT0 - kT0 % kHour;
  const std::int64_t offsets[] = {
      -kHour - 1,    -1,         0,         1, kHour / 2, kHour - 1, kHour, kHour + 1, 2 * kHour + 5,
      3 * kHour - 1, 10 * kHour, 10 * kHour};
  const char* outcomes[] = {"ok", "failed", "skipped"};
  std::vector<Contribution> rows;
  std::vector<std::int64_t> queued;
  for (std::size_t i = 0; i < std::size(offsets); ++i) {
    Contribution c = fetch(static_cast<std::int64_t>(i) + 1, h0 + offsets[i], outcomes[i % 3]);
    c.wire_bytes = std::int64_t{1} << i;
    bool upload = c.outcome == "ok";
    std::int64_t id = add_ok(*s, c, upload ? frame_for(c.task_id) : "");
    if (upload) queued.push_back(id);
    rows.push_back(c);
  }
  // Settling changes states, never usage.
  ASSERT_TRUE(s->settle({{queued[0], "accepted", "{}", ""}, {queued[1], "refused", "", "x"}}).ok());

  std::vector<std::int64_t> bounds = {
      -5, 0, h0, h0 + kHour, h0 + 10 * kHour + 1, std::numeric_limits<std::int64_t>::max()};
  for (std::int64_t off : offsets) {
    for (std::int64_t d : {-1, 0, 1}) bounds.push_back(h0 + off + d);
  }
  for (std::int64_t since : bounds) {
    Usage want;
    for (const auto& c : rows) {
      if (c.started_ms < since) continue;
      want.pages += c.outcome != "skipped";
      want.wire_bytes += c.wire_bytes;
    }
    auto got = s->usage_since(since);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->pages, want.pages) << "since " << since << " (hour " << (since - h0) / double(kHour) << ")";
    EXPECT_EQ(got->wire_bytes, want.wire_bytes)
        << "since " << since << " (hour " << (since - h0) / double(kHour) << ")";
  }
}

TEST(NodeStore, RefusesAFileThatIsNotSqlite) {
  TempDir dir;
  const std::string path = dir.file("node.db");
  std::mt19937 rng(42);
  std::string junk(8192, '\0');
  for (auto& ch : junk) ch = static_cast<char>(rng());
  {
    std::ofstream out(path, std::ios::binary);
    out << junk;
  }
  auto s = NodeStore::open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "bad-store");
  EXPECT_NE(s.error().message.find("not a Meadow node store"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(path), std::string::npos);
  EXPECT_EQ(testing::file_contents(path), junk);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(NodeStore, RefusesAnotherApplicationsDatabaseAndLeavesItAlone) {
  TempDir dir;
  const std::string path = dir.file("notes.db");
  raw_exec(path,
           "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me');");
  auto s = NodeStore::open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "bad-store");
  EXPECT_NE(s.error().message.find("another application"), std::string::npos) << s.error().message;
  EXPECT_EQ(raw_text(path, "PRAGMA journal_mode"), "delete");
  EXPECT_EQ(raw_text(path, "SELECT body FROM notes"), "keep me");
  EXPECT_EQ(raw_text(path, "SELECT count(*) FROM sqlite_schema"), "1");

  const std::string tagged = dir.file("tagged.db");
  raw_exec(tagged, "PRAGMA application_id=305419896");
  auto t = NodeStore::open(tagged);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, "bad-store");
  EXPECT_NE(t.error().message.find("0x12345678"), std::string::npos) << t.error().message;
}

TEST(NodeStore, RefusesAStoreFromANewerMeadow) {
  TempDir dir;
  const std::string path = dir.file("node.db");
  {
    auto s = open_ok(path);
    ASSERT_TRUE(s);
    add_ok(*s, fetch(1, kT0), frame_for(1));
  }
  raw_exec(path, "PRAGMA user_version=99");
  auto s = NodeStore::open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "bad-store");
  EXPECT_NE(s.error().message.find("newer Meadow"), std::string::npos) << s.error().message;
  EXPECT_EQ(raw_text(path, "SELECT count(*) FROM outbox"), "1");
}

TEST(NodeStore, MissingDirectoryIsAClearError) {
  TempDir dir;
  auto s = NodeStore::open(dir.file("no/such/dir/node.db"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "store-io");
  EXPECT_NE(s.error().message.find("directory exists"), std::string::npos) << s.error().message;
}

// A writer in a child process: `body` runs there with the write end of a pipe and ends it
// with _exit; the parent gets the child's pid and the read end. send_ids reports each row id
// whose add returned.
struct WriterChild {
  pid_t pid = -1;
  int ids_fd = -1;
};
WriterChild fork_writer(const std::function<void(int)>& body) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    body(fds[1]);
    _exit(6);
  }
  close(fds[1]);
  return {pid, fds[0]};
}
void send_ids(int fd, const std::vector<std::int64_t>& ids) {
  for (std::int64_t v : ids)
    if (write(fd, &v, sizeof v) != static_cast<ssize_t>(sizeof v)) _exit(4);
}

// A writer killed with SIGKILL in the middle of its loop, adding `batch` rows at a time
// (add() when 1, add_many() otherwise): every row whose add returned is on disk with its frame,
// nothing is half written, a batch is all there or not at all, and the tallies agree with the
// rows.
void kill_writer_and_check(std::int64_t batch) {
  TempDir dir;
  const std::string path = dir.file("node.db");
  ASSERT_TRUE(open_ok(path));

  const WriterChild child = fork_writer([&](int ids_fd) {
    auto s = NodeStore::open(path);
    if (!s.ok()) _exit(2);
    std::vector<NewContribution> items;
    for (std::int64_t i = 1;; ++i) {
      // Every fourth fetch has nothing to upload; frames are large enough that a kill often
      // lands inside a write.
      items.push_back({fetch(i, kT0 + i), i % 4 == 0 ? std::string() : frame_for(i, 20'000 + i % 7000)});
      if (static_cast<std::int64_t>(items.size()) < batch) continue;
      std::vector<std::int64_t> ids;
      if (batch == 1) {
        auto id = (*s)->add(items[0].contribution, items[0].frame);
        if (!id.ok()) _exit(3);
        ids.push_back(*id);
      } else {
        auto added = (*s)->add_many(items);
        if (!added.ok()) _exit(3);
        ids = *added;
      }
      items.clear();
      send_ids(ids_fd, ids);
    }
  });
  ASSERT_GE(child.pid, 0);
  const pid_t pid = child.pid;
  const int ids_fd = child.ids_fd;

  std::set<std::int64_t> committed;
  auto read_id = [&](int timeout_ms) {
    pollfd p{ids_fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    std::int64_t v = 0;
    if (read(ids_fd, &v, sizeof v) != static_cast<ssize_t>(sizeof v)) return false;
    committed.insert(v);
    return true;
  };
  while (committed.size() < 300 && read_id(30'000)) {
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  while (read_id(0)) {
  }
  close(ids_fd);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself, status " << status;
  ASSERT_GE(committed.size(), 300u) << "the writer did not get going";

  EXPECT_EQ(raw_text(path, "PRAGMA integrity_check"), "ok");
  auto s = open_ok(path);
  ASSERT_TRUE(s);
  auto rows = s->log(0, 1'000'000);
  ASSERT_TRUE(rows.ok());
  std::map<std::int64_t, Contribution> by_id;
  for (auto& r : *rows) by_id[r.id] = r;
  for (auto id : committed) EXPECT_TRUE(by_id.count(id)) << "committed row " << id << " is missing";
  EXPECT_LE(by_id.size(), committed.size() + batch) << "only the batch cut off after its commit may be extra";
  EXPECT_EQ(by_id.size() % batch, 0u) << "a batch was written in part";

  auto pending = s->pending(1'000'000, std::numeric_limits<std::size_t>::max());
  ASSERT_TRUE(pending.ok());
  std::set<std::int64_t> queued;
  for (const auto& p : *pending) {
    queued.insert(p.contribution_id);
    ASSERT_TRUE(by_id.count(p.contribution_id)) << "outbox entry " << p.contribution_id << " has no log row";
    const Contribution& row = by_id[p.contribution_id];
    EXPECT_EQ(p.frame, frame_for(row.task_id, 20'000 + row.task_id % 7000));
    EXPECT_EQ(p.task_id, row.task_id);
    EXPECT_EQ(p.token, row.token);
  }
  for (const auto& [id, row] : by_id) {
    EXPECT_EQ(row.state == "pending", queued.count(id) == 1) << "row " << id << " is " << row.state;
    EXPECT_EQ(row.state == "local", row.task_id % 4 == 0) << "row " << id;
  }

  auto t = s->totals();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->fetched, static_cast<std::int64_t>(by_id.size()));
  EXPECT_EQ(t->pending, static_cast<std::int64_t>(queued.size()));
  EXPECT_EQ(s->pending_count(), static_cast<std::int64_t>(queued.size()));

  // The store keeps working after the crash.
  std::int64_t next = add_ok(*s, fetch(100'000, kT0), frame_for(1));
  EXPECT_GT(next, by_id.rbegin()->first);
}

TEST(NodeStore, KilledWriterLeavesEveryCommittedRowWhole) { kill_writer_and_check(1); }

TEST(NodeStore, KilledBatchWriterLeavesEveryCommittedBatchWhole) { kill_writer_and_check(7); }

// A writer whose files may not grow past `limit_bytes` (RLIMIT_FSIZE, as a full disk would
// stop it) adds batches until one is refused: that batch is not in the store, and every batch
// whose add_many() returned is, whole, however late the failed write came (the WAL filling
// up, or a checkpoint copying pages into the database file).
void fill_until_a_write_fails(rlim_t limit_bytes, std::size_t frame_bytes) {
  TempDir dir;
  const std::string path = dir.file("node.db");
  ASSERT_TRUE(open_ok(path));

  const WriterChild child = fork_writer([&](int ids_fd) {
    signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
    const rlimit limit{limit_bytes, limit_bytes};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(2);
    auto s = NodeStore::open(path);
    if (!s.ok()) _exit(3);
    for (std::int64_t task = 1; task < 100'000;) {
      std::vector<NewContribution> items;
      for (int i = 0; i < 8; ++i, ++task) items.push_back({fetch(task, kT0 + task), frame_for(task, frame_bytes)});
      auto ids = (*s)->add_many(items);
      if (!ids.ok()) _exit(10);
      send_ids(ids_fd, *ids);
    }
    _exit(5);
  });
  ASSERT_GE(child.pid, 0);
  std::set<std::int64_t> committed;
  std::int64_t v = 0;
  while (read(child.ids_fd, &v, sizeof v) == static_cast<ssize_t>(sizeof v)) committed.insert(v);
  close(child.ids_fd);
  int status = 0;
  waitpid(child.pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 10) << "the writer was never refused, status " << status;
  ASSERT_GE(committed.size(), 40u) << "the writer was refused too early to test anything";

  EXPECT_EQ(raw_text(path, "PRAGMA integrity_check"), "ok");
  auto s = open_ok(path);
  ASSERT_TRUE(s);
  auto pending = s->pending(1'000'000, std::numeric_limits<std::size_t>::max());
  ASSERT_TRUE(pending.ok());
  std::set<std::int64_t> stored;
  for (const auto& p : *pending) {
    stored.insert(p.contribution_id);
    EXPECT_EQ(p.frame, frame_for(p.task_id, frame_bytes)) << "task " << p.task_id;
  }
  EXPECT_EQ(stored, committed) << "the refused batch is stored, or a batch that was not refused is missing";
  auto t = s->totals();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->pending, static_cast<std::int64_t>(committed.size()));
  EXPECT_GT(add_ok(*s, fetch(100'000, kT0), frame_for(1)), *committed.rbegin());
}

// The WAL reaches the limit first (it holds some 4 MB before a checkpoint empties it). Small
// results, so that a batch's frames are written in one go, at its commit.
TEST(NodeStore, AWriteRefusedInTheWalFailsItsBatchAndNothingElse) { fill_until_a_write_fails(1 << 20, 2'000); }

// A checkpoint reaches the limit first, copying pages into the database file; the WAL, which
// cannot start over until a checkpoint succeeds, reaches it next.
TEST(NodeStore, AWriteRefusedInACheckpointLosesNothing) { fill_until_a_write_fails(6 << 20, 20'000); }

}  // namespace
}  // namespace meadow::client
