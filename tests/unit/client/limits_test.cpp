// The contributor's limits: schedule windows in local time, daily and monthly caps, the pause,
// and the sizes and durations a user types. Pure functions of the time, so every test pins the
// local time zone (UTC unless it says otherwise) and walks the clock instead of sleeping.
#include "client/core/limits.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace meadow::client {
namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
// Monday 2023-11-13 00:00:00 UTC.
constexpr std::int64_t kMonday = 1'699'833'600'000;

enum Weekday { kMon = 0, kTue, kWed, kThu, kFri, kSat, kSun };

// A moment in the week of kMonday, in UTC (the fixture's local time).
std::int64_t at(int day, int hour, int minute = 0) { return kMonday + day * kDay + hour * kHour + minute * kMinute; }

class TimeZone {
 public:
  explicit TimeZone(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~TimeZone() {
    if (old_) setenv("TZ", old_->c_str(), 1);
    else unsetenv("TZ");
    tzset();
  }
  TimeZone(const TimeZone&) = delete;
  TimeZone& operator=(const TimeZone&) = delete;

 private:
  std::optional<std::string> old_;
};

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override { utc_.emplace("UTC"); }
  void TearDown() override { utc_.reset(); }

  static std::vector<ScheduleWindow> schedule(const std::string& text) {
    auto w = parse_schedule(text);
    EXPECT_TRUE(w.ok()) << text << ": " << (w.ok() ? "" : w.error().message);
    return w.ok() ? *w : std::vector<ScheduleWindow>{};
  }

  std::optional<TimeZone> utc_;
};

unsigned day_bits(std::initializer_list<int> sunday_based) {
  unsigned m = 0;
  for (int d : sunday_based) m |= 1u << d;
  return m;
}

// ---- parse_schedule ------------------------------------------------------------------------

TEST_F(LimitsTest, ScheduleParsesWeekdayAndWeekendWindows) {
  auto w = schedule("mon-fri 09:00-17:30, sat,sun 10:00-22:00");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].days, day_bits({1, 2, 3, 4, 5}));
  EXPECT_EQ(w[0].start_min, 9 * 60);
  EXPECT_EQ(w[0].end_min, 17 * 60 + 30);
  EXPECT_EQ(w[1].days, day_bits({0, 6}));
  EXPECT_EQ(w[1].start_min, 10 * 60);
  EXPECT_EQ(w[1].end_min, 22 * 60);
}

TEST_F(LimitsTest, ScheduleParsesDailyPastMidnightAndAlways) {
  auto night = schedule("daily 22:00-06:00");
  ASSERT_EQ(night.size(), 1u);
  EXPECT_EQ(night[0].days, 0x7fu);
  EXPECT_EQ(night[0].start_min, 22 * 60);
  EXPECT_EQ(night[0].end_min, 6 * 60);

  for (const char* always : {"always", "", "   ", "ALWAYS", "Always"}) {
    auto w = parse_schedule(always);
    ASSERT_TRUE(w.ok()) << "'" << always << "'";
    EXPECT_TRUE(w->empty()) << "'" << always << "'";
  }
}

TEST_F(LimitsTest, ScheduleAcceptsCaseRangesThatWrapTheWeekAndWholeDays) {
  auto upper = schedule("Mon-Fri 09:00-17:30");
  ASSERT_EQ(upper.size(), 1u);
  EXPECT_EQ(upper[0].days, day_bits({1, 2, 3, 4, 5}));

  auto wrap = schedule("fri-mon 10:00-11:00");
  ASSERT_EQ(wrap.size(), 1u);
  EXPECT_EQ(wrap[0].days, day_bits({5, 6, 0, 1}));

  auto named = schedule("weekdays 08:00-09:00, weekends 00:00-24:00");
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].days, day_bits({1, 2, 3, 4, 5}));
  EXPECT_EQ(named[1].days, day_bits({0, 6}));
  EXPECT_EQ(named[1].start_min, 0);
  EXPECT_EQ(named[1].end_min, 24 * 60);

  // A comma right after the range still separates windows.
  auto tight = schedule("mon 09:00-10:00,tue 11:00-12:00");
  ASSERT_EQ(tight.size(), 2u);
  EXPECT_EQ(tight[1].days, day_bits({2}));
  EXPECT_EQ(tight[1].start_min, 11 * 60);
}

