#include "client/core/limits.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/log.h"
#include "common/text.h"

namespace meadow::client {
namespace {

constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

int day_index(std::string_view name) {
  for (int i = 0; i < 7; ++i)
    if (name == kDays[i]) return i;
  return -1;
}

Error bad_schedule(std::string_view part, std::string_view why) {
  return make_error(ErrorKind::invalid, "bad-schedule",
                    "schedule '" + std::string(part) + "': " + std::string(why) +
                        " (write e.g. 'mon-fri 09:00-17:30, sat,sun 10:00-22:00' or 'daily 22:00-06:00')");
}

std::optional<unsigned> parse_days(std::string_view spec) {
  if (spec == "daily" || spec == "every" || spec == "all") return 0x7fu;
  if (spec == "weekdays") return 0x3eu;
  if (spec == "weekends") return 0x41u;
  unsigned mask = 0;
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    auto dash = item.find('-');
    int a = day_index(item.substr(0, dash));
    int b = dash == std::string_view::npos ? a : day_index(item.substr(dash + 1));
    if (a < 0 || b < 0) return std::nullopt;
    for (int d = a;; d = (d + 1) % 7) {
      mask |= 1u << d;
      if (d == b) break;
    }
  }
  return mask;
}

std::optional<int> parse_clock(std::string_view t) {
  unsigned h = 0, m = 0;
  char extra = 0;
  if (t.size() != 5 || std::sscanf(std::string(t).c_str(), "%2u:%2u%c", &h, &m, &extra) != 2) return std::nullopt;
  if (h > 24 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
  return static_cast<int>(h * 60 + m);
}

std::tm local_tm(std::int64_t now_ms) {
  const std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

}  // namespace

std::string local_time_text(std::int64_t unix_ms) {
  const std::tm tm = local_tm(unix_ms);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M %Z", &tm);
  return buf;
}

Result<std::vector<ScheduleWindow>> parse_schedule(std::string_view text) {
  std::vector<ScheduleWindow> out;
  std::string s = text::ascii_lower(text);
  std::string_view rest = s;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty() || rest == "always") return out;
  // Windows are separated by ',' followed by a space-separated "days time" pair; a ',' inside
  // the days list ("sat,sun") has no space after it.
  std::vector<std::string> parts;
  std::string cur;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == ',' && cur.find(' ') != std::string::npos) {
      parts.push_back(cur);
      cur.clear();
      continue;
    }
    if (rest[i] == ' ' && cur.empty()) continue;
    cur += rest[i];
  }
  if (!cur.empty()) parts.push_back(cur);
  for (const std::string& part : parts) {
    auto sp = part.find(' ');
    if (sp == std::string::npos) return bad_schedule(part, "expected days and a time range");
    auto days = parse_days(part.substr(0, sp));
    if (!days) return bad_schedule(part, "unknown day name (use mon, tue, wed, thu, fri, sat, sun)");
    std::string range = part.substr(part.find_first_not_of(' ', sp));
    while (!range.empty() && range.back() == ' ') range.pop_back();
    auto dash = range.find('-');
    if (dash == std::string::npos) return bad_schedule(part, "expected a time range HH:MM-HH:MM");
    auto a = parse_clock(range.substr(0, dash));
    auto b = parse_clock(range.substr(dash + 1));
    if (!a || !b) return bad_schedule(part, "times are HH:MM, 00:00 to 24:00");
    out.push_back({*days, *a, *b});
  }
  if (out.size() > 64) return bad_schedule(text, "at most 64 windows");
  return out;
}

std::int64_t local_day_start_ms(std::int64_t now_ms) {
  std::tm tm = local_tm(now_ms);
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
}

std::int64_t local_month_start_ms(std::int64_t now_ms) {
  std::tm tm = local_tm(now_ms);
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
}

bool in_schedule(const std::vector<ScheduleWindow>& windows, std::int64_t now_ms) {
  if (windows.empty()) return true;
  const std::tm tm = local_tm(now_ms);
  const int minute = tm.tm_hour * 60 + tm.tm_min;
  const int today = tm.tm_wday;
  const int yesterday = (today + 6) % 7;
  for (const auto& w : windows) {
    if (w.start_min < w.end_min) {
      if ((w.days >> today & 1u) && minute >= w.start_min && minute < w.end_min) return true;
    } else {  // past midnight: the evening part today, or the morning part of yesterday's window
      if ((w.days >> today & 1u) && minute >= w.start_min) return true;
      if ((w.days >> yesterday & 1u) && minute < w.end_min) return true;
    }
  }
  return false;
}

std::optional<StopReason> limit_stop(const LimitSettings& s, std::int64_t now_ms, std::int64_t pause_until_ms,
                                     std::int64_t day_bytes, std::int64_t month_bytes) {
  if (pause_until_ms == -1) return StopReason{"paused", "paused until you resume", 0};
  if (pause_until_ms > now_ms) {
    return StopReason{"paused", "paused until " + local_time_text(pause_until_ms), pause_until_ms};
  }
  if (s.monthly_bytes > 0 && month_bytes >= s.monthly_bytes) {
    return StopReason{"monthly-cap",
                      "this month's cap of " + human_bytes(s.monthly_bytes) + " is used up; work resumes next month", 0};
  }
  if (s.daily_bytes > 0 && day_bytes >= s.daily_bytes) {
    return StopReason{"daily-cap", "today's cap of " + human_bytes(s.daily_bytes) + " is used up; work resumes tomorrow", 0};
  }
  if (!in_schedule(s.schedule, now_ms)) return StopReason{"outside-schedule", "outside your schedule", 0};
  return std::nullopt;
}

std::string human_bytes(std::int64_t n) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (u < 4 && (u == 0 ? v >= 1000 : v >= 999.95)) {  // 999999 B is "1.0 MB", not "1000.0 kB"
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

namespace {

Result<std::int64_t> scaled(std::string_view text, std::string_view what,
                            std::initializer_list<std::pair<const char*, double>> units) {
  std::string s = text::ascii_lower(text);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  std::string unit = end ? std::string(end) : "";
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  if (end == s.c_str() || !std::isfinite(v) || v < 0) {
    return make_error(ErrorKind::invalid, "bad-value", "'" + std::string(text) + "' is not " + std::string(what));
  }
  for (const auto& [name, factor] : units) {
    if (unit == name) {
      const double r = v * factor;
      if (r > 9.0e18) break;
      return static_cast<std::int64_t>(std::llround(r));
    }
  }
  return make_error(ErrorKind::invalid, "bad-value", "'" + std::string(text) + "' is not " + std::string(what));
}

}  // namespace

Result<std::int64_t> parse_duration_ms(std::string_view text) {
  return scaled(text, "a duration such as 90s, 30m, 1h or 2d",
                {{"", 1}, {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"min", 60e3}, {"h", 3600e3}, {"d", 86400e3}});
}

Result<std::int64_t> parse_bytes(std::string_view text) {
  return scaled(text, "a size such as 500MB, 10GB or 1.5GiB",
                {{"", 1}, {"b", 1}, {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12}, {"kib", 1024.0},
                 {"mib", 1048576.0}, {"gib", 1073741824.0}, {"tib", 1099511627776.0}});
}

}  // namespace meadow::client
