#include "coordinator/scheduler/politeness.h"

#include <algorithm>
#include <cmath>

namespace meadow::coordinator {

void TokenBucket::refill(std::int64_t now_ms) {
  if (now_ms > last_ms_) {
    tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now_ms - last_ms_) / 1000.0);
    last_ms_ = now_ms;
  }
}

bool TokenBucket::try_take(std::int64_t now_ms) {
  refill(now_ms);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::int64_t TokenBucket::wait_ms(std::int64_t now_ms) {
  refill(now_ms);
  if (tokens_ >= 1.0) return 0;
  return static_cast<std::int64_t>(std::ceil((1.0 - tokens_) * 1000.0 / rate_));
}

bool TokenBucket::full(std::int64_t now_ms) {
  refill(now_ms);
  return tokens_ >= burst_;
}

void TokenBucket::set_rate(double rate_per_s, double burst) {
  rate_ = rate_per_s;
  burst_ = burst;
  tokens_ = std::min(tokens_, burst_);
}

bool Politeness::admit(std::int64_t job_id, double job_rate, std::string_view site, std::int64_t now_ms,
                       std::int64_t& wait_ms) {
  std::lock_guard lock(mu_);
  auto sit = sites_.find(std::string(site));
  if (sit == sites_.end()) {
    sit = sites_.emplace(std::string(site), TokenBucket(site_rate_, site_burst_, now_ms)).first;
  }
  double job_burst = std::max(1.0, job_rate);
  auto key = std::make_pair(job_id, std::string(site));
  auto jit = job_sites_.find(key);
  if (jit == job_sites_.end()) {
    jit = job_sites_.emplace(key, TokenBucket(job_rate, job_burst, now_ms)).first;
  } else {
    jit->second.set_rate(job_rate, job_burst);
  }
  std::int64_t site_wait = sit->second.wait_ms(now_ms);
  std::int64_t job_wait = jit->second.wait_ms(now_ms);
  if (site_wait > 0 || job_wait > 0) {
    wait_ms = std::max(site_wait, job_wait);
    return false;
  }
  (void)sit->second.try_take(now_ms);
  (void)jit->second.try_take(now_ms);
  wait_ms = 0;
  return true;
}

void Politeness::forget_idle(std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto drop_full = [now_ms](auto& buckets) {
    for (auto it = buckets.begin(); it != buckets.end();) {
      it = it->second.full(now_ms) ? buckets.erase(it) : std::next(it);
    }
  };
  drop_full(sites_);
  drop_full(job_sites_);
}

std::size_t Politeness::tracked_sites() const {
  std::lock_guard lock(mu_);
  return sites_.size();
}

}  // namespace meadow::coordinator
