#include "common/protocol.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <functional>
#include <string>
#include <vector>

#include "common/json.h"

namespace meadow::protocol {
namespace {

namespace json = boost::json;

crypto::KeyPair key_from(char fill) {
  auto kp = crypto::KeyPair::from_seed(std::string(32, fill));
  EXPECT_TRUE(kp.ok());
  return std::move(kp).value();
}

// "code: message" of a failed parse, or "accepted".
template <class T>
std::string refusal(const Result<T>& r) {
  return r.ok() ? std::string("accepted") : r.error().code + ": " + r.error().message;
}

std::string code_of(const Status& s) { return s.ok() ? std::string("ok") : s.error().code; }

json::object obj(std::string_view text) {
  auto r = parse_json_object(text, "test");
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? r.value() : json::object{};
}

// ---------------------------------------------------------------- versions

TEST(CheckVersion, SameMajorIsAcceptedAndAbsentMeans1_0) {
  EXPECT_TRUE(check_version("1.0").ok());
  EXPECT_TRUE(check_version("1.7").ok());
  EXPECT_TRUE(check_version("1").ok());
  EXPECT_TRUE(check_version("").ok());
  EXPECT_TRUE(check_version(kVersion).ok());
}

TEST(CheckVersion, OtherMajorIsRefusedWithAnUpdateHint) {
  auto s = check_version("2.0");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::invalid);
  EXPECT_EQ(s.error().code, "unsupported-protocol");
  EXPECT_NE(s.error().message.find("2.0"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("update Meadow"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("protocol 2"), std::string::npos) << s.error().message;

  for (const char* v : {"0.9", "10.0", "11", "x.1", ".1", "1x"}) {
    EXPECT_FALSE(check_version(v).ok()) << v;
  }
}

// ---------------------------------------------------------------- register

TEST(RegisterMessages, RequestRoundTrips) {
  RegisterRequest m{crypto::base64_encode(std::string(32, 'k')), "alice", "alice-laptop", "meadow-node/0.1.0"};
  auto r = parse_register_request(to_json(m));
  ASSERT_TRUE(r.ok()) << refusal(r);
  EXPECT_EQ(r->public_key, m.public_key);
  EXPECT_EQ(r->account, "alice");
  EXPECT_EQ(r->name, "alice-laptop");
  EXPECT_EQ(r->client, "meadow-node/0.1.0");

  RegisterRequest bare{m.public_key, "bob", "", ""};
  const std::string text = to_json(bare);
  EXPECT_EQ(text.find("\"name\""), std::string::npos) << "empty optional fields are left out: " << text;
  auto b = parse_register_request(text);
  ASSERT_TRUE(b.ok()) << refusal(b);
  EXPECT_EQ(b->account, "bob");
  EXPECT_EQ(b->name, "");
  EXPECT_EQ(b->client, "");
}

TEST(RegisterMessages, RequestErrorsNameTheField) {
  EXPECT_EQ(refusal(parse_register_request(R"({"account":"a"})")),
            "missing-field: registration: field 'public_key' is required");
  EXPECT_EQ(refusal(parse_register_request(R"({"public_key":"k","account":""})")),
            "bad-field: registration: field 'account' must not be empty");
  EXPECT_EQ(refusal(parse_register_request(R"({"public_key":"k","account":7})")),
            "bad-field: registration: field 'account' must be a string, not an integer");
  const std::string long_account = R"({"public_key":"k","account":")" + std::string(129, 'a') + "\"}";
  EXPECT_EQ(refusal(parse_register_request(long_account)),
            "bad-field: registration: field 'account' is longer than 128 bytes");
  const std::string max_account = R"({"public_key":"k","account":")" + std::string(128, 'a') + "\"}";
  EXPECT_TRUE(parse_register_request(max_account).ok());
  EXPECT_EQ(refusal(parse_register_request(R"({"public_key":"k","account":"a","name":[]})")),
            "bad-field: registration: field 'name' must be a string, not an array");
  EXPECT_EQ(refusal(parse_register_request("[]")), "bad-json: registration must be a JSON object");
  EXPECT_EQ(parse_register_request("{").error().code, "bad-json");
}

TEST(RegisterMessages, UnknownFieldsAreIgnored) {
  auto r = parse_register_request(R"({"public_key":"k","account":"a","added_in_1_3":{"x":1}})");
  ASSERT_TRUE(r.ok()) << refusal(r);
  EXPECT_EQ(r->account, "a");
}

TEST(RegisterMessages, ResponseRoundTrips) {
  RegisterResponse m{"n0123", "alice", 1'700'000'000'123, crypto::base64_encode(std::string(32, 'c'))};
  auto r = parse_register_response(to_json(m));
  ASSERT_TRUE(r.ok()) << refusal(r);
  EXPECT_EQ(r->node_id, m.node_id);
  EXPECT_EQ(r->account, m.account);
  EXPECT_EQ(r->registered_at_ms, m.registered_at_ms);
  EXPECT_EQ(r->coordinator_key, m.coordinator_key);

  EXPECT_EQ(refusal(parse_register_response(R"({"node_id":"n","account":"a","registered_at_ms":-1,"coordinator_key":"k"})")),
            "bad-field: registration response: field 'registered_at_ms' must be between 0 and 9223372036854775807, not -1");
}

// ---------------------------------------------------------------- lease

TEST(LeaseMessages, RequestRoundTripsAndDefaults) {
  for (auto [max, wait] : {std::pair{1, std::int64_t{0}}, std::pair{256, kMaxLongPollMs}, std::pair{17, std::int64_t{250}}}) {
    LeaseRequest m{max, wait};
    auto r = parse_lease_request(to_json(m));
    ASSERT_TRUE(r.ok()) << refusal(r);
    EXPECT_EQ(r->max_tasks, max);
    EXPECT_EQ(r->wait_ms, wait);
  }
  auto d = parse_lease_request("{}");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->max_tasks, 1);
  EXPECT_EQ(d->wait_ms, 0);
}

