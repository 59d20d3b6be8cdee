// The REST handlers, called directly (no sockets). Every bad input answers 4xx
// problem+json with a message that says what was wrong, and changes no state.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/json.h"
#include "common/zstd.h"
#include "coordinator/api/context.h"
#include "support/api_fixture.h"
#include "support/test_env.h"

namespace meadow::coordinator {
namespace {

namespace json = boost::json;
using testing::TempDir;
using testing::TestNode;

class ApiTest : public ApiFixture {
 protected:
  std::int64_t create_job(const std::vector<std::string>& urls, const std::string& extra = "") {
    json::array arr;
    for (const auto& u : urls) arr.emplace_back(u);
    std::string body = R"({"name":"test","site_rate":100,"urls":)" + json::serialize(arr) + extra + "}";
    auto resp = call(admin("POST", "/v1/admin/jobs", body));
    EXPECT_EQ(resp.status, 201) << resp.body;
    return json::parse(resp.body).at("id").as_int64();
  }

  void register_node(const TestNode& n) {
    auto resp = call(n.register_request(clock_.now_ms()));
    ASSERT_EQ(resp.status, 200) << resp.body;
  }

  std::vector<protocol::TaskLease> lease(const TestNode& n, int max) {
    auto resp = call(n.lease_request(clock_.now_ms(), max));
    EXPECT_EQ(resp.status, 200) << resp.body;
    auto parsed = protocol::parse_lease_response(resp.body);
    EXPECT_TRUE(parsed.ok());
    return parsed.ok() ? parsed->tasks : std::vector<protocol::TaskLease>{};
  }

  TaskState task_state(std::int64_t id) { return store_->get_task(id)->state; }

  TestNode node_;
};

TEST_F(ApiTest, FullCycleGivesASignedReceiptThatVerifies) {
  register_node(node_);
  auto job = create_job({"https://a.example/1", "https://a.example/2"});
  auto tasks = lease(node_, 2);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].job_id, job);
  auto resp = call(node_.upload_request(clock_.now_ms(), {node_.ok_line(tasks[0]), node_.ok_line(tasks[1])}));
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto up = protocol::parse_upload_response(resp.body);
  ASSERT_TRUE(up.ok()) << up.error().message;
  ASSERT_EQ(up->items.size(), 2u);
  ASSERT_TRUE(up->items[0].receipt.has_value());
  EXPECT_TRUE(protocol::verify_receipt(*up->items[0].receipt, coord_key_.public_key()).ok());
  EXPECT_EQ(up->items[0].receipt->node_id, node_.id());
  EXPECT_EQ(store_->get_job(job)->state, JobState::done);
  EXPECT_EQ(store_->get_node(node_.id())->accepted, 2);
}

TEST_F(ApiTest, RetriedUploadReturnsTheSameReceiptAndCountsOnce) {
  register_node(node_);
  create_job({"https://a.example/1"});
  auto tasks = lease(node_, 1);
  auto line = node_.ok_line(tasks[0]);
  auto first = call(node_.upload_request(clock_.now_ms(), {line}));
  auto again = call(node_.upload_request(clock_.now_ms(), {line}));
  ASSERT_EQ(again.status, 200) << again.body;
  auto a = protocol::parse_upload_response(first.body);
  auto b = protocol::parse_upload_response(again.body);
  EXPECT_TRUE(b->items[0].duplicate);
  EXPECT_EQ(a->items[0].receipt->signature, b->items[0].receipt->signature);
  EXPECT_EQ(store_->get_node(node_.id())->accepted, 1);
}

TEST_F(ApiTest, RegistrationMustBeSignedByTheRegisteredKey) {
  TestNode other;
  auto r = other.register_request(clock_.now_ms());
  // Claim node_'s key while signing with other's key.
  r.body = protocol::to_json(protocol::RegisterRequest{node_.key().public_key().base64(), "alice", "", ""});
  expect_problem(call(r), 401, "bad-signature");
  EXPECT_TRUE(store_->list_nodes()->empty());
  auto signed_body = other.request("POST", "/v1/nodes/register",
                                   protocol::to_json(protocol::RegisterRequest{node_.key().public_key().base64(), "alice", "", ""}),
                                   clock_.now_ms());
  expect_problem(call(signed_body), 401, "bad-signature");
  EXPECT_TRUE(store_->list_nodes()->empty());
}

