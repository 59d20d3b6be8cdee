// normalise_date() from common/extract_meta.h: the date formats pages write in metadata and
// bylines, read without a locale.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/extract_meta.h"
#include "common/text.h"

namespace meadow::extract {
namespace {

constexpr int kMinYear = 1990;
constexpr int kMaxYear = 2099;

struct Date {
  int year = 0, month = 0, day = 0;
  bool has_time = false;
  int hour = 0, minute = 0, second = 0;
  enum class Zone : std::uint8_t { none, utc, offset } zone = Zone::none;
  int offset_minutes = 0;
};

bool valid_day(int y, int m, int d) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < kMinYear || y > kMaxYear || m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[static_cast<std::size_t>(m - 1)] + (m == 2 && leap ? 1 : 0);
}

// Appends `v` (0 to 99) as two digits.
void two_digits(std::string& out, int v) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

// Every field is in range here (a valid_day date, a read_time time, an offset under 15 hours),
// so fixed-width digits write what "%04d" and "%02d" would, without printf.
std::string format(const Date& d) {
  std::string out;
  two_digits(out, d.year / 100);
  two_digits(out, d.year % 100);
  out += '-';
  two_digits(out, d.month);
  out += '-';
  two_digits(out, d.day);
  if (!d.has_time) return out;
  out += 'T';
  two_digits(out, d.hour);
  out += ':';
  two_digits(out, d.minute);
  out += ':';
  two_digits(out, d.second);
  if (d.zone == Date::Zone::utc) {
    out += 'Z';
  } else if (d.zone == Date::Zone::offset) {
    const int m = d.offset_minutes < 0 ? -d.offset_minutes : d.offset_minutes;
    out += d.offset_minutes < 0 ? '-' : '+';
    two_digits(out, m / 60);
    out += ':';
    two_digits(out, m % 60);
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `i`.
std::optional<int> digits(std::string_view s, std::size_t& i, std::size_t n) {
  if (i + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (!is_digit(s[i + k])) return std::nullopt;
    v = v * 10 + (s[i + k] - '0');
  }
  i += n;
  return v;
}

// Reads 1 or 2 digits at `i`.
std::optional<int> one_or_two(std::string_view s, std::size_t& i) {
  if (i >= s.size() || !is_digit(s[i])) return std::nullopt;
  int v = s[i++] - '0';
  if (i < s.size() && is_digit(s[i])) v = v * 10 + (s[i++] - '0');
  return v;
}

// "HH:MM[:SS[.fff]]" then an optional zone: Z, UTC, GMT, +hh, +hhmm, +hh:mm. Leaves `d` without
// a time when what follows is not one.
void read_time(std::string_view s, std::size_t i, Date& d) {
  auto h = one_or_two(s, i);
  if (!h || i >= s.size() || s[i] != ':') return;
  ++i;
  auto m = digits(s, i, 2);
  if (!m) return;
  int sec = 0;
  if (i < s.size() && s[i] == ':') {
    ++i;
    auto sv = digits(s, i, 2);
    if (!sv) return;
    sec = *sv;
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      ++i;
      while (i < s.size() && is_digit(s[i])) ++i;
    }
  }
  if (*h > 23 || *m > 59 || sec > 60) return;
  d.has_time = true;
  d.hour = *h;
  d.minute = *m;
  d.second = sec == 60 ? 59 : sec;
  while (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size()) return;
  if (s[i] == 'Z' || s[i] == 'z') {
    d.zone = Date::Zone::utc;
    return;
  }
  if (text::iequals(s.substr(i, 3), "utc") || text::iequals(s.substr(i, 3), "gmt")) {
    i += 3;
    if (i >= s.size() || (s[i] != '+' && s[i] != '-')) {
      d.zone = Date::Zone::utc;
      return;
    }
  }
  if (s[i] != '+' && s[i] != '-') return;
  int sign = s[i] == '-' ? -1 : 1;
  ++i;
  auto oh = one_or_two(s, i);
  if (!oh) return;
  int om = 0;
  if (i < s.size() && s[i] == ':') ++i;
  if (i < s.size() && is_digit(s[i])) {
    auto mm = digits(s, i, 2);
    if (!mm) return;
    om = *mm;
  }
  if (*oh > 14 || om > 59) return;
  if (*oh == 0 && om == 0) {
    d.zone = Date::Zone::utc;
    return;
  }
  d.zone = Date::Zone::offset;
  d.offset_minutes = sign * (*oh * 60 + om);
}

// Year first: YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD, optionally followed by a time.
std::optional<Date> year_first(std::string_view s) {
  std::size_t i = 0;
  auto y = digits(s, i, 4);
  if (!y) return std::nullopt;
  Date d;
  d.year = *y;
  if (i < s.size() && (s[i] == '-' || s[i] == '/' || s[i] == '.')) {
    char sep = s[i++];
    auto m = one_or_two(s, i);
    if (!m || i >= s.size() || s[i] != sep) return std::nullopt;
    ++i;
    auto day = one_or_two(s, i);
    if (!day) return std::nullopt;
    d.month = *m;
    d.day = *day;
  } else {
    auto m = digits(s, i, 2);
    auto day = m ? digits(s, i, 2) : std::nullopt;
    if (!day || (i < s.size() && s[i] != 'T')) return std::nullopt;  // YYYYMMDD alone, or with a time
    d.month = *m;
    d.day = *day;
  }
  if (i < s.size() && is_digit(s[i])) return std::nullopt;
  if (!valid_day(d.year, d.month, d.day)) return std::nullopt;
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) read_time(s, i + 1, d);
  return d;
}

int month_of(std::string_view word) {
  static constexpr std::array<std::string_view, 12> kMonths = {"january", "february", "march",     "april",
                                                               "may",     "june",     "july",      "august",
                                                               "september", "october", "november", "december"};
  if (word.size() < 3) return 0;
  if (text::iequals(word, "sept")) return 9;
  for (std::size_t m = 0; m < kMonths.size(); ++m) {
    if (text::iequals(word, kMonths[m]) || (word.size() == 3 && text::iequals(word, kMonths[m].substr(0, 3))))
      return static_cast<int>(m) + 1;
  }
  return 0;
}

// Numeric day and month before a four-digit year: 13/09/2025, 09/13/2025, 13.09.2025.
std::optional<Date> day_month_year(std::string_view s) {
  std::size_t i = 0;
  auto a = one_or_two(s, i);
  if (!a || i >= s.size() || (s[i] != '/' && s[i] != '.' && s[i] != '-')) return std::nullopt;
  char sep = s[i++];
  auto b = one_or_two(s, i);
  if (!b || i >= s.size() || s[i] != sep) return std::nullopt;
  ++i;
  auto y = digits(s, i, 4);
  if (!y || (i < s.size() && is_digit(s[i]))) return std::nullopt;
  bool dm = valid_day(*y, *b, *a);
  bool md = valid_day(*y, *a, *b);
  if (!dm && !md) return std::nullopt;
  if (dm && md && *a != *b) return std::nullopt;  // 04/09/2025: April or September?
  Date d;
  d.year = *y;
  d.month = dm ? *b : *a;
  d.day = dm ? *a : *b;
  if (i < s.size() && s[i] == ' ') read_time(s, i + 1, d);
  return d;
}

// Written dates: a month name, a day and a four-digit year in either order ("September 4,
// 2025", "4th Sep 2025", "Thu, 04 Sep 2025 10:30:00 GMT"), and numeric D/M/Y or M/D/Y when
// only one reading is a real date.
std::optional<Date> written(std::string_view s) {
  struct Token {
    std::string_view text;
    std::size_t end;
    bool number;
  };
  // At most twelve tokens: a fixed array, as this runs for every candidate date and name.
  struct Tokens {
    std::array<Token, 12> items;
    std::size_t count = 0;
    std::size_t size() const { return count; }
    void push_back(const Token& t) { items[count++] = t; }
    const Token& operator[](std::size_t k) const { return items[k]; }
  } tokens;
  for (std::size_t i = 0; i < s.size() && tokens.size() < 12;) {
    char c = s[i];
    if (is_digit(c)) {
      std::size_t j = i;
      while (j < s.size() && is_digit(s[j])) ++j;
      std::size_t end = j;
      // Ordinal suffixes: 1st, 2nd, 3rd, 4th.
      std::string suffix = j + 1 < s.size() ? text::ascii_lower(s.substr(j, 2)) : std::string();
      if ((suffix == "st" || suffix == "nd" || suffix == "rd" || suffix == "th") &&
          (j + 2 == s.size() || !((s[j + 2] | 0x20) >= 'a' && (s[j + 2] | 0x20) <= 'z'))) {
        end = j + 2;
      }
      tokens.push_back({s.substr(i, j - i), end, true});
      i = end;
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
      std::size_t j = i;
      while (j < s.size() && (s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z') ++j;
      tokens.push_back({s.substr(i, j - i), j, false});
      i = j;
    } else {
      ++i;
    }
  }
  for (std::size_t k = 0; k < tokens.size(); ++k) {
    int month = tokens[k].number ? 0 : month_of(tokens[k].text);
    if (month == 0) continue;
    Date d;
    d.month = month;
    auto num = [&](std::size_t at, std::size_t len) {
      return at < tokens.size() && tokens[at].number && tokens[at].text.size() <= len;
    };
    auto value = [&](std::size_t at) { return std::stoi(std::string(tokens[at].text)); };
    std::size_t year_at = 0;
    if (num(k + 1, 2) && num(k + 2, 4) && tokens[k + 2].text.size() == 4) {  // September 4, 2025
      d.day = value(k + 1);
      year_at = k + 2;
    } else if (k > 0 && num(k - 1, 2) && num(k + 1, 4) && tokens[k + 1].text.size() == 4) {  // 4 September 2025
      d.day = value(k - 1);
      year_at = k + 1;
    } else {
      return std::nullopt;
    }
    d.year = value(year_at);
    if (!valid_day(d.year, d.month, d.day)) return std::nullopt;
    // RFC 2822 carries a time right after the year.
    std::size_t after = tokens[year_at].end;
    while (after < s.size() && s[after] == ' ') ++after;
    if (after < s.size() && is_digit(s[after])) read_time(s, after, d);
    return d;
  }
  return std::nullopt;
}

}  // namespace

std::string normalise_date(std::string_view in) {
  std::string_view s = text::trim(in);
  if (s.empty() || s.size() > 64) return {};
  if (auto d = year_first(s)) return format(*d);
  if (auto d = day_month_year(s)) return format(*d);
  if (auto d = written(s)) return format(*d);
  return {};
}

}  // namespace meadow::extract
