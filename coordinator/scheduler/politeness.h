// The network-wide politeness budget: a token bucket per registrable domain (all jobs
// together) and one per (job, domain) at the job's own rate. A fetch is admitted only when
// both have a token. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace meadow::coordinator {

class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(double rate_per_s, double burst, std::int64_t now_ms)
      : rate_(rate_per_s), burst_(burst), tokens_(burst), last_ms_(now_ms) {}

  // Refills for the time since the last call, then takes one token if there is one.
  bool try_take(std::int64_t now_ms);
  // Milliseconds until one token is available (0 when one is there now).
  std::int64_t wait_ms(std::int64_t now_ms);
  bool full(std::int64_t now_ms);
  void set_rate(double rate_per_s, double burst);

 private:
  void refill(std::int64_t now_ms);
  double rate_ = 1;
  double burst_ = 1;
  double tokens_ = 1;
  std::int64_t last_ms_ = 0;
};

class Politeness {
 public:
  // `site_rate` requests per second per registrable domain across the network, with
  // bursts of up to `site_burst`.
  Politeness(double site_rate, double site_burst) : site_rate_(site_rate), site_burst_(site_burst) {}

  // True and charged when both buckets have a token; `wait_ms` says how long until this
  // site could be admitted when it returns false.
  bool admit(std::int64_t job_id, double job_rate, std::string_view site, std::int64_t now_ms,
             std::int64_t& wait_ms);
  // Drops buckets that are full again (idle sites), so memory follows the active sites.
  void forget_idle(std::int64_t now_ms);
  std::size_t tracked_sites() const;

 private:
  double site_rate_;
  double site_burst_;
  mutable std::mutex mu_;  // guards both maps
  std::unordered_map<std::string, TokenBucket> sites_;
  std::map<std::pair<std::int64_t, std::string>, TokenBucket, std::less<>> job_sites_;
};

}  // namespace meadow::coordinator