TEST(LeaseMessages, RequestOutOfRangeAndWrongTypesAreRefused) {
  EXPECT_EQ(refusal(parse_lease_request(R"({"max_tasks":0})")),
            "bad-field: lease request: field 'max_tasks' must be between 1 and 256, not 0");
  EXPECT_EQ(refusal(parse_lease_request(R"({"max_tasks":257})")),
            "bad-field: lease request: field 'max_tasks' must be between 1 and 256, not 257");
  EXPECT_EQ(refusal(parse_lease_request(R"({"wait_ms":-1})")),
            "bad-field: lease request: field 'wait_ms' must be between 0 and 30000, not -1");
  EXPECT_EQ(refusal(parse_lease_request(R"({"wait_ms":30001})")),
            "bad-field: lease request: field 'wait_ms' must be between 0 and 30000, not 30001");
  EXPECT_EQ(refusal(parse_lease_request(R"({"max_tasks":"5"})")),
            "bad-field: lease request: field 'max_tasks' must be an integer, not a string");
  EXPECT_EQ(refusal(parse_lease_request(R"({"max_tasks":2.5})")),
            "bad-field: lease request: field 'max_tasks' must be an integer, not a number");
  EXPECT_EQ(refusal(parse_lease_request(R"({"wait_ms":true})")),
            "bad-field: lease request: field 'wait_ms' must be an integer, not a boolean");
  EXPECT_EQ(refusal(parse_lease_request(R"({"max_tasks":99999999999999999999})")).substr(0, 10), "bad-field:");
  EXPECT_EQ(refusal(parse_lease_request("7")), "bad-json: lease request must be a JSON object");
}

TaskLease sample_task(std::int64_t id) {
  TaskLease t;
  t.task_id = id;
  t.job_id = 9;
  t.url = "https://example.com/p?id=" + std::to_string(id);
  t.depth = 2;
  t.token = 1000 + id;
  t.deadline_ms = 1'700'000'060'000;
  t.attempt = 3;
  t.fields = {{"title", "css", "h1.title"}, {"price_2", "xpath", "//span[@class='p']/text()"}};
  return t;
}