TEST_F(ApiTest, MalformedJsonWrongTypesAndMissingFieldsAreRefused) {
  struct Case {
    std::string body;
    std::string code;
    std::string mentions;
  };
  std::vector<Case> cases = {
      {"{not json", "bad-json", "malformed JSON"},
      {"[1,2]", "bad-json", "must be a JSON object"},
      {R"({"public_key":42,"account":"a"})", "bad-field", "public_key"},
      {R"({"account":"a"})", "missing-field", "public_key"},
      {R"({"public_key":"AAAA","account":""})", "bad-field", "account"},
      {R"({"public_key":"not-base64!","account":"a"})", "bad-public-key", "public_key"},
  };
  for (const auto& c : cases) {
    auto resp = call(node_.request("POST", "/v1/nodes/register", c.body, clock_.now_ms()));
    expect_problem(resp, 400, c.code);
    EXPECT_NE(resp.body.find(c.mentions), std::string::npos) << resp.body;
  }
  EXPECT_TRUE(store_->list_nodes()->empty());
}

TEST_F(ApiTest, LeaseRequestFieldsAreChecked) {
  register_node(node_);
  create_job({"https://a.example/1"});
  for (const char* body : {R"({"max_tasks":0})", R"({"max_tasks":100000})", R"({"max_tasks":"3"})",
                           R"({"wait_ms":-1})", R"({"wait_ms":99999999})", R"({"max_tasks":1.5})"}) {
    expect_problem(call(node_.request("POST", "/v1/lease", body, clock_.now_ms())), 400, "bad-field");
  }
  EXPECT_EQ(store_->queue_stats()->total.leased, 0);
}

TEST_F(ApiTest, UnsignedTamperedReplayedAndStaleRequestsAreRefused) {
  register_node(node_);
  create_job({"https://a.example/1", "https://a.example/2"});
  auto unsigned_req = node_.lease_request(clock_.now_ms(), 1);
  std::erase_if(unsigned_req.headers, [](const auto& h) { return h.name == "signature" || h.name == "signature-input"; });
  expect_problem(call(unsigned_req), 401, "unsigned-request");

  auto tampered = node_.lease_request(clock_.now_ms(), 1);
  tampered.body = R"({"max_tasks":2})";
  expect_problem(call(tampered), 401, "bad-digest");

  auto replay = node_.lease_request(clock_.now_ms(), 1);
  ASSERT_EQ(call(replay).status, 200);
  expect_problem(call(replay), 401, "replayed-request");

  auto old = node_.lease_request(clock_.now_ms() - 3'600'000, 1);
  expect_problem(call(old), 401, "stale-signature");

  TestNode stranger;
  expect_problem(call(stranger.lease_request(clock_.now_ms(), 1)), 401, "unknown-node");
  EXPECT_EQ(store_->queue_stats()->total.leased, 1);  // only the one good request
}

TEST_F(ApiTest, BannedNodeIsForbidden) {
  register_node(node_);
  auto ban = call(admin("POST", "/v1/admin/nodes/" + node_.id() + "/ban", R"({"reason":"forged pages"})"));
  ASSERT_EQ(ban.status, 200) << ban.body;
  auto resp = call(node_.lease_request(clock_.now_ms(), 1));
  expect_problem(resp, 403, "node-banned");
  EXPECT_NE(resp.body.find("forged pages"), std::string::npos);
}

TEST_F(ApiTest, ZstdBombIsStoppedAndNothingChanges) {
  ctx_->options.max_upload_decompressed = 1 << 20;
  register_node(node_);
  create_job({"https://a.example/1"});
  auto tasks = lease(node_, 1);
  std::string huge(8 << 20, ' ');
  auto r = node_.request("POST", "/v1/results", zstd::compress(huge, 19), clock_.now_ms(), "application/x-ndjson");
  r.headers.push_back({"content-encoding", "zstd"});
  auto resp = call(r);
  expect_problem(resp, 413, "decompressed-too-large");
  EXPECT_EQ(task_state(tasks[0].task_id), TaskState::leased);
}

