// meadow-node's command line, run as a contributor would run it: every command's help and
// refusals, the file tools (robots, extract), the node key (keygen, whoami), the config
// commands, and pause/resume/status/log against a real daemon that has no coordinator to talk
// to (it backs off, which is all these commands need).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "common/json.h"
#include "support/process.h"
#include "support/test_env.h"

namespace meadow::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

const std::regex kNodeId("^n[0-9a-f]{32}$");

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

class NodeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(node_.c_str(), X_OK), 0)
        << node_ << " is not built: integration_tests needs add_dependencies(integration_tests meadow-node)";
  }

  RunResult node(std::vector<std::string> args, const std::string& stdin_text = "",
                 std::chrono::milliseconds timeout = 30s) {
    args.insert(args.begin(), node_);
    return run_command(args, timeout, stdin_text);
  }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.file(name), std::ios::binary) << text;
    return dir_.file(name);
  }

  static json::object parse(const std::string& text) {
    auto o = parse_json_object(text, "output");
    EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.error().message) << "\n" << text;
    return o.ok() ? *o : json::object{};
  }

  // `meadow-node status --json` for the data dir, parsed.
  json::object status_json(const std::string& data_dir, int* exit_code = nullptr) {
    auto r = node({"status", "--data-dir", data_dir, "--json"});
    if (exit_code) *exit_code = r.exit_code;
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
    return parse(r.out);
  }

  // A daemon with a coordinator address nobody listens on: it makes its key and database and
  // keeps backing off.
  std::unique_ptr<ChildProcess> start_daemon(const std::string& data_dir) {
    const std::string coordinator = "http://127.0.0.1:" + std::to_string(free_port());
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{node_, "run", "--data-dir", data_dir, "--coordinator", coordinator, "--account", "a",
                                 "--status-every", "0"},
        dir_.file("daemon.log"));
  }

  static bool wait_for(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ready()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return ready();
  }

  std::string daemon_log() const { return testing::file_contents(dir_.file("daemon.log")); }

  // A node database made the only way a user makes one: run the daemon until it exists.
  void make_node_db(const std::string& data_dir) {
    auto d = start_daemon(data_dir);
    ASSERT_TRUE(wait_for([&] { return exists(data_dir + "/node.db"); }, 15s)) << daemon_log();
    d->signal(SIGTERM);
    ASSERT_EQ(d->wait(10s), 0) << daemon_log();
  }

  const std::string node_ = binary("client/node/meadow-node");
  TempDir dir_;
};

// ---- dispatch, help, unknown input -------------------------------------------------------

