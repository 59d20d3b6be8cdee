#include "common/log.h"

#include <cstdio>
#include <ctime>

#include "common/clock.h"
#include "common/json.h"

namespace meadow {

const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    case LogLevel::off: return "off";
  }
  return "?";
}

bool parse_log_level(std::string_view name, LogLevel& out) noexcept {
  for (LogLevel l : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error, LogLevel::off}) {
    if (name == to_string(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

std::string format_rfc3339_ms(std::int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  int ms = static_cast<int>(unix_ms % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

Logger::Logger() : Logger(stderr_text_sink()) {}
Logger::Logger(LogSink sink, LogLevel min_level) : sink_(std::move(sink)), min_level_(min_level) {}

void Logger::log(LogLevel level, std::string_view component, std::string_view message) {
  if (!enabled(level) || !sink_) return;
  LogRecord rec{level, system_clock().now_ms(), component, message};
  std::lock_guard lock(mu_);
  sink_(rec);
}

LogSink Logger::stderr_text_sink() {
  return [](const LogRecord& r) {
    std::string line = format_rfc3339_ms(r.time_ms);
    line += ' ';
    line += to_string(r.level);
    line.append(6 - std::string_view(to_string(r.level)).size(), ' ');
    line += r.component;
    line += ": ";
    line += r.message;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
}

LogSink Logger::stderr_json_sink() {
  return [](const LogRecord& r) {
    std::string line = "{\"time\":" + json_quote(format_rfc3339_ms(r.time_ms)) +
                       ",\"level\":" + json_quote(to_string(r.level)) +
                       ",\"component\":" + json_quote(r.component) +
                       ",\"message\":" + json_quote(r.message) + "}\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
}

}  // namespace meadow
