// The node's robots.txt cache without a network: the fetch and the clock are injected, so a
// test decides what each robots.txt request returns and when, and moves time by hand.
#include "client/core/robots_cache.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace meadow::client {
namespace {

constexpr std::int64_t kTtl = 24LL * 3600 * 1000;
constexpr std::int64_t kFailureTtl = 10LL * 60 * 1000;

constexpr std::string_view kRules =
    "User-agent: *\n"
    "Disallow: /everyone-out/\n"
    "\n"
    "User-agent: meadow\n"
    "Disallow: /private/\n"
    "Allow: /private/press.html\n"
    "Crawl-delay: 2.5\n";

// A robots.txt fetch the test answers by hand.
struct PendingFetch {
  std::string url;
  std::function<void(RobotsFetch)> done;
};

// A cache whose fetches queue up in `pending` and whose clock is `now`.
struct Harness {
  std::int64_t now = 1'000'000;
  std::vector<PendingFetch> pending;
  int fetches = 0;
  RobotsCache cache{"meadow",
                    [this](const std::string& url, std::function<void(RobotsFetch)> done) {
                      ++fetches;
                      pending.push_back({url, std::move(done)});
                    },
                    [this] { return now; }, kTtl, kFailureTtl};

  // Answers the oldest outstanding fetch.
  void answer(int status, std::string body = {}, std::string error = {}) {
    ASSERT_FALSE(pending.empty()) << "no robots.txt fetch is waiting for an answer";
    PendingFetch f = std::move(pending.front());
    pending.erase(pending.begin());
    f.done(RobotsFetch{status, std::move(body), std::move(error), ""});
  }

  // Asks for a verdict; nullopt while the cache is still waiting for its fetch.
  std::shared_ptr<std::optional<RobotsVerdict>> ask(const std::string& url) {
    auto out = std::make_shared<std::optional<RobotsVerdict>>();
    auto parsed = url::parse(url);
    EXPECT_TRUE(parsed.ok()) << url;
    if (!parsed.ok()) return out;
    cache.check(*parsed, [out](RobotsVerdict v) { *out = std::move(v); });
    return out;
  }

