// The edge node's fetcher against real loopback servers (the demo site, and a small recording
// server for what the site's access log cannot show): the address guard end to end (literal
// addresses, names that resolve to forbidden ones, redirects), the caps on bytes, time and
// redirects, robots.txt, and per-host politeness. No internet; every fetch runs under a
// watchdog so a hang fails instead of stalling the suite.
#include "client/core/fetcher.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "client/core/settings.h"
#include "common/json.h"
#include "support/demo_site.h"
#include "support/test_env.h"

namespace meadow::client {
namespace {

using namespace std::chrono_literals;
using testing::DemoSite;
using testing::TempDir;

constexpr std::size_t kMiB = 1024 * 1024;

// --- running the loop -----------------------------------------------------------------

// Runs `loop` until `done()` holds; false when `limit` passed first (the watchdog).
bool run_until(HttpLoop& loop, const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    loop.run_once(20);
  }
  return true;
}

// Fetches every URL at once and waits for all of them.
std::vector<FetchResult> fetch_all(HttpLoop& loop, Fetcher& fetcher, const std::vector<std::string>& urls,
                                   std::chrono::milliseconds limit = 15s) {
  auto results = std::make_shared<std::vector<std::optional<FetchResult>>>(urls.size());
  for (std::size_t i = 0; i < urls.size(); ++i) {
    fetcher.fetch(urls[i], [results, i](FetchResult r) { (*results)[i] = std::move(r); });
  }
  const bool finished = run_until(
      loop, [&] { return std::all_of(results->begin(), results->end(), [](const auto& r) { return r.has_value(); }); },
      limit);
  std::vector<FetchResult> out;
  for (std::size_t i = 0; i < urls.size(); ++i) {
    if ((*results)[i]) {
      out.push_back(std::move(*(*results)[i]));
    } else {
      FetchResult hung;
      hung.url = urls[i];
      hung.outcome = protocol::Outcome::failed;
      hung.reason_code = "test-watchdog";
      out.push_back(std::move(hung));
    }
  }
  EXPECT_TRUE(finished) << "a fetch did not finish within " << limit.count() << " ms";
  return out;
}

FetchResult fetch_one(HttpLoop& loop, Fetcher& fetcher, const std::string& url, std::chrono::milliseconds limit = 15s) {
  return fetch_all(loop, fetcher, {url}, limit).front();
}

std::string describe(const FetchResult& r) {
  return std::string("outcome=") + protocol::to_string(r.outcome) + " code=" + r.reason_code +
         " status=" + std::to_string(r.http_status) + " final=" + r.final_url + " reason=" + r.reason;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string normalized(const std::string& u) {
  auto p = url::parse(u);
  EXPECT_TRUE(p.ok()) << u;
  return p.ok() ? p->normalized : u;
}

// The forbidden destinations a redirect or a DNS answer might point at: v4 and v6 forms.
const std::vector<std::string> kForbiddenHosts = {
    "127.0.0.1",  "127.8.9.10",         "10.0.0.1",          "172.16.0.1",      "192.168.1.1",  "169.254.169.254",
    "100.64.0.1", "224.0.0.1",          "240.0.0.1",         "255.255.255.255", "0.0.0.0",      "[::1]",
    "[::]",       "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]", "[::127.0.0.1]",   "[::10.0.0.1]", "[64:ff9b::a00:1]",
    "[fc00::1]",  "[fd12::1]",          "[fe80::1]",         "[fec0::1]",       "[ff02::1]",
};

// --- the demo site fixture --------------------------------------------------------------

// Settings that reach a loopback server on `port` only, with no pacing between requests.
FetchSettings loopback_settings(std::uint16_t port) {
  FetchSettings s;
  s.user_agent = default_user_agent();
  s.guard.allow_loopback = true;
  s.guard.loopback_ports = {port};
  s.host_interval_ms = 0;
  return s;
}

class FetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    site_ = std::make_unique<DemoSite>(dir_.path());
    const Status st = site_->start();
    ASSERT_TRUE(st.ok()) << st.error().message;
    probes_ = site_->access_log().size();  // start() asks for a page until the site answers
  }

  // Settings that reach the demo site (loopback on its port only) and do not pace requests.
  FetchSettings site_settings() const {
    FetchSettings s = loopback_settings(site_->port());
    s.timeout_ms = 10'000;
    s.connect_timeout_ms = 2'000;
    return s;
  }

  FetchResult fetch(const std::string& url, const FetchSettings& s, std::chrono::milliseconds limit = 15s) {
    Fetcher f(loop_, clock_, s);
    return fetch_one(loop_, f, url, limit);
  }
  FetchResult fetch(const std::string& url) { return fetch(url, site_settings()); }

  std::string redirect_to(const std::string& target, int status = 302) const {
    return site_->url("/redirect/to?url=" + percent_encode(target) +
                      (status == 302 ? "" : "&status=" + std::to_string(status)));
  }