TEST_F(LimitsTest, ScheduleRefusesNonsenseWithBadScheduleAndAnExample) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c : {Case{"someday 09:00-17:00", "unknown day name"},
                        Case{"mon-fry 09:00-17:00", "unknown day name"},
                        Case{"mon,,tue 09:00-17:00", "unknown day name"},
                        Case{"mon 25:00-26:00", "HH:MM"},
                        Case{"mon 09:00-24:30", "HH:MM"},
                        Case{"mon 09:60-10:00", "HH:MM"},
                        Case{"mon 0900-1700", "HH:MM"},
                        Case{"mon-fri", "expected days and a time range"},
                        Case{"mon 09:00", "expected a time range"},
                        Case{"mon 09:00-17:00, someday 10:00-11:00", "someday"},
                        Case{"someday 25:00-26:00", "someday"}}) {
    auto w = parse_schedule(c.text);
    ASSERT_FALSE(w.ok()) << c.text;
    EXPECT_EQ(w.error().code, "bad-schedule") << c.text;
    EXPECT_NE(w.error().message.find(c.says), std::string::npos) << c.text << ": " << w.error().message;
    EXPECT_NE(w.error().message.find("mon-fri 09:00-17:30"), std::string::npos) << "no example: " << w.error().message;
  }
}

TEST_F(LimitsTest, ScheduleRefusesMoreThan64Windows) {
  std::string text;
  for (int i = 0; i < 65; ++i) text += (i ? ", " : "") + std::string("mon 00:00-01:00");
  auto w = parse_schedule(text);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, "bad-schedule");
  EXPECT_NE(w.error().message.find("64"), std::string::npos) << w.error().message;
  text.resize(text.size() - std::string(", mon 00:00-01:00").size());
  EXPECT_EQ(schedule(text).size(), 64u);
}

// ---- in_schedule ---------------------------------------------------------------------------

TEST_F(LimitsTest, EmptyScheduleIsAlwaysOn) {
  for (std::int64_t t = at(kMon, 0); t < at(kMon, 0) + 7 * kDay; t += 15 * kMinute) {
    ASSERT_TRUE(in_schedule({}, t)) << t;
  }
}

TEST_F(LimitsTest, WorkWeekScheduleAtItsEdges) {
  auto w = schedule("mon-fri 09:00-17:30, sat,sun 10:00-22:00");
  EXPECT_FALSE(in_schedule(w, at(kMon, 8, 59)));
  EXPECT_TRUE(in_schedule(w, at(kMon, 9, 0)));
  EXPECT_TRUE(in_schedule(w, at(kMon, 17, 29)));
  EXPECT_FALSE(in_schedule(w, at(kMon, 17, 30)));
  EXPECT_TRUE(in_schedule(w, at(kFri, 12, 0)));
  EXPECT_FALSE(in_schedule(w, at(kFri, 20, 0)));
  EXPECT_FALSE(in_schedule(w, at(kSat, 9, 59)));
  EXPECT_TRUE(in_schedule(w, at(kSat, 10, 0)));
  EXPECT_TRUE(in_schedule(w, at(kSun, 21, 59)));
  EXPECT_FALSE(in_schedule(w, at(kSun, 22, 0)));
  EXPECT_FALSE(in_schedule(w, at(kSun, 9, 30)));
}

