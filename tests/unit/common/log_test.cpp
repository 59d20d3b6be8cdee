#include "common/log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/json.h"

namespace meadow {
namespace {

struct Captured {
  LogLevel level;
  std::string component;
  std::string message;
};

// A sink that keeps copies of what it is given (the record's views die with the call).
struct VectorSink {
  std::vector<Captured> lines;
  LogSink sink() {
    return [this](const LogRecord& r) {
      lines.push_back({r.level, std::string(r.component), std::string(r.message)});
    };
  }
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const auto& l : lines) out.push_back(l.message);
    return out;
  }
};

void log_one_of_each(Logger& log) {
  log.debug("c", "d");
  log.info("c", "i");
  log.warn("c", "w");
  log.error("c", "e");
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// ---------------------------------------------------------------- levels

TEST(LogLevels, NamesRoundTrip) {
  for (LogLevel l : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error, LogLevel::off}) {
    LogLevel parsed = LogLevel::debug;
    ASSERT_TRUE(parse_log_level(to_string(l), parsed)) << to_string(l);
    EXPECT_EQ(parsed, l);
  }
  EXPECT_STREQ(to_string(LogLevel::warn), "warn");
}

TEST(LogLevels, UnknownNamesAreRefusedAndLeaveTheOutputAlone) {
  for (const char* name : {"", "INFO", "Info", "warning", "err", "verbose", "info ", " off", "trace"}) {
    LogLevel out = LogLevel::error;
    EXPECT_FALSE(parse_log_level(name, out)) << '"' << name << '"';
    EXPECT_EQ(out, LogLevel::error);
  }
}

TEST(Logger, DefaultLevelIsInfo) {
  VectorSink v;
  Logger log(v.sink());
  EXPECT_EQ(log.level(), LogLevel::info);
  log_one_of_each(log);
  EXPECT_EQ(v.messages(), (std::vector<std::string>{"i", "w", "e"}));
}

TEST(Logger, LevelFiltersLowerLevels) {
  VectorSink v;
  Logger log(v.sink(), LogLevel::warn);
  EXPECT_FALSE(log.enabled(LogLevel::info));
  EXPECT_TRUE(log.enabled(LogLevel::warn));
  log_one_of_each(log);
  ASSERT_EQ(v.lines.size(), 2u);
  EXPECT_EQ(v.lines[0].level, LogLevel::warn);
  EXPECT_EQ(v.lines[0].component, "c");
  EXPECT_EQ(v.lines[0].message, "w");
  EXPECT_EQ(v.lines[1].level, LogLevel::error);
  EXPECT_EQ(v.lines[1].message, "e");
}

TEST(Logger, SetLevelChangesFilteringAtRunTime) {
  VectorSink v;
  Logger log(v.sink(), LogLevel::error);
  log_one_of_each(log);
  EXPECT_EQ(v.messages(), (std::vector<std::string>{"e"}));

  v.lines.clear();
  log.set_level(LogLevel::debug);
  EXPECT_EQ(log.level(), LogLevel::debug);
  log_one_of_each(log);
  EXPECT_EQ(v.messages(), (std::vector<std::string>{"d", "i", "w", "e"}));

  v.lines.clear();
  log.set_level(LogLevel::off);
  log_one_of_each(log);
  EXPECT_TRUE(v.lines.empty());
}

TEST(Logger, LogWithExplicitLevelAndEmptySink) {
  VectorSink v;
  Logger log(v.sink(), LogLevel::debug);
  log.log(LogLevel::warn, "scheduler", "3 leases requeued");
  ASSERT_EQ(v.lines.size(), 1u);
  EXPECT_EQ(v.lines[0].level, LogLevel::warn);
  EXPECT_EQ(v.lines[0].component, "scheduler");
  EXPECT_EQ(v.lines[0].message, "3 leases requeued");

  Logger silent(LogSink{}, LogLevel::debug);
  silent.error("x", "nobody listens");  // must not crash
}

TEST(Logger, SinkIsCalledOneRecordAtATimeFromManyThreads) {
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::vector<std::string> seen;
  Logger log(
      [&](const LogRecord& r) {
        if (inside.fetch_add(1) != 0) overlapped = true;
        seen.emplace_back(r.message);
        inside.fetch_sub(1);
      },
      LogLevel::debug);
  constexpr int kThreads = 4, kEach = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kEach; ++i) log.info("t", std::to_string(t) + ":" + std::to_string(i));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(overlapped.load());
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kEach));
}

// ---------------------------------------------------------------- time format

