#include "client/core/robots_cache.h"

#include <cmath>

namespace meadow::client {

std::string origin_of(const url::Url& u) {
  const bool v6 = u.host.find(':') != std::string::npos;
  return u.scheme + "://" + (v6 ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port);
}

RobotsCache::RobotsCache(std::string agent, Fetch fetch, Now now, std::int64_t ttl_ms, std::int64_t failure_ttl_ms)
    : agent_(std::move(agent)), fetch_(std::move(fetch)), now_(std::move(now)), ttl_ms_(ttl_ms),
      failure_ttl_ms_(failure_ttl_ms) {}

RobotsVerdict RobotsCache::verdict(const Entry& e, const std::string& path) const {
  RobotsVerdict v;
  switch (e.mode) {
    case Mode::allow_all:
      return v;
    case Mode::disallow_all:
      v.allowed = false;
      v.code = e.failure_code == "address-forbidden" || e.failure_code == "port-forbidden" ? e.failure_code
                                                                                            : "robots-disallowed";
      v.reason = "robots.txt could not be read (" + e.failure + "), so the whole site is treated as disallowed";
      return v;
    case Mode::rules:
      break;
  }
  const robots::Verdict rv = e.rules.check(agent_, path);
  v.allowed = rv.allowed;
  if (!rv.allowed) v.code = "robots-disallowed";
  if (!rv.allowed && rv.rule) {
    v.reason = "robots.txt disallows it: Disallow: " + rv.rule->pattern + " (line " + std::to_string(rv.rule->line) +
               ", group " + rv.group + ")";
  }
  if (auto d = e.rules.crawl_delay(agent_); d && std::isfinite(*d) && *d > 0) {
    v.crawl_delay_ms = static_cast<std::int64_t>(std::min(*d, 86'400.0) * 1000);
  }
  return v;
}

void RobotsCache::check(const url::Url& u, std::function<void(RobotsVerdict)> done) {
  const std::string origin = origin_of(u);
  auto& slot = entries_[origin];
  if (slot && !slot->fetching && slot->expires_ms > now_()) {
    done(verdict(*slot, u.path_and_query));
    return;
  }
  if (slot && slot->fetching) {
    slot->waiters.emplace_back(u.path_and_query, std::move(done));
    return;
  }
  if (entries_.size() > 50'000) {
    const std::int64_t now = now_();
    std::erase_if(entries_, [now](const auto& kv) { return kv.second && !kv.second->fetching && kv.second->expires_ms <= now; });
  }
  auto entry = std::make_shared<Entry>();
  entry->fetching = true;
  entry->waiters.emplace_back(u.path_and_query, std::move(done));
  entries_[origin] = entry;
  fetch_(origin + "/robots.txt", [this, origin](RobotsFetch f) { store(origin, std::move(f)); });
}

void RobotsCache::store(const std::string& origin, RobotsFetch f) {
  auto it = entries_.find(origin);
  if (it == entries_.end()) return;
  std::shared_ptr<Entry> e = it->second;
  e->fetching = false;
  std::int64_t ttl = ttl_ms_;
  if (f.status >= 200 && f.status < 300) {
    e->mode = Mode::rules;
    e->rules = robots::RobotsTxt::parse(f.body);
  } else if (f.status >= 400 && f.status < 500 && f.status != 429) {
    e->mode = Mode::allow_all;
  } else {
    e->mode = Mode::disallow_all;
    e->failure_code = f.error_code;
    e->failure = f.status >= 500 || f.status == 429 ? "HTTP " + std::to_string(f.status)
                 : f.status > 0  ? "unexpected HTTP " + std::to_string(f.status)
                                 : (f.error.empty() ? "no response" : f.error);
    ttl = failure_ttl_ms_;
  }
  e->expires_ms = now_() + ttl;
  auto waiters = std::move(e->waiters);
  e->waiters.clear();
  for (auto& [path, cb] : waiters) cb(verdict(*e, path));
}

}  // namespace meadow::client
