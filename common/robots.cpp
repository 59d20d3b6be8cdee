#include "common/robots.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "common/text.h"

namespace meadow::robots {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

using text::ascii_lower;

// The product token: the leading run of [A-Za-z_-].
std::string_view product_token(std::string_view ua) {
  std::size_t n = 0;
  while (n < ua.size() && (std::isalpha(static_cast<unsigned char>(ua[n])) || ua[n] == '_' || ua[n] == '-')) ++n;
  return ua.substr(0, n);
}

enum class Key { user_agent, allow, disallow, sitemap, crawl_delay, unknown };

// Keys are case-insensitive; common misspellings are accepted as Google does.
Key classify(std::string_view raw) {
  std::string k = ascii_lower(raw);
  if (k == "user-agent" || k == "useragent" || k == "user agent") return Key::user_agent;
  if (k == "allow") return Key::allow;
  if (k == "disallow" || k == "dissallow" || k == "dissalow" || k == "disalow" || k == "diasllow" ||
      k == "disallaw")
    return Key::disallow;
  if (k == "sitemap" || k == "site-map") return Key::sitemap;
  if (k == "crawl-delay") return Key::crawl_delay;
  return Key::unknown;
}

// Percent-encodes bytes outside ASCII and upper-cases existing %xx escapes, so a pattern
// written in UTF-8 matches the encoded path a crawler requests.
std::string escape_pattern(std::string_view p) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    auto c = static_cast<unsigned char>(p[i]);
    if (c == '%' && i + 2 < p.size() && std::isxdigit(static_cast<unsigned char>(p[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(p[i + 2]))) {
      out += '%';
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(p[i + 1])));
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(p[i + 2])));
      i += 2;
    } else if (c >= 0x80) {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Splits one line into key and value: "key: value", or "key value" without the colon.
bool split_line(std::string_view line, std::string_view& key, std::string_view& value) {
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    key = trim(line.substr(0, colon));
    value = trim(line.substr(colon + 1));
    return !key.empty();
  }
  // A missing colon is accepted when the line is exactly a key and a value.
  line = trim(line);
  auto space = line.find_first_of(" \t");
  if (space == std::string_view::npos) return false;
  key = line.substr(0, space);
  value = trim(line.substr(space));
  if (value.find_first_of(" \t") != std::string_view::npos) {
    // "user agent FooBot": a two-word key.
    auto second = value.find_first_of(" \t");
    std::string two = std::string(key) + " " + std::string(value.substr(0, second));
    if (classify(two) == Key::user_agent) {
      key = line.substr(0, space + 1 + second);
      value = trim(value.substr(second));
      return true;
    }
    return false;
  }
  return !key.empty();
}

}  // namespace

bool matches(std::string_view path, std::string_view pattern) {
  // Positions in `path` reachable after matching a prefix of `pattern`, kept sorted.
  std::vector<std::size_t> pos{0};
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '$' && i + 1 == pattern.size()) {
      return std::find(pos.begin(), pos.end(), path.size()) != pos.end();
    }
    if (c == '*') {
      while (i + 1 < pattern.size() && pattern[i + 1] == '*') ++i;  // "**" is "*"
      std::size_t from = pos.front();
      pos.clear();
      for (std::size_t p = from; p <= path.size(); ++p) pos.push_back(p);
      continue;
    }
    std::vector<std::size_t> next;
    for (std::size_t p : pos) {
      if (p < path.size() && path[p] == c) next.push_back(p + 1);
    }
    if (next.empty()) return false;
    pos.swap(next);
  }
  return true;
}

