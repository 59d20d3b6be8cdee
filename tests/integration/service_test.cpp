// A whole coordinator in-process on a loopback port: the API over real HTTP, health and
// metrics, and a graceful stop that loses nothing.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <thread>

#include "common/log.h"
#include "coordinator/service.h"
#include "support/http_client.h"
#include "support/test_env.h"
#include "support/service_fixture.h"

namespace meadow::coordinator {
namespace {

using testing::TestHttpClient;
using testing::TestNode;

TEST_F(ServiceFixture, HealthReadyInfoAndMetricsAnswer) {
  TestHttpClient c(port());
  auto health = c.get("/healthz");
  ASSERT_TRUE(health.ok()) << health.error().message;
  EXPECT_EQ(health->status, 200);
  ASSERT_NE(health->header("meadow-protocol"), nullptr);
  EXPECT_EQ(*health->header("meadow-protocol"), protocol::kVersion);
  EXPECT_EQ(c.get("/readyz")->status, 200);
  auto info = c.get("/v1/info");
  EXPECT_EQ(info->status, 200);
  EXPECT_NE(info->body.find(service().key().public_key().base64()), std::string::npos);
  auto metrics = c.get("/metrics");
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("meadow_http_requests_total{route=\"healthz\",status=\"200\"} 1"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("meadow_queue_tasks{state=\"queued\"} 0"), std::string::npos);
}

TEST_F(ServiceFixture, NodeRegistersLeasesAndUploadsOverHttp) {
  TestHttpClient c(port());
  TestNode node;
  ASSERT_EQ(send(c, node.register_request(now())).status, 200);
  auto job = admin(c, "POST", "/v1/admin/jobs",
                   R"({"name":"http","site_rate":50,"urls":["https://a.example/1","https://a.example/2"]})");
  ASSERT_EQ(job.status, 201) << job.body;
  auto lease = send(c, node.lease_request(now(), 2));
  ASSERT_EQ(lease.status, 200) << lease.body;
  auto tasks = protocol::parse_lease_response(lease.body);
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->tasks.size(), 2u);
  auto up = send(c, node.upload_request(now(), {node.ok_line(tasks->tasks[0]), node.ok_line(tasks->tasks[1])}));
  ASSERT_EQ(up.status, 200) << up.body;
  auto items = protocol::parse_upload_response(up.body);
  ASSERT_TRUE(items.ok());
  EXPECT_TRUE(protocol::verify_receipt(*items->items[1].receipt, service().key().public_key()).ok());
  auto queue = admin(c, "GET", "/v1/admin/queue");
  EXPECT_NE(queue.body.find("\"done\":2"), std::string::npos) << queue.body;
}

TEST_F(ServiceFixture, LongPollIsAnsweredAsSoonAsAJobArrives) {
  TestNode node;
  TestHttpClient c(port(), false, std::chrono::seconds(20));
  ASSERT_EQ(send(c, node.register_request(now())).status, 200);
  std::thread creator([this] {
    TestHttpClient admin_client(port());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    admin(admin_client, "POST", "/v1/admin/jobs", R"({"name":"late","urls":["https://late.example/"]})");
  });
  auto start = std::chrono::steady_clock::now();
  auto lease = send(c, node.lease_request(now(), 1, 15'000));
  auto waited = std::chrono::steady_clock::now() - start;
  creator.join();
  ASSERT_EQ(lease.status, 200) << lease.body;
  EXPECT_EQ(protocol::parse_lease_response(lease.body)->tasks.size(), 1u);
  EXPECT_LT(waited, std::chrono::seconds(10));  // woken by the job, not by the 15 s timer
}

TEST_F(ServiceFixture, OversizedBodyIsRefusedByTheTransport) {
  TestHttpClient c(port());
  std::string body(2 * 1024 * 1024, 'x');
  auto resp = c.post("/v1/lease", body, {{"content-type", "application/json"}});
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->status, 413);
  EXPECT_NE(resp->body.find("\"code\""), std::string::npos);
}

TEST_F(ServiceFixture, GracefulStopAnswersWaitingNodesAndKeepsEveryAcceptedResult) {
  TestNode node;
  {
    TestHttpClient c(port());
    ASSERT_EQ(send(c, node.register_request(now())).status, 200);
    ASSERT_EQ(admin(c, "POST", "/v1/admin/jobs", R"({"name":"g","site_rate":50,"urls":["https://g.example/1"]})").status, 201);
    auto tasks = protocol::parse_lease_response(send(c, node.lease_request(now(), 1)).body);
    ASSERT_EQ(send(c, node.upload_request(now(), {node.ok_line(tasks->tasks[0])})).status, 200);
  }
  TestHttpClient waiting(port(), false, std::chrono::seconds(20));
  std::thread stopper([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    service().shutdown();
  });
  auto lease = send(waiting, node.lease_request(now(), 1, 15'000));
  stopper.join();
  EXPECT_EQ(lease.status, 200);
  stop();
  // Reopen the database: the accepted result is there.
  auto store = open_sqlite_store(SqliteOptions{dir().file("data/coordinator.db")});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->results(1, 0, 10)->size(), 1u);
}

}  // namespace
}  // namespace meadow::coordinator
