// The HTTP transport over real loopback sockets: framing, limits, timeouts, errors as
// problem+json, long-poll parking, graceful shutdown and TLS. Every blocking step is
// bounded (client timeouts, bounded waits) and a watchdog aborts a test that hangs.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/api/problem.h"
#include "coordinator/http/server.h"
#include "support/http_client.h"
#include "support/test_env.h"

namespace {

using meadow::Logger;
using meadow::LogLevel;
using meadow::LogRecord;
using meadow::coordinator::http::Handler;
using meadow::coordinator::http::Observer;
using meadow::coordinator::http::Park;
using meadow::coordinator::http::Request;
using meadow::coordinator::http::Response;
using meadow::coordinator::http::Server;
using meadow::coordinator::http::ServerOptions;
using meadow::testing::TempDir;
using meadow::testing::TestHttpClient;
using meadow::testing::TestHttpResponse;
using ClientResult = meadow::Result<TestHttpResponse>;
using namespace std::chrono_literals;

// Aborts the whole binary when a test runs past its budget: a hang must fail, not stall CI.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::seconds budget)
      : thread_([this, budget] {
          std::unique_lock lock(mu_);
          if (!cv_.wait_for(lock, budget, [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: test still running after %llds; aborting\n",
                         static_cast<long long>(budget.count()));
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Polls `pred` until it holds or `within` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within = 5s) {
  auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

template <class T>
bool ready(std::future<T>& f, std::chrono::milliseconds within = 5s) {
  return f.wait_for(within) == std::future_status::ready;
}

std::string header_or_empty(const TestHttpResponse& r, std::string_view name) {
  const std::string* v = r.header(name);
  return v ? *v : std::string();
}

Response text(std::string body, std::string route = "test") {
  Response r;
  r.content_type = "text/plain";
  r.body = std::move(body);
  r.route = std::move(route);
  return r;
}

// A long-poll that answers "woken:<id>" when notified and "final:<id>" at its deadline.
Response poll(const Request& req, std::atomic<int>* resumes = nullptr) {
  std::string id = req.header("x-id") ? *req.header("x-id") : "?";
  auto wait = req.query_param("wait");
  Response r;
  r.park = std::make_shared<Park>();
  r.park->wait_ms = wait ? std::stoll(*wait) : 10'000;
  r.park->resume = [id, resumes](bool final) {
    if (resumes) resumes->fetch_add(1);
    return text((final ? "final:" : "woken:") + id, "poll");
  };
  return r;
}

// A long-poll that parks again until it has been woken `need` times.
Response poll_until(std::shared_ptr<std::atomic<int>> wakes, int need) {
  Response r;
  r.park = std::make_shared<Park>();
  r.park->wait_ms = 10'000;
  r.park->resume = [wakes, need](bool final) {
    if (final) return text("final");
    int n = ++*wakes;
    if (n < need) return poll_until(wakes, need);
    return text("woken-" + std::to_string(n));
  };
  return r;
}

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest()
      : log_(
            [this](const LogRecord& r) {
              std::lock_guard lock(log_mu_);
              logs_.emplace_back(r.message);
            },
            LogLevel::debug) {}

  void TearDown() override {
    if (server_ && !stopped_) stop();
    if (runner_.joinable()) {  // run() did not return: fail loudly rather than hang
      std::fprintf(stderr, "Server::run() did not return after shutdown(); aborting\n");
      std::abort();
    }
    if (HasFailure()) {
      std::lock_guard lock(log_mu_);
      for (const auto& line : logs_) std::fprintf(stderr, "  server log: %s\n", line.c_str());
    }
  }

  static ServerOptions options() {
    ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.header_timeout_ms = 3000;
    o.body_timeout_ms = 3000;
    o.write_timeout_ms = 3000;
    o.idle_timeout_ms = 10'000;
    o.shutdown_grace_ms = 3000;
    return o;
  }

  void start(ServerOptions o, Handler h, Observer observer = nullptr) {
    auto r = Server::start(std::move(o), std::move(h), log_, std::move(observer));
    ASSERT_TRUE(r.ok()) << r.error().message;
    server_ = std::move(r).value();
    run_done_ = run_promise_.get_future();
    runner_ = std::thread([this] {
      server_->run();
      run_promise_.set_value();
    });
  }

  // shutdown(), then waits (bounded) for run() to return.
  bool stop(std::chrono::milliseconds within = 8s) {
    stopped_ = true;
    server_->shutdown();
    if (run_done_.wait_for(within) != std::future_status::ready) return false;
    runner_.join();
    return true;
  }

  std::uint16_t port() const { return server_->port(); }

  std::future<ClientResult> get_async(std::string target, meadow::testing::TestHttpHeaders headers = {},
                                      bool tls = false) {
    return std::async(std::launch::async, [port = port(), target, headers, tls] {
      TestHttpClient client(port, tls);
      return client.get(target, headers);
    });
  }

  Watchdog watchdog_{60s};
  std::mutex log_mu_;
  std::vector<std::string> logs_;
  Logger log_;
  std::unique_ptr<Server> server_;
  std::promise<void> run_promise_;
  std::future<void> run_done_;
  std::thread runner_;
  bool stopped_ = false;
};

// --- message.h ---------------------------------------------------------------------------

TEST(HttpServerMessageTest, QueryParamsArePercentDecoded) {
  Request req;
  req.query = "a=1&b=x%20y%2Fz&c=&d&name=J%C3%BCrg+en&bad=100%&a=2";
  EXPECT_EQ(req.query_param("a"), "1");
  EXPECT_EQ(req.query_param("b"), "x y/z");
  EXPECT_EQ(req.query_param("c"), "");
  EXPECT_EQ(req.query_param("d"), "");
  EXPECT_EQ(req.query_param("name"), "J\xC3\xBCrg en");
  EXPECT_EQ(req.query_param("bad"), "100%");
  EXPECT_EQ(req.query_param("missing"), std::nullopt);
  req.query = "";
  EXPECT_EQ(req.query_param("a"), std::nullopt);
}

TEST(HttpServerMessageTest, HeaderLookupAndSetHeaderReplaces) {
  Request req;
  req.headers = {{"x-one", "1"}, {"x-two", "2"}, {"x-one", "again"}};
  ASSERT_NE(req.header("x-one"), nullptr);
  EXPECT_EQ(*req.header("x-one"), "1");
  EXPECT_EQ(req.header("x-three"), nullptr);

  Response r;
  r.set_header("X-Thing", "a");
  r.headers.push_back({"x-thing", "dup"});
  r.set_header("x-other", "b");
  r.set_header("X-THING", "c");
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].name, "x-thing");
  EXPECT_EQ(r.headers[0].value, "c");
  EXPECT_EQ(r.headers[1].name, "x-other");
}

// --- framing -----------------------------------------------------------------------------

TEST_F(HttpServerTest, GetRoundTripCarriesHeadersAndDecodedParts) {
  std::mutex mu;
  Request seen;
  start(options(), [&](const Request& req) {
    {
      std::lock_guard lock(mu);
      seen = req;
    }
    Response r = text("hello", "hello");
    r.set_header("x-answer", "42");
    return r;
  });
  TestHttpClient client(port());
  auto r = client.get("/v1/a%20b?name=J%C3%BCrg+en&x=1", {{"X-Custom", "Yes"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_TRUE(r->keep_alive);
  EXPECT_EQ(header_or_empty(*r, "content-type"), "text/plain");
  EXPECT_EQ(header_or_empty(*r, "server"), "meadow-coordinator");
  EXPECT_EQ(header_or_empty(*r, "meadow-protocol"), meadow::protocol::kVersion);
  EXPECT_EQ(header_or_empty(*r, "x-answer"), "42");
  EXPECT_EQ(header_or_empty(*r, "content-length"), "5");

  std::lock_guard lock(mu);
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/v1/a%20b?name=J%C3%BCrg+en&x=1");
  EXPECT_EQ(seen.path, "/v1/a b");
  EXPECT_EQ(seen.query, "name=J%C3%BCrg+en&x=1");
  EXPECT_EQ(seen.query_param("name"), "J\xC3\xBCrg en");
  ASSERT_NE(seen.header("x-custom"), nullptr);
  EXPECT_EQ(*seen.header("x-custom"), "Yes");
  ASSERT_NE(seen.header("host"), nullptr);
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
}

TEST_F(HttpServerTest, HandlerProtocolHeaderIsKeptAndNotDoubled) {
  start(options(), [](const Request&) {
    Response r = text("x");
    r.set_header(meadow::coordinator::api::kProtocolHeader, "1.1");
    return r;
  });
  TestHttpClient client(port());
  auto r = client.get("/");
  ASSERT_TRUE(r.ok()) << r.error().message;
  int count = 0;
  for (const auto& [name, value] : r->headers) count += name == "meadow-protocol";
  EXPECT_EQ(count, 1);
  EXPECT_EQ(header_or_empty(*r, "meadow-protocol"), "1.1");
}

TEST_F(HttpServerTest, KeepAliveReusesOneConnection) {
  start(options(), [](const Request& req) { return text(req.method + " " + req.path + " " + req.body); });
  TestHttpClient client(port());
  for (int i = 0; i < 3; ++i) {
    auto r = client.post("/n/" + std::to_string(i), "body" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->body, "POST /n/" + std::to_string(i) + " body" + std::to_string(i));
    EXPECT_TRUE(r->keep_alive);
  }
  auto r = client.get("/last");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(client.connect_count(), 1);
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(HttpServerTest, ConnectionCloseRequestIsHonoured) {
  start(options(), [](const Request&) { return text("bye"); });
  TestHttpClient client(port());
  auto r = client.get("/", {{"Connection", "close"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->keep_alive);
  EXPECT_TRUE(eventually([&] { return server_->open_connections() == 0; }));
}

TEST_F(HttpServerTest, ExpectContinueGetsTheBodyRead) {
  start(options(), [](const Request& req) { return text(req.body); });
  TestHttpClient client(port());
  auto r = client.post("/upload", "payload", {{"Expect", "100-continue"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "payload");
}

TEST_F(HttpServerTest, ObserverSeesEveryResponse) {
  std::mutex mu;
  std::vector<std::tuple<std::string, int, std::string, double>> seen;
  start(
      options(), [](const Request&) { return text("ok", "root"); },
      [&](const Request& req, const Response& res, double seconds) {
        std::lock_guard lock(mu);
        seen.emplace_back(req.path, res.status, res.route, seconds);
      });
  TestHttpClient client(port());
  ASSERT_TRUE(client.get("/a").ok());
  ASSERT_TRUE(client.get("/b").ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return seen.size() == 2;
  }));
  std::lock_guard lock(mu);
  EXPECT_EQ(std::get<0>(seen[0]), "/a");
  EXPECT_EQ(std::get<1>(seen[0]), 200);
  EXPECT_EQ(std::get<2>(seen[0]), "root");
  EXPECT_GE(std::get<3>(seen[0]), 0.0);
  EXPECT_LT(std::get<3>(seen[0]), 10.0);
}

// --- limits and bad input ----------------------------------------------------------------

void expect_problem(const TestHttpResponse& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(header_or_empty(r, "content-type"), "application/problem+json");
  EXPECT_EQ(header_or_empty(r, "meadow-protocol"), meadow::protocol::kVersion);
  EXPECT_NE(r.body.find("\"code\":\"" + code + "\""), std::string::npos) << r.body;
}

TEST_F(HttpServerTest, BodyOverLimitIs413AndHandlerIsNotCalled) {
  std::atomic<int> calls{0};
  ServerOptions o = options();
  o.max_body_bytes = 1000;
  start(o, [&](const Request& req) {
    ++calls;
    return text(std::to_string(req.body.size()));
  });
  {
    TestHttpClient client(port());
    auto r = client.post("/up", std::string(2000, 'x'));
    ASSERT_TRUE(r.ok()) << r.error().message;
    expect_problem(*r, 413, "body-too-large");
    EXPECT_FALSE(r->keep_alive);
  }
  {
    // Chunked: the size is only known while reading.
    TestHttpClient client(port());
    auto r = client.post("/up", std::string(3000, 'y'), {{"Transfer-Encoding", "chunked"}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    expect_problem(*r, 413, "body-too-large");
    EXPECT_FALSE(r->keep_alive);
  }
  EXPECT_EQ(calls.load(), 0);
  TestHttpClient client(port());
  auto r = client.post("/up", std::string(1000, 'z'));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "1000");
}

TEST_F(HttpServerTest, PerRouteBodyLimitReplacesTheDefault) {
  std::mutex mu;
  std::vector<std::string> asked;
  ServerOptions o = options();
  o.max_body_bytes = 100;
  o.body_limit = [&](std::string_view method, std::string_view path) -> std::size_t {
    std::lock_guard lock(mu);
    asked.push_back(std::string(method) + " " + std::string(path));
    return path == "/v1/big upload" ? 10'000 : 100;
  };
  start(o, [](const Request& req) { return text(std::to_string(req.body.size())); });
  TestHttpClient client(port());
  auto big = client.post("/v1/big%20upload", std::string(5000, 'b'));
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(big->status, 200);
  EXPECT_EQ(big->body, "5000");
  auto small = client.post("/v1/other", std::string(500, 's'));
  ASSERT_TRUE(small.ok()) << small.error().message;
  expect_problem(*small, 413, "body-too-large");
  std::lock_guard lock(mu);
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0], "POST /v1/big upload");
  EXPECT_EQ(asked[1], "POST /v1/other");
}

TEST_F(HttpServerTest, MalformedRequestIs400AndCloses) {
  std::atomic<int> calls{0};
  start(options(), [&](const Request&) {
    ++calls;
    return text("no");
  });
  for (std::string raw : {std::string("THIS IS NOT HTTP\r\n\r\n"), std::string("GET / HTTP/1.1\r\nHost x\r\n\r\n"),
                          std::string("GET / HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n")}) {
    TestHttpClient client(port());
    ASSERT_TRUE(client.write_raw(raw).ok());
    auto r = client.read_response();
    ASSERT_TRUE(r.ok()) << r.error().message;
    expect_problem(*r, 400, "bad-request");
    EXPECT_FALSE(r->keep_alive);
  }
  TestHttpClient client(port());
  std::string raw = client.send_raw("\x16\x03\x01 not http either\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 400 ", 0), 0u) << raw;
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(HttpServerTest, BadPathIs400) {
  std::atomic<int> calls{0};
  start(options(), [&](const Request&) {
    ++calls;
    return text("no");
  });
  for (const char* target : {"/a%00b", "/a%zz", "/a%4", "relative", "*"}) {
    TestHttpClient client(port());
    auto r = client.get(target);
    ASSERT_TRUE(r.ok()) << target << ": " << r.error().message;
    expect_problem(*r, 400, "bad-target");
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(HttpServerTest, HeaderOverLimitIsRefused) {
  ServerOptions o = options();
  o.max_header_bytes = 1024;
  std::atomic<int> calls{0};
  start(o, [&](const Request&) {
    ++calls;
    return text("no");
  });
  TestHttpClient client(port());
  auto r = client.get("/", {{"X-Big", std::string(4000, 'a')}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(header_or_empty(*r, "content-type"), "application/problem+json");
  EXPECT_NE(r->body.find("header-too-large"), std::string::npos) << r->body;
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(HttpServerTest, HandlerExceptionIs500ProblemAndConnectionLives) {
  start(options(), [](const Request& req) -> Response {
    if (req.path == "/throw") throw std::runtime_error("secret internals");
    if (req.path == "/throw-int") throw 42;
    return text("fine");
  });
  TestHttpClient client(port());
  for (const char* path : {"/throw", "/throw-int"}) {
    auto r = client.get(path);
    ASSERT_TRUE(r.ok()) << r.error().message;
    expect_problem(*r, 500, "internal");
    EXPECT_EQ(r->body.find("secret"), std::string::npos);
  }
  auto ok = client.get("/fine");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->body, "fine");
  EXPECT_EQ(client.connect_count(), 1);
}

TEST_F(HttpServerTest, MaxConnectionsClosesExtraConnections) {
  ServerOptions o = options();
  o.max_connections = 1;
  start(o, [](const Request&) { return text("ok"); });
  TestHttpClient first(port());
  ASSERT_TRUE(first.get("/").ok());
  ASSERT_TRUE(eventually([&] { return server_->open_connections() == 1; }));
  TestHttpClient second(port(), false, 2s);
  EXPECT_FALSE(second.get("/").ok());
  auto again = first.get("/");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(first.connect_count(), 1);
}

// --- timeouts ----------------------------------------------------------------------------

TEST_F(HttpServerTest, PartialHeaderIsClosedAtHeaderTimeout) {
  ServerOptions o = options();
  o.header_timeout_ms = 200;
  std::atomic<int> calls{0};
  start(o, [&](const Request&) {
    ++calls;
    return text("no");
  });
  TestHttpClient client(port());
  ASSERT_TRUE(client.write_raw("GET / HTTP/1.1\r\nHost: x\r\n").ok());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.wait_closed(4s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  EXPECT_EQ(calls.load(), 0);

  TestHttpClient silent(port());
  ASSERT_TRUE(silent.connect().ok());
  EXPECT_TRUE(silent.wait_closed(4s));
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedAtIdleTimeout) {
  ServerOptions o = options();
  o.idle_timeout_ms = 200;
  start(o, [](const Request&) { return text("ok"); });
  TestHttpClient client(port());
  ASSERT_TRUE(client.get("/").ok());
  EXPECT_TRUE(client.wait_closed(4s));
  EXPECT_TRUE(eventually([&] { return server_->open_connections() == 0; }));
}

TEST_F(HttpServerTest, SlowBodyIsClosedAtBodyTimeout) {
  ServerOptions o = options();
  o.body_timeout_ms = 200;
  start(o, [](const Request&) { return text("ok"); });
  TestHttpClient client(port());
  ASSERT_TRUE(client.write_raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc").ok());
  EXPECT_TRUE(client.wait_closed(4s));
}

// --- long-poll parking -------------------------------------------------------------------

TEST_F(HttpServerTest, ParkedRequestIsAnsweredAfterNotify) {
  start(options(), [](const Request& req) { return poll(req); });
  auto reply = get_async("/poll", {{"X-Id", "a"}});
  ASSERT_TRUE(eventually([&] { return server_->parked_requests() == 1; }));
  EXPECT_FALSE(ready(reply, 50ms));
  server_->notify_waiters(1);
  ASSERT_TRUE(ready(reply));
  auto r = reply.get();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "woken:a");
  EXPECT_EQ(header_or_empty(*r, "meadow-protocol"), meadow::protocol::kVersion);
  EXPECT_EQ(server_->parked_requests(), 0u);
}

TEST_F(HttpServerTest, ParkedRequestIsAnsweredByItsTimer) {
  start(options(), [](const Request& req) { return poll(req); });
  auto reply = get_async("/poll?wait=100", {{"X-Id", "t"}});
  ASSERT_TRUE(ready(reply));
  auto r = reply.get();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "final:t");
  EXPECT_TRUE(eventually([&] { return server_->parked_requests() == 0; }));
}

TEST_F(HttpServerTest, NotifyWakesOldestFirst) {
  start(options(), [](const Request& req) { return poll(req); });
  auto a = get_async("/poll", {{"X-Id", "a"}});
  ASSERT_TRUE(eventually([&] { return server_->parked_requests() == 1; }));
  auto b = get_async("/poll", {{"X-Id", "b"}});
  ASSERT_TRUE(eventually([&] { return server_->parked_requests() == 2; }));
  server_->notify_waiters(1);
  ASSERT_TRUE(ready(a));
  EXPECT_EQ(a.get()->body, "woken:a");
  EXPECT_FALSE(ready(b, 100ms));
  EXPECT_EQ(server_->parked_requests(), 1u);
  server_->notify_waiters(SIZE_MAX);
  ASSERT_TRUE(ready(b));
  EXPECT_EQ(b.get()->body, "woken:b");
}

// Parks that share a ParkBatch are prepared together, once per notify, before any resumes.
class RecordingBatch final : public meadow::coordinator::http::ParkBatch {
 public:
  void prepare(const std::vector<Park*>& parks) override {
    std::lock_guard lock(mu);
    sizes.push_back(parks.size());
    for (auto* p : parks) p->wait_ms = -1;  // a mark the resume below reads
  }
  std::mutex mu;
  std::vector<std::size_t> sizes;
};

TEST_F(HttpServerTest, ParksWokenTogetherArePreparedInOneBatch) {
  auto batch = std::make_shared<RecordingBatch>();
  start(options(), [batch](const Request&) {
    Response r;
    auto park = std::make_shared<Park>();
    park->wait_ms = 10'000;
    park->batch = batch;
    park->resume = [p = park.get()](bool) {
      Response out;
      out.body = p->wait_ms == -1 ? "prepared" : "alone";
      return out;
    };
    r.park = park;
    return r;
  });
  auto a = get_async("/poll");
  auto b = get_async("/poll");
  auto c = get_async("/poll");
  ASSERT_TRUE(eventually([&] { return server_->parked_requests() == 3; }));
  server_->notify_waiters(SIZE_MAX);
  for (auto* f : {&a, &b, &c}) {
    ASSERT_TRUE(ready(*f));
    auto r = f->get();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->body, "prepared");
  }
  std::lock_guard lock(batch->mu);
  ASSERT_EQ(batch->sizes.size(), 1u);
  EXPECT_EQ(batch->sizes[0], 3u);
}

TEST_F(HttpServerTest, ResumeThatParksAgainKeepsWaiting) {
  auto wakes = std::make_shared<std::atomic<int>>(0);
  start(options(), [wakes](const Request&) { return poll_until(wakes, 2); });
  auto reply = get_async("/poll");
  ASSERT_TRUE(eventually([&] { return server_->parked_requests() == 1; }));
  server_->notify_waiters(1);
  ASSERT_TRUE(eventually([&] { return wakes->load() == 1 && server_->parked_requests() == 1; }));
  EXPECT_FALSE(ready(reply, 50ms));
  server_->notify_waiters(1);
  ASSERT_TRUE(ready(reply));
  auto r = reply.get();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "woken-2");
}

TEST_F(HttpServerTest, ClientThatLeavesWhileParkedIsDropped) {
  std::atomic<int> resumes{0};
  start(options(), [&](const Request& req) { return poll(req, &resumes); });
  TestHttpClient client(port());
  ASSERT_TRUE(client.write_raw("GET /poll HTTP/1.1\r\nHost: x\r\nX-Id: gone\r\n\r\n").ok());
  ASSERT_TRUE(eventually([&] { return server_->parked_requests() == 1; }));
  client.close();
  EXPECT_TRUE(eventually([&] { return server_->parked_requests() == 0 && server_->open_connections() == 0; }));
  EXPECT_EQ(resumes.load(), 0);
  server_->notify_waiters(SIZE_MAX);  // nothing left to wake
  EXPECT_EQ(resumes.load(), 0);
}

TEST_F(HttpServerTest, ClientThatSendsMoreBytesAndLeavesWhileParkedIsDropped) {
  std::atomic<int> resumes{0};
  start(options(), [&](const Request& req) { return poll(req, &resumes); });
  TestHttpClient client(port());
  ASSERT_TRUE(client.write_raw("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  ASSERT_TRUE(eventually([&] { return server_->parked_requests() == 1; }));
  ASSERT_TRUE(client.write_raw("GET /next HT").ok());  // left unread while parked
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(server_->parked_requests(), 1u);
  client.close();
  EXPECT_TRUE(eventually([&] { return server_->parked_requests() == 0 && server_->open_connections() == 0; }));
  EXPECT_EQ(resumes.load(), 0);
}

TEST_F(HttpServerTest, ManyParkedRequestsAreAllWoken) {
  start(options(), [](const Request& req) { return poll(req); });
  std::vector<std::future<ClientResult>> replies;
  for (int i = 0; i < 20; ++i) replies.push_back(get_async("/poll", {{"X-Id", std::to_string(i)}}));
  ASSERT_TRUE(eventually([&] { return server_->parked_requests() == 20; }));
  server_->notify_waiters(SIZE_MAX);
  for (auto& f : replies) {
    ASSERT_TRUE(ready(f));
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->body.rfind("woken:", 0), 0u);
  }
}

// --- every() and shutdown ----------------------------------------------------------------

TEST_F(HttpServerTest, EveryRunsPeriodicallyUntilShutdown) {
  start(options(), [](const Request&) { return text("ok"); });
  std::atomic<int> ticks{0};
  server_->every(10, [&] { ++ticks; });
  server_->every(10, [] { throw std::runtime_error("a failing periodic task does not stop the server"); });
  EXPECT_TRUE(eventually([&] { return ticks.load() >= 3; }));
  ASSERT_TRUE(stop());
  int after = ticks.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(ticks.load(), after);
}

TEST_F(HttpServerTest, PostedWorkRunsOnAnIoThreadAndCanWakeWaiters) {
  start(options(), [](const Request& req) { return poll(req); });
  auto a = get_async("/poll", {{"X-Id", "a"}});
  ASSERT_TRUE(eventually([&] { return server_->parked_requests() == 1; }));
  std::atomic<bool> ran{false};
  server_->post([&] {
    ran = true;
    server_->notify_waiters(1);
  });
  ASSERT_TRUE(ready(a));
  EXPECT_EQ(a.get()->body, "woken:a");
  EXPECT_TRUE(ran.load());
}

TEST_F(HttpServerTest, ShutdownAnswersParkedRequestsWithFinalResume) {
  start(options(), [](const Request& req) { return poll(req); });
  auto reply = get_async("/poll", {{"X-Id", "s"}});
  ASSERT_TRUE(eventually([&] { return server_->parked_requests() == 1; }));
  ASSERT_TRUE(stop());
  ASSERT_TRUE(ready(reply));
  auto r = reply.get();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "final:s");
  EXPECT_FALSE(r->keep_alive);
}

TEST_F(HttpServerTest, GracefulShutdownLetsAnInFlightRequestFinish) {
  std::promise<void> entered;
  auto entered_future = entered.get_future();
  start(options(), [&](const Request&) {
    entered.set_value();
    std::this_thread::sleep_for(200ms);
    return text("done");
  });
  auto reply = get_async("/slow");
  ASSERT_TRUE(ready(entered_future));
  server_->shutdown();
  ASSERT_TRUE(ready(reply));
  auto r = reply.get();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "done");
  EXPECT_FALSE(r->keep_alive);
  ASSERT_TRUE(stop());
  TestHttpClient late(port(), false, 1s);
  EXPECT_FALSE(late.get("/").ok());
}

TEST_F(HttpServerTest, ShutdownClosesIdleKeepAliveConnections) {
  start(options(), [](const Request&) { return text("ok"); });
  TestHttpClient client(port());
  ASSERT_TRUE(client.get("/").ok());
  ASSERT_TRUE(client.connected());
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(stop());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);  // far below the 10 s idle timeout
  EXPECT_TRUE(client.wait_closed(2s));
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(HttpServerTest, ShutdownIsIdempotentAndSafeFromManyThreads) {
  start(options(), [](const Request&) { return text("ok"); });
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([this] { server_->shutdown(); });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(stop());
  server_->shutdown();
}

TEST_F(HttpServerTest, StartReportsAnAddressInUse) {
  start(options(), [](const Request&) { return text("ok"); });
  ServerOptions o = options();
  o.port = port();
  auto second = Server::start(
      o, [](const Request&) { return text("ok"); }, log_);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find(std::to_string(port())), std::string::npos) << second.error().message;
  ServerOptions bad = options();
  bad.bind_address = "not-an-address";
  auto third = Server::start(
      bad, [](const Request&) { return text("ok"); }, log_);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, "bad-bind-address");
}

// --- TLS ---------------------------------------------------------------------------------

// Writes a fresh self-signed P-256 certificate for CN=localhost and its key as PEM.
void write_self_signed(const std::string& cert_path, const std::string& key_path) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                          &EVP_PKEY_free);
  ASSERT_TRUE(key);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  ASSERT_TRUE(cert);
  ASSERT_EQ(X509_set_version(cert.get(), 2), 1);
  ASSERT_EQ(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1), 1);
  ASSERT_TRUE(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600));
  ASSERT_TRUE(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600));
  ASSERT_EQ(X509_set_pubkey(cert.get(), key.get()), 1);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>("localhost");
  ASSERT_EQ(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0), 1);
  ASSERT_EQ(X509_set_issuer_name(cert.get(), name), 1);
  ASSERT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);

  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new_file(cert_path.c_str(), "w"), &BIO_free);
  ASSERT_TRUE(cert_bio);
  ASSERT_EQ(PEM_write_bio_X509(cert_bio.get(), cert.get()), 1);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new_file(key_path.c_str(), "w"), &BIO_free);
  ASSERT_TRUE(key_bio);
  ASSERT_EQ(PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
}

