// robots.txt: the 146 expectations of the RFC 9309 conformance suite in
// ../shared/data/robots-spec, plus the parts of our API the suite does not reach.
#include "common/robots.h"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace meadow::robots {
namespace {

struct Expectation {
  std::string url, agent, file, explanation;
  bool allowed = true;
  bool google_specific = false;
};
struct Case {
  std::string robotstxt;
  std::vector<Expectation> expectations;
};

// Reads the protobuf text format the suite uses: adjacent C-escaped strings concatenate.
class TextProto {
 public:
  explicit TextProto(std::string text) : t_(std::move(text)) {}

  std::vector<Case> cases(const std::string& file) {
    std::vector<Case> out;
    std::string key;
    while (next_key(key)) {
      if (key == "robotstxt") {
        out.push_back({strings(), {}});
      } else if (key == "testurl" && !out.empty()) {
        out.back().expectations.push_back({strings(), "", file, "", true, false});
      } else if (!out.empty() && !out.back().expectations.empty()) {
        Expectation& e = out.back().expectations.back();
        if (key == "useragent") e.agent = strings();
        else if (key == "expected_outcome") e.allowed = word() == "ALLOWED";
        else if (key == "test_type") e.google_specific = word() == "GOOGLE_SPECIFIC";
        else if (key == "additional_explanation") e.explanation = strings();
      }
    }
    return out;
  }

 private:
  void skip_space() {
    while (i_ < t_.size()) {
      if (std::isspace(static_cast<unsigned char>(t_[i_]))) {
        ++i_;
      } else if (t_[i_] == '#') {
        while (i_ < t_.size() && t_[i_] != '\n') ++i_;
      } else {
        break;
      }
    }
  }
  bool next_key(std::string& key) {
    for (;;) {
      skip_space();
      if (i_ >= t_.size()) return false;
      if (std::isalpha(static_cast<unsigned char>(t_[i_])) || t_[i_] == '_') {
        std::size_t start = i_;
        while (i_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[i_])) || t_[i_] == '_')) ++i_;
        key = t_.substr(start, i_ - start);
        skip_space();
        if (i_ < t_.size() && t_[i_] == ':') {
          ++i_;
          return true;
        }
      } else if (t_[i_] == '"') {
        (void)strings();
      } else {
        ++i_;
      }
    }
  }
  std::string word() {
    skip_space();
    std::size_t start = i_;
    while (i_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[i_])) || t_[i_] == '_')) ++i_;
    return t_.substr(start, i_ - start);
  }
  std::string strings() {
    std::string out;
    for (;;) {
      skip_space();
      if (i_ >= t_.size() || t_[i_] != '"') return out;
      ++i_;
      while (i_ < t_.size() && t_[i_] != '"') {
        char c = t_[i_++];
        if (c != '\\') {
          out += c;
          continue;
        }
        char e = t_[i_++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'x': {
            int v = 0, n = 0;
            while (n < 2 && std::isxdigit(static_cast<unsigned char>(t_[i_]))) {
              v = v * 16 + std::stoi(std::string(1, t_[i_++]), nullptr, 16);
              ++n;
            }
            out += static_cast<char>(v);
            break;
          }
          default:
            if (e >= '0' && e <= '7') {
              int v = e - '0', n = 1;
              while (n < 3 && t_[i_] >= '0' && t_[i_] <= '7') {
                v = v * 8 + (t_[i_++] - '0');
                ++n;
              }
              out += static_cast<char>(v);
            } else {
              out += e;  // \" \\ \'
            }
        }
      }
      ++i_;  // closing quote
    }
  }

  std::string t_;
  std::size_t i_ = 0;
};

std::string spec_dir() { return std::string(MEADOW_SOURCE_DIR) + "/../shared/data/robots-spec"; }