TEST_F(ApiTest, UploadThatIsNotZstdOrNotNdjsonIsRefused) {
  register_node(node_);
  create_job({"https://a.example/1"});
  auto tasks = lease(node_, 1);
  auto r = node_.request("POST", "/v1/results", "plain text, not zstd", clock_.now_ms(), "application/x-ndjson");
  r.headers.push_back({"content-encoding", "zstd"});
  expect_problem(call(r), 400, "bad-zstd");
  auto no_encoding = node_.request("POST", "/v1/results", testing::upload_body({node_.ok_line(tasks[0])}), clock_.now_ms(),
                                   "application/x-ndjson");
  expect_problem(call(no_encoding), 415, "unsupported-media-type");
  auto line_broken = node_.request("POST", "/v1/results", zstd::compress("{\"task_id\":1,\n"), clock_.now_ms(),
                                   "application/x-ndjson");
  line_broken.headers.push_back({"content-encoding", "zstd"});
  auto resp = call(line_broken);
  expect_problem(resp, 400, "bad-json");
  EXPECT_NE(resp.body.find("line 1"), std::string::npos) << resp.body;
  EXPECT_EQ(task_state(tasks[0].task_id), TaskState::leased);
}

TEST_F(ApiTest, BadRecordSignatureIsRefused) {
  register_node(node_);
  create_job({"https://a.example/1"});
  auto tasks = lease(node_, 1);
  auto line = node_.ok_line(tasks[0]);
  line.record["text"] = "changed after signing";
  expect_problem(call(node_.upload_request(clock_.now_ms(), {line})), 400, "bad-record-signature");
  EXPECT_EQ(task_state(tasks[0].task_id), TaskState::leased);
  EXPECT_TRUE(store_->results(tasks[0].job_id, 0, 10)->empty());
}

TEST_F(ApiTest, RecordForAnotherTaskOrUrlIsRefused) {
  register_node(node_);
  create_job({"https://a.example/1", "https://a.example/2"});
  auto tasks = lease(node_, 2);
  auto line = node_.ok_line(tasks[0]);
  line.record = node_.record_for(tasks[1]);  // a record of the other task under this task's id
  expect_problem(call(node_.upload_request(clock_.now_ms(), {line})), 400, "record-mismatch");
  EXPECT_EQ(task_state(tasks[0].task_id), TaskState::leased);
}

TEST_F(ApiTest, StaleFencingTokenIsAConflict) {
  register_node(node_);
  create_job({"https://a.example/1"});
  auto first = lease(node_, 1);
  clock_.advance_ms(sched_->options().lease_ms + 1);
  ASSERT_TRUE(sched_->reap().ok());
  auto second = lease(node_, 1);
  ASSERT_EQ(second.size(), 1u);
  auto resp = call(node_.upload_request(clock_.now_ms(), {node_.ok_line(first[0])}));
  expect_problem(resp, 409, "stale-token");
  EXPECT_EQ(task_state(second[0].task_id), TaskState::leased);
}

TEST_F(ApiTest, UploadForATaskLeasedToAnotherNodeIsRefused) {
  TestNode thief;
  register_node(node_);
  register_node(thief);
  create_job({"https://a.example/1"});
  auto tasks = lease(node_, 1);
  // The thief knows the task id and token but cannot sign as node_.
  auto resp = call(thief.upload_request(clock_.now_ms(), {thief.ok_line(tasks[0])}));
  expect_problem(resp, 409, "not-your-lease");
  EXPECT_EQ(task_state(tasks[0].task_id), TaskState::leased);
}

TEST_F(ApiTest, UploadForUnknownTaskIsNotFound) {
  register_node(node_);
  protocol::TaskLease fake;
  fake.task_id = 999;
  fake.job_id = 1;
  fake.token = 5;
  fake.url = "https://a.example/";
  expect_problem(call(node_.upload_request(clock_.now_ms(), {node_.ok_line(fake)})), 404, "unknown-task");
}

