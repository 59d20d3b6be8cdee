// Real requests and responses of a running coordinator, written out for the schema check
// (tests/integration/check_schemas.py runs this with MEADOW_SCHEMA_SAMPLES set).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include "common/json.h"
#include <cstdlib>
#include <fstream>

#include "common/zstd.h"
#include "support/service_fixture.h"

namespace meadow::coordinator {
namespace {

using testing::TestHttpClient;
using testing::TestNode;

class SchemaSamples : public ServiceFixture {
 protected:
  void save(const std::string& schema, const std::string& label, const std::string& body) {
    const char* dir = std::getenv("MEADOW_SCHEMA_SAMPLES");
    ASSERT_NE(dir, nullptr) << "set MEADOW_SCHEMA_SAMPLES";
    std::ofstream(std::string(dir) + "/" + schema + "--" + label + ".json") << body;
    ++saved_;
  }
  int saved_ = 0;
};

TEST_F(SchemaSamples, WriteRealResponses) {
  TestHttpClient c(port());
  TestNode node;
  save("health", "healthz", c.get("/healthz")->body);
  save("health", "readyz", c.get("/readyz")->body);
  save("info", "info", c.get("/v1/info")->body);

  auto reg = node.register_request(now());
  save("register-request", "ok", reg.body);
  save("register-response", "ok", send(c, reg).body);

  std::string spec = R"({"name":"samples","scope":"site","max_depth":1,"max_pages":10,"priority":2,"site_rate":50,
    "max_attempts":2,"replication_rate":0.1,"fields":[{"name":"price","kind":"css","expr":".price"}],
    "urls":["https://shop.example/a","https://shop.example/b","https://shop.example/c"]})";
  save("job-spec", "site", spec);
  auto created = admin(c, "POST", "/v1/admin/jobs", spec);
  ASSERT_EQ(created.status, 201);
  save("job", "created", created.body);

  auto lease_req = node.lease_request(now(), 3);
  save("lease-request", "ok", lease_req.body);
  auto lease = send(c, lease_req);
  save("lease-response", "tasks", lease.body);
  auto tasks = protocol::parse_lease_response(lease.body);
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->tasks.size(), 3u);

  protocol::ExtendRequest ext{{{tasks->tasks[2].task_id, tasks->tasks[2].token}, {tasks->tasks[2].task_id, 1}}, 60'000};
  auto ext_req = node.request("POST", "/v1/leases/extend", protocol::to_json(ext), now());
  save("extend-request", "ok", ext_req.body);
  save("extend-response", "mixed", send(c, ext_req).body);

  auto ok = node.ok_line(tasks->tasks[0], {"https://shop.example/d"});
  protocol::ResultLine failed;
  failed.task_id = tasks->tasks[1].task_id;
  failed.token = tasks->tasks[1].token;
  failed.outcome = protocol::Outcome::failed;
  failed.reason = "connection reset";
  save("result-line", "ok", protocol::to_json(ok));
  save("result-line", "failed", protocol::to_json(failed));
  save("record", "minimal", meadow::to_json(ok.record));
  auto up = send(c, node.upload_request(now(), {ok, failed}));
  ASSERT_EQ(up.status, 200) << up.body;
  save("upload-response", "ok", up.body);
  auto parsed = boost::json::parse(up.body);
  save("receipt", "ok", meadow::to_json(parsed.at("items").at(0).at("receipt")));

  protocol::ReleaseRequest rel{{{tasks->tasks[2].task_id, tasks->tasks[2].token}, {tasks->tasks[2].task_id, 1}}};
  auto rel_req = node.request("POST", "/v1/leases/release", protocol::to_json(rel), now());
  save("release-request", "ok", rel_req.body);
  auto rel_resp = send(c, rel_req);
  ASSERT_EQ(rel_resp.status, 200) << rel_resp.body;
  save("release-response", "mixed", rel_resp.body);

  save("job-list", "one", admin(c, "GET", "/v1/admin/jobs").body);
  save("job", "get", admin(c, "GET", "/v1/admin/jobs/1").body);
  save("job", "paused", admin(c, "POST", "/v1/admin/jobs/1/pause").body);
  save("queue-stats", "ok", admin(c, "GET", "/v1/admin/queue").body);
  save("node-list", "ok", admin(c, "GET", "/v1/admin/nodes").body);
  save("dead-letters", "ok", admin(c, "GET", "/v1/admin/jobs/1/dead-letters").body);

  // Problems of several kinds.
  save("problem", "not-found", admin(c, "GET", "/v1/admin/jobs/99").body);
  save("problem", "no-admin-key", c.get("/v1/admin/jobs")->body);
  save("problem", "bad-json", send(c, node.request("POST", "/v1/lease", "{oops", now())).body);
  save("problem", "too-large", c.post("/v1/lease", std::string(2 << 20, 'x'), {{"content-type", "application/json"}})->body);
  auto stale = send(c, node.upload_request(now(), {ok}));  // a retry: a duplicate, not a problem
  save("upload-response", "duplicate", stale.body);
  save("node", "banned", admin(c, "POST", "/v1/admin/nodes/" + node.id() + "/ban", R"({"reason":"test"})").body);
  EXPECT_GE(saved_, 25);
}

}  // namespace
}  // namespace meadow::coordinator
