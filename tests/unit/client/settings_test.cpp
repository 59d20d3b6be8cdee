// meadow-node's settings: the documented defaults, the key table that loads and lists them,
// the refusals a user sees for a bad value (naming the key and, in a file, the line), and the
// checks that need the whole struct.
#include "client/core/settings.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "support/test_env.h"

namespace meadow::client {
namespace {

using testing::TempDir;

class SettingsTest : public ::testing::Test {
 protected:
  // Schedules are local time; pin it so nothing depends on the machine.
  void SetUp() override {
    if (const char* old = std::getenv("TZ")) old_tz_ = old;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (old_tz_) setenv("TZ", old_tz_->c_str(), 1);
    else unsetenv("TZ");
    tzset();
  }

  static std::map<std::string, std::string> values(const NodeSettings& s) {
    std::map<std::string, std::string> out;
    for (const auto& k : node_config_keys(s)) out[k.name] = k.value;
    return out;
  }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.file(name), std::ios::binary) << text;
    return dir_.file(name);
  }

  std::optional<std::string> old_tz_;
  TempDir dir_;
};

// Every key, a value other than its default, and how node_config_keys shows it back.
struct KeyCase {
  const char* key;
  const char* value;
  const char* shown;
};
const KeyCase kEveryKey[] = {
    {"coordinator", "https://coord.example:8443/base", "https://coord.example:8443/base"},
    {"account", "bob", "bob"},
    {"node_name", "attic-pi", "attic-pi"},
    {"data_dir", "/var/lib/meadow-node", "/var/lib/meadow-node"},
    {"key_file", "/etc/meadow/node.key", "/etc/meadow/node.key"},
    {"log_level", "debug", "debug"},
    {"max_concurrent", "16", "16"},
    {"lease_batch", "10", "10"},
    {"long_poll_ms", "5000", "5000"},
    {"upload_batch", "32", "32"},
    {"upload_delay_ms", "250", "250"},
    {"max_page_bytes", "1MB", "1000000"},
    {"fetch_timeout_ms", "12000", "12000"},
    {"connect_timeout_ms", "3000", "3000"},
    {"low_speed_bytes", "100", "100"},
    {"low_speed_ms", "5000", "5000"},
    {"max_redirects", "2", "2"},
    {"host_interval_ms", "2500", "2500"},
    {"max_crawl_delay_ms", "10000", "10000"},
    {"user_agent", "meadow-test/1.0 (+https://example.org/bot)", "meadow-test/1.0 (+https://example.org/bot)"},
    {"rate", "2MB", "2000000"},
    {"daily_cap", "2GB", "2000000000"},
    {"monthly_cap", "1.5GiB", "1610612736"},
    {"schedule", "mon-fri 09:00-17:30, sat,sun 10:00-22:00", "mon-fri 09:00-17:30, sat,sun 10:00-22:00"},
    {"allow_loopback", "yes", "true"},
};

// Every key and a value it must refuse.
struct BadCase {
  const char* key;
  std::string value;
};
const std::vector<BadCase>& bad_values() {
  static const std::vector<BadCase> cases = {
      {"coordinator", std::string(3000, 'x')},
      {"account", std::string(200, 'a')},
      {"node_name", std::string(200, 'n')},
      {"data_dir", ""},
      {"key_file", std::string(5000, 'k')},
      {"log_level", "loud"},
      {"max_concurrent", "0"},
      {"max_concurrent", "257"},
      {"max_concurrent", "four"},
      {"max_concurrent", "4.5"},
      {"lease_batch", "-1"},
      {"lease_batch", "257"},
      {"long_poll_ms", "soon"},
      {"long_poll_ms", "30001"},
      {"upload_batch", "0"},
      {"upload_delay_ms", "600001"},
      {"max_page_bytes", "100"},
      {"max_page_bytes", "2GiB"},
      {"max_page_bytes", "big"},
      {"fetch_timeout_ms", "99"},
      {"connect_timeout_ms", "abc"},
      {"low_speed_bytes", "-1"},
      {"low_speed_ms", "x"},
      {"max_redirects", "21"},
      {"host_interval_ms", "3600001"},
      {"max_crawl_delay_ms", "-1"},
      {"user_agent", "Mozilla/5.0 (X11; Linux x86_64)"},
      {"user_agent", "meadow/" + std::string(300, 'u')},
      {"rate", "fast"},
      {"daily_cap", "lots"},
      {"daily_cap", "-1"},
      {"monthly_cap", "-1"},
      {"schedule", "someday 25:00-26:00"},
      {"schedule", "mon 25:00-26:00"},
      {"allow_loopback", "maybe"},
  };
  return cases;
}