TEST(LeaseMessages, ResponseRoundTripsEveryTaskField) {
  LeaseResponse m;
  m.tasks = {sample_task(1), sample_task(2)};
  m.tasks[1].fields.clear();
  m.tasks[1].depth = 0;
  m.tasks[1].attempt = 1;
  m.next_poll_ms = 5000;
  m.server_time_ms = 1'700'000'000'000;
  auto r = parse_lease_response(to_json(m));
  ASSERT_TRUE(r.ok()) << refusal(r);
  EXPECT_EQ(r->next_poll_ms, 5000);
  EXPECT_EQ(r->server_time_ms, m.server_time_ms);
  ASSERT_EQ(r->tasks.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& a = r->tasks[i];
    const auto& b = m.tasks[i];
    EXPECT_EQ(a.task_id, b.task_id);
    EXPECT_EQ(a.job_id, b.job_id);
    EXPECT_EQ(a.url, b.url);
    EXPECT_EQ(a.depth, b.depth);
    EXPECT_EQ(a.token, b.token);
    EXPECT_EQ(a.deadline_ms, b.deadline_ms);
    EXPECT_EQ(a.attempt, b.attempt);
    ASSERT_EQ(a.fields.size(), b.fields.size());
    for (std::size_t j = 0; j < a.fields.size(); ++j) {
      EXPECT_EQ(a.fields[j].name, b.fields[j].name);
      EXPECT_EQ(a.fields[j].kind, b.fields[j].kind);
      EXPECT_EQ(a.fields[j].expr, b.fields[j].expr);
    }
  }

  LeaseResponse empty;
  empty.next_poll_ms = 30'000;
  auto e = parse_lease_response(to_json(empty));
  ASSERT_TRUE(e.ok()) << refusal(e);
  EXPECT_TRUE(e->tasks.empty());
  EXPECT_EQ(e->next_poll_ms, 30'000);
}

TEST(LeaseMessages, ResponseErrorsNameTheTaskAndField) {
  EXPECT_EQ(refusal(parse_lease_response(R"({"next_poll_ms":0,"server_time_ms":0})")),
            "missing-field: lease response: field 'tasks' is required");
  EXPECT_EQ(refusal(parse_lease_response(R"({"tasks":[1],"next_poll_ms":0,"server_time_ms":0})")),
            "bad-field: lease response: tasks[0] must be an object");
  const std::string ok_task = R"({"task_id":1,"job_id":1,"url":"u","token":1,"deadline_ms":0})";
  EXPECT_EQ(refusal(parse_lease_response(R"({"tasks":[)" + ok_task +
                                         R"(,{"task_id":0,"job_id":1,"url":"u","token":1,"deadline_ms":0}],"next_poll_ms":0,"server_time_ms":0})")),
            "bad-field: lease response: tasks[1]: field 'task_id' must be between 1 and 9223372036854775807, not 0");
  EXPECT_EQ(refusal(parse_lease_response(R"({"tasks":[{"task_id":1,"job_id":1,"token":1,"deadline_ms":0}],"next_poll_ms":0,"server_time_ms":0})")),
            "missing-field: lease response: tasks[0]: field 'url' is required");
  EXPECT_EQ(refusal(parse_lease_response(R"({"tasks":[],"next_poll_ms":86400001,"server_time_ms":0})")),
            "bad-field: lease response: field 'next_poll_ms' must be between 0 and 86400000, not 86400001");

  const std::string long_url = R"({"tasks":[{"task_id":1,"job_id":1,"url":")" + std::string(kMaxUrlBytes + 1, 'a') +
                               R"(","token":1,"deadline_ms":0}],"next_poll_ms":0,"server_time_ms":0})";
  EXPECT_EQ(refusal(parse_lease_response(long_url)),
            "bad-field: lease response: tasks[0]: field 'url' is longer than 8192 bytes");

  std::string too_many = R"({"tasks":[)";
  for (int i = 0; i <= kMaxLeaseBatch; ++i) too_many += (i ? "," : "") + ok_task;
  too_many += R"(],"next_poll_ms":0,"server_time_ms":0})";
  EXPECT_EQ(refusal(parse_lease_response(too_many)),
            "bad-field: lease response: field 'tasks' has more than 256 items");
}

std::string fields_refusal(std::string_view fields_json) {
  auto v = parse_json(fields_json);
  EXPECT_TRUE(v.ok() && v->is_array());
  if (!v.ok() || !v->is_array()) return "not an array";
  return refusal(parse_field_selectors(v->as_array()));
}

TEST(FieldSelectors, RoundTripAndValidation) {
  std::vector<FieldSelector> fields = {{"a_1", "css", "div > p"}, {std::string(64, 'z'), "xpath", "//a/@href"}};
  auto back = parse_field_selectors(to_json_array(fields));
  ASSERT_TRUE(back.ok()) << refusal(back);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].name, std::string(64, 'z'));
  EXPECT_EQ((*back)[1].kind, "xpath");
  EXPECT_EQ((*back)[0].expr, "div > p");

  EXPECT_EQ(fields_refusal(R"([{"name":"Title","kind":"css","expr":"h1"}])"),
            "bad-field: fields[0]: field 'name' must be 1..64 characters of a-z, 0-9 and _");
  EXPECT_EQ(fields_refusal(R"([{"name":"a-b","kind":"css","expr":"h1"}])"),
            "bad-field: fields[0]: field 'name' must be 1..64 characters of a-z, 0-9 and _");
  EXPECT_EQ(fields_refusal(R"([{"name":"","kind":"css","expr":"h1"}])"),
            "bad-field: fields[0]: field 'name' must be 1..64 characters of a-z, 0-9 and _");
  EXPECT_EQ(fields_refusal(R"([{"name":"t","kind":"css","expr":"h1"},{"name":"t","kind":"regex","expr":"h1"}])"),
            "bad-field: fields[1]: field 'kind' must be \"css\" or \"xpath\"");
  EXPECT_EQ(fields_refusal(R"([{"name":"t","kind":"css","expr":""}])"),
            "bad-field: fields[0]: field 'expr' must not be empty");
  EXPECT_EQ(fields_refusal(R"([{"name":"t","kind":"css"}])"), "missing-field: fields[0]: field 'expr' is required");
  EXPECT_EQ(fields_refusal(R"(["title"])"), "bad-field: fields[0] must be an object");
  EXPECT_EQ(fields_refusal(R"([{"name":")" + std::string(65, 'a') + R"(","kind":"css","expr":"h1"}])"),
            "bad-field: fields[0]: field 'name' is longer than 64 bytes");

  std::string many = "[";
  for (int i = 0; i < 65; ++i) many += std::string(i ? "," : "") + R"({"name":"f","kind":"css","expr":"p"})";
  many += "]";
  EXPECT_EQ(fields_refusal(many), "bad-field: at most 64 fields may be selected");
}

