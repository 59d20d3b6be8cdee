#include "client/core/politeness.h"

#include <algorithm>

namespace meadow::client {

std::int64_t HostPoliteness::interval_for(std::int64_t crawl_delay_ms) const {
  return std::max(min_interval_ms_, std::min(crawl_delay_ms, max_crawl_delay_ms_));
}

std::int64_t HostPoliteness::reserve(const std::string& host, std::int64_t now_ms, std::int64_t crawl_delay_ms) {
  const std::int64_t interval = interval_for(crawl_delay_ms);
  if (interval <= 0) return 0;
  if (next_ms_.size() > 100'000) std::erase_if(next_ms_, [now_ms](const auto& kv) { return kv.second < now_ms; });
  std::int64_t& next = next_ms_[host];
  const std::int64_t start = std::max(now_ms, next);
  next = start + interval;
  return start - now_ms;
}

}  // namespace meadow::client
