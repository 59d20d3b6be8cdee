// Per-host pacing at the node, on top of the coordinator's network-wide budget: requests to
// one host start at least `interval` apart, where the interval is the node's own minimum or
// the site's robots.txt Crawl-delay (capped), whichever is longer.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace meadow::client {

class HostPoliteness {
 public:
  // `min_interval_ms`: the node's minimum between two requests to one host.
  // `max_crawl_delay_ms`: the most a Crawl-delay may ask for (a hostile robots.txt must not
  // park a node for days).
  HostPoliteness(std::int64_t min_interval_ms, std::int64_t max_crawl_delay_ms)
      : min_interval_ms_(min_interval_ms), max_crawl_delay_ms_(max_crawl_delay_ms) {}

  // Books the next slot for `host` and returns how long to wait before starting (0: now).
  // `crawl_delay_ms` is the site's Crawl-delay, or 0.
  std::int64_t reserve(const std::string& host, std::int64_t now_ms, std::int64_t crawl_delay_ms);

  // The interval applied to a host with this Crawl-delay.
  std::int64_t interval_for(std::int64_t crawl_delay_ms) const;

 private:
  std::int64_t min_interval_ms_;
  std::int64_t max_crawl_delay_ms_;
  std::unordered_map<std::string, std::int64_t> next_ms_;  // host -> earliest next start
};

}  // namespace meadow::client