TEST_F(NodeCliTest, HelpOnEveryCommand) {
  auto top = node({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_TRUE(contains(top.out, "usage: meadow-node COMMAND")) << top.out;
  for (const char* cmd : {"run", "status", "pause", "resume", "log", "keygen", "whoami", "extract", "robots", "config"}) {
    EXPECT_TRUE(contains(top.out, std::string("  ") + cmd + " ")) << cmd << " missing from the command list";
    auto help = node({cmd, "--help"});
    EXPECT_EQ(help.exit_code, 0) << cmd << ": " << help.err;
    EXPECT_TRUE(contains(help.out, std::string("usage: meadow-node ") + cmd)) << cmd << ": " << help.out;
    EXPECT_TRUE(help.err.empty()) << cmd << ": " << help.err;
  }
  // --help wins over the other arguments, even bad ones.
  auto robots = node({"robots", "--url", "nonsense", "--help"});
  EXPECT_EQ(robots.exit_code, 0);
  EXPECT_TRUE(contains(robots.out, "exit 0: allowed, 1: disallowed, 2: error"));
  // Settings commands document the shared settings flags.
  auto pause = node({"pause", "--help"});
  EXPECT_TRUE(contains(pause.out, "--for")) << pause.out;
  EXPECT_TRUE(contains(pause.out, "--data-dir DIR")) << pause.out;
  for (const char* alias : {"-h", "help"}) {
    auto h = node({alias});
    EXPECT_EQ(h.exit_code, 0) << alias;
    EXPECT_TRUE(contains(h.out, "usage: meadow-node COMMAND")) << alias;
  }
  auto version = node({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(contains(version.out, "meadow-node 0.")) << version.out;
}

TEST_F(NodeCliTest, NoArgumentsUnknownCommandAndUnknownOption) {
  auto none = node({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "usage: meadow-node COMMAND")) << none.err;
  EXPECT_TRUE(none.out.empty()) << none.out;

  auto unknown = node({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "unknown command 'frobnicate'")) << unknown.err;
  EXPECT_TRUE(contains(unknown.err, "meadow-node --help")) << unknown.err;

  for (const char* cmd : {"run", "status", "pause", "resume", "log", "keygen", "whoami", "extract", "robots", "config"}) {
    auto bad = node({cmd, "--frobnicate"});
    EXPECT_EQ(bad.exit_code, 2) << cmd;
    EXPECT_TRUE(contains(bad.err, "unknown option --frobnicate")) << cmd << ": " << bad.err;
    EXPECT_TRUE(contains(bad.err, std::string("usage: meadow-node ") + cmd)) << cmd << ": " << bad.err;
  }
  // A flag that takes a value, at the end with none; a switch given a value.
  auto no_value = node({"status", "--data-dir"});
  EXPECT_EQ(no_value.exit_code, 2);
  EXPECT_TRUE(contains(no_value.err, "--data-dir needs a value")) << no_value.err;
  auto switch_value = node({"status", "--json=yes", "--data-dir", dir_.file("d")});
  EXPECT_EQ(switch_value.exit_code, 2);
  EXPECT_TRUE(contains(switch_value.err, "--json")) << switch_value.err;
}

// ---- robots --------------------------------------------------------------------------------

constexpr const char* kRobots =
    "# robots.txt\n"
    "User-agent: *\n"
    "Disallow: /private/\n"
    "Allow: /private/open\n"
    "Crawl-delay: 2\n"
    "\n"
    "User-agent: otherbot\n"
    "Disallow: /\n";

TEST_F(NodeCliTest, RobotsAllowedPrintsTheRule) {
  auto file = write("robots.txt", kRobots);
  auto open = node({"robots", "--agent", "meadow", "--url", "https://site.example/private/open/page", file});
  EXPECT_EQ(open.exit_code, 0) << open.err;
  EXPECT_EQ(first_line(open.out), "allowed");
  EXPECT_TRUE(contains(open.out, "rule: Allow: /private/open (line 4)")) << open.out;
  EXPECT_TRUE(contains(open.out, "group: *")) << open.out;
  EXPECT_TRUE(contains(open.out, "crawl-delay: 2 s")) << open.out;

  auto public_page = node({"robots", "--agent", "meadow", "--url", "https://site.example/blog/", file});
  EXPECT_EQ(public_page.exit_code, 0) << public_page.err;
  EXPECT_EQ(first_line(public_page.out), "allowed");
  EXPECT_TRUE(contains(public_page.out, "none matched")) << public_page.out;
}

TEST_F(NodeCliTest, RobotsDisallowedNamesTheRuleAndItsLine) {
  auto file = write("robots.txt", kRobots);
  auto r = node({"robots", "--agent", "meadow", "--url", "https://site.example/private/x?y=1", file});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(first_line(r.out), "disallowed");
  EXPECT_TRUE(contains(r.out, "rule: Disallow: /private/ (line 3)")) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;

  // Another agent falls in its own group.
  auto other = node({"robots", "--agent", "otherbot", "--url", "https://site.example/blog/", file});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_TRUE(contains(other.out, "Disallow: / (line 8)")) << other.out;
  EXPECT_TRUE(contains(other.out, "group: otherbot")) << other.out;
}

TEST_F(NodeCliTest, RobotsReadsStandardInput) {
  auto r = node({"robots", "--agent", "meadow", "--url", "https://site.example/private/x", "-"}, kRobots);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.out, "Disallow: /private/ (line 3)")) << r.out;
  // An empty robots.txt allows everything.
  auto empty = node({"robots", "--agent", "meadow", "--url", "https://site.example/private/x", "-"});
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(first_line(empty.out), "allowed");
}

TEST_F(NodeCliTest, RobotsRefusesBadInputWithExit2) {
  auto file = write("robots.txt", kRobots);
  auto missing = node({"robots", "--agent", "meadow", "--url", "https://site.example/", dir_.file("nope.txt")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(contains(missing.err, "cannot read " + dir_.file("nope.txt"))) << missing.err;
  EXPECT_TRUE(missing.out.empty()) << missing.out;

  for (const char* bad_url : {"not a url", "ftp://site.example/x", "/relative/path"}) {
    auto bad = node({"robots", "--agent", "meadow", "--url", bad_url, file});
    EXPECT_EQ(bad.exit_code, 2) << bad_url;
    EXPECT_TRUE(contains(bad.err, "--url")) << bad_url << ": " << bad.err;
  }

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"robots", "--url", "https://site.example/", file},
        std::vector<std::string>{"robots", "--agent", "meadow", file},
        std::vector<std::string>{"robots", "--agent", "meadow", "--url", "https://site.example/"},
        std::vector<std::string>{"robots", "--agent", "meadow", "--url", "https://site.example/", file, file},
        std::vector<std::string>{"robots", "--agent"}}) {
    auto r = node(args);
    EXPECT_EQ(r.exit_code, 2) << args.size();
    EXPECT_TRUE(contains(r.err, "usage: meadow-node robots")) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

// ---- extract -------------------------------------------------------------------------------

constexpr const char* kPage =
    "<!doctype html><html lang=\"en\"><head><title>Meadow Flowers</title>"
    "<meta name=\"description\" content=\"All about flowers\"></head><body>"
    "<nav><a href=\"/home\">Home</a></nav><main><h1>Flowers</h1>"
    "<p>This is the first paragraph of a page about meadows and the flowers growing in the field.</p>"
    "<p>Read <a href=\"sub/page.html\">the next page</a> or <a href=\"https://other.example/x\">elsewhere</a>.</p>"
    "</main></body></html>";

void expect_record_shape(const json::object& r) {
  for (const char* field : {"title", "text", "links", "charset", "text_sha256", "body_sha256", "simhash"}) {
    EXPECT_TRUE(r.contains(field)) << field << " missing from " << meadow::to_json(r);
  }
  const std::regex hex64("^[0-9a-f]{64}$"), hex16("^[0-9a-f]{16}$");
  if (r.contains("text_sha256") && r.at("text_sha256").is_string()) {
    EXPECT_TRUE(std::regex_match(std::string(r.at("text_sha256").as_string()), hex64)) << r.at("text_sha256");
  }
  if (r.contains("simhash") && r.at("simhash").is_string()) {
    EXPECT_TRUE(std::regex_match(std::string(r.at("simhash").as_string()), hex16)) << r.at("simhash");
  }
  if (r.contains("links")) {
    EXPECT_TRUE(r.at("links").is_array());
  }
}

TEST_F(NodeCliTest, ExtractPrintsOneRecordWithAbsoluteLinks) {
  auto file = write("page.html", kPage);
  auto r = node({"extract", "--url", "https://site.example/dir/index.html", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one JSON object on one line: " << r.out;
  json::object o = parse(r.out);
  expect_record_shape(o);
  EXPECT_EQ(o["url"], "https://site.example/dir/index.html");
  EXPECT_EQ(o["title"], "Flowers") << "the page's own heading, since <title> adds the site name to it";
  EXPECT_EQ(o["lang"], "en");
  EXPECT_EQ(o["charset"], "utf-8");
  EXPECT_EQ(o["description"], "All about flowers");
  const std::string text(o["text"].as_string());
  EXPECT_TRUE(contains(text, "first paragraph of a page about meadows")) << text;
  EXPECT_FALSE(contains(text, "<p>")) << text;
  ASSERT_TRUE(o["links"].is_array());
  std::vector<std::string> urls;
  for (const auto& l : o["links"].as_array()) urls.emplace_back(l.as_object().at("url").as_string());
  EXPECT_EQ(urls, (std::vector<std::string>{"https://site.example/home", "https://site.example/dir/sub/page.html",
                                            "https://other.example/x"}));
  EXPECT_EQ(o["content_length"], static_cast<std::int64_t>(std::string(kPage).size()));

  // The same page gives the same hashes; without --url links resolve against localhost.
  auto again = node({"extract", file});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  json::object a = parse(again.out);
  EXPECT_EQ(a["text_sha256"], o["text_sha256"]);
  EXPECT_EQ(a["simhash"], o["simhash"]);
  EXPECT_EQ(a["url"], "http://localhost/");
  ASSERT_TRUE(a["links"].is_array() && !a["links"].as_array().empty());
  EXPECT_EQ(a["links"].as_array()[0].as_object().at("url"), "http://localhost/home");
}

TEST_F(NodeCliTest, ExtractReadsStandardInput) {
  auto file = write("page.html", kPage);
  auto from_file = node({"extract", "--url", "https://site.example/", file});
  auto dash = node({"extract", "--url", "https://site.example/", "-"}, kPage);
  auto no_arg = node({"extract", "--url", "https://site.example/"}, kPage);
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_EQ(dash.exit_code, 0) << dash.err;
  EXPECT_EQ(no_arg.exit_code, 0) << no_arg.err;
  EXPECT_EQ(dash.out, from_file.out);
  EXPECT_EQ(no_arg.out, from_file.out);
}

TEST_F(NodeCliTest, ExtractDecodesWindows1252) {
  const std::string page =
      "<html><head><title>Caf\xe9</title></head><body><p>Un caf\xe9 cr\xe8me, s'il vous pla\xeet, "
      "with enough words around it to count as the main text of the page.</p></body></html>";
  auto file = write("cafe.html", page);
  auto r = node({"extract", "--content-type", "text/html; charset=windows-1252", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::object o = parse(r.out);
  EXPECT_EQ(o["charset"], "windows-1252");
  EXPECT_EQ(o["title"], "Caf\xc3\xa9");
  const std::string text(o["text"].as_string());
  EXPECT_TRUE(contains(text, "Un caf\xc3\xa9 cr\xc3\xa8me, s'il vous pla\xc3\xaet")) << text;
  EXPECT_EQ(o["content_length"], static_cast<std::int64_t>(page.size()));
}

TEST_F(NodeCliTest, ExtractSurvivesEmptyAndBinaryInput) {
  auto empty = node({"extract", write("empty.html", "")});
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  json::object e = parse(empty.out);
  expect_record_shape(e);
  EXPECT_EQ(e["title"], "");
  EXPECT_EQ(e["text"], "");
  EXPECT_TRUE(e["links"].as_array().empty());
  EXPECT_EQ(e["content_length"], 0);
  EXPECT_EQ(e["text_sha256"], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  std::mt19937 rng(20240501);
  for (int round = 0; round < 4; ++round) {
    std::string garbage(3000 + round * 5000, '\0');
    for (char& c : garbage) c = static_cast<char>(rng() & 0xff);
    if (round == 3) garbage = "<html><body><p>" + garbage + "</p><a href=\"\x01\xff\">x</a>";
    auto from_file = node({"extract", write("garbage.bin", garbage)});
    auto from_stdin = node({"extract", "--url", "https://site.example/", "-"}, garbage);
    for (const RunResult* r : {&from_file, &from_stdin}) {
      ASSERT_TRUE(r->exit_code == 0 || r->exit_code == 2) << "round " << round << " crashed: " << r->err;
      if (r->exit_code == 0) {
        json::object g = parse(r->out);
        expect_record_shape(g);
        EXPECT_EQ(g["content_length"], static_cast<std::int64_t>(garbage.size()));
      } else {
        EXPECT_TRUE(contains(r->err, "meadow-node extract: ")) << r->err;
      }
    }
  }
}

TEST_F(NodeCliTest, ExtractFillsFieldsAndReadsTheStructuredData) {
  const std::string page =
      "<html><head><title>Scythe | Tool Barn</title>"
      "<meta property=\"og:site_name\" content=\"Tool Barn\"><meta property=\"og:type\" content=\"product\">"
      "<meta property=\"og:image\" content=\"https://img.example/1.jpg\">"
      "<meta property=\"og:image\" content=\"https://img.example/2.jpg\">"
      "<meta property=\"product:price:amount\" content=\"89.00\">"
      "<script type=\"application/ld+json\">{\"@type\":\"Product\",\"name\":\"Scythe\","
      "\"offers\":{\"price\":\"89.00\"}}</script>"
      "<script type=\"application/ld+json\">{\"@type\":\"Article\",\"author\":{\"name\":\"Ada Brook\"},"
      "\"datePublished\":\"2025-03-02T09:00:00Z\",\"dateModified\":\"2025-04-01\"}</script></head>"
      "<body><h1>Scythe</h1><p>An Austrian scythe for hay meadows, with a hand-forged blade that holds its edge "
      "through a whole morning of mowing.</p><span class=\"price\">89.00</span>"
      "<ul class=\"sizes\"><li>60 cm</li><li>70 cm</li><li>80 cm</li></ul></body></html>";
  auto file = write("scythe.html", page);
  auto r = node({"extract", "--url", "https://shop.example/scythe", "--field", "price=css:span.price", "--field",
                 "sizes=xpath://ul[@class='sizes']/li", "--field", "colour=css:.colour", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::object o = parse(r.out);
  EXPECT_EQ(meadow::canonical_json(o["fields"]), R"({"price":"89.00","sizes":["60 cm","70 cm","80 cm"]})")
      << "one value is a string, several an array, none left out";
  EXPECT_EQ(o["author"], "Ada Brook");
  EXPECT_EQ(o["published"], "2025-03-02T09:00:00Z");
  EXPECT_EQ(o["modified"], "2025-04-01");
  EXPECT_EQ(o["site_name"], "Tool Barn");
  ASSERT_TRUE(o["jsonld"].is_array());
  EXPECT_EQ(o["jsonld"].as_array().size(), 2u);
  EXPECT_EQ(o["jsonld"].as_array()[0].as_object().at("offers").as_object().at("price"), "89.00");
  EXPECT_EQ(meadow::canonical_json(o["opengraph"]),
            R"({"image":["https://img.example/1.jpg","https://img.example/2.jpg"],"product:price:amount":"89.00",)"
            R"("site_name":"Tool Barn","type":"product"})");

  // A bad selector is refused before the page is read, and says which field and where.
  auto bad = node({"extract", "--field", "price=css:span[price", file});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(bad.out.empty());
  EXPECT_TRUE(contains(bad.err, "fields[0] (price)")) << bad.err;
  auto malformed = node({"extract", "--field", "price", file});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_TRUE(contains(malformed.err, "name=css:")) << malformed.err;
}

TEST_F(NodeCliTest, ExtractRefusesBadInputWithExit2) {
  auto file = write("page.html", kPage);
  auto missing = node({"extract", dir_.file("nope.html")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(contains(missing.err, "cannot read " + dir_.file("nope.html"))) << missing.err;
  EXPECT_TRUE(missing.out.empty());

  auto bad_url = node({"extract", "--url", "javascript:alert(1)", file});
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_TRUE(contains(bad_url.err, "--url")) << bad_url.err;

  auto two = node({"extract", file, file});
  EXPECT_EQ(two.exit_code, 2);
  EXPECT_TRUE(contains(two.err, "give one FILE")) << two.err;
}

TEST_F(NodeCliTest, ToolsRefuseAFolderGivenAsTheFile) {
  auto extract = node({"extract", dir_.path()});
  EXPECT_EQ(extract.exit_code, 2) << extract.out;
  EXPECT_TRUE(contains(extract.err, dir_.path())) << extract.err;
  auto robots = node({"robots", "--agent", "meadow", "--url", "https://site.example/private/", dir_.path()});
  EXPECT_EQ(robots.exit_code, 2) << robots.out;
  EXPECT_TRUE(contains(robots.err, dir_.path())) << robots.err;
}

// ---- keygen and whoami ---------------------------------------------------------------------

TEST_F(NodeCliTest, KeygenMakesAPrivateKeyAndKeepsIt) {
  const std::string data = dir_.file("node");
  auto first = node({"keygen", "--data-dir", data});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string id = first_line(first.out);
  EXPECT_TRUE(std::regex_match(id, kNodeId)) << id;
  struct stat st {};
  ASSERT_EQ(::stat((data + "/node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(data.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "the data folder is readable by others";

  const std::string key_bytes = [&] {
    std::ifstream in(data + "/node.key", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  auto second = node({"keygen", "--data-dir", data});
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_TRUE(contains(second.err, "already exists")) << second.err;
  EXPECT_TRUE(contains(second.err, "--force")) << second.err;
  std::ifstream in(data + "/node.key", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), key_bytes) << "a refused keygen changed the key";

  auto who = node({"whoami", "--data-dir", data, "--account", "bob", "--coordinator", "http://x"});
  ASSERT_EQ(who.exit_code, 0) << who.err;
  EXPECT_TRUE(contains(who.out, "node         " + id)) << who.out;
  EXPECT_TRUE(contains(who.out, "account      bob")) << who.out;
  EXPECT_TRUE(contains(who.out, "coordinator  http://x")) << who.out;

  auto forced = node({"keygen", "--data-dir", data, "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  const std::string new_id = first_line(forced.out);
  EXPECT_TRUE(std::regex_match(new_id, kNodeId)) << new_id;
  EXPECT_NE(new_id, id);
  ASSERT_EQ(::stat((data + "/node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto who_now = node({"whoami", "--data-dir", data});
  EXPECT_TRUE(contains(who_now.out, new_id)) << who_now.out;
}

TEST_F(NodeCliTest, KeygenKeepsTheKeyPrivateUnderAPermissiveUmask) {
  const mode_t old = ::umask(0);
  auto r = node({"keygen", "--data-dir", dir_.file("open")});
  ::umask(old);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(dir_.file("open/node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(NodeCliTest, KeygenMakesMissingParentFolders) {
  const std::string data = dir_.file("a/b/c");
  auto r = node({"keygen", "--data-dir", data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(exists(data + "/node.key"));
  struct stat st {};
  ASSERT_EQ(::stat(dir_.file("a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "a new parent folder is open to others";
  // A data dir that cannot be made is refused with the reason.
  write("plain", "a file");
  auto blocked = node({"keygen", "--data-dir", dir_.file("plain/sub")});
  EXPECT_EQ(blocked.exit_code, 2);
  EXPECT_TRUE(contains(blocked.err, dir_.file("plain"))) << blocked.err;
}

TEST_F(NodeCliTest, WhoamiJsonAndMissingKey) {
  const std::string data = dir_.file("node");
  auto none = node({"whoami", "--data-dir", data});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "meadow-node keygen")) << none.err;
  EXPECT_TRUE(none.out.empty()) << none.out;
  EXPECT_FALSE(exists(data + "/node.key")) << "whoami must not make a key";

  auto made = node({"keygen", "--data-dir", data});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto who = node({"whoami", "--data-dir", data, "--account", "bob", "--coordinator", "http://x", "--json"});
  ASSERT_EQ(who.exit_code, 0) << who.err;
  json::object o = parse(who.out);
  EXPECT_EQ(o["node_id"], json::value(first_line(made.out)));
  EXPECT_EQ(o["account"], "bob");
  EXPECT_EQ(o["coordinator"], "http://x");
  EXPECT_EQ(o["key_file"], json::value(data + "/node.key"));
  ASSERT_TRUE(o["public_key"].is_string());
  EXPECT_EQ(o["public_key"].as_string().size(), 44u) << "base64 of a 32-byte Ed25519 key";

  // An unset account and coordinator say so rather than printing nothing.
  auto bare = node({"whoami", "--data-dir", data});
  EXPECT_TRUE(contains(bare.out, "account      (not set)")) << bare.out;
}

TEST_F(NodeCliTest, SettingsFlagsApplyInOrderAfterTheConfigFile) {
  const std::string data = dir_.file("node");
  ASSERT_EQ(node({"keygen", "--data-dir", data}).exit_code, 0);
  auto conf = write("node.conf", "coordinator = https://from-file.example\naccount = alice\ndata_dir = " + data + "\n");
  auto from_file = parse(node({"whoami", "--config", conf, "--json"}).out);
  EXPECT_EQ(from_file["account"], "alice");
  EXPECT_EQ(from_file["coordinator"], "https://from-file.example");
  auto flag = parse(node({"whoami", "--config", conf, "--account", "bob", "--json"}).out);
  EXPECT_EQ(flag["account"], "bob");
  auto set = parse(node({"whoami", "--config", conf, "--account", "bob", "--set", "account=carol", "--json"}).out);
  EXPECT_EQ(set["account"], "carol");
  auto inline_value = parse(node({"whoami", "--config=" + conf, "--account=dave", "--json"}).out);
  EXPECT_EQ(inline_value["account"], "dave");

  auto bad_set = node({"whoami", "--config", conf, "--set", "max_concurrent=0"});
  EXPECT_EQ(bad_set.exit_code, 2);
  EXPECT_TRUE(contains(bad_set.err, "max_concurrent")) << bad_set.err;
}

// ---- pause, resume, status, log ------------------------------------------------------------

TEST_F(NodeCliTest, StateCommandsWithoutADatabaseSayToRunFirst) {
  const std::string data = dir_.file("fresh");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"pause", "--data-dir", data}, std::vector<std::string>{"pause", "--data-dir", data, "--for", "1h"},
        std::vector<std::string>{"resume", "--data-dir", data}, std::vector<std::string>{"status", "--data-dir", data},
        std::vector<std::string>{"status", "--data-dir", data, "--json"}, std::vector<std::string>{"log", "--data-dir", data},
        std::vector<std::string>{"log", "--data-dir", data, "--csv"}}) {
    auto r = node(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_TRUE(contains(r.err, "meadow-node " + args[0] + ": no node database at " + data + "/node.db")) << r.err;
    EXPECT_TRUE(contains(r.err, "run 'meadow-node run' first")) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_FALSE(exists(data)) << "a read-only question created the data folder";
}

TEST_F(NodeCliTest, StateCommandsLeaveAForeignDatabaseUntouched) {
  const std::string data = dir_.file("node");
  std::filesystem::create_directories(data);
  const std::string junk = "this is somebody's notes, not a database\n";
  std::ofstream(data + "/node.db", std::ios::binary) << junk;
  for (const char* cmd : {"pause", "resume", "status", "log"}) {
    auto r = node({cmd, "--data-dir", data});
    EXPECT_EQ(r.exit_code, 2) << cmd;
    EXPECT_TRUE(contains(r.err, "not a Meadow node store")) << cmd << ": " << r.err;
  }
  std::ifstream in(data + "/node.db", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), junk);
}

TEST_F(NodeCliTest, PauseResumeStatusAndLogAgainstARunningDaemon) {
  const std::string data = dir_.file("node");
  auto daemon = start_daemon(data);
  ASSERT_TRUE(wait_for([&] { return exists(data + "/node.db"); }, 15s)) << daemon_log();

  // The daemon publishes its status within a tick of starting.
  int code = -1;
  json::object st;
  ASSERT_TRUE(wait_for(
      [&] {
        st = status_json(data, &code);
        return code == 0;
      },
      15s))
      << meadow::to_json(st) << "\n" << daemon_log();
  EXPECT_EQ(st["running"], true);
  EXPECT_EQ(st["pid"], static_cast<std::int64_t>(daemon->pid()));
  EXPECT_EQ(st["account"], "a");
  EXPECT_EQ(st["paused_until_ms"], 0);
  ASSERT_TRUE(st["node_id"].is_string());
  const std::string id(st["node_id"].as_string());
  EXPECT_TRUE(std::regex_match(id, kNodeId)) << id;
  ASSERT_TRUE(st["totals"].is_object());
  EXPECT_EQ(st["totals"].as_object().at("fetched"), 0);
  auto who = node({"whoami", "--data-dir", data});
  EXPECT_TRUE(contains(who.out, id)) << who.out;
  struct stat key_st {};
  ASSERT_EQ(::stat((data + "/node.key").c_str(), &key_st), 0);
  EXPECT_EQ(key_st.st_mode & 0777, 0600u);

  auto text = node({"status", "--data-dir", data});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(contains(text.out, "running     yes (pid " + std::to_string(daemon->pid()) + ")")) << text.out;
  EXPECT_TRUE(contains(text.out, "node        " + id)) << text.out;

  // pause --for: until then, and the daemon stops taking work.
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  auto pause = node({"pause", "--data-dir", data, "--for", "1h"});
  const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  ASSERT_EQ(pause.exit_code, 0) << pause.err;
  EXPECT_TRUE(contains(pause.out, "paused until 20")) << pause.out;
  st = status_json(data);
  ASSERT_TRUE(st["paused_until_ms"].is_int64()) << meadow::to_json(st);
  EXPECT_GE(st["paused_until_ms"].as_int64(), before + 3'600'000);
  EXPECT_LE(st["paused_until_ms"].as_int64(), after + 3'600'000);
  EXPECT_TRUE(wait_for(
      [&] {
        st = status_json(data);
        return st["state"] == "limited" && contains(std::string(st["reason"].as_string()), "paused until");
      },
      10s))
      << meadow::to_json(st);

  // pause with no end, then resume.
  auto forever = node({"pause", "--data-dir", data});
  ASSERT_EQ(forever.exit_code, 0) << forever.err;
  EXPECT_TRUE(contains(forever.out, "meadow-node resume")) << forever.out;
  EXPECT_EQ(status_json(data)["paused_until_ms"], -1);
  EXPECT_TRUE(contains(node({"status", "--data-dir", data}).out, "paused      until resumed"));
  EXPECT_TRUE(wait_for(
      [&] {
        st = status_json(data);
        return st["reason"] == "paused until you resume";
      },
      10s))
      << meadow::to_json(st);

  auto resume = node({"resume", "--data-dir", data});
  ASSERT_EQ(resume.exit_code, 0) << resume.err;
  EXPECT_EQ(first_line(resume.out), "resumed");
  EXPECT_EQ(status_json(data)["paused_until_ms"], 0);
  EXPECT_FALSE(contains(node({"status", "--data-dir", data}).out, "paused      until"));
  EXPECT_TRUE(wait_for(
      [&] {
        st = status_json(data);
        return st["state"] != "limited";
      },
      10s))
      << meadow::to_json(st);

  // A bad duration is refused and changes nothing.
  auto banana = node({"pause", "--data-dir", data, "--for", "banana"});
  EXPECT_EQ(banana.exit_code, 2);
  EXPECT_TRUE(contains(banana.err, "'banana' is not a duration")) << banana.err;
  auto negative = node({"pause", "--data-dir", data, "--for", "-1h"});
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_EQ(status_json(data)["paused_until_ms"], 0);

  // The activity log of a node that never fetched.
  auto log = node({"log", "--data-dir", data});
  EXPECT_EQ(log.exit_code, 0) << log.err;
  EXPECT_EQ(log.out, "no fetches yet\n");
  auto csv = node({"log", "--data-dir", data, "--csv"});
  EXPECT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out, "time,task_id,url,final_url,http_status,bytes,wire_bytes,outcome,reason,state,record_id,receipt\n");
  auto log_json = node({"log", "--data-dir", data, "--json", "--since", "1d"});
  EXPECT_EQ(log_json.exit_code, 0) << log_json.err;
  EXPECT_EQ(log_json.out, "");
  auto bad_since = node({"log", "--data-dir", data, "--since", "yesterday"});
  EXPECT_EQ(bad_since.exit_code, 2);
  EXPECT_TRUE(contains(bad_since.err, "'yesterday'")) << bad_since.err;

  // SIGTERM: a clean stop within a few seconds, and status then says not running.
  const auto t0 = std::chrono::steady_clock::now();
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0) << daemon_log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_TRUE(contains(daemon_log(), "stopping on SIGTERM")) << daemon_log();
  st = status_json(data, &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(st["running"], false);
  EXPECT_EQ(st["state"], "stopped");
  auto stopped_text = node({"status", "--data-dir", data});
  EXPECT_EQ(stopped_text.exit_code, 1);
  EXPECT_TRUE(contains(stopped_text.out, "running     no")) << stopped_text.out;

  // With the daemon stopped, pause and resume still record what the next start obeys.
  ASSERT_EQ(node({"pause", "--data-dir", data}).exit_code, 0);
  EXPECT_EQ(status_json(data)["paused_until_ms"], -1);
  ASSERT_EQ(node({"resume", "--data-dir", data}).exit_code, 0);
  EXPECT_EQ(status_json(data)["paused_until_ms"], 0);
}

TEST_F(NodeCliTest, StatusSaysNotRunningOnceTheDaemonHasStopped) {
  const std::string data = dir_.file("node");
  auto daemon = start_daemon(data);
  ASSERT_TRUE(wait_for([&] { return exists(data + "/node.db"); }, 15s)) << daemon_log();
  int code = -1;
  json::object st;
  ASSERT_TRUE(wait_for(
      [&] {
        st = status_json(data, &code);
        return code == 0;
      },
      15s))
      << daemon_log();
  daemon->signal(SIGTERM);
  // The daemon writes its last status ("stopped") and exits; until its parent reaps it the
  // process still exists, as it may under any supervisor.
  ASSERT_TRUE(wait_for(
      [&] {
        st = status_json(data, &code);
        return st["state"] == "stopped";
      },
      10s))
      << meadow::to_json(st) << "\n" << daemon_log();
  EXPECT_EQ(code, 1) << meadow::to_json(st);
  EXPECT_EQ(st["running"], false);
  EXPECT_EQ(daemon->wait(10s), 0) << daemon_log();
}

TEST_F(NodeCliTest, DaemonStartsPausedWhenPausedWhileStopped) {
  const std::string data = dir_.file("node");
  make_node_db(data);
  ASSERT_EQ(node({"pause", "--data-dir", data}).exit_code, 0);
  auto daemon = start_daemon(data);
  json::object st;
  EXPECT_TRUE(wait_for(
      [&] {
        int code = -1;
        st = status_json(data, &code);
        return code == 0 && st["reason"] == "paused until you resume";
      },
      15s))
      << meadow::to_json(st) << "\n" << daemon_log();
  daemon->signal(SIGINT);
  EXPECT_EQ(daemon->wait(10s), 0) << daemon_log();
  EXPECT_TRUE(contains(daemon_log(), "stopping on SIGINT")) << daemon_log();
}

TEST_F(NodeCliTest, NumericFlagsRefuseWhatIsNotANumber) {
  const std::string data = dir_.file("node");
  make_node_db(data);
  for (const char* bad : {"abc", "10x", "-3"}) {
    auto r = node({"log", "--data-dir", data, "--limit", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_TRUE(contains(r.err, "--limit")) << r.err;
  }
  auto run = node({"run", "--data-dir", data, "--coordinator", "http://127.0.0.1:9", "--account", "a", "--status-every",
                   "soon"},
                  "", 5s);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(contains(run.err, "--status-every")) << run.err;
}

// ---- config --------------------------------------------------------------------------------

TEST_F(NodeCliTest, ConfigKeysListsEveryKeyWithItsDefault) {
  auto r = node({"config", "keys"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* key : {"coordinator", "account", "node_name", "data_dir", "key_file", "log_level", "max_concurrent",
                          "lease_batch", "long_poll_ms", "upload_batch", "upload_delay_ms", "max_page_bytes",
                          "fetch_timeout_ms", "connect_timeout_ms", "low_speed_bytes", "low_speed_ms", "max_redirects",
                          "host_interval_ms", "max_crawl_delay_ms", "user_agent", "rate", "daily_cap", "monthly_cap",
                          "schedule", "allow_loopback"}) {
    const std::regex line("(^|\n)" + std::string(key) + " +[^\n]*[a-z][^\n]*(\n|$)");
    EXPECT_TRUE(std::regex_search(r.out, line)) << key << " missing from:\n" << r.out;
  }
  EXPECT_TRUE(std::regex_search(r.out, std::regex("(^|\n)max_concurrent +4 ")));
  EXPECT_TRUE(std::regex_search(r.out, std::regex("(^|\n)allow_loopback +false ")));
  EXPECT_TRUE(std::regex_search(r.out, std::regex("(^|\n)user_agent +meadow/")));

  auto extra = node({"config", "keys", "more"});
  EXPECT_EQ(extra.exit_code, 2);
  auto none = node({"config"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "config keys")) << none.err;
  auto unknown = node({"config", "frob"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "config check FILE")) << unknown.err;
}

TEST_F(NodeCliTest, ConfigCheckAcceptsAGoodFile) {
  auto good = write("good.conf",
                    "# my node\n"
                    "coordinator = https://coord.example\n"
                    "account = bob\n"
                    "max_concurrent = 8\n"
                    "rate = 2MB\n"
                    "daily_cap = 2GB\n"
                    "monthly_cap = 50GB\n"
                    "schedule = \"mon-fri 22:00-07:00, sat,sun 00:00-24:00\"\n"
                    "allow_loopback = false\n");
  auto r = node({"config", "check", good});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, good + ": ok\n");
}

TEST_F(NodeCliTest, ConfigCheckNamesTheLineAndKey) {
  struct Case {
    std::string line;
    std::string says;
  };
  for (const Case& c : {Case{"colour = blue", "unknown config key 'colour'"},
                        Case{"max_concurrent = 0", "config key 'max_concurrent': '0' is not an integer from 1 to 256"},
                        Case{"schedule = 'someday 25:00-26:00'", "schedule '"},
                        Case{"schedule = someday 25:00-26:00", "unknown day name"},
                        Case{"daily_cap = lots", "config key 'daily_cap': 'lots'"},
                        Case{"allow_loopback = maybe", "config key 'allow_loopback'"},
                        Case{"just words", "expected 'key = value'"}}) {
    auto path = write("bad.conf", "# node\ncoordinator = https://coord.example\naccount = bob\n" + c.line + "\n");
    auto r = node({"config", "check", path});
    EXPECT_EQ(r.exit_code, 2) << c.line;
    EXPECT_TRUE(contains(r.err, "meadow-node config: " + path + ": line 4: ")) << r.err;
    EXPECT_TRUE(contains(r.err, c.says)) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  // What single keys cannot check: the file as a whole needs a coordinator and an account.
  auto no_coordinator = node({"config", "check", write("nc.conf", "account = bob\n")});
  EXPECT_EQ(no_coordinator.exit_code, 2);
  EXPECT_TRUE(contains(no_coordinator.err, "no coordinator")) << no_coordinator.err;
  auto no_account = node({"config", "check", write("na.conf", "coordinator = https://coord.example\n")});
  EXPECT_EQ(no_account.exit_code, 2);
  EXPECT_TRUE(contains(no_account.err, "no account")) << no_account.err;
  auto bad_url = node({"config", "check", write("bu.conf", "coordinator = coord.example\naccount = bob\n")});
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_TRUE(contains(bad_url.err, "coordinator")) << bad_url.err;

  auto missing = node({"config", "check", dir_.file("nope.conf")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(contains(missing.err, "nope.conf")) << missing.err;
}

// ---- run -----------------------------------------------------------------------------------

TEST_F(NodeCliTest, RunWithBadSettingsSaysWhatIsMissingAndTouchesNothing) {
  const std::string data = dir_.file("node");
  const std::string coordinator = "http://127.0.0.1:" + std::to_string(free_port());
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const Case& c : {
           Case{{"--account", "a"}, "no coordinator: pass --coordinator URL"},
           Case{{"--coordinator", coordinator}, "no account: pass --account NAME"},
           Case{{"--coordinator", "not a url", "--account", "a"}, "coordinator: "},
           Case{{"--coordinator", coordinator, "--account", "a", "--set", "max_concurrent=0"}, "max_concurrent"},
           Case{{"--coordinator", coordinator, "--account", "a", "--set", "colour=blue"}, "unknown config key 'colour'"},
           Case{{"--coordinator", coordinator, "--account", "a", "--set", "nonsense"}, "--set wants KEY=VALUE"},
           Case{{"--coordinator", coordinator, "--account", "a", "--set", "schedule=someday 25:00-26:00"}, "schedule"},
           Case{{"--coordinator", coordinator, "--account", "a", "--config", dir_.file("nope.conf")}, "nope.conf"},
       }) {
    std::vector<std::string> args{"run", "--data-dir", data};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = node(args, "", 10s);
    EXPECT_EQ(r.exit_code, 2) << c.says;
    EXPECT_TRUE(contains(r.err, "meadow-node run: ")) << r.err;
    EXPECT_TRUE(contains(r.err, c.says)) << r.err;
  }
  EXPECT_FALSE(exists(data)) << "a refused start created the data folder";
}

}  // namespace
}  // namespace meadow::testing
