// The loop's own scheduling: what runs in which turn. Transfers are tested through the
// fetcher against real loopback servers (fetcher_test.cpp); here a small one counts requests.
#include "client/core/http_loop.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace meadow::client {
namespace {

TEST(HttpLoop, TurnEndWorkRunsLastInItsTurnAndOnceOnly) {
  HttpLoop loop;
  std::string order;
  loop.post([&] {
    order += "posted ";
    loop.at_turn_end([&] {
      order += "end ";
      loop.at_turn_end([&] { order += "then-end "; });  // same turn, after
    });
  });
  loop.after(0, [&] { order += "timer "; });
  loop.run_once(0);
  EXPECT_EQ(order, "timer posted end then-end ");
  loop.run_once(0);
  EXPECT_EQ(order, "timer posted end then-end ");
  // Queued outside a turn: the next turn runs it and does not wait.
  loop.at_turn_end([&] { order += "outside "; });
  const auto t0 = std::chrono::steady_clock::now();
  loop.run_once(10'000);
  EXPECT_EQ(order, "timer posted end then-end outside ");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

// A keep-alive HTTP server on a loopback port, one connection at a time, answering every
// request "ok" and counting the requests it has read.
class CountingServer {
 public:
  CountingServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~CountingServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int requests() const { return requests_.load(); }

 private:
  void serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[4096];
      for (;;) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
        for (auto end = in.find("\r\n\r\n"); end != std::string::npos; end = in.find("\r\n\r\n")) {
          in.erase(0, end + 4);
          ++requests_;
          const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
          (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        }
      }
      ::close(c);
    }
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A transfer started in a turn that has turn-end work sends its request before that work runs,
// so the server works on it meanwhile rather than after it.
TEST(HttpLoop, RequestsStartedInATurnGoOutBeforeItsTurnEndWork) {
  CountingServer server;
  ASSERT_NE(server.port(), 0);
  HttpLoop loop;
  auto request = [&] {
    HttpRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/page";
    r.guard = GuardPolicy{true, {}};  // guarded transfers keep their connection for the next
    return r;
  };
  int answered = 0;
  auto count = [&](HttpResponse resp) { answered += resp.status == 200 ? 1 : 0; };
  loop.start(request(), count);
  for (int turn = 0; turn < 1000 && answered < 1; ++turn) loop.run_once(10);
  ASSERT_EQ(answered, 1);

  int seen_at_turn_end = -1;
  loop.post([&] {
    loop.start(request(), count);
    loop.at_turn_end([&] {
      // Up to 5 s for the server to read it; without the request sent, it never does.
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (server.requests() < 2 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      seen_at_turn_end = server.requests();
    });
  });
  loop.run_once(0);
  EXPECT_EQ(seen_at_turn_end, 2);
  for (int turn = 0; turn < 1000 && answered < 2; ++turn) loop.run_once(10);
  EXPECT_EQ(answered, 2);
}

}  // namespace
}  // namespace meadow::client
