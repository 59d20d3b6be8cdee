#include "support/test_env.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "common/http_signature.h"
#include "common/zstd.h"

namespace meadow::testing {

std::string file_contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/meadow-test-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TestNode::TestNode() : TestNode(crypto::KeyPair::generate()) {}
TestNode::TestNode(crypto::KeyPair key) : key_(std::move(key)), id_(key_.public_key().id()) {}

coordinator::http::Request TestNode::request(const std::string& method, const std::string& path, std::string body,
                                             std::int64_t now_ms, const std::string& content_type) const {
  coordinator::http::Request r;
  r.method = method;
  r.target = path;
  r.path = path;
  r.body = std::move(body);
  r.remote_address = "127.0.0.1";
  auto h = httpsig::sign_request(method, path, r.body, key_, id_, now_ms / 1000, crypto::random_token(18));
  r.headers = {{"content-type", content_type},
               {"content-digest", h.content_digest},
               {"signature-input", h.signature_input},
               {"signature", h.signature},
               {"meadow-protocol", "1.0"}};
  return r;
}

coordinator::http::Request TestNode::register_request(std::int64_t now_ms, const std::string& account) const {
  protocol::RegisterRequest m{key_.public_key().base64(), account, "test-node", "meadow-test/1"};
  return request("POST", "/v1/nodes/register", protocol::to_json(m), now_ms);
}

coordinator::http::Request TestNode::lease_request(std::int64_t now_ms, int max_tasks, std::int64_t wait_ms) const {
  return request("POST", "/v1/lease", protocol::to_json(protocol::LeaseRequest{max_tasks, wait_ms}), now_ms);
}

coordinator::http::Request TestNode::upload_request(std::int64_t now_ms,
                                                    const std::vector<protocol::ResultLine>& lines) const {
  auto r = request("POST", "/v1/results", upload_body(lines), now_ms, "application/x-ndjson");
  r.headers.push_back({"content-encoding", "zstd"});
  return r;
}

boost::json::object TestNode::record_for(const protocol::TaskLease& task, const std::string& text,
                                         const std::vector<std::string>& links) const {
  boost::json::object rec;
  rec["record_id"] = "rec-" + std::to_string(task.task_id) + "-" + std::to_string(task.token);
  rec["task_id"] = task.task_id;
  rec["job_id"] = task.job_id;
  rec["node_id"] = id_;
  rec["url"] = task.url;
  rec["final_url"] = task.url;
  rec["fetched_at"] = "2026-11-22T10:00:00Z";
  rec["http_status"] = 200;
  rec["title"] = "A page";
  rec["text"] = text;
  boost::json::array l;
  for (const auto& u : links) l.push_back(boost::json::object{{"url", u}, {"text", "link"}});
  rec["links"] = std::move(l);
  protocol::sign_record(rec, key_);
  return rec;
}

protocol::ResultLine TestNode::ok_line(const protocol::TaskLease& task, const std::vector<std::string>& links,
                                       const std::string& text) const {
  protocol::ResultLine line;
  line.task_id = task.task_id;
  line.token = task.token;
  line.outcome = protocol::Outcome::ok;
  line.record = record_for(task, text, links);
  return line;
}

std::string upload_body(const std::vector<protocol::ResultLine>& lines) {
  std::string ndjson;
  for (const auto& l : lines) {
    ndjson += protocol::to_json(l);
    ndjson += '\n';
  }
  return zstd::compress(ndjson);
}

Result<TestHttpResponse> send(TestHttpClient& c, const coordinator::http::Request& r) {
  TestHttpHeaders headers;
  headers.reserve(r.headers.size());
  for (const auto& h : r.headers) headers.emplace_back(h.name, h.value);
  auto resp = c.request(r.method, r.target, r.body, headers);
  if (!resp.ok()) c.close();
  return resp;
}

}  // namespace meadow::testing
