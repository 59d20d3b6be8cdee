// Turns jobs into leases. Owns the policy the store does not: URL checks at job creation,
// fairness between jobs (stride scheduling: capacity in proportion to priority), the
// politeness budget, lease lengths and the back-pressure hint. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "common/clock.h"
#include "common/protocol.h"
#include "common/result.h"
#include "common/url.h"
#include "coordinator/scheduler/politeness.h"
#include "coordinator/store/store.h"

namespace meadow::coordinator {

struct SchedulerOptions {
  std::int64_t lease_ms = 120'000;         // how long a node holds a task before it returns to the queue
  std::int64_t max_extend_ms = 600'000;    // the most one extension may ask for
  std::int64_t retry_delay_ms = 30'000;    // a failed task waits this long before it is leased again
  double site_rate = 2.0;                  // network-wide requests per second per registrable domain
  double site_burst = 4.0;                 // bucket size for that budget
  int scan_limit = 256;                    // candidates examined per job per lease call
  std::int64_t idle_poll_ms = 5'000;       // the hint when there is nothing to do
  bool allow_loopback_targets = false;     // demos and tests only: jobs may name 127.0.0.1
};

struct LeaseResult {
  std::vector<protocol::TaskLease> tasks;
  std::int64_t next_poll_ms = 0;
};

class Scheduler {
 public:
  Scheduler(Store& store, const Clock& clock, SchedulerOptions options);

  const SchedulerOptions& options() const noexcept { return options_; }

  // Checks and normalises every URL (refusing javascript:, file:, credentials, private
  // addresses... with the URL and the reason), drops duplicates, and stores the job.
  Result<std::int64_t> create_job(JobSpec spec);

  // Up to `max_tasks` leases for `node_id`, fairly across active jobs and within the
  // politeness budget.
  Result<LeaseResult> lease(const std::string& node_id, int max_tasks);

  // Leases for several nodes in one store transaction, in the order given: for waking many
  // waiting nodes at once. One result per ask.
  struct LeaseAsk {
    std::string node_id;
    int max_tasks = 1;
  };
  Result<std::vector<LeaseResult>> lease_many(const std::vector<LeaseAsk>& asks);

  // Extends leases to now + extend_ms (capped by max_extend_ms).
  Result<protocol::ExtendResponse> extend(const std::string& node_id, const std::vector<protocol::LeaseRef>& leases,
                                          std::int64_t extend_ms);

  // Requeues or dead-letters expired leases; forgets idle politeness buckets.
  // Leases given back unstarted return to the queue at once (protocol 1.1).
  Result<protocol::ReleaseResponse> release(const std::string& node_id, const std::vector<protocol::LeaseRef>& leases);
  Result<ReapResult> reap();

  // Links from an accepted page that a site-scope job should follow: same registrable
  // domain, depth within max_depth, public http(s) URLs only. Empty for listed jobs.
  std::vector<NewTask> links_to_follow(const Job& job, const Task& from, const std::vector<std::string>& links) const;

  // The active job (cached; refreshed when the store says jobs changed).
  Result<std::optional<Job>> active_job(std::int64_t job_id);

 private:
  Status refresh_jobs();
  std::vector<LeaseCandidate> pick(CandidateSource& source, int max, std::int64_t now_ms,
                                   std::int64_t& min_wait_ms);
  Result<url::Url> check_url(std::string_view text) const;

  Store& store_;
  const Clock& clock_;
  SchedulerOptions options_;
  Politeness politeness_;

  std::mutex mu_;  // guards the fields below
  std::uint64_t jobs_version_ = ~0ULL;
  std::map<std::int64_t, Job> active_;           // active jobs by id
  std::map<std::int64_t, double> pass_;          // stride scheduling: virtual time per job
  std::map<std::int64_t, std::int64_t> blocked_until_;  // jobs whose every candidate was throttled
};

}  // namespace meadow::coordinator
