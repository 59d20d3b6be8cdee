// The store contract. Parameterised by backend so every backend passes the same suite.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "coordinator/store/store.h"
#include "support/test_env.h"

namespace meadow::coordinator {
namespace {

using testing::TempDir;

constexpr std::int64_t kNow = 1'700'000'000'000;

// Leases candidates job by job in id order: enough to exercise the store alone.
PickFn take_in_order(std::vector<std::int64_t> jobs) {
  return [jobs](CandidateSource& src, int max) {
    std::vector<LeaseCandidate> out;
    for (auto job : jobs) {
      while (static_cast<int>(out.size()) < max) {
        auto batch = src.next(job, max - static_cast<int>(out.size()));
        if (batch.empty()) break;
        for (auto& c : batch) out.push_back(std::move(c));
      }
    }
    return out;
  };
}

std::vector<NewTask> tasks(int n, const std::string& site = "example.com") {
  std::vector<NewTask> out;
  for (int i = 0; i < n; ++i) out.push_back({"https://" + site + "/p" + std::to_string(i), site, 0});
  return out;
}

JobSpec spec(const std::string& name, int max_attempts = 3) {
  JobSpec s;
  s.name = name;
  s.max_attempts = max_attempts;
  return s;
}

Node make_node(const std::string& id, const std::string& account) {
  Node n;
  n.id = id;
  n.public_key = std::string(32, 'k');
  n.account = account;
  return n;
}

VerifiedResult ok_result(const LeaseGrant& g) {
  VerifiedResult r;
  r.task_id = g.task.task_id;
  r.token = g.token;
  r.outcome = protocol::Outcome::ok;
  r.record_id = "rec-" + std::to_string(g.task.task_id);
  r.record_json = R"({"record_id":"rec-)" + std::to_string(g.task.task_id) + R"(","text":"hello"})";
  r.record_sha256 = std::string(64, 'a');
  r.receipt.receipt_id = "rcpt-" + std::to_string(g.task.task_id);
  r.receipt.task_id = g.task.task_id;
  r.receipt.token = g.token;
  r.receipt.node_id = "n1";
  r.receipt.record_id = r.record_id;
  r.receipt.record_sha256 = r.record_sha256;
  r.receipt.signature = "sig";
  return r;
}

VerifiedResult failed_result(const LeaseGrant& g, const std::string& reason) {
  VerifiedResult r;
  r.task_id = g.task.task_id;
  r.token = g.token;
  r.outcome = protocol::Outcome::failed;
  r.reason = reason;
  return r;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { open(); }
  void open() {
    store_.reset();
    auto s = open_sqlite_store(SqliteOptions{dir_.file("store.db")});
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }
  std::vector<LeaseGrant> lease(const std::string& node, int max, std::int64_t now, std::vector<std::int64_t> jobs) {
    auto g = store_->lease(LeaseParams{node, max, now, 60'000}, take_in_order(std::move(jobs)));
    EXPECT_TRUE(g.ok()) << g.error().message;
    return g.ok() ? std::move(g).value() : std::vector<LeaseGrant>{};
  }
  Task task(std::int64_t id) {
    auto t = store_->get_task(id);
    EXPECT_TRUE(t.ok());
    return t.ok() ? *t : Task{};
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, CreatesJobWithQueuedTasksAndIgnoresDuplicateUrls) {
  auto t = tasks(3);
  t.push_back(t[0]);
  auto id = store_->create_job(spec("news"), t, kNow);
  ASSERT_TRUE(id.ok());
  auto job = store_->get_job(*id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->spec.name, "news");
  EXPECT_EQ(job->state, JobState::active);
  EXPECT_EQ(job->counts.queued, 3);
  EXPECT_EQ(job->counts.total(), 3);
}

TEST_P(StoreTest, UnknownJobIsNotFound) {
  auto job = store_->get_job(42);
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.error().kind, ErrorKind::not_found);
  EXPECT_EQ(job.error().code, "unknown-job");
}

TEST_P(StoreTest, LeaseHandsOutEachTaskOnceWithIncreasingTokens) {
  auto job = *store_->create_job(spec("a"), tasks(5), kNow);
  auto first = lease("n1", 3, kNow, {job});
  auto second = lease("n2", 3, kNow, {job});
  auto third = lease("n3", 3, kNow, {job});
  ASSERT_EQ(first.size(), 3u);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_TRUE(third.empty());
  std::int64_t last = 0;
  for (const auto* batch : {&first, &second}) {
    for (const auto& g : *batch) {
      EXPECT_GT(g.token, last);
      last = g.token;
      EXPECT_EQ(g.deadline_ms, kNow + 60'000);
      EXPECT_EQ(g.attempt, 1);
    }
  }
  EXPECT_EQ(task(first[0].task.task_id).state, TaskState::leased);
  EXPECT_EQ(task(first[0].task.task_id).node_id, "n1");
}

TEST_P(StoreTest, TokensKeepIncreasingAcrossReopen) {
  auto job = *store_->create_job(spec("a"), tasks(2), kNow);
  auto g1 = lease("n1", 1, kNow, {job});
  ASSERT_EQ(g1.size(), 1u);
  open();
  auto g2 = lease("n1", 1, kNow, {job});
  ASSERT_EQ(g2.size(), 1u);
  EXPECT_GT(g2[0].token, g1[0].token);
}

TEST_P(StoreTest, CompleteStoresResultAndFinishesJob) {
  auto job = *store_->create_job(spec("a"), tasks(2), kNow);
  auto g = lease("n1", 2, kNow, {job});
  ASSERT_EQ(g.size(), 2u);
  ASSERT_TRUE(store_->register_node(make_node("n1", "alice")).ok());
  auto items = store_->complete("n1", {ok_result(g[0]), ok_result(g[1])}, kNow + 10, 0);
  ASSERT_TRUE(items.ok()) << items.error().message;
  ASSERT_EQ(items->size(), 2u);
  EXPECT_FALSE((*items)[0].duplicate);
  ASSERT_TRUE((*items)[0].receipt.has_value());
  EXPECT_EQ(task(g[0].task.task_id).state, TaskState::done);
  auto j = store_->get_job(job);
  EXPECT_EQ(j->state, JobState::done);
  EXPECT_EQ(j->counts.done, 2);
  auto results = store_->results(job, 0, 10);
  ASSERT_TRUE(results.ok());
  ASSERT_EQ(results->size(), 2u);
  EXPECT_NE((*results)[0].record_json.find("hello"), std::string::npos);
  EXPECT_EQ(store_->get_node("n1")->accepted, 2);
}

TEST_P(StoreTest, RetriedUploadIsADuplicateAndCountsOnce) {
  auto job = *store_->create_job(spec("a"), tasks(1), kNow);
  auto g = lease("n1", 1, kNow, {job});
  ASSERT_TRUE(store_->register_node(make_node("n1", "alice")).ok());
  auto first = store_->complete("n1", {ok_result(g[0])}, kNow + 1, 0);
  ASSERT_TRUE(first.ok());
  auto again = store_->complete("n1", {ok_result(g[0])}, kNow + 2, 0);
  ASSERT_TRUE(again.ok()) << again.error().message;
  ASSERT_EQ(again->size(), 1u);
  EXPECT_TRUE((*again)[0].duplicate);
  ASSERT_TRUE((*again)[0].receipt.has_value());
  EXPECT_EQ((*again)[0].receipt->receipt_id, (*first)[0].receipt->receipt_id);
  EXPECT_EQ(store_->results(job, 0, 10)->size(), 1u);
  EXPECT_EQ(store_->get_node("n1")->accepted, 1);
}

TEST_P(StoreTest, LateRecordForADeadLetteredTaskIsRefusedNotADuplicate) {
  auto job = *store_->create_job(spec("a", 1), tasks(1), kNow);
  auto g = lease("n1", 1, kNow, {job});
  ASSERT_EQ(store_->reap_expired(kNow + 60'000, 10)->dead, 1);
  auto r = store_->complete("n1", {ok_result(g[0])}, kNow + 60'001, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "task-not-leased");
  EXPECT_TRUE(store_->results(job, 0, 10)->empty());
}

TEST_P(StoreTest, RetriedFailureReportIsADuplicate) {
  auto job = *store_->create_job(spec("a", 3), tasks(1), kNow);
  auto g = lease("n1", 1, kNow, {job});
  ASSERT_TRUE(store_->complete("n1", {failed_result(g[0], "timeout")}, kNow + 1, 1000).ok());
  auto again = store_->complete("n1", {failed_result(g[0], "timeout")}, kNow + 2, 1000);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)[0].duplicate);
  EXPECT_EQ(store_->dead_tasks(job, 10)->size(), 0u);
  EXPECT_EQ(task(g[0].task.task_id).attempts, 1);
}

TEST_P(StoreTest, BatchWithOneStaleTokenChangesNothing) {
  auto job = *store_->create_job(spec("a"), tasks(2), kNow);
  auto g = lease("n1", 2, kNow, {job});
  auto stale = ok_result(g[1]);
  stale.token -= 1000;
  auto r = store_->complete("n1", {ok_result(g[0]), stale}, kNow + 1, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "stale-token");
  EXPECT_EQ(r.error().kind, ErrorKind::conflict);
  EXPECT_EQ(task(g[0].task.task_id).state, TaskState::leased);
  EXPECT_TRUE(store_->results(job, 0, 10)->empty());
}

TEST_P(StoreTest, ResultFromAnotherNodeIsRefused) {
  auto job = *store_->create_job(spec("a"), tasks(1), kNow);
  auto g = lease("n1", 1, kNow, {job});
  auto r = store_->complete("n2", {ok_result(g[0])}, kNow + 1, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "not-your-lease");
  EXPECT_EQ(task(g[0].task.task_id).state, TaskState::leased);
}

TEST_P(StoreTest, ExpiredLeasesReturnToQueueThenDeadLetterWithReasons) {
  auto job = *store_->create_job(spec("a", 2), tasks(1), kNow);
  auto g1 = lease("n1", 1, kNow, {job});
  ASSERT_EQ(g1.size(), 1u);
  auto reaped = store_->reap_expired(kNow + 59'999, 100);
  EXPECT_EQ(reaped->requeued, 0);
  reaped = store_->reap_expired(kNow + 60'000, 100);
  EXPECT_EQ(reaped->requeued, 1);
  EXPECT_EQ(task(g1[0].task.task_id).state, TaskState::queued);
  auto g2 = lease("n2", 1, kNow + 61'000, {job});
  ASSERT_EQ(g2.size(), 1u);
  EXPECT_EQ(g2[0].attempt, 2);
  reaped = store_->reap_expired(kNow + 200'000, 100);
  EXPECT_EQ(reaped->dead, 1);
  EXPECT_EQ(task(g1[0].task.task_id).state, TaskState::dead);
  auto dead = store_->dead_tasks(job, 10);
  ASSERT_EQ(dead->size(), 1u);
  ASSERT_EQ((*dead)[0].failures.size(), 2u);
  EXPECT_NE((*dead)[0].failures[0].reason.find("lease expired"), std::string::npos);
  EXPECT_EQ((*dead)[0].failures[1].node_id, "n2");
  EXPECT_EQ(store_->get_job(job)->state, JobState::done);
}

TEST_P(StoreTest, FailedOutcomeWaitsForRetryDelayThenDeadLetters) {
  auto job = *store_->create_job(spec("a", 2), tasks(1), kNow);
  auto g1 = lease("n1", 1, kNow, {job});
  ASSERT_TRUE(store_->complete("n1", {failed_result(g1[0], "HTTP 503")}, kNow + 1, 30'000).ok());
  EXPECT_TRUE(lease("n1", 1, kNow + 29'000, {job}).empty());
  EXPECT_EQ(*store_->next_available_ms().value(), kNow + 30'001);
  auto g2 = lease("n2", 1, kNow + 30'001, {job});
  ASSERT_EQ(g2.size(), 1u);
  ASSERT_TRUE(store_->complete("n2", {failed_result(g2[0], "timeout")}, kNow + 30'002, 30'000).ok());
  auto dead = store_->dead_tasks(job, 10);
  ASSERT_EQ(dead->size(), 1u);
  ASSERT_EQ((*dead)[0].failures.size(), 2u);
  EXPECT_EQ((*dead)[0].failures[0].reason, "HTTP 503");
  EXPECT_EQ((*dead)[0].failures[1].reason, "timeout");
}

TEST_P(StoreTest, PausedJobsAreNotActiveAndCancelDropsQueuedTasks) {
  auto job = *store_->create_job(spec("a"), tasks(3), kNow);
  auto g = lease("n1", 1, kNow, {job});
  ASSERT_TRUE(store_->set_job_state(job, JobState::paused, kNow).ok());
  EXPECT_TRUE(store_->active_jobs()->empty());
  ASSERT_TRUE(store_->set_job_state(job, JobState::active, kNow).ok());
  EXPECT_EQ(store_->active_jobs()->size(), 1u);
  ASSERT_TRUE(store_->set_job_state(job, JobState::cancelled, kNow).ok());
  auto j = store_->get_job(job);
  EXPECT_EQ(j->counts.cancelled, 2);
  EXPECT_EQ(j->counts.leased, 1);
  auto again = store_->set_job_state(job, JobState::active, kNow);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "job-finished");
  // The lease still out finishes as cancelled when it expires.
  ASSERT_TRUE(store_->reap_expired(kNow + 100'000, 10).ok());
  EXPECT_EQ(task(g[0].task.task_id).state, TaskState::cancelled);
}

TEST_P(StoreTest, JobsVersionChangesWithJobWrites) {
  auto v0 = store_->jobs_version();
  auto job = *store_->create_job(spec("a"), tasks(1), kNow);
  auto v1 = store_->jobs_version();
  EXPECT_NE(v0, v1);
  ASSERT_TRUE(store_->set_job_state(job, JobState::paused, kNow).ok());
  EXPECT_NE(store_->jobs_version(), v1);
}

TEST_P(StoreTest, JobsWrittenByAnotherConnectionAreSeen) {
  auto v0 = store_->jobs_version();
  auto other = open_sqlite_store(SqliteOptions{dir_.file("store.db")});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->create_job(spec("from-cli"), tasks(1), kNow).ok());
  EXPECT_NE(store_->jobs_version(), v0);
  EXPECT_EQ(store_->active_jobs()->size(), 1u);
}

TEST_P(StoreTest, ExtendMovesOnlyTheNodesOwnCurrentLeases) {
  auto job = *store_->create_job(spec("a"), tasks(2), kNow);
  auto g = lease("n1", 2, kNow, {job});
  auto r = store_->extend("n1", {{g[0].task.task_id, g[0].token}, {g[1].task.task_id, g[1].token + 99}},
                          kNow + 500'000, kNow + 1000);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->extended.size(), 1u);
  ASSERT_EQ(r->refused.size(), 1u);
  EXPECT_EQ(r->refused[0].code, "stale-token");
  EXPECT_EQ(task(g[0].task.task_id).deadline_ms, kNow + 500'000);
  auto other = store_->extend("n2", {{g[0].task.task_id, g[0].token}}, kNow + 900'000, kNow + 1000);
  ASSERT_EQ(other->refused.size(), 1u);
  EXPECT_EQ(other->refused[0].code, "not-your-lease");
}

TEST_P(StoreTest, NodesRegisterOnceAndBanEndsTheirLeases) {
  Node n = make_node("n1", "alice");
  n.registered_ms = kNow;
  ASSERT_TRUE(store_->register_node(n).ok());
  Node again = n;
  again.account = "mallory";
  EXPECT_EQ(store_->register_node(again)->account, "alice");
  auto job = *store_->create_job(spec("a"), tasks(1), kNow);
  auto g = lease("n1", 1, kNow, {job});
  ASSERT_TRUE(store_->ban_node("n1", "bad data", kNow + 5).ok());
  EXPECT_TRUE(store_->get_node("n1")->banned);
  EXPECT_EQ(store_->reap_expired(kNow + 5, 10)->requeued, 1);
  EXPECT_EQ(store_->ban_node("nope", "", kNow).error().code, "unknown-node");
}

TEST_P(StoreTest, AdminKeysAreFoundByHash) {
  ASSERT_TRUE(store_->add_admin_key("ak1", "hash1", "ops", kNow).ok());
  EXPECT_EQ(store_->find_admin_key("hash1")->value_or(""), "ak1");
  EXPECT_FALSE(store_->find_admin_key("hash2")->has_value());
}

TEST_P(StoreTest, QueueStatsCountByStateJobAndSite) {
  auto a = *store_->create_job(spec("a"), tasks(3, "a.com"), kNow);
  auto b = *store_->create_job(spec("b"), tasks(2, "b.com"), kNow);
  (void)lease("n1", 1, kNow, {a});
  auto st = store_->queue_stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->total.queued, 4);
  EXPECT_EQ(st->total.leased, 1);
  ASSERT_EQ(st->jobs.size(), 2u);
  EXPECT_EQ(st->jobs[1].job_id, b);
  ASSERT_EQ(st->sites.size(), 2u);
  EXPECT_EQ(st->sites[0].site, "a.com");
  EXPECT_EQ(st->sites[0].counts.leased, 1);
}

TEST_P(StoreTest, RefusesADatabaseFromTheFuture) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("store.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=999", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = open_sqlite_store(SqliteOptions{dir_.file("store.db")});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "storage-too-new");
  EXPECT_NE(s.error().message.find("999"), std::string::npos);
}

TEST_P(StoreTest, RefusesAFileThatIsNotADatabase) {
  store_.reset();
  FILE* f = std::fopen(dir_.file("junk.db").c_str(), "wb");
  std::fputs("this is not a database, just text that is long enough to fill a header page......", f);
  std::fclose(f);
  auto s = open_sqlite_store(SqliteOptions{dir_.file("junk.db")});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not a database"), std::string::npos) << s.error().message;
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite"));

}  // namespace
}  // namespace meadow::coordinator