TEST(RobotsSpec, EveryExpectationOfTheConformanceSuitePasses) {
  ASSERT_TRUE(std::filesystem::is_directory(spec_dir())) << spec_dir() << " is missing";
  int total = 0, google = 0, failed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(spec_dir())) {
    if (entry.path().extension() != ".textproto") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string file = entry.path().filename().string();
    for (const Case& c : TextProto(ss.str()).cases(file)) {
      RobotsTxt robots = RobotsTxt::parse(c.robotstxt);
      for (const Expectation& e : c.expectations) {
        ++total;
        google += e.google_specific;
        Verdict v = robots.check(e.agent, path_of_url(e.url));
        if (v.allowed != e.allowed) {
          ++failed;
          ADD_FAILURE() << file << ": " << e.url << " for " << e.agent << " should be "
                        << (e.allowed ? "ALLOWED" : "DISALLOWED") << (e.google_specific ? " (Google-specific)" : "")
                        << "\nrobots.txt:\n" << c.robotstxt << "\nwhy: " << e.explanation;
        }
      }
    }
  }
  EXPECT_EQ(total, 146);
  EXPECT_EQ(google, 22);
  EXPECT_EQ(failed, 0);
}

TEST(Robots, VerdictNamesTheRuleAndGroupThatDecided) {
  auto r = RobotsTxt::parse("User-agent: *\nDisallow: /private\n\nUser-agent: MeadowBot\nAllow: /private/ok\nDisallow: /private\n");
  auto v = r.check("MeadowBot", "/private/ok/page");
  EXPECT_TRUE(v.allowed);
  ASSERT_TRUE(v.rule.has_value());
  EXPECT_EQ(v.rule->pattern, "/private/ok");
  EXPECT_EQ(v.rule->line, 5);
  EXPECT_EQ(v.group, "meadowbot");
  auto other = r.check("OtherBot", "/private/x");
  EXPECT_FALSE(other.allowed);
  EXPECT_EQ(other.group, "*");
  auto none = r.check("OtherBot", "/public");
  EXPECT_TRUE(none.allowed);
  EXPECT_FALSE(none.rule.has_value());
}

TEST(Robots, CrawlDelayAndSitemapsAreRead) {
  auto r = RobotsTxt::parse("Sitemap: https://a.example/s.xml\nUser-agent: MeadowBot\nCrawl-delay: 2.5\nDisallow: /x\n"
                            "User-agent: *\nCrawl-delay: oops\n");
  EXPECT_EQ(r.crawl_delay("MeadowBot").value_or(-1), 2.5);
  EXPECT_FALSE(r.crawl_delay("Other").has_value());
  ASSERT_EQ(r.sitemaps().size(), 1u);
  EXPECT_EQ(r.sitemaps()[0], "https://a.example/s.xml");
}

TEST(Robots, HostileInputIsBounded) {
  std::string huge = "User-agent: *\n";
  while (huge.size() < kMaxBytes) huge += "Disallow: /a\n";
  huge += "Disallow: /zzz-after-the-limit\n";
  auto r = RobotsTxt::parse(huge);
  EXPECT_TRUE(r.check("x", "/zzz-after-the-limit").allowed);
  EXPECT_FALSE(r.check("x", "/a").allowed);
  std::string stars(10'000, '*');
  auto s = RobotsTxt::parse("User-agent: *\nDisallow: /" + stars + "x$\n");
  EXPECT_FALSE(s.check("x", "/" + std::string(5000, 'y') + "x").allowed);
  auto binary = RobotsTxt::parse(std::string("\0\x01\xff\xfe garbage \n\n::::\n", 20));
  EXPECT_TRUE(binary.check("x", "/").allowed);
}

TEST(Robots, WildcardsAndAnchors) {
  EXPECT_TRUE(matches("/fish.php?id=1", "/*.php"));
  EXPECT_TRUE(matches("/fish.php", "/*.php$"));
  EXPECT_FALSE(matches("/fish.php?id=1", "/*.php$"));
  EXPECT_TRUE(matches("/a/b/c", "/a*c"));
  EXPECT_FALSE(matches("/a/b/d", "/a*c"));
  EXPECT_EQ(path_of_url("https://a.example"), "/");
  EXPECT_EQ(path_of_url("https://a.example/p?q=1#frag"), "/p?q=1");
  EXPECT_EQ(path_of_url("https://a.example?q=1"), "/?q=1");
}

}  // namespace
}  // namespace meadow::robots
