// The contributor's limits: when the node may work (schedule windows in local time), how
// much it may move (daily and monthly caps on bytes), and a pause with an optional end.
// Pure functions of the time, the usage and the settings, so tests run a month in a loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meadow::client {

// One schedule window: on the listed weekdays, from start to end (minutes after local
// midnight). An end at or before the start runs past midnight into the next day.
struct ScheduleWindow {
  unsigned days = 0;  // bit 0 = Sunday ... bit 6 = Saturday
  int start_min = 0;
  int end_min = 24 * 60;
};

// "mon-fri 09:00-17:30, sat,sun 10:00-22:00", "daily 22:00-06:00", "always" or "" (always).
Result<std::vector<ScheduleWindow>> parse_schedule(std::string_view text);

struct LimitSettings {
  std::int64_t daily_bytes = 0;    // 0: no cap
  std::int64_t monthly_bytes = 0;  // 0: no cap
  std::vector<ScheduleWindow> schedule;  // empty: any time
};

// Why the node is not taking work, and until when if that is known (0: until it changes).
struct StopReason {
  std::string code;     // "paused", "daily-cap", "monthly-cap", "outside-schedule"
  std::string message;  // for the status line
  std::int64_t until_ms = 0;
};

// Local calendar boundaries (the caps reset at local midnight and on the 1st).
std::int64_t local_day_start_ms(std::int64_t now_ms);
std::int64_t local_month_start_ms(std::int64_t now_ms);

bool in_schedule(const std::vector<ScheduleWindow>& windows, std::int64_t now_ms);

// The first reason that stops work now, if any. `pause_until_ms`: 0 not paused, -1 paused
// until resumed, else paused until then.
std::optional<StopReason> limit_stop(const LimitSettings& s, std::int64_t now_ms, std::int64_t pause_until_ms,
                                     std::int64_t day_bytes, std::int64_t month_bytes);

// "2026-11-22 14:05 CET": a time as the contributor's clock shows it, with its zone.
std::string local_time_text(std::int64_t unix_ms);
// "1.5 GB", "300 MB", "12 kB": for messages.
std::string human_bytes(std::int64_t n);
// "1h", "30m", "2d", "90s" or plain milliseconds: for --for and config durations.
Result<std::int64_t> parse_duration_ms(std::string_view text);
// "10GB", "500MB", "1.5GiB", "1024": bytes.
Result<std::int64_t> parse_bytes(std::string_view text);

}  // namespace meadow::client
