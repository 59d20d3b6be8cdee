// Logging with levels and an injectable sink. A Logger is cheap to pass by reference;
// the sink decides where lines go (stderr, a file, a test's vector).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace meadow {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

const char* to_string(LogLevel level) noexcept;
// Parses "debug", "info", "warn", "error", "off"; false when the name is unknown.
bool parse_log_level(std::string_view name, LogLevel& out) noexcept;

struct LogRecord {
  LogLevel level;
  std::int64_t time_ms;
  std::string_view component;
  std::string_view message;
};

using LogSink = std::function<void(const LogRecord&)>;

// Thread-safe: the sink is called under a mutex, one record at a time.
class Logger {
 public:
  // Writes "2026-11-22T10:00:00.123Z info  coordinator: message" lines to stderr.
  Logger();
  explicit Logger(LogSink sink, LogLevel min_level = LogLevel::info);

  void set_level(LogLevel level) noexcept { min_level_ = level; }
  LogLevel level() const noexcept { return min_level_; }
  bool enabled(LogLevel level) const noexcept { return level >= min_level_; }

  void log(LogLevel level, std::string_view component, std::string_view message);
  void debug(std::string_view component, std::string_view message) { log(LogLevel::debug, component, message); }
  void info(std::string_view component, std::string_view message) { log(LogLevel::info, component, message); }
  void warn(std::string_view component, std::string_view message) { log(LogLevel::warn, component, message); }
  void error(std::string_view component, std::string_view message) { log(LogLevel::error, component, message); }

  // Sinks ready to use. The JSON sink writes one object per line.
  static LogSink stderr_text_sink();
  static LogSink stderr_json_sink();

 private:
  LogSink sink_;
  std::atomic<LogLevel> min_level_;
  std::mutex mu_;  // serialises calls into sink_
};

// "2026-11-22T10:00:00.123Z" for a Unix time in milliseconds.
std::string format_rfc3339_ms(std::int64_t unix_ms);

}  // namespace meadow
