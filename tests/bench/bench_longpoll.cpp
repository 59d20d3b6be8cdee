// Idle long-polls: C lease requests parked at the real meadow-coordinator binary at once
// (no job yet, wait_ms = 30000), held by one epoll thread here, not a thread per connection.
// With them held it reads the coordinator's RSS, times 2,000 ordinary leases from another
// node, then creates a job of C tasks through the admin API (which notifies parked polls)
// and times each parked request's answer from that moment. Prints one JSON line.
//
//   bench_longpoll [connections=10000]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/protocol.h"
#include "support/coordinator_process.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/test_env.h"

namespace {

using namespace meadow;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using testing::TestHttpClient;
using testing::TestNode;

constexpr int kPollNodes = 100;  // the parked requests are spread over this many nodes
constexpr int kLeaseSamples = 2000;
constexpr std::int64_t kWaitMs = 30'000;
constexpr std::size_t kConnectingAtOnce = 512;  // stay well inside the listen backlog

double ms_between(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return -1;
  auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(q * static_cast<double>(sorted.size()))));
  return sorted[std::min(rank, sorted.size()) - 1];
}

std::string raw_request(const coordinator::http::Request& r, std::uint16_t port) {
  std::string out = r.method + " " + r.target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  for (const auto& h : r.headers) out += h.name + ": " + h.value + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n";
  out += r.body;
  return out;
}

// Many connections, one request each, driven by one epoll loop on its own thread. Only the
// atomics are read while it runs; the per-connection results after join().
class ParkedPolls {
 public:
  enum class State { unopened, connecting, writing, waiting, done, failed };
  struct Conn {
    int fd = -1;
    State state = State::unopened;
    std::size_t sent = 0;
    std::string in;
    int status = 0;
    bool got_task = false;
    std::string error;
    Steady::time_point answered;
  };

  ParkedPolls(std::uint16_t port, std::vector<std::string> requests)
      : port_(port), requests_(std::move(requests)), conns_(requests_.size()) {}

  void start(Steady::time_point deadline) {
    thread_ = std::thread([this, deadline] { run(deadline); });
  }
  void stop() { stop_ = true; }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  std::size_t sent() const { return sent_; }
  std::size_t finished() const { return finished_; }
  std::size_t failed() const { return failed_; }
  const std::vector<Conn>& conns() const { return conns_; }

 private:
  void run(Steady::time_point deadline) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    std::vector<epoll_event> events(1024);
    std::size_t next = 0;
    while (!stop_ && finished_ < conns_.size() && Steady::now() < deadline) {
      while (next < conns_.size() && connecting_ < kConnectingAtOnce) open(next++);
      int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 20);
      for (int i = 0; i < n; ++i)
        on_event(events[static_cast<std::size_t>(i)].data.u32, events[static_cast<std::size_t>(i)].events);
    }
    for (auto& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
      c.fd = -1;
    }
    ::close(epoll_);
  }

  void open(std::size_t i) {
    Conn& c = conns_[i];
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return fail(c, std::string("socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    epoll_event ev{};
    ev.data.u32 = static_cast<std::uint32_t>(i);
    ev.events = EPOLLOUT;
    if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
      return fail(c, std::string("connect: ") + std::strerror(errno));
    }
    c.state = State::connecting;
    ++connecting_;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void fail(Conn& c, std::string why) {
    if (c.state == State::connecting) --connecting_;
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    c.state = State::failed;
    c.error = std::move(why);
    c.answered = Steady::now();
    ++failed_;
    ++finished_;
  }

  void on_event(std::uint32_t i, std::uint32_t what) {
    Conn& c = conns_[i];
    if (c.state == State::connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return fail(c, std::string("connect: ") + std::strerror(err));
      --connecting_;
      c.state = State::writing;
    }
    if (c.state == State::writing) return write_some(i, c);
    if (c.state == State::waiting && (what & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) read_some(c);
  }

  void write_some(std::uint32_t i, Conn& c) {
    const std::string& req = requests_[i];
    while (c.sent < req.size()) {
      ssize_t n = ::send(c.fd, req.data() + c.sent, req.size() - c.sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) return;  // EPOLLOUT will come again
      if (n <= 0) return fail(c, std::string("send: ") + std::strerror(errno));
      c.sent += static_cast<std::size_t>(n);
    }
    c.state = State::waiting;
    ++sent_;
    epoll_event ev{};
    ev.data.u32 = i;
    ev.events = EPOLLIN | EPOLLRDHUP;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void read_some(Conn& c) {
    char buf[16384];
    for (;;) {
      ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<std::size_t>(n));
        if (complete(c)) return;
        continue;
      }
      if (n < 0 && errno == EAGAIN) return;
      return fail(c,
                  n == 0 ? "closed by the coordinator before an answer" : std::string("recv: ") + std::strerror(errno));
    }
  }

  // True when a whole response is in (then the connection is closed and the answer kept).
  bool complete(Conn& c) {
    auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    std::string head = c.in.substr(0, end);
    for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::size_t length = 0;
    auto cl = head.find("\r\ncontent-length:");
    if (cl != std::string::npos) length = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
    if (c.in.size() < end + 4 + length) return false;
    c.answered = Steady::now();
    c.status = c.in.size() > 12 ? std::atoi(c.in.c_str() + 9) : 0;
    if (c.status == 200) {
      auto lease = protocol::parse_lease_response(std::string_view(c.in).substr(end + 4, length));
      c.got_task = lease.ok() && !lease->tasks.empty();
    }
    c.in.resize(std::min<std::size_t>(c.in.size(), 600));  // keep a little for error reports
    ::close(c.fd);
    c.fd = -1;
    c.state = State::done;
    ++finished_;
    return true;
  }

  std::uint16_t port_;
  std::vector<std::string> requests_;
  std::vector<Conn> conns_;
  std::thread thread_;
  int epoll_ = -1;
  std::size_t connecting_ = 0;  // loop thread only
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> sent_{0};
  std::atomic<std::size_t> finished_{0};
  std::atomic<std::size_t> failed_{0};
};

std::optional<double> long_polls_gauge(TestHttpClient& c) {
  auto r = c.get("/metrics");
  if (!r.ok()) {
    c.close();
    return std::nullopt;
  }
  std::istringstream in(r->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("meadow_lease_long_polls ", 0) == 0) return std::atof(line.c_str() + 24);
  }
  return std::nullopt;
}

