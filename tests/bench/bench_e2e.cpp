// End-to-end throughput: accepted results per second through the real meadow-coordinator
// binary over loopback HTTP, with K simulated nodes that sign every request and every record
// the way meadow-node does (lease 32 -> 32 signed records, zstd NDJSON -> upload). The
// coordinator checks every signature. Clients and coordinator share the machine, so the
// coordinator's own CPU time (from /proc) is printed next to the rate. Prints one JSON line.
//
//   bench_e2e [nodes=16] [text_bytes=2048] [results=30000] [max_seconds=60]
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
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

constexpr int kBatch = 32;
constexpr int kSites = 1000;
constexpr int kWarmupResults = 2000;

struct Settings {
  int nodes = 16;
  int text_bytes = 2048;
  int results = 30'000;  // measured after warm-up
  int max_seconds = 60;  // of measuring
};

struct Shared {
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> accepted{0};  // results the coordinator accepted with a receipt
  std::atomic<std::int64_t> uploads{0};
  std::atomic<std::int64_t> errors{0};  // transport failures and non-200 answers
  std::atomic<std::int64_t> empty_leases{0};
  std::atomic<int> registered{0};
  std::string first_error;  // written once, under first_error_set
  std::atomic<bool> first_error_set{false};

  void error(const std::string& what) {
    errors++;
    if (!first_error_set.exchange(true)) first_error = what;
  }
};

// Page-like text: words from a made-up vocabulary, so records compress about as well as
// real page text does (not as well as one repeated letter would).
std::string word_pool(std::size_t bytes, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> vocab;
  const char* letters = "etaoinshrdlucmfwypvbgkqjxz";
  for (int i = 0; i < 600; ++i) {
    std::string w;
    int len = 2 + static_cast<int>(rng() % 9);
    for (int k = 0; k < len; ++k) w.push_back(letters[std::min<std::uint32_t>(rng() % 26, rng() % 26)]);
    vocab.push_back(std::move(w));
  }
  std::string out;
  out.reserve(bytes + 16);
  while (out.size() < bytes) {
    out += vocab[rng() % vocab.size()];
    out += (rng() % 12 == 0) ? ". " : " ";
  }
  return out;
}

void node_loop(int index, std::uint16_t port, const Settings& set, const std::string& pool, Shared& shared) {
  auto now = [] { return system_clock().now_ms(); };
  TestNode node;
  TestHttpClient c(port, false, 10s);
  std::mt19937 rng(static_cast<std::uint32_t>(index) * 7919U + 1U);
  for (int tries = 0; !shared.stop; ++tries) {
    auto reg = send(c, node.register_request(now(), "bench"));
    if (reg.ok() && reg->status == 200) break;
    if (tries == 50) {
      shared.error("register: " + (reg.ok() ? std::to_string(reg->status) + " " + reg->body : reg.error().message));
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  shared.registered++;
  std::vector<protocol::ResultLine> lines;
  lines.reserve(kBatch);
  const std::size_t text = static_cast<std::size_t>(set.text_bytes);
  while (!shared.stop) {
    auto lease = send(c, node.lease_request(now(), kBatch));
    if (!lease.ok() || lease->status != 200) {
      shared.error("lease: " +
                   (lease.ok() ? std::to_string(lease->status) + " " + lease->body : lease.error().message));
      std::this_thread::sleep_for(20ms);
      continue;
    }
    auto parsed = protocol::parse_lease_response(lease->body);
    if (!parsed.ok()) {
      shared.error("lease body: " + parsed.error().message);
      continue;
    }
    if (parsed->tasks.empty()) {
      shared.empty_leases++;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::clamp<std::int64_t>(parsed->next_poll_ms, 5, 100)));
      continue;
    }
    lines.clear();
    for (const auto& t : parsed->tasks) {
      std::size_t at = text >= pool.size() ? 0 : rng() % (pool.size() - text);
      lines.push_back(node.ok_line(t, {}, pool.substr(at, text)));
    }
    auto up = send(c, node.upload_request(now(), lines));
    if (!up.ok() || up->status != 200) {
      shared.error("upload: " + (up.ok() ? std::to_string(up->status) + " " + up->body : up.error().message));
      continue;
    }
    auto items = protocol::parse_upload_response(up->body);
    if (!items.ok()) {
      shared.error("upload body: " + items.error().message);
      continue;
    }
    std::int64_t ok = 0;
    for (const auto& it : items->items) {
      if (it.receipt && !it.duplicate) ++ok;
    }
    if (ok != static_cast<std::int64_t>(lines.size()))
      shared.error("upload: only " + std::to_string(ok) + " of " + std::to_string(lines.size()) + " accepted");
    shared.accepted += ok;
    shared.uploads++;
  }
}