// ---------------------------------------------------------------- extend

TEST(ExtendMessages, RequestRoundTrips) {
  ExtendRequest m{{{1, 11}, {2, 22}}, 60'000};
  auto r = parse_extend_request(to_json(m));
  ASSERT_TRUE(r.ok()) << refusal(r);
  ASSERT_EQ(r->leases.size(), 2u);
  EXPECT_EQ(r->leases[1].task_id, 2);
  EXPECT_EQ(r->leases[1].token, 22);
  EXPECT_EQ(r->extend_ms, 60'000);
}

TEST(ExtendMessages, RequestErrors) {
  EXPECT_EQ(refusal(parse_extend_request(R"({"leases":[],"extend_ms":1000})")),
            "bad-field: extend request: field 'leases' must name at least one lease");
  EXPECT_EQ(refusal(parse_extend_request(R"({"leases":[{"task_id":1,"token":1}],"extend_ms":999})")),
            "bad-field: extend request: field 'extend_ms' must be between 1000 and 600000, not 999");
  EXPECT_EQ(refusal(parse_extend_request(R"({"leases":[{"task_id":1,"token":1}],"extend_ms":600001})")),
            "bad-field: extend request: field 'extend_ms' must be between 1000 and 600000, not 600001");
  EXPECT_EQ(refusal(parse_extend_request(R"({"leases":[{"task_id":1,"token":1}]})")),
            "missing-field: extend request: field 'extend_ms' is required");
  EXPECT_EQ(refusal(parse_extend_request(R"({"leases":[{"task_id":1,"token":1},{"task_id":2,"token":0}],"extend_ms":1000})")),
            "bad-field: extend request: leases[1]: field 'token' must be between 1 and 9223372036854775807, not 0");
  EXPECT_EQ(refusal(parse_extend_request(R"({"leases":[{"task_id":1,"token":1},3],"extend_ms":1000})")),
            "bad-field: extend request: leases[1] must be an object");
  EXPECT_EQ(refusal(parse_extend_request(R"({"leases":{"task_id":1},"extend_ms":1000})")),
            "bad-field: extend request: field 'leases' must be an array, not an object");
  ExtendRequest big;
  big.extend_ms = 1000;
  for (int i = 1; i <= kMaxLeaseBatch + 1; ++i) big.leases.push_back({i, i});
  EXPECT_EQ(refusal(parse_extend_request(to_json(big))),
            "bad-field: extend request: field 'leases' has more than 256 items");
}

TEST(ExtendMessages, ResponseRoundTrips) {
  ExtendResponse m;
  m.extended = {{1, 11, 1'700'000'100'000}, {3, 33, 1'700'000'200'000}};
  m.refused = {{2, "stale-token", "the lease was given to another node"}};
  auto r = parse_extend_response(to_json(m));
  ASSERT_TRUE(r.ok()) << refusal(r);
  ASSERT_EQ(r->extended.size(), 2u);
  EXPECT_EQ(r->extended[1].task_id, 3);
  EXPECT_EQ(r->extended[1].token, 33);
  EXPECT_EQ(r->extended[1].deadline_ms, 1'700'000'200'000);
  ASSERT_EQ(r->refused.size(), 1u);
  EXPECT_EQ(r->refused[0].task_id, 2);
  EXPECT_EQ(r->refused[0].code, "stale-token");
  EXPECT_EQ(r->refused[0].message, "the lease was given to another node");

  auto no_refused = parse_extend_response(R"({"extended":[]})");
  ASSERT_TRUE(no_refused.ok()) << refusal(no_refused);
  EXPECT_TRUE(no_refused->refused.empty());

  EXPECT_EQ(refusal(parse_extend_response(R"({"extended":[{"task_id":1,"token":1}]})")),
            "missing-field: extend response: extended: field 'deadline_ms' is required");
  EXPECT_EQ(refusal(parse_extend_response(R"({"extended":[],"refused":[{"task_id":1,"code":5,"message":"m"}]})")),
            "bad-field: extend response: refused: field 'code' must be a string, not an integer");
  EXPECT_EQ(refusal(parse_extend_response(R"({"extended":["x"]})")),
            "bad-field: extend response: extended items must be objects");
}

// ---------------------------------------------------------------- results

TEST(ResultLines, RoundTripEveryOutcome) {
  ResultLine ok;
  ok.task_id = 5;
  ok.token = 50;
  ok.outcome = Outcome::ok;
  ok.record = obj(R"({"url":"https://example.com/","fields":{"title":"Hello"}})");
  auto r = parse_result_line(to_json(ok));
  ASSERT_TRUE(r.ok()) << refusal(r);
  EXPECT_EQ(r->task_id, 5);
  EXPECT_EQ(r->token, 50);
  EXPECT_EQ(r->outcome, Outcome::ok);
  EXPECT_EQ(r->record, ok.record);
  EXPECT_EQ(r->reason, "");

  for (Outcome o : {Outcome::failed, Outcome::skipped}) {
    ResultLine m;
    m.task_id = 6;
    m.token = 60;
    m.outcome = o;
    m.reason = "robots.txt disallows this path";
    const std::string text = to_json(m);
    EXPECT_EQ(text.find("\"record\""), std::string::npos) << text;
    auto back = parse_result_line(text);
    ASSERT_TRUE(back.ok()) << refusal(back);
    EXPECT_EQ(back->outcome, o);
    EXPECT_EQ(back->reason, m.reason);
    EXPECT_TRUE(back->record.empty());
  }
}

TEST(ResultLines, OutcomeNames) {
  EXPECT_STREQ(to_string(Outcome::ok), "ok");
  EXPECT_STREQ(to_string(Outcome::failed), "failed");
  EXPECT_STREQ(to_string(Outcome::skipped), "skipped");
}

TEST(ResultLines, StrictErrors) {
  EXPECT_EQ(refusal(parse_result_line(R"({"task_id":1,"token":1,"outcome":"maybe","reason":"r"})")),
            "bad-field: result: field 'outcome' must be \"ok\", \"failed\" or \"skipped\"");
  EXPECT_EQ(refusal(parse_result_line(R"({"task_id":1,"token":1,"outcome":"OK","record":{}})")),
            "bad-field: result: field 'outcome' must be \"ok\", \"failed\" or \"skipped\"");
  EXPECT_EQ(refusal(parse_result_line(R"({"task_id":1,"token":1,"outcome":"failed"})")),
            "bad-field: result: field 'reason' is required when outcome is not ok");
  EXPECT_EQ(refusal(parse_result_line(R"({"task_id":1,"token":1,"outcome":"skipped","reason":""})")),
            "bad-field: result: field 'reason' is required when outcome is not ok");
  EXPECT_EQ(refusal(parse_result_line(R"({"task_id":1,"token":1,"outcome":"ok"})")),
            "missing-field: result: field 'record' is required");
  EXPECT_EQ(refusal(parse_result_line(R"({"task_id":1,"token":1,"outcome":"ok","record":[1]})")),
            "bad-field: result: field 'record' must be an object, not an array");
  EXPECT_EQ(refusal(parse_result_line(R"({"task_id":1,"token":0,"outcome":"ok","record":{}})")),
            "bad-field: result: field 'token' must be between 1 and 9223372036854775807, not 0");
  EXPECT_EQ(refusal(parse_result_line(R"({"token":1,"outcome":"ok","record":{}})")),
            "missing-field: result: field 'task_id' is required");
  EXPECT_EQ(refusal(parse_result_line(R"({"task_id":"1","token":1,"outcome":"ok","record":{}})")),
            "bad-field: result: field 'task_id' must be an integer, not a string");
  const std::string long_reason = R"({"task_id":1,"token":1,"outcome":"failed","reason":")" +
                                  std::string(2049, 'r') + "\"}";
  EXPECT_EQ(refusal(parse_result_line(long_reason)),
            "bad-field: result: field 'reason' is longer than 2048 bytes");
  EXPECT_EQ(parse_result_line(R"({"task_id":1,"token":1,"outcome":"ok","record":{}} trailing)").error().code,
            "bad-json");
  EXPECT_EQ(refusal(parse_result_line("[1]")), "bad-json: result must be a JSON object");
}

// ---------------------------------------------------------------- receipts and uploads

Receipt sample_receipt() {
  Receipt r;
  r.receipt_id = "r-0001";
  r.task_id = 5;
  r.token = 50;
  r.node_id = "n0123456789abcdef0123456789abcdef";
  r.record_id = "rec-77";
  r.record_sha256 = std::string(64, 'a');
  r.bytes = 321;
  r.accepted_at_ms = 1'700'000'000'500;
  r.coordinator_key_id = "c0123";
  return r;
}

void expect_same_receipt(const Receipt& a, const Receipt& b) {
  EXPECT_EQ(a.receipt_id, b.receipt_id);
  EXPECT_EQ(a.task_id, b.task_id);
  EXPECT_EQ(a.token, b.token);
  EXPECT_EQ(a.node_id, b.node_id);
  EXPECT_EQ(a.record_id, b.record_id);
  EXPECT_EQ(a.record_sha256, b.record_sha256);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.accepted_at_ms, b.accepted_at_ms);
  EXPECT_EQ(a.coordinator_key_id, b.coordinator_key_id);
  EXPECT_EQ(a.signature, b.signature);
}

TEST(UploadMessages, ResponseRoundTripsWithAndWithoutReceipts) {
  const auto coord = key_from('c');
  Receipt rc = sample_receipt();
  sign_receipt(rc, coord);
  UploadResponse m;
  m.items.push_back({5, Outcome::ok, false, rc});
  m.items.push_back({6, Outcome::failed, false, std::nullopt});
  m.items.push_back({7, Outcome::skipped, true, std::nullopt});
  auto r = parse_upload_response(to_json(m));
  ASSERT_TRUE(r.ok()) << refusal(r);
  ASSERT_EQ(r->items.size(), 3u);
  EXPECT_EQ(r->items[0].task_id, 5);
  EXPECT_EQ(r->items[0].outcome, Outcome::ok);
  EXPECT_FALSE(r->items[0].duplicate);
  ASSERT_TRUE(r->items[0].receipt.has_value());
  expect_same_receipt(*r->items[0].receipt, rc);
  EXPECT_TRUE(verify_receipt(*r->items[0].receipt, coord.public_key()).ok());
  EXPECT_EQ(r->items[1].outcome, Outcome::failed);
  EXPECT_FALSE(r->items[1].receipt.has_value());
  EXPECT_EQ(r->items[2].outcome, Outcome::skipped);
  EXPECT_TRUE(r->items[2].duplicate);
}

TEST(UploadMessages, ResponseErrors) {
  EXPECT_EQ(refusal(parse_upload_response(R"({"items":[{"task_id":1,"outcome":"bogus"}]})")),
            "bad-field: upload response item: field 'outcome' must be \"ok\", \"failed\" or \"skipped\"");
  EXPECT_EQ(refusal(parse_upload_response(R"({"items":[{"task_id":1,"outcome":"ok","receipt":"r"}]})")),
            "bad-field: upload response item: field 'receipt' must be an object, not a string");
  EXPECT_EQ(refusal(parse_upload_response(R"({"items":[{"task_id":1,"outcome":"ok","duplicate":1}]})")),
            "bad-field: upload response item: field 'duplicate' must be true or false, not an integer");
  EXPECT_EQ(refusal(parse_upload_response(R"({"items":[{"task_id":1,"outcome":"ok","receipt":{"receipt_id":"r"}}]})")),
            "missing-field: receipt: field 'task_id' is required");
  EXPECT_EQ(refusal(parse_upload_response(R"({"items":[2]})")),
            "bad-field: upload response: items must be objects");
  EXPECT_EQ(refusal(parse_upload_response("{}")), "missing-field: upload response: field 'items' is required");
}

TEST(Receipts, JsonObjectRoundTrips) {
  Receipt rc = sample_receipt();
  rc.signature = crypto::base64_encode(std::string(64, 's'));
  auto back = parse_receipt(to_json_object(rc));
  ASSERT_TRUE(back.ok()) << refusal(back);
  expect_same_receipt(*back, rc);

  json::object o = to_json_object(rc);
  o["record_sha256"] = std::string(65, 'a');
  EXPECT_EQ(refusal(parse_receipt(o)), "bad-field: receipt: field 'record_sha256' is longer than 64 bytes");
  o = to_json_object(rc);
  o["bytes"] = -1;
  EXPECT_EQ(refusal(parse_receipt(o)),
            "bad-field: receipt: field 'bytes' must be between 0 and 9223372036854775807, not -1");
  o = to_json_object(rc);
  o.erase("signature");
  EXPECT_EQ(refusal(parse_receipt(o)), "missing-field: receipt: field 'signature' is required");
}

TEST(Receipts, SignedReceiptVerifiesAndAnyTamperingFails) {
  const auto coord = key_from('c');
  Receipt rc = sample_receipt();
  sign_receipt(rc, coord);
  EXPECT_EQ(crypto::base64_decode(rc.signature)->size(), 64u);
  EXPECT_EQ(code_of(verify_receipt(rc, coord.public_key())), "ok");

  // Through JSON text and back, with keys in another order, it still verifies.
  json::object o = to_json_object(rc);
  json::object reversed;
  for (auto it = o.end(); it != o.begin();) {
    --it;
    reversed[it->key()] = it->value();
  }
  auto reparsed = parse_json_object(json::serialize(reversed), "receipt");
  ASSERT_TRUE(reparsed.ok());
  auto back = parse_receipt(*reparsed);
  ASSERT_TRUE(back.ok()) << refusal(back);
  EXPECT_EQ(code_of(verify_receipt(*back, coord.public_key())), "ok");

  const std::vector<void (*)(Receipt&)> tampers = {
      [](Receipt& r) { r.receipt_id += "x"; },     [](Receipt& r) { r.task_id += 1; },
      [](Receipt& r) { r.token += 1; },            [](Receipt& r) { r.node_id[0] = 'm'; },
      [](Receipt& r) { r.record_id = "rec-78"; },  [](Receipt& r) { r.record_sha256[63] = 'b'; },
      [](Receipt& r) { r.bytes = 322; },           [](Receipt& r) { r.accepted_at_ms -= 1; },
      [](Receipt& r) { r.coordinator_key_id = "c9"; },
  };
  for (std::size_t i = 0; i < tampers.size(); ++i) {
    Receipt t = rc;
    tampers[i](t);
    auto s = verify_receipt(t, coord.public_key());
    ASSERT_FALSE(s.ok()) << "tamper " << i;
    EXPECT_EQ(s.error().code, "bad-receipt-signature");
    EXPECT_EQ(s.error().kind, ErrorKind::invalid);
  }

  EXPECT_EQ(code_of(verify_receipt(rc, key_from('d').public_key())), "bad-receipt-signature");
  Receipt bad_b64 = rc;
  bad_b64.signature = "not base64!";
  EXPECT_EQ(code_of(verify_receipt(bad_b64, coord.public_key())), "bad-receipt-signature");
  Receipt unsigned_receipt = sample_receipt();
  EXPECT_EQ(code_of(verify_receipt(unsigned_receipt, coord.public_key())), "bad-receipt-signature");
}

// ---------------------------------------------------------------- record signatures

json::object sample_record() {
  return obj(R"({"url":"https://example.com/a","fetched_at_ms":1700000000000,"status":200,)"
             R"("fields":{"title":"Hello","price":"3.50","tags":["a","b"]},"sha256":"abc"})");
}

TEST(RecordSignatures, SignedRecordVerifies) {
  const auto node = key_from('n');
  json::object rec = sample_record();
  sign_record(rec, node);
  ASSERT_TRUE(rec.contains("signature"));
  ASSERT_TRUE(rec.at("signature").is_string());
  EXPECT_EQ(code_of(verify_record(rec, node.public_key())), "ok");
}

TEST(RecordSignatures, SigningBytesAreCanonicalAndExcludeTheSignature) {
  const auto node = key_from('n');
  json::object rec = sample_record();
  const std::string before = record_signing_bytes(rec);
  sign_record(rec, node);
  EXPECT_EQ(record_signing_bytes(rec), before);
  EXPECT_EQ(before.find("signature"), std::string::npos);
  EXPECT_EQ(before, canonical_json(sample_record()));
  // The signature is over exactly these bytes.
  auto raw = crypto::base64_decode(std::string(rec.at("signature").as_string()));
  ASSERT_TRUE(raw.ok());
  EXPECT_TRUE(node.public_key().verify(before, *raw));
}

TEST(RecordSignatures, ReSigningReplacesTheOldSignature) {
  const auto a = key_from('a');
  const auto b = key_from('b');
  json::object rec = sample_record();
  sign_record(rec, a);
  sign_record(rec, b);
  EXPECT_EQ(code_of(verify_record(rec, b.public_key())), "ok");
  EXPECT_EQ(code_of(verify_record(rec, a.public_key())), "bad-record-signature");
}

TEST(RecordSignatures, TamperedFieldsFail) {
  const auto node = key_from('n');
  json::object signed_rec = sample_record();
  sign_record(signed_rec, node);

  const std::vector<void (*)(json::object&)> tampers = {
      [](json::object& r) { r["url"] = "https://example.com/b"; },
      [](json::object& r) { r["status"] = 201; },
      [](json::object& r) { r["fields"].as_object()["title"] = "Hellp"; },
      [](json::object& r) { r["fields"].as_object()["tags"].as_array().push_back("c"); },
      [](json::object& r) { r["extra"] = true; },
      [](json::object& r) { r.erase("sha256"); },
      [](json::object& r) { r["fetched_at_ms"] = 1700000000000.0; },  // same number, other type
  };
  for (std::size_t i = 0; i < tampers.size(); ++i) {
    json::object t = signed_rec;
    tampers[i](t);
    auto s = verify_record(t, node.public_key());
    ASSERT_FALSE(s.ok()) << "tamper " << i;
    EXPECT_EQ(s.error().kind, ErrorKind::invalid);
    EXPECT_EQ(s.error().code, "bad-record-signature");
    EXPECT_NE(s.error().message.find("does not verify"), std::string::npos) << s.error().message;
  }
}

TEST(RecordSignatures, MissingOrMalformedSignatureFails) {
  const auto node = key_from('n');
  json::object rec = sample_record();
  auto s = verify_record(rec, node.public_key());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "bad-record-signature");
  EXPECT_NE(s.error().message.find("no signature"), std::string::npos) << s.error().message;

  sign_record(rec, node);
  json::object not_string = rec;
  not_string["signature"] = 12;
  EXPECT_EQ(code_of(verify_record(not_string, node.public_key())), "bad-record-signature");
  json::object null_sig = rec;
  null_sig["signature"] = nullptr;
  EXPECT_EQ(code_of(verify_record(null_sig, node.public_key())), "bad-record-signature");
  json::object garbage = rec;
  garbage["signature"] = "%%%not-base64%%%";
  EXPECT_EQ(code_of(verify_record(garbage, node.public_key())), "bad-record-signature");
  json::object short_sig = rec;
  short_sig["signature"] = crypto::base64_encode("short");
  EXPECT_EQ(code_of(verify_record(short_sig, node.public_key())), "bad-record-signature");

  EXPECT_EQ(code_of(verify_record(rec, key_from('o').public_key())), "bad-record-signature");
}