TEST(FormatRfc3339, KnownValues) {
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(999), "1970-01-01T00:00:00.999Z");
  EXPECT_EQ(format_rfc3339_ms(1000), "1970-01-01T00:00:01.000Z");
  EXPECT_EQ(format_rfc3339_ms(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_rfc3339_ms(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(253'402'300'799'999), "9999-12-31T23:59:59.999Z");
}

TEST(FormatRfc3339, NegativeTimesCountBackFromTheEpoch) {
  EXPECT_EQ(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339_ms(-999), "1969-12-31T23:59:59.001Z");
  EXPECT_EQ(format_rfc3339_ms(-1000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(format_rfc3339_ms(-1001), "1969-12-31T23:59:58.999Z");
  EXPECT_EQ(format_rfc3339_ms(-86'400'000), "1969-12-31T00:00:00.000Z");
}

// ---------------------------------------------------------------- stderr sinks

TEST(StderrSinks, TextSinkWritesOneAlignedLinePerRecord) {
  Logger log(Logger::stderr_text_sink(), LogLevel::debug);
  testing::internal::CaptureStderr();
  log.info("coordinator", "serving on :8080");
  log.error("api", "handler failed");
  log.debug("store", "x");
  const std::string out = testing::internal::GetCapturedStderr();
  const auto lines = split_lines(out);
  ASSERT_EQ(lines.size(), 3u) << out;
  const std::string ts = R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)";
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(ts + " info  coordinator: serving on :8080"))) << lines[0];
  EXPECT_TRUE(std::regex_match(lines[1], std::regex(ts + " error api: handler failed"))) << lines[1];
  EXPECT_TRUE(std::regex_match(lines[2], std::regex(ts + " debug store: x"))) << lines[2];
}

TEST(StderrSinks, JsonSinkWritesOneParsableObjectPerRecord) {
  Logger log(Logger::stderr_json_sink(), LogLevel::debug);
  const std::vector<std::string> messages = {
      "plain",
      "quotes \" and \\ backslashes",
      "multi\nline\tand\rcontrol\x01",
      "caf\xC3\xA9 \xF0\x9F\x8C\xBC",
      std::string("nul\0inside", 10),
  };
  testing::internal::CaptureStderr();
  for (const auto& m : messages) log.warn("api", m);
  const std::string out = testing::internal::GetCapturedStderr();
  const auto lines = split_lines(out);
  ASSERT_EQ(lines.size(), messages.size()) << out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto v = parse_json_object(lines[i], "log line");
    ASSERT_TRUE(v.ok()) << lines[i] << " -> " << v.error().message;
    EXPECT_EQ(v->size(), 4u);
    ASSERT_TRUE(v->contains("time") && v->at("time").is_string());
    EXPECT_TRUE(std::regex_match(std::string(v->at("time").as_string()),
                                 std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")));
    EXPECT_EQ(v->at("level").as_string(), "warn");
    EXPECT_EQ(v->at("component").as_string(), "api");
    EXPECT_EQ(std::string(v->at("message").as_string()), messages[i]);
  }
}

TEST(StderrSinks, JsonSinkStaysJsonForMessagesWithInvalidUtf8) {
  Logger log(Logger::stderr_json_sink());
  testing::internal::CaptureStderr();
  log.info("api", "POST is not allowed on /v1/\xff\xfe");
  const std::string out = testing::internal::GetCapturedStderr();
  const auto lines = split_lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  auto v = parse_json_object(lines[0], "log line");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(std::string(v->at("message").as_string()), "POST is not allowed on /v1/\xEF\xBF\xBD\xEF\xBF\xBD");
}

// ---------------------------------------------------------------- clock

TEST(ManualClock, StartsWhereToldAndMovesOnlyWhenTold) {
  ManualClock def;
  EXPECT_EQ(def.now_ms(), 1'700'000'000'000);
  EXPECT_EQ(def.now_ms(), 1'700'000'000'000);

  ManualClock c(5'000);
  EXPECT_EQ(c.now_ms(), 5'000);
  c.advance_ms(250);
  EXPECT_EQ(c.now_ms(), 5'250);
  c.advance_ms(86'400'000);
  EXPECT_EQ(c.now_ms(), 86'405'250);
  c.advance_ms(-250);
  EXPECT_EQ(c.now_ms(), 86'405'000);
  c.set_ms(42);
  EXPECT_EQ(c.now_ms(), 42);
  c.advance_ms(0);
  EXPECT_EQ(c.now_ms(), 42);
}

TEST(ManualClock, UsableThroughTheClockInterface) {
  ManualClock mc(0);
  const Clock& clock = mc;
  mc.advance_ms(1'000);
  EXPECT_EQ(clock.now_ms(), 1'000);
  EXPECT_EQ(format_rfc3339_ms(clock.now_ms()), "1970-01-01T00:00:01.000Z");
}

TEST(ManualClock, ConcurrentAdvancesAllCount) {
  ManualClock c(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 10'000; ++i) c.advance_ms(1);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(c.now_ms(), 40'000);
}

}  // namespace
}  // namespace meadow