TEST_F(LimitsTest, PastMidnightWindowRunsIntoTheNextMorning) {
  auto w = schedule("mon 22:00-06:00");
  EXPECT_FALSE(in_schedule(w, at(kMon, 5, 59)));  // that would be Sunday's window
  EXPECT_FALSE(in_schedule(w, at(kMon, 21, 59)));
  EXPECT_TRUE(in_schedule(w, at(kMon, 22, 0)));
  EXPECT_TRUE(in_schedule(w, at(kMon, 23, 59)));
  EXPECT_TRUE(in_schedule(w, at(kTue, 0, 0)));
  EXPECT_TRUE(in_schedule(w, at(kTue, 5, 59)));
  EXPECT_TRUE(in_schedule(w, at(kTue, 5, 59) + 59'999));
  EXPECT_FALSE(in_schedule(w, at(kTue, 6, 0)));
  EXPECT_FALSE(in_schedule(w, at(kTue, 22, 0)));
  EXPECT_FALSE(in_schedule(w, at(kWed, 1, 0)));

  // Across the end of the week: Sunday night runs into Monday, Saturday night into Sunday.
  auto sunday = schedule("sun 22:00-06:00");
  EXPECT_TRUE(in_schedule(sunday, at(kMon, 5, 59)));
  EXPECT_FALSE(in_schedule(sunday, at(kMon, 6, 0)));
  auto saturday = schedule("sat 23:00-01:00");
  EXPECT_TRUE(in_schedule(saturday, at(kSun, 0, 30)));
  EXPECT_FALSE(in_schedule(saturday, at(kSun, 1, 0)));
}

TEST_F(LimitsTest, DailyNightWindowOverAWholeWeek) {
  auto w = schedule("daily 22:00-06:00");
  for (int day = kMon; day <= kSun; ++day) {
    for (int hour = 0; hour < 24; ++hour) {
      const bool want = hour >= 22 || hour < 6;
      ASSERT_EQ(in_schedule(w, at(day, hour, 30)), want) << "day " << day << " hour " << hour;
    }
  }
}

// An independent model: each window becomes minute ranges on a week's timeline
// (Monday 00:00 = minute 0), a past-midnight window ending on the next day.
bool model_active(const std::vector<ScheduleWindow>& windows, int minute_of_week) {
  constexpr int kWeek = 7 * 24 * 60;
  for (const auto& w : windows) {
    for (int sunday_day = 0; sunday_day < 7; ++sunday_day) {
      if (!(w.days >> sunday_day & 1u)) continue;
      const int monday_day = (sunday_day + 6) % 7;
      const int start = monday_day * 24 * 60 + w.start_min;
      const int length = w.end_min > w.start_min ? w.end_min - w.start_min : w.end_min + 24 * 60 - w.start_min;
      const int offset = ((minute_of_week - start) % kWeek + kWeek) % kWeek;
      if (offset < length) return true;
    }
  }
  return false;
}

TEST_F(LimitsTest, EveryMinuteOfAWeekMatchesAModel) {
  for (const char* text : {"mon-fri 09:00-17:30, sat,sun 10:00-22:00", "daily 22:00-06:00",
                           "fri-mon 23:30-00:30, wed 12:00-12:01", "sun 18:00-09:00", "tue,thu 00:00-24:00"}) {
    auto w = schedule(text);
    for (int m = 0; m < 7 * 24 * 60; ++m) {
      ASSERT_EQ(in_schedule(w, kMonday + m * kMinute), model_active(w, m)) << text << " at minute " << m;
    }
  }
}

// ---- limit_stop ----------------------------------------------------------------------------

TEST_F(LimitsTest, LimitStopNamesTheFirstReasonInOrder) {
  LimitSettings s;
  s.daily_bytes = 100;
  s.monthly_bytes = 1000;
  s.schedule = schedule("mon-fri 09:00-17:00");
  const std::int64_t saturday = at(kSat, 12, 0);  // 2023-11-18T12:00:00Z

  auto paused = limit_stop(s, saturday, -1, 100, 1000);
  ASSERT_TRUE(paused);
  EXPECT_EQ(paused->code, "paused");
  EXPECT_EQ(paused->message, "paused until you resume");
  EXPECT_EQ(paused->until_ms, 0);

  auto until = limit_stop(s, saturday, saturday + kHour, 100, 1000);
  ASSERT_TRUE(until);
  EXPECT_EQ(until->code, "paused");
  EXPECT_EQ(until->until_ms, saturday + kHour);
  // The contributor's clock time with its zone: here UTC.
  EXPECT_EQ(until->message.rfind("paused until ", 0), 0u) << until->message;
  EXPECT_NE(until->message.find("2023-11-18"), std::string::npos) << until->message;
  EXPECT_NE(until->message.find("13:00"), std::string::npos) << until->message;
  EXPECT_NE(until->message.find("UTC"), std::string::npos) << until->message;

  // A pause that has run out, or ends right now, no longer stops work.
  for (std::int64_t over : {saturday - 1, saturday}) {
    auto monthly = limit_stop(s, saturday, over, 100, 1000);
    ASSERT_TRUE(monthly);
    EXPECT_EQ(monthly->code, "monthly-cap");
    EXPECT_NE(monthly->message.find("1.0 kB"), std::string::npos) << monthly->message;
    EXPECT_NE(monthly->message.find("month"), std::string::npos) << monthly->message;
  }

  auto daily = limit_stop(s, saturday, 0, 100, 999);
  ASSERT_TRUE(daily);
  EXPECT_EQ(daily->code, "daily-cap");
  EXPECT_NE(daily->message.find("100 B"), std::string::npos) << daily->message;
  EXPECT_NE(daily->message.find("today"), std::string::npos) << daily->message;

  auto outside = limit_stop(s, saturday, 0, 99, 999);
  ASSERT_TRUE(outside);
  EXPECT_EQ(outside->code, "outside-schedule");
  EXPECT_EQ(outside->message, "outside your schedule");

  EXPECT_FALSE(limit_stop(s, at(kMon, 10, 0), 0, 99, 999));
}

TEST_F(LimitsTest, ZeroCapsAreNoCaps) {
  LimitSettings none;
  EXPECT_FALSE(limit_stop(none, at(kWed, 3, 0), 0, 1LL << 50, 1LL << 55));
  LimitSettings daily_only;
  daily_only.daily_bytes = 5'000'000;
  EXPECT_FALSE(limit_stop(daily_only, at(kWed, 3, 0), 0, 4'999'999, 1LL << 55));
  auto at_cap = limit_stop(daily_only, at(kWed, 3, 0), 0, 5'000'000, 0);
  ASSERT_TRUE(at_cap);
  EXPECT_EQ(at_cap->code, "daily-cap");
  EXPECT_NE(at_cap->message.find("5.0 MB"), std::string::npos) << at_cap->message;
}

TEST_F(LimitsTest, PausedUntilShowsTheContributorsClockWithItsZone) {
  const std::int64_t now = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
  EXPECT_EQ(local_time_text(now), "2023-11-14 22:13 UTC");
  TimeZone cet("CET-1CEST,M3.5.0,M10.5.0/3");  // 23:13:20 in Berlin
  EXPECT_EQ(local_time_text(now), "2023-11-14 23:13 CET");
  EXPECT_EQ(local_time_text(1'690'000'000'000), "2023-07-22 06:26 CEST");  // 04:26:40Z, summer time
  auto until = limit_stop({}, now, now + kHour, 0, 0);
  ASSERT_TRUE(until);
  EXPECT_EQ(until->message, "paused until 2023-11-15 00:13 CET");
}

// ---- calendar boundaries -------------------------------------------------------------------

TEST_F(LimitsTest, DayAndMonthStartInUtc) {
  const std::int64_t t = 1'700'000'000'123;  // Tuesday 2023-11-14T22:13:20.123Z
  EXPECT_EQ(local_day_start_ms(t), 1'699'920'000'000);
  EXPECT_EQ(local_month_start_ms(t), 1'698'796'800'000);
  // A boundary is its own start; a millisecond earlier is the day (month) before.
  EXPECT_EQ(local_day_start_ms(1'699'920'000'000), 1'699'920'000'000);
  EXPECT_EQ(local_day_start_ms(1'699'920'000'000 - 1), 1'699'920'000'000 - kDay);
  EXPECT_EQ(local_month_start_ms(1'698'796'800'000), 1'698'796'800'000);
  EXPECT_EQ(local_month_start_ms(1'698'796'800'000 - 1), 1'696'118'400'000);  // 2023-10-01
  EXPECT_EQ(local_month_start_ms(1'709'208'000'000), 1'706'745'600'000);      // 2024-02-29 -> 02-01
  EXPECT_EQ(local_month_start_ms(1'704'067'199'999), 1'701'388'800'000);      // 2023-12-31 23:59:59.999
  EXPECT_EQ(local_day_start_ms(1'704'067'199'999), 1'704'067'199'999 + 1 - kDay);
}

TEST_F(LimitsTest, DayAndMonthStartFollowLocalMidnightAcrossDst) {
  TimeZone cet("CET-1CEST,M3.5.0,M10.5.0/3");  // Berlin's rules, no tzdata needed
  // 2023-11-14T22:13:20Z is 23:13 on the 14th in Berlin; 23:30Z is 00:30 on the 15th.
  EXPECT_EQ(local_day_start_ms(1'700'000'000'000), 1'699'916'400'000);  // 2023-11-13T23:00Z
  EXPECT_EQ(local_day_start_ms(1'700'004'600'000), 1'700'002'800'000);  // 2023-11-14T23:00Z
  // 2023-03-26, the day summer time begins: midnight was still winter time (UTC+1).
  EXPECT_EQ(local_day_start_ms(1'679'832'000'000), 1'679'785'200'000);   // 14:00 CEST -> 2023-03-25T23:00Z
  EXPECT_EQ(local_month_start_ms(1'679'832'000'000), 1'677'625'200'000); // -> 2023-02-28T23:00Z
}

// ---- sizes and durations -------------------------------------------------------------------

TEST_F(LimitsTest, ParseBytesReadsDecimalAndBinaryUnits) {
  struct Case {
    const char* text;
    std::int64_t bytes;
  };
  for (const Case& c : {Case{"10GB", 10'000'000'000}, Case{"1.5GiB", 1'610'612'736}, Case{"500MB", 500'000'000},
                        Case{"0", 0}, Case{"1024", 1024}, Case{"12kB", 12'000}, Case{"1KiB", 1024},
                        Case{"2MiB", 2'097'152}, Case{"10 GB", 10'000'000'000}, Case{"10gb", 10'000'000'000},
                        Case{"3TB", 3'000'000'000'000}, Case{"7b", 7}}) {
    auto n = parse_bytes(c.text);
    ASSERT_TRUE(n.ok()) << c.text << ": " << n.error().message;
    EXPECT_EQ(*n, c.bytes) << c.text;
  }
}

TEST_F(LimitsTest, ParseBytesRefusesWhatIsNotASize) {
  for (const char* bad : {"-1", "lots", "", "-5GB", "10GBs", "10 parsecs", "nan", "inf", "1e30", "GB"}) {
    auto n = parse_bytes(bad);
    ASSERT_FALSE(n.ok()) << "'" << bad << "' gave " << *n;
    EXPECT_EQ(n.error().code, "bad-value") << bad;
    EXPECT_NE(n.error().message.find("'" + std::string(bad) + "'"), std::string::npos) << n.error().message;
    EXPECT_NE(n.error().message.find("500MB"), std::string::npos) << n.error().message;
  }
}

TEST_F(LimitsTest, ParseDurationReadsUnits) {
  struct Case {
    const char* text;
    std::int64_t ms;
  };
  for (const Case& c : {Case{"90s", 90'000}, Case{"30m", 1'800'000}, Case{"1h", 3'600'000}, Case{"2d", 172'800'000},
                        Case{"1500", 1500}, Case{"250ms", 250}, Case{"10min", 600'000}, Case{"1.5h", 5'400'000},
                        Case{"1 h", 3'600'000}, Case{"2H", 7'200'000}, Case{"0", 0}}) {
    auto d = parse_duration_ms(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.error().message;
    EXPECT_EQ(*d, c.ms) << c.text;
  }
}

TEST_F(LimitsTest, ParseDurationRefusesWhatIsNotADuration) {
  for (const char* bad : {"h", "", "-1h", "1w", "soon", "nan", "1e300d", "banana"}) {
    auto d = parse_duration_ms(bad);
    ASSERT_FALSE(d.ok()) << "'" << bad << "' gave " << *d;
    EXPECT_EQ(d.error().code, "bad-value") << bad;
    EXPECT_NE(d.error().message.find("90s, 30m, 1h or 2d"), std::string::npos) << d.error().message;
  }
}

TEST_F(LimitsTest, HumanBytesUsesDecimalUnits) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(999), "999 B");
  EXPECT_EQ(human_bytes(1000), "1.0 kB");
  EXPECT_EQ(human_bytes(12'000), "12.0 kB");
  EXPECT_EQ(human_bytes(1'500'000), "1.5 MB");
  EXPECT_EQ(human_bytes(300'000'000), "300.0 MB");
  EXPECT_EQ(human_bytes(2'000'000'000), "2.0 GB");
  EXPECT_EQ(human_bytes(1'610'612'736), "1.6 GB");
  EXPECT_EQ(human_bytes(5'000'000'000'000), "5.0 TB");
  EXPECT_EQ(human_bytes(5'000'000'000'000'000), "5000.0 TB");  // TB is the largest unit
}

TEST_F(LimitsTest, HumanBytesJustBelowAUnitRoundsIntoIt) {
  EXPECT_EQ(human_bytes(999'999), "1.0 MB");
  EXPECT_EQ(human_bytes(999'960'000), "1.0 GB");
  EXPECT_EQ(human_bytes(999'949), "999.9 kB");
  EXPECT_EQ(human_bytes(1'999'999), "2.0 MB");
}

}  // namespace
}  // namespace meadow::client