TEST(RecordSignatures, KeyOrderDoesNotMatter) {
  const auto node = key_from('n');
  json::object rec = sample_record();
  sign_record(rec, node);

  // Re-serialise with every object's keys in reverse order, as another implementation might.
  std::function<json::value(const json::value&)> reverse_keys = [&](const json::value& v) -> json::value {
    if (v.is_object()) {
      json::object out;
      const auto& o = v.get_object();
      for (auto it = o.end(); it != o.begin();) {
        --it;
        out[it->key()] = reverse_keys(it->value());
      }
      return out;
    }
    if (v.is_array()) {
      json::array out;
      for (const auto& e : v.get_array()) out.push_back(reverse_keys(e));
      return out;
    }
    return v;
  };
  const std::string original_text = json::serialize(rec);
  const std::string reordered_text = json::serialize(reverse_keys(rec));
  ASSERT_NE(original_text, reordered_text);

  auto reparsed = parse_json_object(reordered_text, "record");
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(code_of(verify_record(*reparsed, node.public_key())), "ok");

  // And with whitespace, as a pretty-printer might produce.
  std::string spaced;
  bool in_string = false, escaped = false;
  for (char c : reordered_text) {
    spaced += c;
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == ',' || c == ':') {
      spaced += ' ';
    }
  }
  ASSERT_NE(spaced, reordered_text);
  auto spaced_parsed = parse_json_object(spaced, "record");
  ASSERT_TRUE(spaced_parsed.ok());
  EXPECT_EQ(code_of(verify_record(*spaced_parsed, node.public_key())), "ok");
}

