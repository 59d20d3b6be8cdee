// robots.txt per RFC 9309, with the Google behaviours the spec's test suite marks
// GOOGLE_SPECIFIC (see README "robots.txt"). Parsing never fails: bytes past kMaxBytes are
// ignored and unknown lines are skipped, as RFC 9309 asks.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meadow::robots {

inline constexpr std::size_t kMaxBytes = 500 * 1024;  // RFC 9309 2.5: parse at least 500 KiB

struct Rule {
  bool allow = false;
  std::string pattern;  // as matched: non-ASCII bytes percent-encoded, %xx upper-cased
  int line = 0;         // 1-based line in the file
};

struct Verdict {
  bool allowed = true;
  // The rule that decided, or nullopt when none matched (allowed by default).
  std::optional<Rule> rule;
  // The group that applied: the matched user-agent line(s) ("*" for the global group), or
  // empty when no group applied.
  std::string group;
};

class RobotsTxt {
 public:
  static RobotsTxt parse(std::string_view body);

  // The verdict for `user_agent` (the crawler's product token, "MeadowBot", matched whole and
  // case-insensitively; in the file, a group's name ends at the first character outside
  // [A-Za-z_-]) on `path_and_query` ("/a/b?x=1").
  Verdict check(std::string_view user_agent, std::string_view path_and_query) const;
  // Crawl-delay in seconds of the group that applies to `user_agent`, if it sets one.
  std::optional<double> crawl_delay(std::string_view user_agent) const;
  const std::vector<std::string>& sitemaps() const { return sitemaps_; }

 private:
  struct Group {
    std::vector<std::string> agents;  // lower-cased product tokens; "*" for the global group
    std::vector<Rule> rules;
    std::optional<double> crawl_delay;
  };
  std::vector<const Group*> groups_for(std::string_view user_agent, std::string& label) const;

  std::vector<Group> groups_;
  std::vector<std::string> sitemaps_;
};

// The path and query of an absolute URL as robots rules see it ("/" when the path is empty;
// no fragment). Returns "/" for text that is not a URL.
std::string path_of_url(std::string_view url);

// True when `path` matches `pattern` ('*' any run of bytes, '$' at the end anchors).
bool matches(std::string_view path, std::string_view pattern);

}  // namespace meadow::robots