std::string path_of_url(std::string_view url) {
  auto scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  if (scheme != std::string_view::npos) {
    auto slash = rest.find_first_of("/?#");
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  rest = rest.substr(0, rest.find('#'));
  if (rest.empty() || rest.front() == '?') return "/" + std::string(rest);
  return std::string(rest);
}

RobotsTxt RobotsTxt::parse(std::string_view body) {
  RobotsTxt r;
  if (body.size() > kMaxBytes) body = body.substr(0, kMaxBytes);
  // A UTF-8 byte order mark, or the start of one, is skipped.
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  for (std::size_t b = 0; b < kBom.size() && !body.empty() && body.front() == kBom[b]; ++b) body.remove_prefix(1);
  bool in_agents = false;  // the previous member line was a user-agent line
  Group* current = nullptr;
  int line_no = 0;
  std::size_t i = 0;
  while (i < body.size()) {
    std::size_t end = body.find_first_of("\r\n", i);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(i, end - i);
    i = end;
    if (i < body.size() && body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
    if (i < body.size()) ++i;
    ++line_no;
    line = line.substr(0, line.find('#'));
    std::string_view key, value;
    if (trim(line).empty() || !split_line(line, key, value)) continue;
    switch (classify(key)) {
      case Key::user_agent: {
        if (!in_agents) {
          r.groups_.emplace_back();
          current = &r.groups_.back();
        }
        in_agents = true;
        std::string agent = value.substr(0, 1) == "*" && trim(value.substr(1)).empty()
                                ? std::string("*")
                                : ascii_lower(product_token(value));
        if (!agent.empty()) current->agents.push_back(agent);
        break;
      }
      case Key::allow:
      case Key::disallow: {
        in_agents = false;
        if (!current || value.empty()) break;
        bool allow = classify(key) == Key::allow;
        std::string pattern = escape_pattern(value);
        current->rules.push_back(Rule{allow, pattern, line_no});
        // Google: an allowed ".../index.html" also allows the directory itself.
        constexpr std::string_view kIndex = "/index.html";
        if (allow && pattern.size() >= kIndex.size() &&
            pattern.compare(pattern.size() - kIndex.size(), kIndex.size(), kIndex) == 0) {
          current->rules.push_back(Rule{true, pattern.substr(0, pattern.size() - kIndex.size() + 1) + "$", line_no});
        }
        break;
      }
      case Key::crawl_delay: {
        in_agents = false;
        if (!current) break;
        std::string v(value);
        char* e = nullptr;
        double d = std::strtod(v.c_str(), &e);
        if (!v.empty() && e == v.c_str() + v.size() && d >= 0) current->crawl_delay = d;
        break;
      }
      case Key::sitemap:
        if (!value.empty()) r.sitemaps_.emplace_back(value);
        break;
      case Key::unknown:
        break;
    }
  }
  return r;
}

std::vector<const RobotsTxt::Group*> RobotsTxt::groups_for(std::string_view user_agent, std::string& label) const {
  std::string token = ascii_lower(trim(user_agent));  // the crawler's token is matched whole
  std::vector<const Group*> specific, global;
  for (const auto& g : groups_) {
    for (const auto& a : g.agents) {
      if (!token.empty() && a == token) {
        specific.push_back(&g);
        break;
      }
      if (a == "*") {
        global.push_back(&g);
        break;
      }
    }
  }
  if (!specific.empty()) {
    label = token;
    return specific;
  }
  if (!global.empty()) label = "*";
  return global;
}

Verdict RobotsTxt::check(std::string_view user_agent, std::string_view path_and_query) const {
  Verdict v;
  std::string path(path_and_query.empty() ? std::string_view("/") : path_and_query);
  auto groups = groups_for(user_agent, v.group);
  const Rule* best = nullptr;
  for (const Group* g : groups) {
    for (const Rule& rule : g->rules) {
      if (!matches(path, rule.pattern)) continue;
      // The longest pattern wins; on a tie, allow wins (RFC 9309 2.2.2).
      if (!best || rule.pattern.size() > best->pattern.size() ||
          (rule.pattern.size() == best->pattern.size() && rule.allow && !best->allow)) {
        best = &rule;
      }
    }
  }
  if (best) {
    v.allowed = best->allow;
    v.rule = *best;
  }
  return v;
}

std::optional<double> RobotsTxt::crawl_delay(std::string_view user_agent) const {
  std::string label;
  for (const Group* g : groups_for(user_agent, label)) {
    if (g->crawl_delay) return g->crawl_delay;
  }
  return std::nullopt;
}

}  // namespace meadow::robots
