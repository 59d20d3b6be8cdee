// kill -9 the real coordinator in the middle of leasing and uploading, twice. After
// restarts, every task is done exactly once and every receipt a node was given is backed
// by a stored result.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "common/json.h"
#include "coordinator/service.h"
#include "support/coordinator_process.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/test_env.h"

namespace meadow::coordinator {
namespace {

using namespace std::chrono_literals;
using testing::TestHttpClient;
using testing::TestNode;

constexpr int kTasks = 1000;
constexpr int kNodes = 4;

struct Shared {
  std::mutex mu;  // guards receipts
  std::map<std::int64_t, protocol::Receipt> receipts;
  std::atomic<bool> stop{false};
  std::atomic<int> unexpected{0};
  std::string last_unexpected;
};

void node_loop(std::uint16_t port, Shared& shared) {
  TestNode node;
  TestHttpClient c(port, false, 3s);
  auto now = [] { return system_clock().now_ms(); };
  while (!shared.stop) {
    auto reg = send(c, node.register_request(now()));
    if (reg.ok() && reg->status == 200) break;
    std::this_thread::sleep_for(50ms);
  }
  std::vector<protocol::ResultLine> pending;
  while (!shared.stop) {
    if (pending.empty()) {
      auto lease = send(c, node.lease_request(now(), 8));
      if (!lease.ok() || lease->status != 200) {
        std::this_thread::sleep_for(30ms);
        continue;
      }
      auto parsed = protocol::parse_lease_response(lease->body);
      if (!parsed.ok() || parsed->tasks.empty()) {
        std::this_thread::sleep_for(20ms);
        continue;
      }
      for (const auto& t : parsed->tasks) pending.push_back(node.ok_line(t));
    }
    auto up = send(c, node.upload_request(now(), pending));
    if (!up.ok() || up->status >= 500) {
      std::this_thread::sleep_for(30ms);  // the coordinator is down: retry the same results
      continue;
    }
    if (up->status == 409 || up->status == 404) {
      pending.clear();  // our lease ended while the coordinator was down: the task is someone else's now
      continue;
    }
    if (up->status != 200) {
      shared.unexpected++;
      shared.last_unexpected = std::to_string(up->status) + " " + up->body;
      pending.clear();
      continue;
    }
    auto items = protocol::parse_upload_response(up->body);
    if (items.ok()) {
      std::lock_guard lock(shared.mu);
      for (const auto& it : items->items) {
        if (it.receipt) shared.receipts[it.task_id] = *it.receipt;
      }
    }
    pending.clear();
  }
}

class CrashTest : public ::testing::Test {
 protected:
  std::size_t receipts() {
    std::lock_guard lock(shared_.mu);
    return shared_.receipts.size();
  }
  void wait_for_receipts(std::size_t n) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (receipts() < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    ASSERT_GE(receipts(), n);
  }

  testing::TempDir dir_;
  testing::CoordinatorProcess coordinator_{
      dir_.path(), "lease_ms = 1500\nreap_interval_ms = 100\nsite_rate = 1000\nsite_burst = 1000\n"};
  Shared shared_;
};

TEST_F(CrashTest, KillNineDuringLeasingAndUploadingLosesNothingAndCountsNothingTwice) {
  {
    std::ofstream urls(dir_.file("urls.txt"));
    for (int i = 0; i < kTasks; ++i) urls << "https://site" << i % 30 << ".example/page/" << i << "\n";
  }
  auto add = coordinator_.cli({"job", "add", "--name", "crash", "--urls", dir_.file("urls.txt"), "--site-rate", "100"});
  ASSERT_EQ(add.exit_code, 0) << add.err;

  ASSERT_TRUE(coordinator_.start().ok());
  std::vector<std::thread> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.emplace_back(node_loop, coordinator_.port(), std::ref(shared_));

  for (std::size_t at : {std::size_t{200}, std::size_t{600}}) {
    wait_for_receipts(at);
    coordinator_.process().signal(SIGKILL);
    EXPECT_LT(receipts(), static_cast<std::size_t>(kTasks)) << "the kill must land while work is in flight";
    coordinator_.process().wait(5s);
    ASSERT_TRUE(coordinator_.start().ok());
  }
  wait_for_receipts(kTasks);
  shared_.stop = true;
  for (auto& t : nodes) t.join();
  coordinator_.process().signal(SIGTERM);
  EXPECT_EQ(coordinator_.process().wait(10s), 0);
  EXPECT_EQ(shared_.unexpected.load(), 0) << shared_.last_unexpected;

  auto store = open_sqlite_store(SqliteOptions{coordinator_.database()});
  ASSERT_TRUE(store.ok());
  auto job = (*store)->get_job(1);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::done);
  EXPECT_EQ(job->counts.done, kTasks);
  auto results = (*store)->results(1, 0, kTasks * 2);
  ASSERT_TRUE(results.ok());
  ASSERT_EQ(results->size(), static_cast<std::size_t>(kTasks));  // one result per task, never two
  std::map<std::int64_t, protocol::Receipt> stored;
  for (const auto& r : *results) {
    auto obj = parse_json_object(r.receipt_json, "receipt");
    ASSERT_TRUE(obj.ok());
    stored[r.task_id] = *protocol::parse_receipt(*obj);
  }
  std::lock_guard lock(shared_.mu);
  for (const auto& [task, receipt] : shared_.receipts) {
    ASSERT_TRUE(stored.count(task)) << "receipt for task " << task << " has no stored result";
    EXPECT_EQ(stored[task].token, receipt.token);
    EXPECT_EQ(stored[task].record_sha256, receipt.record_sha256);
  }
  std::int64_t accepted = 0;
  auto registered = (*store)->list_nodes();
  ASSERT_TRUE(registered.ok());
  for (const auto& n : registered.value()) accepted += n.accepted;
  EXPECT_EQ(accepted, kTasks);  // points basis: nothing counted twice
}

}  // namespace
}  // namespace meadow::coordinator