  // The requests the site saw from the code under test (after the readiness probes).
  std::vector<testing::AccessLogEntry> requests() const {
    auto log = site_->access_log();
    log.erase(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(std::min(probes_, log.size())));
    return log;
  }

  TempDir dir_;
  std::unique_ptr<DemoSite> site_;
  std::size_t probes_ = 0;
  HttpLoop loop_;
  SystemClock clock_;
};

class FetcherGuard : public FetcherTest {};
class FetcherCaps : public FetcherTest {};
class FetcherRobots : public FetcherTest {};
class FetcherPoliteness : public FetcherTest {};

// --- the guard, end to end ------------------------------------------------------------------

TEST_F(FetcherGuard, LiteralForbiddenAddressesAreSkippedWithoutAByteOnTheWire) {
  FetchSettings s;  // the defaults a contributor's node runs with: no loopback at all
  s.user_agent = default_user_agent();
  s.connect_timeout_ms = 2'000;
  Fetcher f(loop_, clock_, s);
  std::vector<std::string> urls;
  for (const auto& h : kForbiddenHosts) urls.push_back("http://" + h + "/");
  urls.push_back("http://169.254.169.254/latest/meta-data/iam/security-credentials/");
  urls.push_back("https://[fd12::1]:443/");
  urls.push_back(site_->url("/articles/1.html"));  // the real site, on loopback
  const auto results = fetch_all(loop_, f, urls);
  for (const auto& r : results) {
    SCOPED_TRACE(r.url);
    EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
    EXPECT_EQ(r.reason_code, "address-forbidden") << describe(r);
    EXPECT_EQ(r.wire_bytes, 0);
    EXPECT_EQ(r.http_status, 0);
    EXPECT_TRUE(r.body.empty());
  }
  EXPECT_TRUE(requests().empty()) << "the site on loopback was reached";
}

TEST_F(FetcherGuard, LocalhostNamesAreSkipped) {
  FetchSettings s;
  s.connect_timeout_ms = 2'000;
  Fetcher f(loop_, clock_, s);
  const auto results = fetch_all(loop_, f,
                                 {"http://localhost/", "https://localhost/", "http://api.localhost/",
                                  "http://localhost:" + std::to_string(site_->port()) + "/articles/1.html"});
  for (const auto& r : results) {
    SCOPED_TRACE(r.url);
    EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
    // "localhost:PORT" is refused for its port or its name; both keep the node off the machine.
    EXPECT_TRUE(r.reason_code == "address-forbidden" || r.reason_code == "port-forbidden") << describe(r);
    EXPECT_EQ(r.wire_bytes, 0);
  }
  EXPECT_TRUE(requests().empty()) << "the site on loopback was reached";
}