TEST_F(SettingsTest, DefaultsAreTheDocumentedOnes) {
  const NodeSettings s = default_node_settings();
  EXPECT_EQ(s.max_concurrent, 4);
  EXPECT_EQ(s.lease_batch, 0);
  EXPECT_EQ(s.effective_lease_batch(), 8);
  EXPECT_EQ(s.upload_batch, 64);
  EXPECT_EQ(s.long_poll_ms, 25'000);
  EXPECT_EQ(s.data_dir, "meadow-node-data");
  EXPECT_EQ(s.key_path(), "meadow-node-data/node.key");
  EXPECT_EQ(s.database_path(), "meadow-node-data/node.db");
  EXPECT_TRUE(s.coordinator.empty());
  EXPECT_TRUE(s.account.empty());
  EXPECT_EQ(s.rate_bytes_per_s, 0);
  EXPECT_EQ(s.limits.daily_bytes, 0);
  EXPECT_EQ(s.limits.monthly_bytes, 0);
  EXPECT_TRUE(s.limits.schedule.empty());
  EXPECT_FALSE(s.fetch.guard.allow_loopback);
  EXPECT_EQ(s.fetch.user_agent, default_user_agent());
  EXPECT_EQ(s.fetch.user_agent.rfind("meadow/", 0), 0u) << s.fetch.user_agent;
  EXPECT_NE(s.fetch.user_agent.find(kClientVersion), std::string::npos);
  EXPECT_NE(s.fetch.user_agent.find("robots token: meadow"), std::string::npos);
  EXPECT_EQ(s.fetch.robots_agent, "meadow");

  // The listing documents every key with its default.
  auto keys = node_config_keys(s);
  auto v = values(s);
  EXPECT_EQ(v.size(), keys.size()) << "a key is listed twice";
  EXPECT_EQ(v["max_concurrent"], "4");
  EXPECT_EQ(v["allow_loopback"], "false");
  EXPECT_EQ(v["schedule"], "");
  EXPECT_EQ(v["log_level"], "info");
  for (const auto& k : keys) EXPECT_GT(std::string(k.help).size(), 5u) << k.name << " has no help";
}

TEST_F(SettingsTest, KeyPathFollowsDataDirUnlessKeyFileIsSet) {
  NodeSettings s = default_node_settings();
  ASSERT_TRUE(apply_node_setting(s, "data_dir", "/srv/meadow").ok());
  EXPECT_EQ(s.key_path(), "/srv/meadow/node.key");
  EXPECT_EQ(s.database_path(), "/srv/meadow/node.db");
  ASSERT_TRUE(apply_node_setting(s, "key_file", "/secure/k").ok());
  EXPECT_EQ(s.key_path(), "/secure/k");
  ASSERT_TRUE(apply_node_setting(s, "lease_batch", "3").ok());
  EXPECT_EQ(s.effective_lease_batch(), 3);
}

TEST_F(SettingsTest, TheTestsNameEveryKey) {
  std::set<std::string> listed, tested, refused;
  for (const auto& k : node_config_keys(default_node_settings())) listed.insert(k.name);
  for (const auto& c : kEveryKey) tested.insert(c.key);
  for (const auto& c : bad_values()) refused.insert(c.key);
  EXPECT_EQ(listed, tested) << "a key was added or removed: give it a case in kEveryKey";
  EXPECT_EQ(listed, refused) << "a key was added or removed: give it a case in bad_values()";
  for (const char* k : {"coordinator", "account", "max_concurrent", "rate", "daily_cap", "monthly_cap", "schedule",
                        "allow_loopback"}) {
    EXPECT_TRUE(listed.count(k)) << k;
  }
}

TEST_F(SettingsTest, EveryKeyRoundTripsThroughTheTable) {
  for (const KeyCase& c : kEveryKey) {
    NodeSettings s = default_node_settings();
    const auto before = values(s);
    auto st = apply_node_setting(s, c.key, c.value);
    ASSERT_TRUE(st.ok()) << c.key << " = " << c.value << ": " << st.error().message;
    auto after = values(s);
    EXPECT_EQ(after[c.key], c.shown) << c.key;
    for (const auto& [k, v] : before) {
      if (k != c.key) {
        EXPECT_EQ(after[k], v) << "setting " << c.key << " changed " << k;
      }
    }
    // What the listing shows reads back to the same settings.
    NodeSettings again = default_node_settings();
    auto st2 = apply_node_setting(again, c.key, after[c.key]);
    ASSERT_TRUE(st2.ok()) << c.key << " = " << after[c.key] << ": " << st2.error().message;
    EXPECT_EQ(values(again), after) << c.key;
  }
  // And the defaults read back to themselves.
  NodeSettings s = default_node_settings();
  const auto defaults = values(s);
  for (const auto& [k, v] : defaults) {
    auto st = apply_node_setting(s, k, v);
    EXPECT_TRUE(st.ok()) << k << " = '" << v << "': " << st.error().message;
  }
  EXPECT_EQ(values(s), defaults);
}

TEST_F(SettingsTest, KeysReachTheFieldsTheEngineReads) {
  NodeSettings s = default_node_settings();
  for (const KeyCase& c : kEveryKey) ASSERT_TRUE(apply_node_setting(s, c.key, c.value).ok()) << c.key;
  EXPECT_EQ(s.coordinator, "https://coord.example:8443/base");
  EXPECT_EQ(s.account, "bob");
  EXPECT_EQ(s.node_name, "attic-pi");
  EXPECT_EQ(s.log_level, LogLevel::debug);
  EXPECT_EQ(s.max_concurrent, 16);
  EXPECT_EQ(s.lease_batch, 10);
  EXPECT_EQ(s.long_poll_ms, 5000);
  EXPECT_EQ(s.upload_batch, 32);
  EXPECT_EQ(s.upload_delay_ms, 250);
  EXPECT_EQ(s.fetch.max_body_bytes, 1'000'000u);
  EXPECT_EQ(s.fetch.timeout_ms, 12'000);
  EXPECT_EQ(s.fetch.connect_timeout_ms, 3000);
  EXPECT_EQ(s.fetch.low_speed_bytes, 100);
  EXPECT_EQ(s.fetch.low_speed_ms, 5000);
  EXPECT_EQ(s.fetch.max_redirects, 2);
  EXPECT_EQ(s.fetch.host_interval_ms, 2500);
  EXPECT_EQ(s.fetch.max_crawl_delay_ms, 10'000);
  EXPECT_EQ(s.fetch.user_agent, "meadow-test/1.0 (+https://example.org/bot)");
  EXPECT_EQ(s.rate_bytes_per_s, 2'000'000);
  EXPECT_EQ(s.limits.daily_bytes, 2'000'000'000);
  EXPECT_EQ(s.limits.monthly_bytes, 1'610'612'736);
  ASSERT_EQ(s.limits.schedule.size(), 2u);
  EXPECT_EQ(s.limits.schedule[0].start_min, 9 * 60);
  EXPECT_EQ(s.schedule_text, "mon-fri 09:00-17:30, sat,sun 10:00-22:00");
  EXPECT_TRUE(s.fetch.guard.allow_loopback);

  // Booleans take the usual spellings; an empty schedule means always again.
  for (const char* no : {"false", "no", "off", "0"}) {
    ASSERT_TRUE(apply_node_setting(s, "allow_loopback", no).ok()) << no;
    EXPECT_FALSE(s.fetch.guard.allow_loopback) << no;
  }
  for (const char* yes : {"true", "on", "1"}) {
    ASSERT_TRUE(apply_node_setting(s, "allow_loopback", yes).ok()) << yes;
    EXPECT_TRUE(s.fetch.guard.allow_loopback) << yes;
  }
  ASSERT_TRUE(apply_node_setting(s, "schedule", "").ok());
  EXPECT_TRUE(s.limits.schedule.empty());
  EXPECT_EQ(s.schedule_text, "");
}

TEST_F(SettingsTest, BadValuesAreRefusedNamingTheKeyAndKeepTheOldValue) {
  for (const BadCase& c : bad_values()) {
    NodeSettings s = default_node_settings();
    const auto before = values(s);
    auto st = apply_node_setting(s, c.key, c.value);
    ASSERT_FALSE(st.ok()) << c.key << " = '" << c.value.substr(0, 60) << "' was accepted";
    const std::string& m = st.error().message;
    EXPECT_NE(m.find(c.key), std::string::npos) << c.key << ": " << m;
    EXPECT_LT(m.size(), 600u) << c.key << ": the message repeats a huge value";
    if (std::string(c.key) == "schedule") {
      EXPECT_EQ(st.error().code, "bad-schedule");
    } else {
      EXPECT_EQ(st.error().code, "bad-config") << c.key;
    }
    EXPECT_EQ(values(s), before) << c.key << " = '" << c.value.substr(0, 60) << "' changed the settings";
  }
}

TEST_F(SettingsTest, MessagesSayWhatIsWanted) {
  NodeSettings s = default_node_settings();
  struct Case {
    const char* key;
    const char* value;
    const char* says;
  };
  for (const Case& c : {Case{"max_concurrent", "0", "an integer from 1 to 256"},
                        Case{"daily_cap", "lots", "a size such as 500MB"},
                        Case{"allow_loopback", "maybe", "true or false"},
                        Case{"log_level", "loud", "debug, info, warn, error, off"},
                        Case{"user_agent", "curl/8", "names meadow"},
                        Case{"max_page_bytes", "100", "between 1kB and 1GiB"},
                        Case{"schedule", "someday 25:00-26:00", "unknown day name"}}) {
    auto st = apply_node_setting(s, c.key, c.value);
    ASSERT_FALSE(st.ok()) << c.key;
    EXPECT_NE(st.error().message.find(c.says), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find(c.value), std::string::npos) << st.error().message;
  }
  auto unknown = apply_node_setting(s, "colour", "blue");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "bad-config");
  EXPECT_NE(unknown.error().message.find("unknown config key 'colour'"), std::string::npos) << unknown.error().message;
  EXPECT_NE(unknown.error().message.find("meadow-node config keys"), std::string::npos) << unknown.error().message;
  // Keys are exact: no case folding, no surrounding blanks.
  EXPECT_FALSE(apply_node_setting(s, "Max_Concurrent", "8").ok());
  EXPECT_FALSE(apply_node_setting(s, "", "8").ok());
}

TEST_F(SettingsTest, LoadConfigReadsLinesOnTopOfTheGivenSettings) {
  auto path = write("node.conf",
                    "# my node\n"
                    "\n"
                    "coordinator = https://coord.example\n"
                    "account=alice\n"
                    "  max_concurrent   =   8   # more\n"
                    "schedule = \"mon-fri 09:00-17:30, sat,sun 10:00-22:00\"\n"
                    "daily_cap = 2GB\r\n"
                    "allow_loopback = on\n");
  NodeSettings s = default_node_settings();
  ASSERT_TRUE(apply_node_setting(s, "upload_batch", "7").ok());
  auto st = load_node_config(path, s);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(s.coordinator, "https://coord.example");
  EXPECT_EQ(s.account, "alice");
  EXPECT_EQ(s.max_concurrent, 8);
  EXPECT_EQ(s.limits.schedule.size(), 2u);
  EXPECT_EQ(s.limits.daily_bytes, 2'000'000'000);
  EXPECT_TRUE(s.fetch.guard.allow_loopback);
  EXPECT_EQ(s.upload_batch, 7) << "a key the file does not name keeps its value";
  EXPECT_TRUE(validate_node_settings(s).ok());

  auto empty = write("empty.conf", "");
  NodeSettings d = default_node_settings();
  EXPECT_TRUE(load_node_config(empty, d).ok());
  EXPECT_EQ(values(d), values(default_node_settings()));
}

TEST_F(SettingsTest, LoadConfigNamesTheFileLineAndKey) {
  struct Case {
    const char* bad_line;
    const char* says;
  };
  for (const Case& c : {Case{"colour = blue", "unknown config key 'colour'"},
                        Case{"max_concurrent = 0", "config key 'max_concurrent'"},
                        Case{"schedule = someday 25:00-26:00", "schedule 'someday 25:00-26:00'"},
                        Case{"daily_cap = lots", "config key 'daily_cap'"},
                        Case{"just some words", "expected 'key = value'"}}) {
    auto path = write("bad.conf", std::string("# header\ncoordinator = https://c.example\naccount = bob\n") + c.bad_line +
                                      "\nrate = 1MB\n");
    NodeSettings s = default_node_settings();
    auto st = load_node_config(path, s);
    ASSERT_FALSE(st.ok()) << c.bad_line;
    const std::string& m = st.error().message;
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("line 4"), std::string::npos) << m;
    EXPECT_NE(m.find(c.says), std::string::npos) << m;
  }
  NodeSettings s = default_node_settings();
  auto missing = load_node_config(dir_.file("nope.conf"), s);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope.conf"), std::string::npos) << missing.error().message;

  auto huge = write("huge.conf", std::string(1024 * 1024 + 10, '#'));
  auto too_big = load_node_config(huge, s);
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.error().message.find("1 MiB"), std::string::npos) << too_big.error().message;
}

TEST_F(SettingsTest, SingleQuotedValuesReadLikeTheHelpWritesThem) {
  auto path = write("quoted.conf", "coordinator = https://c.example\naccount = bob\nschedule = 'mon-fri 09:00-17:00'\n");
  NodeSettings s = default_node_settings();
  auto st = load_node_config(path, s);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(s.limits.schedule.size(), 1u);
  EXPECT_EQ(s.schedule_text, "mon-fri 09:00-17:00");
}

TEST_F(SettingsTest, MakeDataDirMakesPrivateParentsAndSaysWhyNot) {
  const std::string deep = dir_.file("a/b/c");
  ASSERT_TRUE(make_data_dir(deep).ok());
  for (const std::string& p : {dir_.file("a"), dir_.file("a/b"), deep}) {
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << p;
    EXPECT_EQ(st.st_mode & 0077, 0u) << p << " is open to others";
  }
  EXPECT_TRUE(make_data_dir(deep).ok()) << "an existing folder is fine";
  EXPECT_TRUE(make_data_dir(deep + "/").ok());

  write("file", "not a folder");
  auto through_file = make_data_dir(dir_.file("file/sub"));
  ASSERT_FALSE(through_file.ok());
  EXPECT_NE(through_file.error().message.find(dir_.file("file")), std::string::npos) << through_file.error().message;
}

TEST_F(SettingsTest, AHashInsideQuotesIsPartOfTheValue) {
  auto path = write("hash.conf",
                    "user_agent = \"meadow/1.0 (+https://example.org/#bots)\"  # the page for site owners\n"
                    "node_name = 'attic # 2'\n");
  NodeSettings s = default_node_settings();
  auto st = load_node_config(path, s);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(s.fetch.user_agent, "meadow/1.0 (+https://example.org/#bots)");
  EXPECT_EQ(s.node_name, "attic # 2");
}

TEST_F(SettingsTest, ValidateWantsACoordinatorUrlAndAnAccount) {
  NodeSettings s = default_node_settings();
  auto none = validate_node_settings(s);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, "bad-config");
  EXPECT_NE(none.error().message.find("no coordinator"), std::string::npos) << none.error().message;
  EXPECT_NE(none.error().message.find("--coordinator"), std::string::npos) << none.error().message;

  ASSERT_TRUE(apply_node_setting(s, "coordinator", "http://127.0.0.1:8080").ok());
  auto no_account = validate_node_settings(s);
  ASSERT_FALSE(no_account.ok());
  EXPECT_NE(no_account.error().message.find("no account"), std::string::npos) << no_account.error().message;
  EXPECT_NE(no_account.error().message.find("--account"), std::string::npos) << no_account.error().message;

  ASSERT_TRUE(apply_node_setting(s, "account", "alice").ok());
  EXPECT_TRUE(validate_node_settings(s).ok());

  for (const char* bad : {"not a url", "ftp://coord.example", "coord.example", "https://user:pw@coord.example"}) {
    NodeSettings b = s;
    ASSERT_TRUE(apply_node_setting(b, "coordinator", bad).ok());
    auto st = validate_node_settings(b);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.error().message.find("coordinator"), std::string::npos) << st.error().message;
  }
}

}  // namespace
}  // namespace meadow::client