TEST_F(HttpServerTest, TlsGetRoundTrip) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_self_signed(dir.file("cert.pem"), dir.file("key.pem")));
  ServerOptions o = options();
  o.tls_cert_file = dir.file("cert.pem");
  o.tls_key_file = dir.file("key.pem");
  start(o, [](const Request& req) {
    if (req.path == "/poll") return poll(req);
    return text("secure " + req.path);
  });
  EXPECT_TRUE(server_->tls());
  TestHttpClient client(port(), true);
  for (int i = 0; i < 2; ++i) {
    auto r = client.get("/hello");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "secure /hello");
  }
  EXPECT_EQ(client.connect_count(), 1);

  auto parked = get_async("/poll", {{"X-Id", "tls"}}, true);
  ASSERT_TRUE(eventually([&] { return server_->parked_requests() == 1; }));
  server_->notify_waiters(1);
  ASSERT_TRUE(ready(parked));
  auto r = parked.get();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "woken:tls");

  TestHttpClient leaving(port(), true);
  ASSERT_TRUE(leaving.write_raw("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  ASSERT_TRUE(eventually([&] { return server_->parked_requests() == 1; }));
  leaving.close();
  EXPECT_TRUE(eventually([&] { return server_->parked_requests() == 0; }));

  TestHttpClient plain(port(), false, 2s);
  EXPECT_FALSE(plain.get("/hello").ok());
}

TEST_F(HttpServerTest, TlsStartNamesAMissingOrBadFile) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_self_signed(dir.file("cert.pem"), dir.file("key.pem")));
  auto handler = [](const Request&) { return text("ok"); };

  ServerOptions missing = options();
  missing.tls_cert_file = dir.file("missing-cert.pem");
  missing.tls_key_file = dir.file("key.pem");
  auto r1 = Server::start(missing, handler, log_);
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.error().message.find("missing-cert.pem"), std::string::npos) << r1.error().message;

  ServerOptions swapped = options();
  swapped.tls_cert_file = dir.file("key.pem");  // a key where the certificate should be
  swapped.tls_key_file = dir.file("key.pem");
  auto r2 = Server::start(swapped, handler, log_);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("key.pem"), std::string::npos) << r2.error().message;

  ServerOptions half = options();
  half.tls_cert_file = dir.file("cert.pem");
  auto r3 = Server::start(half, handler, log_);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, "tls-config");
}

}  // namespace