TEST_F(FetcherGuard, OtherPortsAndSchemesAreRefusedBeforeAnyRequest) {
  FetchSettings s;
  Fetcher f(loop_, clock_, s);
  const auto r1 = fetch_one(loop_, f, "http://93.184.216.34:8080/");
  EXPECT_EQ(r1.outcome, protocol::Outcome::skipped);
  EXPECT_EQ(r1.reason_code, "port-forbidden") << describe(r1);
  EXPECT_EQ(r1.wire_bytes, 0);
  for (const char* u : {"ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "not a url"}) {
    SCOPED_TRACE(u);
    const auto r = fetch_one(loop_, f, u);
    EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
    EXPECT_EQ(r.reason_code, "bad-url") << describe(r);
    EXPECT_EQ(r.wire_bytes, 0);
    EXPECT_TRUE(r.body.empty());
  }
}

// Names that resolve to forbidden addresses pass the URL check (it cannot see them); the
// connect-time check stops them. The mapping comes from CURLOPT_RESOLVE, as DNS would give it.
const std::vector<std::pair<std::string, std::string>> kEvilNames = {
    {"evil.test", "10.0.0.1"},        {"evil6.test", "[::ffff:127.0.0.1]"},
    {"lo.test", "127.0.0.1"},         {"lo6.test", "[::1]"},
    {"meta.test", "169.254.169.254"}, {"cgnat.test", "100.64.0.1"},
    {"lan.test", "192.168.1.1"},      {"ula.test", "[fd12::1]"},
    {"ll6.test", "[fe80::1]"},        {"nat64.test", "[64:ff9b::a00:1]"},
    {"compat.test", "[::10.0.0.1]"},  {"zero.test", "0.0.0.0"},
};

FetchSettings evil_dns_settings(std::uint16_t extra_port = 0) {
  FetchSettings s;
  s.user_agent = default_user_agent();
  s.connect_timeout_ms = 2'000;
  for (const auto& [name, addr] : kEvilNames) {
    s.resolve.push_back(name + ":80:" + addr);
    s.resolve.push_back(name + ":443:" + addr);
  }
  if (extra_port != 0) {
    s.guard.allow_loopback = true;
    s.guard.loopback_ports = {extra_port};
  }
  return s;
}

// What must hold whatever the reason code says: skipped, nothing sent, and the refusal is the
// guard's ("never connect there"), not a connection that failed on its own.
void expect_refused_at_connect(const FetchResult& r) {
  EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
  EXPECT_EQ(r.wire_bytes, 0) << describe(r);
  EXPECT_EQ(r.http_status, 0) << describe(r);
  EXPECT_NE(r.reason.find("never connect"), std::string::npos) << describe(r);
}

TEST_F(FetcherGuard, NamesResolvingToForbiddenAddressesAreStoppedAtConnectTime) {
  Fetcher f(loop_, clock_, evil_dns_settings());
  std::vector<std::string> urls;
  for (const auto& [name, addr] : kEvilNames) urls.push_back("http://" + name + "/page.html");
  urls.push_back("https://evil.test/");
  for (const auto& r : fetch_all(loop_, f, urls)) {
    SCOPED_TRACE(r.url);
    expect_refused_at_connect(r);
  }
}

TEST_F(FetcherGuard, NamesResolvingToForbiddenAddressesReportAddressForbidden) {
  Fetcher f(loop_, clock_, evil_dns_settings());
  for (const auto& [name, addr] : kEvilNames) {
    const auto r = fetch_one(loop_, f, "http://" + name + "/");
    SCOPED_TRACE(r.url);
    EXPECT_EQ(r.reason_code, "address-forbidden") << describe(r);
  }
}

TEST_F(FetcherGuard, AlternativeSpellingsOfLoopbackAreRefused) {
  // A resolver reads these as 127.0.0.1; the URL parser refuses the numeric forms outright.
  FetchSettings s;
  s.connect_timeout_ms = 2'000;
  Fetcher f(loop_, clock_, s);
  for (const char* u : {"http://127.1/", "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/"}) {
    SCOPED_TRACE(u);
    const auto r = fetch_one(loop_, f, u);
    EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
    EXPECT_EQ(r.reason_code, "bad-url") << describe(r);
    EXPECT_EQ(r.wire_bytes, 0) << describe(r);
  }
  for (const char* u :
       {"http://localhost./", "http://LocalHost/", "http://[::ffff:7f00:1]/", "http://[0:0:0:0:0:0:0:1]/"}) {
    SCOPED_TRACE(u);
    const auto r = fetch_one(loop_, f, u);
    EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
    EXPECT_EQ(r.reason_code, "address-forbidden") << describe(r);
    EXPECT_EQ(r.wire_bytes, 0) << describe(r);
  }
}

TEST_F(FetcherGuard, RedirectsToLoopbackOrPrivateAreNotFollowed) {
  for (const std::string path : {"/redirect/to-loopback", "/redirect/to-private"}) {
    SCOPED_TRACE(path);
    const auto r = fetch(site_->url(path));
    EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
    EXPECT_EQ(r.reason_code, "address-forbidden") << describe(r);
    ASSERT_EQ(r.redirects.size(), 1u);
    EXPECT_EQ(r.redirects[0].url, normalized(site_->url(path)));
    EXPECT_EQ(r.redirects[0].status, 302);
    EXPECT_EQ(r.final_url, path == "/redirect/to-loopback" ? "http://127.0.0.1/" : "http://10.0.0.1/");
    EXPECT_TRUE(r.body.empty());
  }
}

TEST_F(FetcherGuard, RedirectsToEveryForbiddenRangeAreNotFollowed) {
  Fetcher f(loop_, clock_, site_settings());
  std::vector<std::string> urls;
  std::vector<std::string> targets;
  for (const auto& h : kForbiddenHosts) {
    targets.push_back("http://" + h + "/");
    targets.push_back("https://" + h + "/admin");
  }
  // Loopback on another port than the site's is still loopback.
  targets.push_back("http://127.0.0.1:" + std::to_string(site_->port() == 65535 ? 1 : site_->port() + 1) + "/");
  for (const auto& t : targets) urls.push_back(redirect_to(t));
  const auto results = fetch_all(loop_, f, urls);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    SCOPED_TRACE(targets[i]);
    EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
    EXPECT_EQ(r.reason_code, "address-forbidden") << describe(r);
    ASSERT_EQ(r.redirects.size(), 1u) << describe(r);
    EXPECT_EQ(r.redirects[0].url, normalized(urls[i]));
    EXPECT_TRUE(r.body.empty());
  }
}

TEST_F(FetcherGuard, EveryRedirectStatusIsGuarded) {
  Fetcher f(loop_, clock_, site_settings());
  for (int status : {301, 302, 303, 307, 308}) {
    SCOPED_TRACE(status);
    const auto r = fetch_one(loop_, f, redirect_to("http://10.0.0.1/", status));
    EXPECT_EQ(r.reason_code, "address-forbidden") << describe(r);
    ASSERT_EQ(r.redirects.size(), 1u);
    EXPECT_EQ(r.redirects[0].status, status);
  }
}

