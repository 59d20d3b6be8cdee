// Scheduler behaviour with an injected clock: no sleeps, a day of leases in milliseconds.
#include <gtest/gtest.h>

#include <map>

#include "coordinator/scheduler/scheduler.h"
#include "support/test_env.h"

namespace meadow::coordinator {
namespace {

using testing::TempDir;

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override { make(SchedulerOptions{}); }
  void make(SchedulerOptions opt) {
    sched_.reset();
    store_.reset();
    auto s = open_sqlite_store(SqliteOptions{dir_.file("s.db")});
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    sched_ = std::make_unique<Scheduler>(*store_, clock_, opt);
  }
  std::int64_t job(const std::string& name, std::vector<std::string> urls, int priority = 1, double site_rate = 100,
                   int max_attempts = 3) {
    JobSpec s;
    s.name = name;
    s.urls = std::move(urls);
    s.priority = priority;
    s.site_rate = site_rate;
    s.max_attempts = max_attempts;
    auto id = sched_->create_job(s);
    EXPECT_TRUE(id.ok()) << id.error().message;
    return id.ok() ? *id : 0;
  }
  static std::vector<std::string> urls(int n, const std::string& prefix, bool distinct_sites) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(distinct_sites ? "https://" + prefix + std::to_string(i) + ".example/"
                                   : "https://" + prefix + ".example/p" + std::to_string(i));
    }
    return out;
  }
  LeaseResult lease(int n, const std::string& node = "n1") {
    auto r = sched_->lease(node, n);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? std::move(r).value() : LeaseResult{};
  }
  Status complete(const protocol::TaskLease& t, const std::string& node = "n1") {
    VerifiedResult v;
    v.task_id = t.task_id;
    v.token = t.token;
    v.record_id = "r" + std::to_string(t.task_id);
    v.record_json = "{}";
    v.record_sha256 = std::string(64, '0');
    v.receipt.receipt_id = "x";
    auto r = store_->complete(node, {v}, clock_.now_ms(), 1000);
    if (!r.ok()) return std::move(r).error();
    return {};
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Scheduler> sched_;
};

TEST_F(SchedulerTest, RefusesUnsafeUrlsAtCreationWithTheReason) {
  struct Case {
    const char* url;
    const char* code;
  };
  for (const Case& c : {Case{"javascript:alert(1)", "url-scheme"}, Case{"file:///etc/passwd", "url-scheme"},
                        Case{"https://user:pw@example.com/", "url-credentials"},
                        Case{"http://10.0.0.1/", "url-private-address"},
                        Case{"http://127.0.0.1/", "url-private-address"},
                        Case{"http://[::1]/", "url-private-address"},
                        Case{"http://169.254.169.254/latest/meta-data/", "url-private-address"}}) {
    JobSpec s;
    s.name = "bad";
    s.urls = {"https://fine.example/", c.url};
    auto id = sched_->create_job(s);
    ASSERT_FALSE(id.ok()) << c.url;
    EXPECT_EQ(id.error().code, c.code) << c.url << ": " << id.error().message;
    EXPECT_NE(id.error().message.find("urls[1]"), std::string::npos) << id.error().message;
  }
  EXPECT_TRUE(store_->list_jobs("")->empty());
}

TEST_F(SchedulerTest, NormalisesAndDeduplicatesUrls) {
  auto id = job("j", {"HTTPS://Example.COM:443/a/./b#frag", "https://example.com/a/b", "https://example.com/c"});
  auto j = store_->get_job(id);
  EXPECT_EQ(j->counts.queued, 2);
  auto r = lease(10);
  ASSERT_EQ(r.tasks.size(), 2u);
  EXPECT_EQ(r.tasks[0].url, "https://example.com/a/b");
}

TEST_F(SchedulerTest, ExpiredLeaseIsRequeuedAndOldTokenBecomesStale) {
  job("j", {"https://a.example/"});
  auto first = lease(1, "n1");
  ASSERT_EQ(first.tasks.size(), 1u);
  EXPECT_TRUE(lease(1, "n2").tasks.empty());
  clock_.advance_ms(sched_->options().lease_ms + 1);
  EXPECT_EQ(sched_->reap()->requeued, 1);
  auto second = lease(1, "n2");
  ASSERT_EQ(second.tasks.size(), 1u);
  EXPECT_GT(second.tasks[0].token, first.tasks[0].token);
  EXPECT_EQ(second.tasks[0].attempt, 2);
  // The first node comes back late: its fencing token is stale, nothing changes.
  auto late = complete(first.tasks[0], "n1");
  ASSERT_FALSE(late.ok());
  EXPECT_TRUE(late.error().code == "not-your-lease" || late.error().code == "stale-token") << late.error().code;
  EXPECT_TRUE(complete(second.tasks[0], "n2").ok());
}