TEST(RecordSignatures, SignedRecordSurvivesAResultLineRoundTrip) {
  const auto node = key_from('n');
  ResultLine line;
  line.task_id = 1;
  line.token = 2;
  line.record = sample_record();
  sign_record(line.record, node);
  auto back = parse_result_line(to_json(line));
  ASSERT_TRUE(back.ok()) << refusal(back);
  EXPECT_EQ(code_of(verify_record(back->record, node.public_key())), "ok");
}

}  // namespace
}  // namespace meadow::protocol

namespace meadow::protocol {
namespace {

TEST(SignedOkLine, SerialisesTheRecordOnceAndVerifiesLikeSignRecord) {
  const auto key = crypto::KeyPair::generate();
  boost::json::object record{{"record_id", "r1"}, {"url", "https://a.example/"}, {"text", "caf\u00e9 \"quoted\""},
                             {"links", boost::json::array{boost::json::object{{"url", "https://b.example/"}}}}};
  const std::string line = signed_ok_line_json(7, 9, record, key);
  auto parsed = parse_result_line(line);
  ASSERT_TRUE(parsed.ok()) << line;
  EXPECT_EQ(parsed->task_id, 7);
  EXPECT_EQ(parsed->token, 9);
  EXPECT_EQ(parsed->outcome, Outcome::ok);
  EXPECT_TRUE(verify_record(parsed->record, key.public_key()).ok());
  boost::json::object signed_copy = record;
  sign_record(signed_copy, key);
  EXPECT_EQ(parsed->record, signed_copy);  // the same record as the slower path makes
  parsed->record["text"] = "changed";
  EXPECT_FALSE(verify_record(parsed->record, key.public_key()).ok());
}

// Lines signed together are the lines signed one at a time, whatever the batch's size, with
// and without a captured body, including an empty record.
TEST(SignedOkLine, LinesSignedTogetherAreTheLinesSignedAlone) {
  const auto key = crypto::KeyPair::generate();
  std::vector<boost::json::object> records;
  for (int i = 0; i < 19; ++i) {
    boost::json::object r;
    if (i != 3) {
      r["record_id"] = "r" + std::to_string(i);
      r["text"] = std::string(static_cast<std::size_t>(i) * 1500, static_cast<char>('a' + i));
    }
    records.push_back(std::move(r));
  }
  for (std::size_t n : {1, 3, 4, 8, 19}) {
    std::vector<OkLineInput> in;
    for (std::size_t i = 0; i < n; ++i)
      in.push_back({static_cast<std::int64_t>(i) + 1, 100, &records[i], i % 5 == 1 ? "<p>raw</p>" : ""});
    const std::vector<std::string> lines = signed_ok_lines_json(in, key);
    ASSERT_EQ(lines.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(lines[i], signed_ok_line_json(in[i].task_id, 100, records[i], key, in[i].capture_body)) << i;
      auto parsed = parse_result_line(lines[i]);
      ASSERT_TRUE(parsed.ok()) << lines[i];
      EXPECT_TRUE(verify_record(parsed->record, key.public_key()).ok()) << i;
    }
  }
}

}  // namespace
}  // namespace meadow::protocol