TEST_F(FetcherGuard, RedirectToANameResolvingToAPrivateAddressIsStoppedAtConnectTime) {
  FetchSettings s = evil_dns_settings(site_->port());
  s.user_agent = default_user_agent();
  s.host_interval_ms = 0;
  Fetcher f(loop_, clock_, s);
  for (const auto& [name, addr] : kEvilNames) {
    SCOPED_TRACE(name + " -> " + addr);
    const std::string start = redirect_to("http://" + name + "/");
    const auto r = fetch_one(loop_, f, start);
    EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
    EXPECT_NE(r.reason.find("never connect"), std::string::npos) << describe(r);
    EXPECT_TRUE(r.body.empty());
    ASSERT_EQ(r.redirects.size(), 1u);
    EXPECT_EQ(r.redirects[0].url, normalized(start));
    EXPECT_EQ(r.final_url, "http://" + name + "/");
  }
}

TEST_F(FetcherGuard, RedirectsToFilesAndFtpAreRefused) {
  for (const std::string path : {"/redirect/to-file", "/redirect/to-ftp"}) {
    SCOPED_TRACE(path);
    const auto r = fetch(site_->url(path));
    EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
    EXPECT_EQ(r.reason_code, "bad-redirect") << describe(r);
    EXPECT_EQ(r.redirects.size(), 1u);
    EXPECT_NE(r.reason.find(path == "/redirect/to-file" ? "file:///etc/passwd" : "ftp://127.0.0.1/"), std::string::npos)
        << r.reason;
    EXPECT_EQ(r.body.find("root:"), std::string::npos);
    EXPECT_TRUE(r.body.empty());
  }
}

// Sets an environment variable for the scope of a test and restores it.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

TEST_F(FetcherGuard, ProxyVariablesInTheEnvironmentAreIgnored) {
  // A proxy that would refuse every connection: if the fetch used it, it would fail.
  ScopedEnv a("http_proxy", "http://127.0.0.1:1");
  ScopedEnv b("HTTP_PROXY", "http://127.0.0.1:1");
  ScopedEnv c("https_proxy", "http://127.0.0.1:1");
  ScopedEnv d("ALL_PROXY", "http://127.0.0.1:1");
  ScopedEnv e("all_proxy", "http://127.0.0.1:1");
  ScopedEnv n("no_proxy", "");
  ScopedEnv m("NO_PROXY", "");
  const auto r = fetch(site_->url("/articles/2.html"));
  EXPECT_EQ(r.outcome, protocol::Outcome::ok) << describe(r);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(site_->requests_to("/articles/2.html"), 1u);
}

TEST_F(FetcherGuard, UserAgentNamesMeadow) {
  const auto r = fetch(site_->url("/articles/1.html"));
  ASSERT_EQ(r.outcome, protocol::Outcome::ok) << describe(r);
  const auto log = requests();
  ASSERT_EQ(log.size(), 2u) << "robots.txt and the page";
  for (const auto& e : log) {
    SCOPED_TRACE(e.target);
    EXPECT_EQ(e.user_agent, default_user_agent());
    EXPECT_NE(e.user_agent.find("meadow"), std::string::npos);
  }
}

// --- no cookies, no credentials: a recording server -------------------------------------------

