// robots.txt per origin, fetched once and kept for a day (RFC 9309 section 2.4). What a
// fetch of robots.txt yields decides for the whole origin: a parsed file; 4xx means no
// rules (allow all); 5xx, 429 (the site asks for less traffic, so it is not given more),
// a network failure or a refused address means disallow all, and such an answer is kept
// only briefly so the site is asked again soon.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/robots.h"
#include "common/url.h"

namespace meadow::client {

struct RobotsVerdict {
  bool allowed = true;
  std::string code;               // when not allowed: "robots-disallowed", or the guard's code
                                  // ("address-forbidden", "port-forbidden") when robots.txt could
                                  // not even be asked for
  std::string reason;             // why not: the rule ("Disallow: /private/ (line 3)") or the fetch failure
  std::int64_t crawl_delay_ms = 0;
};

// What a robots.txt fetch returned: the HTTP status (0 when none) and the body.
struct RobotsFetch {
  int status = 0;
  std::string body;
  std::string error;  // transport or guard failure, when status is 0
  std::string error_code;  // its code ("address-forbidden", "timeout", ...)
};

class RobotsCache {
 public:
  using Fetch = std::function<void(const std::string& robots_url, std::function<void(RobotsFetch)> done)>;
  using Now = std::function<std::int64_t()>;

  // `agent`: the product token matched against User-agent lines ("meadow").
  RobotsCache(std::string agent, Fetch fetch, Now now, std::int64_t ttl_ms = 24LL * 3600 * 1000,
              std::int64_t failure_ttl_ms = 10LL * 60 * 1000);

  // Calls `done` with the verdict for `u`, at once when the origin's file is cached, else
  // after fetching it (concurrent asks for one origin share one fetch).
  void check(const url::Url& u, std::function<void(RobotsVerdict)> done);

  // Origins cached or being fetched.
  std::size_t size() const { return entries_.size(); }

 private:
  enum class Mode { rules, allow_all, disallow_all };
  struct Entry {
    bool fetching = false;
    Mode mode = Mode::allow_all;
    robots::RobotsTxt rules;
    std::string failure;  // why disallow_all
    std::string failure_code;
    std::int64_t expires_ms = 0;
    std::vector<std::pair<std::string, std::function<void(RobotsVerdict)>>> waiters;  // path, callback
  };
  RobotsVerdict verdict(const Entry& e, const std::string& path) const;
  void store(const std::string& origin, RobotsFetch f);

  std::string agent_;
  Fetch fetch_;
  Now now_;
  std::int64_t ttl_ms_;
  std::int64_t failure_ttl_ms_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;  // origin -> entry
};

// "http://host:port" of a URL: the scope of one robots.txt.
std::string origin_of(const url::Url& u);

}  // namespace meadow::client
