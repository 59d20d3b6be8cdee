#include "coordinator/scheduler/scheduler.h"

#include <algorithm>
#include <limits>
#include <set>

namespace meadow::coordinator {

Scheduler::Scheduler(Store& store, const Clock& clock, SchedulerOptions options)
    : store_(store), clock_(clock), options_(options), politeness_(options.site_rate, options.site_burst) {}

Result<url::Url> Scheduler::check_url(std::string_view text) const {
  if (options_.allow_loopback_targets) {
    MEADOW_ASSIGN(url::Url u, url::parse(text));
    bool loopback = u.host == "127.0.0.1" || u.host == "localhost" || u.host == "::1";
    if (!loopback) return url::parse_public(text);
    return u;
  }
  return url::parse_public(text);
}

Result<std::int64_t> Scheduler::create_job(JobSpec spec) {
  if (spec.urls.empty()) {
    return make_error(ErrorKind::invalid, "no-urls", "job '" + spec.name + "' names no URLs; give at least one");
  }
  if (spec.scope == CrawlScope::site && spec.max_pages > 0 &&
      spec.max_pages < static_cast<std::int64_t>(spec.urls.size())) {
    spec.max_pages = static_cast<std::int64_t>(spec.urls.size());
  }
  std::vector<NewTask> tasks;
  tasks.reserve(spec.urls.size());
  std::set<std::string> seen;
  for (std::size_t i = 0; i < spec.urls.size(); ++i) {
    auto u = check_url(spec.urls[i]);
    if (!u.ok()) {
      Error e = std::move(u).error();
      e.message = "urls[" + std::to_string(i) + "] is refused: " + e.message;
      return e;
    }
    if (!seen.insert(u->normalized).second) continue;
    tasks.push_back(NewTask{u->normalized, u->site, 0});
  }
  if (spec.scope == CrawlScope::listed) spec.max_pages = static_cast<std::int64_t>(tasks.size());
  MEADOW_ASSIGN(std::int64_t id, store_.create_job(spec, tasks, clock_.now_ms()));
  return id;
}

Status Scheduler::refresh_jobs() {
  std::uint64_t v = store_.jobs_version();
  if (v == jobs_version_) return {};
  MEADOW_ASSIGN(auto jobs, store_.active_jobs());
  active_.clear();
  for (auto& j : jobs) active_.emplace(j.id, std::move(j));
  std::erase_if(pass_, [&](auto& kv) { return !active_.count(kv.first); });
  jobs_version_ = v;
  return {};
}

Result<std::optional<Job>> Scheduler::active_job(std::int64_t job_id) {
  std::lock_guard lock(mu_);
  MEADOW_TRY(refresh_jobs());
  auto it = active_.find(job_id);
  if (it == active_.end()) return std::optional<Job>{};
  return std::optional<Job>{it->second};
}

std::vector<LeaseCandidate> Scheduler::pick(CandidateSource& source, int max, std::int64_t now_ms,
                                            std::int64_t& min_wait_ms) {
  // Stride scheduling: the job with the least virtual time goes next and pays 1/priority
  // per task, so over time each job's share is proportional to its priority. A job that
  // comes back from idle starts at the current minimum, so it cannot claim a backlog.
  struct Lane {
    const Job* job;
    std::vector<LeaseCandidate> buffer;
    std::size_t next = 0;
    int scanned = 0;
    bool exhausted = false;
    std::int64_t wait = std::numeric_limits<std::int64_t>::max();
    bool admitted_any = false;
  };
  std::vector<Lane> lanes;
  double min_pass = std::numeric_limits<double>::max();
  for (const auto& p : pass_) min_pass = std::min(min_pass, p.second);
  if (pass_.empty()) min_pass = 0;
  for (const auto& [id, job] : active_) {
    auto b = blocked_until_.find(id);
    if (b != blocked_until_.end()) {
      if (b->second > now_ms) {
        min_wait_ms = std::min(min_wait_ms, b->second - now_ms);
        continue;
      }
      blocked_until_.erase(b);
    }
    lanes.push_back(Lane{&job, {}, 0, 0, false});
    auto [it, inserted] = pass_.try_emplace(id, min_pass);
    if (!inserted && it->second < min_pass) it->second = min_pass;
  }

  std::vector<LeaseCandidate> out;
  const int batch = std::min(options_.scan_limit, std::max(max * 2, 16));
  while (static_cast<int>(out.size()) < max) {
    Lane* best = nullptr;
    for (auto& l : lanes) {
      if (l.exhausted) continue;
      if (!best || pass_[l.job->id] < pass_[best->job->id]) best = &l;
    }
    if (!best) break;
    Lane& lane = *best;
    if (lane.next == lane.buffer.size()) {
      if (lane.scanned >= options_.scan_limit) {
        lane.exhausted = true;
        continue;
      }
      lane.buffer = source.next(lane.job->id, batch);
      lane.next = 0;
      if (lane.buffer.empty()) {
        lane.exhausted = true;
        continue;
      }
    }
    LeaseCandidate& c = lane.buffer[lane.next++];
    ++lane.scanned;
    std::int64_t wait = 0;
    if (politeness_.admit(lane.job->id, lane.job->spec.site_rate, c.site, now_ms, wait)) {
      pass_[lane.job->id] += 1.0 / lane.job->spec.priority;
      lane.admitted_any = true;
      out.push_back(std::move(c));
    } else {
      lane.wait = std::min(lane.wait, wait);
    }
  }
  for (auto& l : lanes) {
    if (l.wait != std::numeric_limits<std::int64_t>::max()) {
      min_wait_ms = std::min(min_wait_ms, l.wait);
      // Every candidate we could see was over budget: skip this job until the first refill.
      if (!l.admitted_any && l.exhausted) blocked_until_[l.job->id] = now_ms + l.wait;
    }
  }
  return out;
}

Result<LeaseResult> Scheduler::lease(const std::string& node_id, int max_tasks) {
  MEADOW_ASSIGN(auto results, lease_many({LeaseAsk{node_id, max_tasks}}));
  return std::move(results.front());
}

Result<std::vector<LeaseResult>> Scheduler::lease_many(const std::vector<LeaseAsk>& asks) {
  std::int64_t now = clock_.now_ms();
  std::vector<LeaseParams> params;
  params.reserve(asks.size());
  for (const auto& a : asks) params.push_back(LeaseParams{a.node_id, a.max_tasks, now, options_.lease_ms});
  std::int64_t min_wait = std::numeric_limits<std::int64_t>::max();
  std::unique_lock lock(mu_);
  MEADOW_TRY(refresh_jobs());
  MEADOW_ASSIGN(auto grants, store_.lease_batch(params, [&](CandidateSource& source, int max) {
                  return pick(source, max, now, min_wait);
                }));
  std::vector<LeaseResult> out(asks.size());
  for (std::size_t i = 0; i < asks.size(); ++i) {
    LeaseResult& r = out[i];
    r.tasks.reserve(grants[i].size());
    for (auto& g : grants[i]) {
      protocol::TaskLease t;
      t.task_id = g.task.task_id;
      t.job_id = g.task.job_id;
      t.url = std::move(g.task.url);
      t.depth = g.task.depth;
      t.token = g.token;
      t.deadline_ms = g.deadline_ms;
      t.attempt = g.attempt;
      auto job = active_.find(t.job_id);
      if (job != active_.end()) {
        t.fields = job->second.spec.fields;
        t.captures = job->second.spec.captures;
      }
      r.tasks.push_back(std::move(t));
    }
  }
  lock.unlock();
  for (std::size_t i = 0; i < asks.size(); ++i) {
    LeaseResult& r = out[i];
    if (static_cast<int>(r.tasks.size()) >= asks[i].max_tasks) {
      r.next_poll_ms = 0;
    } else if (min_wait != std::numeric_limits<std::int64_t>::max()) {
      r.next_poll_ms = std::clamp<std::int64_t>(min_wait, 50, options_.idle_poll_ms);
    } else {
      r.next_poll_ms = options_.idle_poll_ms;
    }
  }
  return out;
}

Result<protocol::ExtendResponse> Scheduler::extend(const std::string& node_id,
                                                   const std::vector<protocol::LeaseRef>& leases,
                                                   std::int64_t extend_ms) {
  std::int64_t now = clock_.now_ms();
  return store_.extend(node_id, leases, now + std::min(extend_ms, options_.max_extend_ms), now);
}

Result<protocol::ReleaseResponse> Scheduler::release(const std::string& node_id,
                                                     const std::vector<protocol::LeaseRef>& leases) {
  return store_.release(node_id, leases, clock_.now_ms());
}

Result<ReapResult> Scheduler::reap() {
  std::int64_t now = clock_.now_ms();
  politeness_.forget_idle(now);
  ReapResult total;
  for (int round = 0; round < 100; ++round) {
    MEADOW_ASSIGN(ReapResult r, store_.reap_expired(now, 1000));
    total.requeued += r.requeued;
    total.dead += r.dead;
    if (r.requeued + r.dead < 1000) break;
  }
  return total;
}

std::vector<NewTask> Scheduler::links_to_follow(const Job& job, const Task& from,
                                                const std::vector<std::string>& links) const {
  std::vector<NewTask> out;
  if (job.spec.scope != CrawlScope::site || from.depth + 1 > job.spec.max_depth) return out;
  std::set<std::string> seen;
  for (const auto& link : links) {
    auto u = check_url(link);
    if (!u.ok() || u->site != from.site) continue;
    if (!seen.insert(u->normalized).second) continue;
    out.push_back(NewTask{u->normalized, u->site, from.depth + 1});
  }
  return out;
}

}  // namespace meadow::coordinator