// An HTTP server on 127.0.0.1 that keeps the head of every request and answers each with a
// small page (or an open robots.txt) that sets a cookie, then closes the connection. The demo
// site's access log does not record headers; this does.
class RecordingServer {
 public:
  RecordingServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd_, 16) == 0;
    socklen_t len = sizeof addr;
    if (ok_) ok_ = ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    port_ = ntohs(addr.sin_port);
    if (ok_) thread_ = std::thread([this] { serve(); });
  }
  ~RecordingServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  RecordingServer(const RecordingServer&) = delete;
  RecordingServer& operator=(const RecordingServer&) = delete;

  bool ok() const { return ok_; }
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string head;
      const auto deadline = std::chrono::steady_clock::now() + 2s;
      while (head.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline && !stop_) {
        pollfd q{c, POLLIN, 0};
        if (::poll(&q, 1, 20) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      {
        std::lock_guard lock(mu_);
        requests_.push_back(head);
      }
      const bool robots = head.starts_with("GET /robots.txt ");
      const std::string body = robots ? "User-agent: *\nAllow: /\n" : "<!doctype html><title>Hi</title><p>Hello.</p>\n";
      const std::string reply =
          std::string("HTTP/1.1 200 OK\r\nContent-Type: ") + (robots ? "text/plain" : "text/html") +
          "\r\nSet-Cookie: session=s3cr3t; Path=/\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body;
      (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  int fd_ = -1;
  bool ok_ = false;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;  // guards requests_
  std::vector<std::string> requests_;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(FetcherPrivacy, NoCookiesAndNoCredentialsAreSent) {
  RecordingServer server;
  ASSERT_TRUE(server.ok());
  // Credentials for the server in ~/.netrc must stay unused.
  TempDir home;
  {
    std::ofstream netrc(home.file(".netrc"));
    netrc << "machine 127.0.0.1 login alice password s3cr3t-netrc\ndefault login bob password hunter2\n";
  }
  ScopedEnv h("HOME", home.path());
  ScopedEnv n("NETRC", home.file(".netrc"));

  HttpLoop loop;
  SystemClock clock;
  FetchSettings s = loopback_settings(server.port());
  Fetcher f(loop, clock, s);
  // Two pages in a row: the cookie the first answer sets must not come back with the second.
  const auto a = fetch_one(loop, f, server.url("/a.html"));
  const auto b = fetch_one(loop, f, server.url("/b.html"));
  EXPECT_EQ(a.outcome, protocol::Outcome::ok) << describe(a);
  EXPECT_EQ(b.outcome, protocol::Outcome::ok) << describe(b);
  // Credentials in the URL are refused before anything is sent.
  const auto c = fetch_one(loop, f, "http://alice:s3cr3t@127.0.0.1:" + std::to_string(server.port()) + "/c.html");
  EXPECT_EQ(c.outcome, protocol::Outcome::skipped) << describe(c);
  EXPECT_EQ(c.wire_bytes, 0);

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u) << "expected robots.txt, /a.html and /b.html";
  EXPECT_TRUE(requests[0].starts_with("GET /robots.txt "));
  EXPECT_TRUE(requests[1].starts_with("GET /a.html "));
  EXPECT_TRUE(requests[2].starts_with("GET /b.html "));
  for (const auto& req : requests) {
    SCOPED_TRACE(req);
    const std::string l = lower(req);
    EXPECT_EQ(l.find("\r\ncookie:"), std::string::npos);
    EXPECT_EQ(l.find("\r\nauthorization:"), std::string::npos);
    EXPECT_EQ(l.find("\r\nproxy-authorization:"), std::string::npos);
    EXPECT_EQ(l.find("s3cr3t"), std::string::npos);
    EXPECT_NE(req.find("\r\nUser-Agent: " + default_user_agent() + "\r\n"), std::string::npos);
  }
}

// --- connection reuse must not skip the connect-time check ----------------------------------

TEST_F(FetcherGuard, GuardedTransferIsRefusedAtConnectTimeByTheLoopItself) {
  // No URL check at this level: only the open-socket hook stands between the request and the site.
  std::optional<HttpResponse> resp;
  HttpRequest guarded;
  guarded.url = site_->url("/articles/2.html");
  guarded.guard = GuardPolicy{};
  loop_.start(guarded, [&](HttpResponse r) { resp = std::move(r); });
  ASSERT_TRUE(run_until(
      loop_, [&] { return resp.has_value(); }, 10s));
  ASSERT_TRUE(resp->error.has_value()) << "the guarded request got HTTP " << resp->status;
  EXPECT_EQ(resp->error->code, "address-forbidden");
  EXPECT_EQ(resp->error->kind, ErrorKind::forbidden);
  EXPECT_EQ(resp->status, 0);
  EXPECT_TRUE(requests().empty());
}

TEST_F(FetcherGuard, ConnectionOpenedWithoutGuardIsNotReusedByAGuardedRequest) {
  // The engine runs the coordinator session (no guard) and page fetches (guard) on one loop.
  std::optional<HttpResponse> first;
  HttpRequest trusted;
  trusted.url = site_->url("/articles/1.html");
  loop_.start(trusted, [&](HttpResponse r) { first = std::move(r); });
  ASSERT_TRUE(run_until(
      loop_, [&] { return first.has_value(); }, 10s));
  ASSERT_EQ(first->status, 200);

  std::optional<HttpResponse> second;
  HttpRequest guarded;
  guarded.url = site_->url("/articles/2.html");
  guarded.guard = GuardPolicy{};  // no loopback: this connection must never be made
  loop_.start(guarded, [&](HttpResponse r) { second = std::move(r); });
  ASSERT_TRUE(run_until(
      loop_, [&] { return second.has_value(); }, 10s));
  ASSERT_TRUE(second->error.has_value()) << "the guarded request got HTTP " << second->status;
  EXPECT_EQ(second->error->code, "address-forbidden");
  EXPECT_EQ(site_->requests_to("/articles/2.html"), 0u);
}

// --- caps and timeouts ------------------------------------------------------------------

TEST_F(FetcherCaps, BodyIsCutAtTheByteCap) {
  FetchSettings s = site_settings();
  s.max_body_bytes = kMiB;
  const auto r = fetch(site_->url("/huge"), s);
  EXPECT_EQ(r.outcome, protocol::Outcome::ok) << describe(r);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.body.size(), kMiB);
  EXPECT_TRUE(r.body.starts_with("<!doctype html>") || r.body.starts_with("<!DOCTYPE html>")) << r.body.substr(0, 40);
  EXPECT_LT(r.wire_bytes, static_cast<std::int64_t>(16 * kMiB)) << "the 64 MiB page was downloaded past the cap";
}

TEST_F(FetcherCaps, PageExactlyAtTheCapIsNotTruncated) {
  const auto whole = fetch(site_->url("/articles/1.html"));
  ASSERT_EQ(whole.outcome, protocol::Outcome::ok);
  FetchSettings s = site_settings();
  s.max_body_bytes = whole.body.size();
  const auto at = fetch(site_->url("/articles/1.html"), s);
  EXPECT_FALSE(at.truncated);
  EXPECT_EQ(at.body, whole.body);
  s.max_body_bytes = whole.body.size() - 1;
  const auto below = fetch(site_->url("/articles/1.html"), s);
  EXPECT_TRUE(below.truncated);
  EXPECT_EQ(below.body, whole.body.substr(0, whole.body.size() - 1));
}

TEST_F(FetcherCaps, GzipBombIsCutAtTheCapAfterDecoding) {
  FetchSettings s = site_settings();
  s.max_body_bytes = 4 * kMiB;
  const auto r = fetch(site_->url("/gzip-bomb"), s, 10s);
  EXPECT_EQ(r.outcome, protocol::Outcome::ok) << describe(r);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.body.size(), 4 * kMiB);
  EXPECT_TRUE(r.body.starts_with("<!doctype html>")) << "the body is not the decoded page";
  EXPECT_LT(r.wire_bytes, static_cast<std::int64_t>(2 * kMiB));
}