TEST_F(ApiTest, JobCreationRefusesBadUrlsAndBadFields) {
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  std::vector<Case> cases = {
      {R"j({"name":"x","urls":["javascript:alert(1)"]})j", 400, "url-scheme"},
      {R"({"name":"x","urls":["file:///etc/passwd"]})", 400, "url-scheme"},
      {R"({"name":"x","urls":["https://u:p@example.com/"]})", 400, "url-credentials"},
      {R"({"name":"x","urls":["http://192.168.1.1/"]})", 400, "url-private-address"},
      {R"({"name":"x","urls":[]})", 400, "no-urls"},
      {R"({"name":"x","urls":["https://a.example/"],"priority":0})", 400, "bad-field"},
      {R"({"name":"x","urls":["https://a.example/"],"scope":"everything"})", 400, "bad-field"},
      {R"({"name":"x","urls":["https://a.example/"],"fields":[{"name":"Price!","kind":"css","expr":".p"}]})", 400, "bad-field"},
      {R"({"urls":["https://a.example/"]})", 400, "missing-field"},
      {R"({"name":"x","urls":"https://a.example/"})", 400, "bad-field"},
      {R"({"name":"x","urls":["https://a.example/"],"fields":[{"name":"p","kind":"css","expr":"span[price"}]})", 400,
       "bad-selector"},
      {R"({"name":"x","urls":["https://a.example/"],"fields":[{"name":"p","kind":"xpath","expr":"//div[@"}]})", 400,
       "bad-selector"},
  };
  for (const auto& c : cases) expect_problem(call(admin("POST", "/v1/admin/jobs", c.body)), c.status, c.code);
  EXPECT_TRUE(store_->list_jobs("")->empty());
}

TEST_F(ApiTest, ABadSelectorIsNamedWithItsFieldAndColumn) {
  const std::string body = R"({"name":"x","urls":["https://a.example/"],"fields":[)"
                           R"({"name":"title","kind":"css","expr":"h1"},{"name":"price","kind":"css","expr":"span:hover"}]})";
  auto r = call(admin("POST", "/v1/admin/jobs", body));
  expect_problem(r, 400, "bad-selector");
  EXPECT_NE(r.body.find("fields[1] (price)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(":hover"), std::string::npos) << r.body;
  EXPECT_TRUE(store_->list_jobs("")->empty());
  // The same fields with a selector the node can run make a job.
  const std::string good = R"({"name":"x","urls":["https://a.example/"],"fields":[)"
                           R"({"name":"title","kind":"css","expr":"h1"},{"name":"price","kind":"xpath","expr":"//span[@class='p']"}]})";
  EXPECT_EQ(call(admin("POST", "/v1/admin/jobs", good)).status, 201);
}

TEST_F(ApiTest, AdminEndpointsNeedTheAdminKey) {
  auto r = admin("GET", "/v1/admin/jobs");
  r.headers.clear();
  expect_problem(call(r), 401, "no-admin-key");
  r.headers = {{"authorization", "Bearer wrong"}};
  expect_problem(call(r), 401, "bad-admin-key");
  auto create = admin("POST", "/v1/admin/jobs", R"({"name":"x","urls":["https://a.example/"]})");
  create.headers = {{"authorization", "Bearer wrong"}};
  expect_problem(call(create), 401, "bad-admin-key");
  EXPECT_TRUE(store_->list_jobs("")->empty());
  // Without the key nothing about admin paths is revealed, not even which ids exist.
  auto probe = admin("GET", "/v1/admin/jobs/not-a-number");
  probe.headers.clear();
  expect_problem(call(probe), 401, "no-admin-key");
}

TEST_F(ApiTest, UnknownJobAndEndpointAreNotFound) {
  expect_problem(call(admin("GET", "/v1/admin/jobs/77")), 404, "unknown-job");
  expect_problem(call(admin("POST", "/v1/admin/jobs/77/pause")), 404, "unknown-job");
  expect_problem(call(admin("GET", "/v1/admin/jobs/abc")), 404, "unknown-job");
  expect_problem(call(admin("GET", "/v1/nothing-here")), 404, "no-such-endpoint");
  expect_problem(call(admin("DELETE", "/v1/admin/jobs")), 405, "method-not-allowed");
}

TEST_F(ApiTest, PauseResumeCancelThroughTheApi) {
  register_node(node_);
  auto job = create_job({"https://a.example/1", "https://a.example/2"});
  auto path = "/v1/admin/jobs/" + std::to_string(job);
  EXPECT_EQ(call(admin("POST", path + "/pause")).status, 200);
  EXPECT_TRUE(lease(node_, 2).empty());
  EXPECT_EQ(call(admin("POST", path + "/resume")).status, 200);
  EXPECT_EQ(lease(node_, 1).size(), 1u);
  auto cancel = call(admin("POST", path + "/cancel"));
  EXPECT_EQ(cancel.status, 200);
  EXPECT_NE(cancel.body.find("\"cancelled\""), std::string::npos);
  EXPECT_TRUE(lease(node_, 2).empty());
  expect_problem(call(admin("POST", path + "/resume")), 409, "job-finished");
}

TEST_F(ApiTest, FailedResultsDeadLetterWithReasonsVisibleToOperators) {
  register_node(node_);
  auto job = create_job({"https://a.example/1"}, R"(,"max_attempts":1)");
  auto tasks = lease(node_, 1);
  protocol::ResultLine failed;
  failed.task_id = tasks[0].task_id;
  failed.token = tasks[0].token;
  failed.outcome = protocol::Outcome::failed;
  failed.reason = "HTTP 503 from server";
  ASSERT_EQ(call(node_.upload_request(clock_.now_ms(), {failed})).status, 200);
  auto dead = call(admin("GET", "/v1/admin/jobs/" + std::to_string(job) + "/dead-letters"));
  ASSERT_EQ(dead.status, 200);
  EXPECT_NE(dead.body.find("HTTP 503 from server"), std::string::npos) << dead.body;
}

TEST_F(ApiTest, SiteScopeJobGrowsFromReportedLinks) {
  register_node(node_);
  auto job = create_job({"https://blog.example.org/"}, R"(,"scope":"site","max_depth":2,"max_pages":3)");
  auto tasks = lease(node_, 1);
  auto line = node_.ok_line(tasks[0]);
  line.record = node_.record_for(tasks[0], "home", {"https://blog.example.org/a", "https://example.org/b",
                                                    "https://elsewhere.net/c", "https://blog.example.org/d"});
  ASSERT_EQ(call(node_.upload_request(clock_.now_ms(), {line})).status, 200);
  auto j = store_->get_job(job);
  EXPECT_EQ(j->counts.total(), 3);  // max_pages caps the crawl
  auto next = lease(node_, 5);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].depth, 1);
  for (const auto& t : next) EXPECT_EQ(t.url.find("elsewhere"), std::string::npos);
}

TEST_F(ApiTest, LongPollParksAndResumesWhenWorkArrives) {
  register_node(node_);
  auto resp = call(node_.lease_request(clock_.now_ms(), 2, 5000));
  ASSERT_TRUE(resp.park);
  EXPECT_EQ(resp.park->wait_ms, 5000);
  create_job({"https://a.example/1"});
  auto woken = resp.park->resume(false);
  ASSERT_FALSE(woken.park);
  auto parsed = protocol::parse_lease_response(woken.body);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->tasks.size(), 1u);
}

TEST_F(ApiTest, WokenLongPollsAreLeasedTogetherAndGetDistinctTasks) {
  TestNode other;
  register_node(node_);
  register_node(other);
  auto first = call(node_.lease_request(clock_.now_ms(), 2, 5000));
  auto second = call(other.lease_request(clock_.now_ms(), 2, 5000));
  ASSERT_TRUE(first.park && second.park);
  ASSERT_EQ(first.park->batch, second.park->batch);
  create_job({"https://a.example/1", "https://a.example/2", "https://a.example/3"});
  first.park->batch->prepare({first.park.get(), second.park.get()});
  auto a = protocol::parse_lease_response(first.park->resume(false).body);
  auto b = protocol::parse_lease_response(second.park->resume(false).body);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->tasks.size(), 2u);  // oldest first: the first waiter is served in full
  ASSERT_EQ(b->tasks.size(), 1u);
  for (const auto& t : a->tasks) EXPECT_NE(t.task_id, b->tasks[0].task_id);
  EXPECT_EQ(store_->get_task(b->tasks[0].task_id)->node_id, other.id());
  EXPECT_EQ(store_->queue_stats()->total.leased, 3);
}

TEST_F(ApiTest, LongPollEndsEmptyWhenTimeIsUp) {
  register_node(node_);
  auto resp = call(node_.lease_request(clock_.now_ms(), 2, 5000));
  ASSERT_TRUE(resp.park);
  auto again = resp.park->resume(false);
  ASSERT_TRUE(again.park);  // woken with nothing to do: keep waiting
  auto done = again.park->resume(true);
  ASSERT_FALSE(done.park);
  EXPECT_EQ(done.status, 200);
  EXPECT_TRUE(protocol::parse_lease_response(done.body)->tasks.empty());
}

TEST_F(ApiTest, UnknownProtocolMajorVersionIsRefusedWithAdvice) {
  auto r = node_.lease_request(clock_.now_ms(), 1);
  for (auto& h : r.headers) {
    if (h.name == "meadow-protocol") h.value = "2.0";
  }
  auto resp = call(r);
  expect_problem(resp, 400, "unsupported-protocol");
  EXPECT_NE(resp.body.find("update"), std::string::npos);
}

TEST_F(ApiTest, EveryResponseCarriesTheProtocolVersion) {
  for (const auto& r : {call(admin("GET", "/healthz")), call(admin("GET", "/v1/nothing")), call(admin("GET", "/v1/info"))}) {
    bool found = false;
    for (const auto& h : r.headers) found |= h.name == "meadow-protocol" && h.value == protocol::kVersion;
    EXPECT_TRUE(found) << r.body;
  }
}

TEST_F(ApiTest, MetricsExposeRequestsAndQueueDepth) {
  metrics_.observe_request("lease", 200, 0.003);
  metrics_.gauge("queue_tasks", "Tasks by state.", [] { return std::map<std::string, double>{{"state=\"queued\"", 7}}; });
  auto resp = call(admin("GET", "/metrics"));
  EXPECT_EQ(resp.status, 200);
  EXPECT_NE(resp.body.find("meadow_http_requests_total{route=\"lease\",status=\"200\"} 1"), std::string::npos) << resp.body;
  EXPECT_NE(resp.body.find("meadow_queue_tasks{state=\"queued\"} 7"), std::string::npos);
  EXPECT_NE(resp.body.find("meadow_http_request_duration_seconds_bucket{route=\"lease\",le=\"0.005\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace meadow::coordinator

namespace meadow::coordinator {
namespace {

TEST_F(ApiTest, ReleasedLeasesGoBackToTheQueueWithoutSpendingAnAttempt) {
  TestNode other;
  register_node(node_);
  register_node(other);
  create_job({"https://a.example/1", "https://a.example/2"}, R"(,"max_attempts":1)");
  auto tasks = lease(node_, 2);
  ASSERT_EQ(tasks.size(), 2u);
  // One lease given back; one named with a stale token; one of them asked for by a thief.
  protocol::ReleaseRequest rel{{{tasks[0].task_id, tasks[0].token}, {tasks[1].task_id, tasks[1].token + 99}}};
  auto resp = call(node_.request("POST", "/v1/leases/release", protocol::to_json(rel), clock_.now_ms()));
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto parsed = protocol::parse_release_response(resp.body);
  ASSERT_TRUE(parsed.ok()) << resp.body;
  ASSERT_EQ(parsed->released, std::vector<std::int64_t>{tasks[0].task_id});
  ASSERT_EQ(parsed->refused.size(), 1u);
  EXPECT_EQ(parsed->refused[0].code, "stale-token");
  EXPECT_EQ(task_state(tasks[0].task_id), TaskState::queued);
  EXPECT_EQ(task_state(tasks[1].task_id), TaskState::leased);

  protocol::ReleaseRequest theft{{{tasks[1].task_id, tasks[1].token}}};
  auto stolen = call(other.request("POST", "/v1/leases/release", protocol::to_json(theft), clock_.now_ms()));
  ASSERT_EQ(stolen.status, 200);
  EXPECT_EQ(protocol::parse_release_response(stolen.body)->refused.at(0).code, "not-your-lease");
  EXPECT_EQ(task_state(tasks[1].task_id), TaskState::leased);

  // With max_attempts 1, a counted attempt would leave nothing; the released task is leased
  // again at once, as attempt 1.
  auto again = lease(other, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].task_id, tasks[0].task_id);
  EXPECT_EQ(again[0].attempt, 1);
}

TEST_F(ApiTest, ReleaseRequestIsCheckedLikeAnyOther) {
  register_node(node_);
  expect_problem(call(node_.request("POST", "/v1/leases/release", R"({"leases":[]})", clock_.now_ms())), 400, "bad-field");
  expect_problem(call(node_.request("POST", "/v1/leases/release", R"({"leases":"x"})", clock_.now_ms())), 400, "bad-field");
  expect_problem(call(node_.request("POST", "/v1/leases/release", "{", clock_.now_ms())), 400, "bad-json");
  http::Request unsigned_req = admin("POST", "/v1/leases/release", R"({"leases":[{"task_id":1,"token":1}]})");
  unsigned_req.headers = {{"content-type", "application/json"}};
  expect_problem(call(unsigned_req), 401, "unsigned-request");
}

}  // namespace
}  // namespace meadow::coordinator
