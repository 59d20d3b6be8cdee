// meadow-coordinator's command line, run as a user would run it.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "support/coordinator_process.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/test_env.h"

namespace meadow::testing {
namespace {

using namespace std::chrono_literals;

class CliTest : public ::testing::Test {
 protected:
  RunResult cli(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), binary("coordinator/meadow-coordinator"));
    return run_command(args, 30s, stdin_text);
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.file(name)) << text;
    return dir_.file(name);
  }
  std::string config(const std::string& extra = "") {
    return write("c.conf", "data_dir = " + dir_.file("data") + "\n" + extra);
  }
  TempDir dir_;
};

TEST_F(CliTest, HelpAndUnknownCommand) {
  auto help = cli({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("job add"), std::string::npos);
  auto add_help = cli({"job", "add", "--help"});
  EXPECT_EQ(add_help.exit_code, 0);
  EXPECT_NE(add_help.out.find("--max-depth"), std::string::npos);
  auto bad = cli({"frobnicate"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown command 'frobnicate'"), std::string::npos);
}

TEST_F(CliTest, BadConfigStopsStartUpWithKeyAndReason) {
  struct Case {
    std::string text;
    std::string says;
  };
  for (const Case& c : {Case{"lease_ms = soon\n", "lease_ms"}, Case{"threads = 0\n", "from 1 to 64"},
                        Case{"colour = blue\n", "unknown config key 'colour'"},
                        Case{"listen = nowhere\n", "ADDRESS:PORT"}, Case{"just words\n", "expected 'key = value'"},
                        Case{"tls_cert = /x.pem\n", "tls_cert and tls_key must be set together"}}) {
    auto path = write("bad.conf", "# a comment\n" + c.text);
    auto check = cli({"config", "check", "--config", path});
    EXPECT_EQ(check.exit_code, 1) << c.text;
    EXPECT_NE(check.err.find(c.says), std::string::npos) << check.err;
    auto serve = cli({"serve", "--config", path});
    EXPECT_EQ(serve.exit_code, 1) << c.text;
    EXPECT_NE(serve.err.find(c.says), std::string::npos) << serve.err;
  }
  auto missing = cli({"serve", "--config", dir_.file("nope.conf")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope.conf"), std::string::npos);
}

TEST_F(CliTest, ConfigKeysDocumentEveryDefault) {
  auto keys = cli({"config", "keys"});
  EXPECT_EQ(keys.exit_code, 0);
  for (const char* k : {"listen", "lease_ms", "site_rate", "max_upload_bytes", "allow_loopback_targets"}) {
    EXPECT_NE(keys.out.find(k), std::string::npos) << k;
  }
  EXPECT_NE(keys.out.find("default: 120000"), std::string::npos);
}

TEST_F(CliTest, JobLifecycleFromTheCommandLine) {
  auto conf = config();
  auto urls = write("urls.txt", "# seeds\nhttps://a.example/1\n\nhttps://A.example/1#top\nhttps://b.example/\n");
  auto add = cli({"job", "add", "--config", conf, "--name", "news", "--urls", urls, "--priority", "5",
                  "--field", "price=css:.price"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find("job 1 created with 2 tasks"), std::string::npos) << add.out;
  auto list = cli({"job", "list", "--config", conf});
  EXPECT_NE(list.out.find("news"), std::string::npos);
  EXPECT_NE(list.out.find("queued 2"), std::string::npos) << list.out;
  EXPECT_EQ(cli({"job", "pause", "--config", conf, "1"}).exit_code, 0);
  auto show = cli({"job", "show", "--config", conf, "1", "--json"});
  EXPECT_NE(show.out.find("\"state\":\"paused\""), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("\"priority\":5"), std::string::npos);
  EXPECT_EQ(cli({"job", "cancel", "--config", conf, "1"}).exit_code, 0);
  auto resume = cli({"job", "resume", "--config", conf, "1"});
  EXPECT_EQ(resume.exit_code, 1);
  EXPECT_NE(resume.err.find("cancelled"), std::string::npos);
  auto unknown = cli({"job", "show", "--config", conf, "99"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no job 99"), std::string::npos);
}

TEST_F(CliTest, JobAddRefusesBadUrlsAndSaysWhich) {
  auto conf = config();
  auto urls = write("urls.txt", "https://fine.example/\njavascript:alert(1)\n");
  auto add = cli({"job", "add", "--config", conf, "--name", "x", "--urls", urls});
  EXPECT_EQ(add.exit_code, 1);
  EXPECT_NE(add.err.find("urls[1]"), std::string::npos) << add.err;
  EXPECT_NE(add.err.find("javascript"), std::string::npos) << add.err;
  auto list = cli({"job", "list", "--config", conf});
  EXPECT_NE(list.out.find("no jobs yet"), std::string::npos);
  auto stdin_add = cli({"job", "add", "--config", conf, "--name", "piped", "--urls", "-"}, "https://c.example/\n");
  EXPECT_EQ(stdin_add.exit_code, 0) << stdin_add.err;
}

TEST_F(CliTest, AdminKeyWorksAgainstTheRunningServerAndSigtermStopsCleanly) {
  CoordinatorProcess coordinator(dir_.path());
  auto key = coordinator.cli({"admin-key", "create", "--label", "ops"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  std::string admin_key = key.out.substr(0, key.out.find('\n'));
  EXPECT_EQ(admin_key.rfind("mdw_admin_", 0), 0u);
  ASSERT_TRUE(coordinator.start().ok());
  TestHttpClient c(coordinator.port(), false, 1s);
  auto jobs = c.get("/v1/admin/jobs", {{"authorization", "Bearer " + admin_key}});
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->status, 200) << jobs->body;
  coordinator.process().signal(SIGTERM);
  EXPECT_EQ(coordinator.process().wait(15s), 0);
}

}  // namespace
}  // namespace meadow::testing