rlim_t raise_nofile() {
  rlimit lim{65536, 65536};
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  getrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur;
}

}  // namespace

int main(int argc, char** argv) {
  const int conns = argc > 1 && std::atoi(argv[1]) > 0 ? std::atoi(argv[1]) : 10'000;
  const rlim_t nofile = raise_nofile();  // before the child starts: it inherits the limit
  if (nofile < static_cast<rlim_t>(conns) + 100) {
    std::fprintf(stderr, "RLIMIT_NOFILE is %llu; %d connections need more\n", static_cast<unsigned long long>(nofile),
                 conns);
    return 1;
  }

  testing::TempDir dir;
  testing::CoordinatorProcess coordinator(
      dir.path(),
      "threads = 2\nmax_connections = 30000\nmax_long_poll_ms = 30000\n"
      "site_rate = 10000\nsite_burst = 100000\nmax_json_bytes = 67108864\n");
  const std::uint16_t port = coordinator.port();
  auto key = coordinator.cli({"admin-key", "create", "--label", "bench"});
  if (key.exit_code != 0) {
    std::fprintf(stderr, "admin-key create failed: %s\n", key.err.c_str());
    return 1;
  }
  const std::string admin_key = key.out.substr(0, key.out.find_first_of("\r\n"));

  if (auto st = coordinator.start(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }
  testing::ChildProcess& coord = coordinator.process();
  TestHttpClient c(port, false, 60s);
  const double rss_base = testing::rss_mib(coord.pid());

  auto now = [] { return system_clock().now_ms(); };
  std::vector<TestNode> nodes(static_cast<std::size_t>(std::min(conns, kPollNodes)));
  TestNode probe_node;
  std::vector<const TestNode*> everyone{&probe_node};
  for (const auto& n : nodes) everyone.push_back(&n);
  for (const TestNode* n : everyone) {
    auto r = send(c, n->register_request(now(), "bench"));
    if (!r.ok() || r->status != 200) {
      std::fprintf(stderr, "register failed: %s\n", r.ok() ? r->body.c_str() : r.error().message.c_str());
      return 1;
    }
  }
  std::vector<std::string> requests;
  requests.reserve(static_cast<std::size_t>(conns));
  for (int i = 0; i < conns; ++i) {
    requests.push_back(
        raw_request(nodes[static_cast<std::size_t>(i) % nodes.size()].lease_request(now(), 1, kWaitMs), port));
  }

  // Park them all.
  ParkedPolls polls(port, std::move(requests));
  const auto t_open = Steady::now();
  polls.start(t_open + 120s);
  double parked = 0;
  auto park_deadline = t_open + 25s;  // the first polls end at 30 s; leave room to measure
  while (Steady::now() < park_deadline) {
    if (polls.sent() + polls.failed() >= static_cast<std::size_t>(conns)) {
      parked = long_polls_gauge(c).value_or(0);
      if (parked >= conns || polls.failed() > 0) break;
    }
    std::this_thread::sleep_for(50ms);
  }
  const double park_seconds = ms_between(t_open, Steady::now()) / 1000.0;
  const double rss = testing::rss_mib(coord.pid());

  // (a) Ordinary leases from another node while the polls are held. Signing is not timed.
  std::vector<double> lease_ms;
  std::size_t lease_errors = 0;
  for (int i = 0; i < kLeaseSamples; ++i) {
    auto req = probe_node.lease_request(now(), 1, 0);
    testing::TestHttpHeaders headers;
    for (const auto& h : req.headers) headers.emplace_back(h.name, h.value);
    auto t = Steady::now();
    auto r = c.request(req.method, req.target, req.body, headers);
    lease_ms.push_back(ms_between(t, Steady::now()));
    if (!r.ok() || r->status != 200) {
      ++lease_errors;
      if (!r.ok()) c.close();
    }
  }
  std::sort(lease_ms.begin(), lease_ms.end());

  // (b) A job of C tasks through the admin API wakes the parked polls.
  std::string body = R"({"name":"wake","site_rate":100,"urls":[)";
  const int sites = std::max(1000, conns / 50);
  for (int i = 0; i < conns; ++i) {
    body += (i ? ",\"" : "\"") + std::string("https://wake") + std::to_string(i % sites) + ".example/item/" +
            std::to_string(i) + "\"";
  }
  body += "]}";
  const std::size_t answered_before_wake = polls.finished();
  const double coord_cpu0 = testing::cpu_seconds_of(coord.pid()), own_cpu0 = testing::own_cpu_seconds(), all_cpu0 = testing::machine_cpu_seconds();
  const auto t0 = Steady::now();
  auto created =
      c.post("/v1/admin/jobs", body, {{"authorization", "Bearer " + admin_key}, {"content-type", "application/json"}});
  const double create_ms = ms_between(t0, Steady::now());
  if (!created.ok() || created->status != 201) {
    std::fprintf(stderr, "job create failed: %s\n",
                 created.ok() ? created->body.c_str() : created.error().message.c_str());
  }
  auto wake_deadline = t0 + std::chrono::milliseconds(kWaitMs + 10'000);
  while (polls.finished() < static_cast<std::size_t>(conns) && Steady::now() < wake_deadline)
    std::this_thread::sleep_for(10ms);
  const double coord_cpu = testing::cpu_seconds_of(coord.pid()) - coord_cpu0, own_cpu = testing::own_cpu_seconds() - own_cpu0;
  const double other_cpu = std::max(0.0, testing::machine_cpu_seconds() - all_cpu0 - coord_cpu - own_cpu);
  polls.stop();
  polls.join();

  std::vector<double> wake_ms;
  std::size_t with_task = 0, failed = 0, not_200 = 0;
  std::string first_failure;
  for (const auto& conn : polls.conns()) {
    if (conn.state == ParkedPolls::State::failed) {
      ++failed;
      if (first_failure.empty()) first_failure = conn.error;
      continue;
    }
    if (conn.state != ParkedPolls::State::done) continue;
    if (conn.status != 200) {
      ++not_200;
      if (first_failure.empty()) first_failure = conn.in;
    }
    if (conn.answered < t0) continue;
    wake_ms.push_back(ms_between(t0, conn.answered));
    if (conn.got_task) ++with_task;
  }
  std::sort(wake_ms.begin(), wake_ms.end());

  const bool alive = coord.running();
  coord.signal(SIGTERM);
  const int exit_code = coord.wait(15s);
  if (failed + not_200 + lease_errors > 0) {
    std::fprintf(stderr, "%zu connections failed, %zu answered not 200, %zu lease errors; first: %s\n", failed, not_200,
                 lease_errors, first_failure.c_str());
  }
  if (!alive || exit_code != 0)
    std::fprintf(stderr, "the coordinator %s (exit %d)\n", alive ? "did not stop cleanly" : "died", exit_code);

  std::printf(
      "{\"bench\":\"longpoll\",\"connections\":%d,\"parked\":%.0f,\"park_s\":%.2f,\"rss_base_mib\":%.1f,"
      "\"rss_mib\":%.1f,\"kib_per_poll\":%.1f,\"lease_p50_ms\":%.3f,\"lease_p99_ms\":%.3f,\"job_create_ms\":%.1f,"
      "\"wake_p50_ms\":%.1f,\"wake_p99_ms\":%.1f,\"wake_max_ms\":%.1f,\"woken\":%zu,\"woken_with_task\":%zu,"
      "\"wake_coordinator_cpu_s\":%.2f,\"wake_other_cpu_s\":%.2f,\"answered_before_wake\":%zu,\"failed\":%zu,"
      "\"nofile\":%llu,\"goal_rss_mib\":1024,\"goal_p99_ms\":50}\n",
      conns, parked, park_seconds, rss_base, rss, parked > 0 ? (rss - rss_base) * 1024.0 / parked : 0.0,
      percentile(lease_ms, 0.5), percentile(lease_ms, 0.99), create_ms, percentile(wake_ms, 0.5),
      percentile(wake_ms, 0.99), wake_ms.empty() ? -1.0 : wake_ms.back(), wake_ms.size(), with_task, coord_cpu,
      other_cpu, answered_before_wake, failed, static_cast<unsigned long long>(nofile));
  return alive && parked > 0 ? 0 : 1;
}