TEST_F(FetcherCaps, GzipPagesArriveDecoded) {
  const auto plain = fetch(site_->url("/articles/1.html"));
  const auto gz = fetch(site_->url("/gzip/article.html"));
  ASSERT_EQ(plain.outcome, protocol::Outcome::ok) << describe(plain);
  EXPECT_EQ(gz.outcome, protocol::Outcome::ok) << describe(gz);
  EXPECT_FALSE(gz.truncated);
  EXPECT_EQ(gz.content_type, "text/html");
  EXPECT_FALSE(gz.body.starts_with("\x1f\x8b"));
  EXPECT_EQ(gz.body, plain.body);
  EXPECT_LT(gz.wire_bytes, plain.wire_bytes) << "the page did not travel compressed";
}

TEST_F(FetcherCaps, SlowPageIsCutAtTheTimeCapAndKeptAsTruncated) {
  // fetcher.cpp: a timeout after a 2xx began keeps what came, flagged truncated.
  FetchSettings s = site_settings();
  s.timeout_ms = 2'000;
  const auto r = fetch(site_->url("/slow"), s, 15s);
  EXPECT_EQ(r.outcome, protocol::Outcome::ok) << describe(r);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_TRUE(r.truncated);
  EXPECT_NE(r.body.find("A slow page"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("That was the last line"), std::string::npos);
  EXPECT_GE(r.finished_ms - r.started_ms, 1'500);
}

TEST_F(FetcherCaps, SilentServerTimesOut) {
  FetchSettings s = site_settings();
  s.timeout_ms = 1'500;
  const auto r = fetch(site_->url("/slow?start=30"), s, 15s);
  EXPECT_EQ(r.outcome, protocol::Outcome::failed) << describe(r);
  EXPECT_EQ(r.reason_code, "timeout") << describe(r);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_TRUE(r.body.empty());
}

TEST_F(FetcherCaps, LowSpeedLimitEndsATrickle) {
  // /slow sends a line a second; a floor of 1000 B/s over 1 s ends it long before the 60 s cap.
  FetchSettings s = site_settings();
  s.timeout_ms = 60'000;
  s.low_speed_bytes = 1'000;
  s.low_speed_ms = 1'000;
  const auto trickle = fetch(site_->url("/slow"), s, 20s);
  EXPECT_EQ(trickle.outcome, protocol::Outcome::ok) << describe(trickle);
  EXPECT_TRUE(trickle.truncated);
  EXPECT_NE(trickle.body.find("A slow page"), std::string::npos);

  const auto silent = fetch(site_->url("/slow?start=30"), s, 20s);
  EXPECT_EQ(silent.outcome, protocol::Outcome::failed) << describe(silent);
  EXPECT_EQ(silent.reason_code, "timeout") << describe(silent);
}

TEST_F(FetcherCaps, RedirectChainsAreFollowedHopByHop) {
  const auto r = fetch(site_->url("/redirect/chain/3"));
  EXPECT_EQ(r.outcome, protocol::Outcome::ok) << describe(r);
  EXPECT_EQ(r.http_status, 200);
  ASSERT_EQ(r.redirects.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.redirects[i].url, normalized(site_->url("/redirect/chain/" + std::to_string(3 - i))));
    EXPECT_EQ(r.redirects[i].status, 302);
  }
  EXPECT_EQ(r.final_url, normalized(site_->url("/redirect/chain/0")));
  EXPECT_NE(r.body.find("End of the redirect chain"), std::string::npos);
  EXPECT_EQ(r.url, site_->url("/redirect/chain/3"));
}

TEST_F(FetcherCaps, TooManyRedirectsAreSkipped) {
  FetchSettings s = site_settings();
  s.max_redirects = 5;
  const auto over = fetch(site_->url("/redirect/chain/10"), s);
  EXPECT_EQ(over.outcome, protocol::Outcome::skipped) << describe(over);
  EXPECT_EQ(over.reason_code, "too-many-redirects");
  EXPECT_EQ(over.redirects.size(), 5u);
  EXPECT_EQ(over.final_url, normalized(site_->url("/redirect/chain/5")));
  EXPECT_EQ(site_->requests_to("/redirect/chain/4"), 0u) << "a hop past the limit was requested";

  const auto at_limit = fetch(site_->url("/redirect/chain/5"), s);
  EXPECT_EQ(at_limit.outcome, protocol::Outcome::ok) << describe(at_limit);
  EXPECT_EQ(at_limit.redirects.size(), 5u);

  const auto loop = fetch(site_->url("/redirect/loop"), s);
  EXPECT_EQ(loop.outcome, protocol::Outcome::skipped) << describe(loop);
  EXPECT_EQ(loop.reason_code, "too-many-redirects");
  EXPECT_EQ(site_->requests_to("/redirect/loop"), 6u);
}

TEST_F(FetcherCaps, OtherContentTypesAreSkippedWithoutTheirBody) {
  for (const auto& [path, type] : std::vector<std::pair<std::string, std::string>>{
           {"/files/report.pdf", "application/pdf"}, {"/files/logo.png", "image/png"}}) {
    SCOPED_TRACE(path);
    const auto r = fetch(site_->url(path));
    EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
    EXPECT_EQ(r.reason_code, "content-type");
    EXPECT_EQ(r.content_type, type);
    EXPECT_EQ(r.http_status, 200);
    EXPECT_TRUE(r.body.empty());
    EXPECT_NE(r.reason.find(type), std::string::npos) << r.reason;
  }
  // Plain text is one of the types a node takes.
  const auto txt = fetch(site_->url("/text/notes.txt"));
  EXPECT_EQ(txt.outcome, protocol::Outcome::ok) << describe(txt);
  EXPECT_EQ(txt.content_type, "text/plain");
}

TEST_F(FetcherCaps, HttpErrorsAreSkippedOrFailedByWhetherARetryCouldHelp) {
  struct Case {
    int status;
    protocol::Outcome outcome;
  };
  for (const auto& c : std::vector<Case>{{404, protocol::Outcome::skipped},
                                         {410, protocol::Outcome::skipped},
                                         {403, protocol::Outcome::skipped},
                                         {429, protocol::Outcome::failed},
                                         {500, protocol::Outcome::failed},
                                         {503, protocol::Outcome::failed}}) {
    SCOPED_TRACE(c.status);
    const auto r = fetch(site_->url("/status/" + std::to_string(c.status)));
    EXPECT_EQ(r.outcome, c.outcome) << describe(r);
    EXPECT_EQ(r.reason_code, "http-" + std::to_string(c.status));
    EXPECT_EQ(r.http_status, c.status);
  }
}

// --- robots.txt through the fetcher -----------------------------------------------------

TEST_F(FetcherRobots, DisallowedPagesAreNeverRequested) {
  Fetcher f(loop_, clock_, site_settings());
  const auto results = fetch_all(loop_, f,
                                 {site_->url("/private/secret.html"), site_->url("/no-meadow/page.html"),
                                  site_->url("/articles/draft-7.html"), site_->url("/private/press.html")});
  for (std::size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(results[i].url);
    EXPECT_EQ(results[i].outcome, protocol::Outcome::skipped) << describe(results[i]);
    EXPECT_EQ(results[i].reason_code, "robots-disallowed");
    EXPECT_NE(results[i].reason.find("Disallow"), std::string::npos) << results[i].reason;
    EXPECT_EQ(results[i].wire_bytes, 0);
  }
  EXPECT_EQ(results[3].outcome, protocol::Outcome::ok) << describe(results[3]);
  EXPECT_NE(results[3].body.find("PRESS-CANARY-2M8"), std::string::npos);

  EXPECT_EQ(site_->requests_to("/private/secret.html"), 0u);
  EXPECT_EQ(site_->requests_to("/no-meadow/"), 0u);
  EXPECT_EQ(site_->requests_to("/articles/draft-"), 0u);
  EXPECT_EQ(site_->requests_to("/private/press.html"), 1u);
}

TEST_F(FetcherRobots, ARedirectIntoADisallowedPathIsNotFollowed) {
  const std::string start = redirect_to(site_->url("/private/secret.html"));
  const auto r = fetch(start);
  EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
  EXPECT_EQ(r.reason_code, "robots-disallowed");
  EXPECT_EQ(r.redirects.size(), 1u);
  EXPECT_EQ(site_->requests_to("/private/"), 0u);
}

TEST_F(FetcherRobots, ConcurrentFetchesShareOneRobotsRequest) {
  Fetcher f(loop_, clock_, site_settings());
  std::vector<std::string> urls;
  for (int i = 1; i <= 6; ++i) urls.push_back(site_->url("/articles/" + std::to_string(i) + ".html"));
  for (int i = 0; i < 10; ++i) urls.push_back(site_->url("/pages/" + std::to_string(i) + ".html"));
  std::vector<FetchEvent> robots_events;
  f.set_robots_observer([&](const FetchEvent& e) { robots_events.push_back(e); });
  for (const auto& r : fetch_all(loop_, f, urls)) {
    SCOPED_TRACE(r.url);
    EXPECT_EQ(r.outcome, protocol::Outcome::ok) << describe(r);
  }
  EXPECT_EQ(site_->requests_to("/robots.txt"), 1u);
  ASSERT_EQ(robots_events.size(), 1u);
  EXPECT_EQ(robots_events[0].http_status, 200);
  EXPECT_EQ(robots_events[0].url, site_->url("/robots.txt"));
  EXPECT_GT(robots_events[0].wire_bytes, 0);
  // Later fetches use the cached file.
  const auto again = fetch_one(loop_, f, site_->url("/articles/1.html"));
  EXPECT_EQ(again.outcome, protocol::Outcome::ok);
  EXPECT_EQ(site_->requests_to("/robots.txt"), 1u);
}

TEST(FetcherRobotsModes, UnavailableRobotsTxtDisallowsTheWholeSite) {
  TempDir dir;
  DemoSite site(dir.path(), {"--robots", "503"});
  const Status st = site.start();
  ASSERT_TRUE(st.ok()) << st.error().message;
  HttpLoop loop;
  SystemClock clock;
  FetchSettings s = loopback_settings(site.port());
  Fetcher f(loop, clock, s);
  const std::size_t probes = site.access_log().size();
  const auto results = fetch_all(
      loop, f, {site.url("/"), site.url("/articles/1.html"), site.url("/articles/2.html"), site.url("/pages/1.html")});
  for (const auto& r : results) {
    SCOPED_TRACE(r.url);
    EXPECT_EQ(r.outcome, protocol::Outcome::skipped) << describe(r);
    EXPECT_EQ(r.reason_code, "robots-disallowed");
    EXPECT_NE(r.reason.find("503"), std::string::npos) << r.reason;
    EXPECT_EQ(r.wire_bytes, 0);
  }
  const auto log = site.access_log();
  ASSERT_EQ(log.size(), probes + 1) << "only robots.txt may be requested";
  EXPECT_EQ(log.back().target, "/robots.txt");
  EXPECT_EQ(log.back().status, 503);
}

TEST(FetcherRobotsModes, MissingRobotsTxtAllowsEverything) {
  TempDir dir;
  DemoSite site(dir.path(), {"--robots", "404"});
  const Status st = site.start();
  ASSERT_TRUE(st.ok()) << st.error().message;
  HttpLoop loop;
  SystemClock clock;
  FetchSettings s = loopback_settings(site.port());
  Fetcher f(loop, clock, s);
  const auto results = fetch_all(loop, f, {site.url("/articles/1.html"), site.url("/private/secret.html")});
  for (const auto& r : results) {
    SCOPED_TRACE(r.url);
    EXPECT_EQ(r.outcome, protocol::Outcome::ok) << describe(r);
  }
  EXPECT_NE(results[1].body.find("PRIVATE-CANARY-7Q4"), std::string::npos);
  EXPECT_EQ(site.requests_to("/robots.txt"), 1u);
  EXPECT_EQ(site.requests_to("/private/secret.html"), 1u);
}

// --- politeness -------------------------------------------------------------------------------

// (arrival ms, target) of every request in the demo site's access log, in file order.
std::vector<std::pair<std::int64_t, std::string>> arrivals(const std::string& log_path) {
  std::vector<std::pair<std::int64_t, std::string>> out;
  std::ifstream in(log_path);
  std::string line;
  while (std::getline(in, line)) {
    auto o = parse_json_object(line, "access log line");
    if (!o.ok()) continue;
    JsonFields f(*o, "access log line");
    out.emplace_back(f.integer_or("ts_ms", 0, std::numeric_limits<std::int64_t>::max(), 0), f.string_or("target", ""));
  }
  return out;
}

TEST_F(FetcherPoliteness, RequestsToOneHostStartAnIntervalApart) {
  FetchSettings s = site_settings();
  s.host_interval_ms = 300;
  Fetcher f(loop_, clock_, s);
  const auto results = fetch_all(
      loop_, f, {site_->url("/articles/1.html"), site_->url("/articles/2.html"), site_->url("/articles/3.html")});
  for (const auto& r : results) EXPECT_EQ(r.outcome, protocol::Outcome::ok) << describe(r);

  std::vector<std::int64_t> starts;
  for (const auto& [ts, target] : arrivals(dir_.file("access.log")))
    if (target == "/articles/1.html" || target == "/articles/2.html" || target == "/articles/3.html")
      starts.push_back(ts);
  ASSERT_EQ(starts.size(), 3u);
  std::sort(starts.begin(), starts.end());
  // A lower bound only, with room for the time a request takes to reach the site.
  EXPECT_GE(starts[1] - starts[0], 250);
  EXPECT_GE(starts[2] - starts[1], 250);
  EXPECT_GE(starts[2] - starts[0], 550);
}

}  // namespace
}  // namespace meadow::client