int arg(int argc, char** argv, int i, int fallback) {
  if (argc <= i) return fallback;
  int v = std::atoi(argv[i]);
  return v > 0 ? v : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  Settings set;
  set.nodes = arg(argc, argv, 1, set.nodes);
  set.text_bytes = arg(argc, argv, 2, set.text_bytes);
  set.results = arg(argc, argv, 3, set.results);
  set.max_seconds = arg(argc, argv, 4, set.max_seconds);

  testing::TempDir dir;
  testing::CoordinatorProcess coordinator(dir.path(), "threads = 2\nsite_rate = 10000\nsite_burst = 100000\n");
  const std::uint16_t port = coordinator.port();
  const int tasks = kWarmupResults + set.results + set.nodes * kBatch * 2;
  {
    std::ofstream urls(dir.file("urls.txt"));
    for (int i = 0; i < tasks; ++i) urls << "https://site" << i % kSites << ".example/page/" << i << "\n";
  }
  auto add = coordinator.cli({"job", "add", "--name", "bench-e2e", "--urls", dir.file("urls.txt"), "--site-rate", "100"});
  if (add.exit_code != 0) {
    std::fprintf(stderr, "job add failed (%d): %s%s\n", add.exit_code, add.out.c_str(), add.err.c_str());
    return 1;
  }

  if (auto st = coordinator.start(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }
  testing::ChildProcess& coord = coordinator.process();

  const std::string pool = word_pool(4 * 1024 * 1024, 42);
  Shared shared;
  std::vector<std::thread> nodes;
  for (int i = 0; i < set.nodes; ++i)
    nodes.emplace_back(node_loop, i, port, std::cref(set), std::cref(pool), std::ref(shared));

  // Warm-up: connections open, caches and the database warm, every node registered.
  auto warm_deadline = Steady::now() + 60s;
  while ((shared.accepted < kWarmupResults || shared.registered < set.nodes) && Steady::now() < warm_deadline &&
         coord.running()) {
    std::this_thread::sleep_for(2ms);
  }
  const std::int64_t a0 = shared.accepted;
  const double cpu0 = testing::cpu_seconds_of(coord.pid());
  const double own0 = testing::own_cpu_seconds();
  const double all0 = testing::machine_cpu_seconds();
  const auto t0 = Steady::now();
  const auto deadline = t0 + std::chrono::seconds(set.max_seconds);
  while (shared.accepted - a0 < set.results && Steady::now() < deadline && coord.running()) {
    std::this_thread::sleep_for(2ms);
  }
  const std::int64_t a1 = shared.accepted;
  const auto t1 = Steady::now();
  const double cpu1 = testing::cpu_seconds_of(coord.pid());
  const double own1 = testing::own_cpu_seconds();
  const double all1 = testing::machine_cpu_seconds();
  const bool alive = coord.running();
  shared.stop = true;
  for (auto& t : nodes) t.join();
  coord.signal(SIGTERM);
  const int exit_code = coord.wait(15s);

  const double secs = std::chrono::duration<double>(t1 - t0).count();
  const std::int64_t results = a1 - a0;
  if (shared.errors > 0) {
    std::fprintf(stderr, "%lld errors; first: %s\n", static_cast<long long>(shared.errors.load()),
                 shared.first_error.c_str());
  }
  if (!alive || exit_code != 0) {
    std::fprintf(stderr, "the coordinator %s (exit %d); log:\n", alive ? "did not stop cleanly" : "died", exit_code);
    std::ifstream log(dir.file("coordinator.log"));
    std::fprintf(stderr, "%s\n",
                 std::string((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>()).c_str());
  }
  std::printf(
      "{\"bench\":\"e2e\",\"nodes\":%d,\"batch\":%d,\"text_bytes\":%d,\"results\":%lld,\"seconds\":%.3f,"
      "\"results_per_s\":%.0f,\"coordinator_cpu_s\":%.3f,\"clients_cpu_s\":%.3f,\"other_cpu_s\":%.3f,\"cores\":%ld,"
      "\"errors\":%lld,\"empty_leases\":%lld,\"coordinator_exit\":%d,\"goal_results_per_s\":5000}\n",
      set.nodes, kBatch, set.text_bytes, static_cast<long long>(results), secs, results / secs, cpu1 - cpu0,
      own1 - own0, std::max(0.0, (all1 - all0) - (cpu1 - cpu0) - (own1 - own0)), sysconf(_SC_NPROCESSORS_ONLN),
      static_cast<long long>(shared.errors.load()), static_cast<long long>(shared.empty_leases.load()), exit_code);
  return alive && results > 0 ? 0 : 1;
}