  // Asks for a verdict that must be known at once (cached).
  RobotsVerdict cached(const std::string& url) {
    auto v = ask(url);
    EXPECT_TRUE(v->has_value()) << url << " was not answered from the cache";
    return v->value_or(RobotsVerdict{false, "", "not answered", 0});
  }
};

TEST(RobotsCache, TwoHundredAppliesTheRulesOfTheAgentsGroup) {
  Harness h;
  auto first = h.ask("http://example.com/private/secret.html");
  ASSERT_EQ(h.pending.size(), 1u);
  EXPECT_EQ(h.pending[0].url, "http://example.com:80/robots.txt");
  EXPECT_FALSE(first->has_value()) << "a verdict before robots.txt arrived";
  h.answer(200, std::string(kRules));

  ASSERT_TRUE(first->has_value());
  EXPECT_FALSE((*first)->allowed);
  EXPECT_NE((*first)->reason.find("/private/"), std::string::npos) << (*first)->reason;

  EXPECT_TRUE(h.cached("http://example.com/private/press.html").allowed);
  EXPECT_TRUE(h.cached("http://example.com/articles/1.html").allowed);
  // The meadow group replaces the * group: its rules alone apply.
  EXPECT_TRUE(h.cached("http://example.com/everyone-out/x.html").allowed);
  EXPECT_EQ(h.fetches, 1);
}

TEST(RobotsCache, CrawlDelaySurfacesInTheVerdictInMilliseconds) {
  Harness h;
  auto v = h.ask("http://example.com/");
  h.answer(200, std::string(kRules));
  ASSERT_TRUE(v->has_value());
  EXPECT_TRUE((*v)->allowed);
  EXPECT_EQ((*v)->crawl_delay_ms, 2500);
  // A disallowed page carries it too; so does a cached answer.
  EXPECT_EQ(h.cached("http://example.com/private/x").crawl_delay_ms, 2500);

  Harness none;
  auto w = none.ask("http://example.org/");
  none.answer(200, "User-agent: *\nDisallow: /x\n");
  ASSERT_TRUE(w->has_value());
  EXPECT_EQ((*w)->crawl_delay_ms, 0);
}

TEST(RobotsCache, ClientErrorsMeanNoRulesAllowAll) {
  for (int status : {400, 401, 403, 404, 410, 499}) {
    SCOPED_TRACE("HTTP " + std::to_string(status));
    Harness h;
    auto v = h.ask("http://example.com/private/secret.html");
    h.answer(status, "User-agent: *\nDisallow: /\n");  // an error page's body is not rules
    ASSERT_TRUE(v->has_value());
    EXPECT_TRUE((*v)->allowed) << (*v)->reason;
    EXPECT_EQ((*v)->crawl_delay_ms, 0);
  }
}

TEST(RobotsCache, ServerErrorsAndFailuresDisallowTheWholeSite) {
  struct Case {
    int status;
    std::string error;
    std::string in_reason;
  };
  const std::vector<Case> cases = {
      {500, "", "500"},
      {429, "", "429"},  // too many requests: the site wants less, so it gets none for a while
      {503, "", "503"},
      {599, "", "599"},
      {0, "10.0.0.1 port 80 is a loopback, private, link-local or reserved address", "10.0.0.1"},
      {0, "Connection timed out after 10000 milliseconds", "timed out"},
      {0, "", "no response"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("status " + std::to_string(c.status) + " error '" + c.error + "'");
    Harness h;
    auto v = h.ask("http://example.com/articles/1.html");
    h.answer(c.status, "User-agent: *\nAllow: /\n", c.error);
    ASSERT_TRUE(v->has_value());
    EXPECT_FALSE((*v)->allowed);
    EXPECT_NE((*v)->reason.find(c.in_reason), std::string::npos) << (*v)->reason;
    EXPECT_FALSE(h.cached("http://example.com/").allowed);
  }
}

TEST(RobotsCache, ConcurrentChecksOfOneOriginShareOneFetch) {
  Harness h;
  auto a = h.ask("http://example.com/a.html");
  auto b = h.ask("http://example.com/private/b.html");
  auto c = h.ask("http://example.com/c.html");
  EXPECT_EQ(h.fetches, 1);
  EXPECT_EQ(h.cache.size(), 1u);
  EXPECT_FALSE(a->has_value());
  EXPECT_FALSE(b->has_value());
  EXPECT_FALSE(c->has_value());

  h.answer(200, std::string(kRules));
  ASSERT_TRUE(a->has_value() && b->has_value() && c->has_value());
  EXPECT_TRUE((*a)->allowed);
  EXPECT_FALSE((*b)->allowed) << "each waiter is judged on its own path";
  EXPECT_TRUE((*c)->allowed);
  EXPECT_EQ(h.fetches, 1);
}

TEST(RobotsCache, EachOriginHasItsOwnFile) {
  Harness h;
  h.ask("http://example.com/");
  h.ask("https://example.com/");
  h.ask("http://example.com:8080/");
  h.ask("http://www.example.com/");
  h.ask("http://[2606:2800:220:1::1]/");
  ASSERT_EQ(h.fetches, 5);
  std::vector<std::string> urls;
  for (const auto& p : h.pending) urls.push_back(p.url);
  EXPECT_EQ(urls,
            (std::vector<std::string>{"http://example.com:80/robots.txt", "https://example.com:443/robots.txt",
                                      "http://example.com:8080/robots.txt", "http://www.example.com:80/robots.txt",
                                      "http://[2606:2800:220:1::1]:80/robots.txt"}));
}

TEST(RobotsCache, AnswerGivenSynchronouslyByTheFetchStillReachesTheCaller) {
  int fetches = 0;
  RobotsCache cache(
      "meadow",
      [&](const std::string&, std::function<void(RobotsFetch)> done) {
        ++fetches;
        done(RobotsFetch{200, std::string(kRules), "", ""});
      },
      [] { return std::int64_t{5}; });
  std::optional<RobotsVerdict> v;
  cache.check(*url::parse("http://example.com/private/x"), [&](RobotsVerdict r) { v = std::move(r); });
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->allowed);
  cache.check(*url::parse("http://example.com/y"), [&](RobotsVerdict r) { v = std::move(r); });
  EXPECT_TRUE(v->allowed);
  EXPECT_EQ(fetches, 1);
}

TEST(RobotsCache, RulesAreKeptForTheTtlThenFetchedAgain) {
  Harness h;
  h.ask("http://example.com/");
  h.answer(200, std::string(kRules));

  h.now += kTtl - 1;
  EXPECT_FALSE(h.cached("http://example.com/private/x").allowed);
  EXPECT_EQ(h.fetches, 1);

  h.now += 1;
  auto v = h.ask("http://example.com/private/x");
  EXPECT_EQ(h.fetches, 2) << "an expired entry is fetched again";
  EXPECT_FALSE(v->has_value()) << "an expired entry must not answer";
  h.answer(200, "User-agent: *\nAllow: /\n");  // the site opened up meanwhile
  ASSERT_TRUE(v->has_value());
  EXPECT_TRUE((*v)->allowed);
}

TEST(RobotsCache, FailuresAreKeptOnlyForTheShorterTtl) {
  Harness h;
  h.ask("http://example.com/");
  h.answer(503);
  EXPECT_FALSE(h.cached("http://example.com/").allowed);

  h.now += kFailureTtl - 1;
  EXPECT_FALSE(h.cached("http://example.com/").allowed);
  EXPECT_EQ(h.fetches, 1);

  h.now += 1;
  auto v = h.ask("http://example.com/");
  EXPECT_EQ(h.fetches, 2) << "a failed robots.txt is asked again after the failure TTL";
  h.answer(200, std::string(kRules));
  ASSERT_TRUE(v->has_value());
  EXPECT_TRUE((*v)->allowed);

  // A good file is not asked again at the failure TTL.
  h.now += kFailureTtl + 1;
  EXPECT_TRUE(h.cached("http://example.com/").allowed);
  EXPECT_EQ(h.fetches, 2);
}

TEST(RobotsCache, NotFoundIsKeptForTheFullTtl) {
  Harness h;
  h.ask("http://example.com/");
  h.answer(404);
  h.now += kFailureTtl + 1;
  EXPECT_TRUE(h.cached("http://example.com/").allowed);
  EXPECT_EQ(h.fetches, 1);
}

TEST(RobotsCache, ChecksDuringARefetchWaitForIt) {
  Harness h;
  h.ask("http://example.com/");
  h.answer(200, std::string(kRules));
  h.now += kTtl;
  auto a = h.ask("http://example.com/private/a");
  auto b = h.ask("http://example.com/b");
  EXPECT_EQ(h.fetches, 2);
  EXPECT_FALSE(a->has_value());
  EXPECT_FALSE(b->has_value());
  h.answer(500);
  ASSERT_TRUE(a->has_value() && b->has_value());
  EXPECT_FALSE((*a)->allowed);
  EXPECT_FALSE((*b)->allowed);
}

}  // namespace
}  // namespace meadow::client