TEST_F(SchedulerTest, StaleTokenFromTheSameNodeIsRefused) {
  job("j", {"https://a.example/"});
  auto first = lease(1, "n1");
  clock_.advance_ms(sched_->options().lease_ms + 1);
  ASSERT_TRUE(sched_->reap().ok());
  auto second = lease(1, "n1");
  ASSERT_EQ(second.tasks.size(), 1u);
  auto late = complete(first.tasks[0], "n1");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "stale-token");
}

TEST_F(SchedulerTest, TaskThatKeepsExpiringIsDeadLettered) {
  auto id = job("j", {"https://a.example/"}, 1, 100, 3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(lease(1).tasks.size(), 1u) << "attempt " << i + 1;
    clock_.advance_ms(sched_->options().lease_ms + 1);
    ASSERT_TRUE(sched_->reap().ok());
  }
  EXPECT_TRUE(lease(1).tasks.empty());
  auto dead = store_->dead_tasks(id, 10);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].failures.size(), 3u);
  EXPECT_EQ(store_->get_job(id)->state, JobState::done);
}

TEST_F(SchedulerTest, ExtendedLeaseDoesNotExpire) {
  job("j", {"https://a.example/"});
  auto r = lease(1);
  clock_.advance_ms(100'000);
  auto ext = sched_->extend("n1", {{r.tasks[0].task_id, r.tasks[0].token}}, 120'000);
  ASSERT_EQ(ext->extended.size(), 1u);
  clock_.advance_ms(100'000);
  EXPECT_EQ(sched_->reap()->requeued, 0);
  EXPECT_TRUE(complete(r.tasks[0]).ok());
}

TEST_F(SchedulerTest, PolitenessBudgetLimitsOneSiteAcrossTheNetwork) {
  SchedulerOptions opt;
  opt.site_rate = 2;
  opt.site_burst = 4;
  make(opt);
  job("j", urls(50, "one", false), 1, 100);
  auto first = lease(32, "n1");
  EXPECT_EQ(first.tasks.size(), 4u);  // the burst
  EXPECT_GT(first.next_poll_ms, 0);
  EXPECT_TRUE(lease(32, "n2").tasks.empty());  // another node gets nothing for that site
  clock_.advance_ms(1000);
  EXPECT_EQ(lease(32, "n2").tasks.size(), 2u);  // two per second after that
  clock_.advance_ms(500);
  EXPECT_EQ(lease(32, "n3").tasks.size(), 1u);
}

TEST_F(SchedulerTest, JobSiteRateLimitsThatJobOnly) {
  SchedulerOptions opt;
  opt.site_rate = 1000;
  opt.site_burst = 1000;
  make(opt);
  job("slow", urls(20, "shared", false), 1, 1);        // 1 request/s to shared.example
  job("fast", urls(20, "other", false), 1, 100);
  auto r = lease(30);
  int slow = 0, fast = 0;
  for (const auto& t : r.tasks) (t.url.find("shared") != std::string::npos ? slow : fast)++;
  EXPECT_EQ(slow, 1);
  EXPECT_EQ(fast, 20);
}

TEST_F(SchedulerTest, PrioritySharesCapacityInProportion) {
  SchedulerOptions opt;
  opt.site_rate = 1000;
  opt.site_burst = 1000;
  make(opt);
  auto high = job("high", urls(400, "h", true), 3, 100);
  auto low = job("low", urls(400, "l", true), 1, 100);
  std::map<std::int64_t, int> got;
  for (int i = 0; i < 10; ++i) {
    for (const auto& t : lease(20).tasks) got[t.job_id]++;
  }
  EXPECT_EQ(got[high] + got[low], 200);
  EXPECT_NEAR(got[high], 150, 3);
  EXPECT_NEAR(got[low], 50, 3);
}

TEST_F(SchedulerTest, LowPriorityJobStillRunsWhenAloneAndIdleJobCannotHoardCredit) {
  SchedulerOptions opt;
  opt.site_rate = 1000;
  opt.site_burst = 1000;
  make(opt);
  auto low = job("low", urls(100, "l", true), 1, 100);
  EXPECT_EQ(lease(60).tasks.size(), 60u);
  auto high = job("high", urls(100, "h", true), 1, 100);
  std::map<std::int64_t, int> got;
  for (const auto& t : lease(20).tasks) got[t.job_id]++;
  // Equal priority: the newcomer does not get everything for the time it was absent.
  EXPECT_NEAR(got[high], 10, 1);
  EXPECT_NEAR(got[low], 10, 1);
}

TEST_F(SchedulerTest, LeaseManyServesEachAskInOrderInOneGo) {
  job("j", urls(5, "m", true));
  auto r = sched_->lease_many({{"n1", 2}, {"n2", 2}, {"n3", 2}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].tasks.size(), 2u);
  EXPECT_EQ((*r)[1].tasks.size(), 2u);
  EXPECT_EQ((*r)[2].tasks.size(), 1u);
  EXPECT_EQ((*r)[0].next_poll_ms, 0);
  EXPECT_GT((*r)[2].next_poll_ms, 0);
  EXPECT_EQ(store_->get_task((*r)[2].tasks[0].task_id)->node_id, "n3");
  EXPECT_GT((*r)[2].tasks[0].token, (*r)[0].tasks[1].token);
}

TEST_F(SchedulerTest, PauseStopsLeasingAndResumeRestartsIt) {
  auto id = job("j", urls(5, "p", true));
  ASSERT_TRUE(store_->set_job_state(id, JobState::paused, clock_.now_ms()).ok());
  EXPECT_TRUE(lease(5).tasks.empty());
  ASSERT_TRUE(store_->set_job_state(id, JobState::active, clock_.now_ms()).ok());
  EXPECT_EQ(lease(5).tasks.size(), 5u);
}

TEST_F(SchedulerTest, CancelledJobIsNeverLeasedAgain) {
  auto id = job("j", urls(5, "c", true));
  ASSERT_EQ(lease(2).tasks.size(), 2u);
  ASSERT_TRUE(store_->set_job_state(id, JobState::cancelled, clock_.now_ms()).ok());
  EXPECT_TRUE(lease(5).tasks.empty());
  clock_.advance_ms(sched_->options().lease_ms + 1);
  ASSERT_TRUE(sched_->reap().ok());
  EXPECT_TRUE(lease(5).tasks.empty());
  EXPECT_EQ(store_->get_job(id)->counts.cancelled, 5);
}

TEST_F(SchedulerTest, IdleHintWhenNothingIsQueued) {
  auto r = lease(4);
  EXPECT_TRUE(r.tasks.empty());
  EXPECT_EQ(r.next_poll_ms, sched_->options().idle_poll_ms);
  job("j", urls(8, "x", true));
  EXPECT_EQ(lease(4).next_poll_ms, 0);
}

TEST_F(SchedulerTest, SiteScopeFollowsSameSiteLinksWithinDepth) {
  JobSpec s;
  s.name = "crawl";
  s.urls = {"https://blog.example.com/"};
  s.scope = CrawlScope::site;
  s.max_depth = 1;
  s.max_pages = 3;
  auto id = sched_->create_job(s);
  ASSERT_TRUE(id.ok());
  auto job = sched_->active_job(*id);
  ASSERT_TRUE(job.ok() && job->has_value());
  Task from;
  from.site = "example.com";
  from.depth = 0;
  auto links = sched_->links_to_follow(**job, from,
                                       {"https://example.com/a", "https://www.example.com/b#x", "https://other.org/c",
                                        "javascript:void(0)", "http://10.0.0.1/", "https://example.com/a"});
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].url, "https://example.com/a");
  EXPECT_EQ(links[1].url, "https://www.example.com/b");
  EXPECT_EQ(links[0].depth, 1);
  from.depth = 1;
  EXPECT_TRUE(sched_->links_to_follow(**job, from, {"https://example.com/z"}).empty());
}

}  // namespace
}  // namespace meadow::coordinator
