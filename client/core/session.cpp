#include "client/core/session.h"

#include "common/http_signature.h"
#include "common/json.h"

namespace meadow::client {
namespace {

// The coordinator's problem+json, or a plain description of what came back instead.
CallError call_error(const HttpResponse& resp, const std::string& path) {
  CallError ce;
  ce.status = resp.status;
  if (resp.error) {
    ce.error = *resp.error;
    ce.error.message = "the coordinator could not be reached (" + path + "): " + ce.error.message;
    return ce;
  }
  ce.error = Error{ErrorKind::unavailable, "http-" + std::to_string(resp.status),
                   "the coordinator answered HTTP " + std::to_string(resp.status) + " to " + path};
  auto obj = parse_json_object(resp.body, "problem");
  if (obj.ok()) {
    auto code = obj->find("code");
    auto detail = obj->find("detail");
    if (code != obj->end() && code->value().is_string()) ce.error.code = std::string(code->value().get_string());
    if (detail != obj->end() && detail->value().is_string()) ce.error.message = std::string(detail->value().get_string());
  }
  if (resp.status == 401) ce.error.kind = ErrorKind::unauthenticated;
  if (resp.status == 403) ce.error.kind = ErrorKind::forbidden;
  if (resp.status == 409) ce.error.kind = ErrorKind::conflict;
  if (resp.status == 400 || resp.status == 413 || resp.status == 422) ce.error.kind = ErrorKind::invalid;
  return ce;
}

}  // namespace

Session::Session(HttpLoop& loop, const Clock& clock, const crypto::KeyPair& key, SessionSettings settings)
    : loop_(loop), clock_(clock), key_(key), settings_(std::move(settings)), node_id_(key.public_key().id()) {
  while (!settings_.coordinator.empty() && settings_.coordinator.back() == '/') settings_.coordinator.pop_back();
}

template <class T>
void Session::call(const std::string& path, std::string body, std::string content_type, bool zstd,
                   std::int64_t extra_wait_ms, Result<T> (*parse)(std::string_view),
                   std::function<void(CallResult<T>)> done) {
  HttpRequest req;
  req.method = "POST";
  req.url = settings_.coordinator + path;
  req.user_agent = settings_.client;
  req.timeout_ms = settings_.timeout_ms + extra_wait_ms;
  req.max_body_bytes = 16u << 20;
  auto sig = httpsig::sign_request("POST", path, body, key_, node_id_, clock_.now_ms() / 1000, crypto::random_token(18));
  req.headers = {{"Content-Type", std::move(content_type)},
                 {"Content-Digest", sig.content_digest},
                 {"Signature-Input", sig.signature_input},
                 {"Signature", sig.signature},
                 {protocol::kVersionHeader, protocol::kVersion}};
  if (zstd) req.headers.emplace_back("Content-Encoding", "zstd");
  req.body = std::move(body);
  loop_.start(std::move(req), [path, parse, done = std::move(done)](HttpResponse resp) {
    if (resp.error || resp.status != 200) return done(call_error(resp, path));
    if (auto v = protocol::check_version(resp.header(protocol::kVersionHeader)); !v.ok()) {
      return done(CallError{resp.status, v.error()});
    }
    auto parsed = parse(resp.body);
    if (!parsed.ok()) {
      Error e = parsed.error();
      e.message = "the coordinator's answer to " + path + " is not valid: " + e.message;
      return done(CallError{resp.status, e});
    }
    done(std::move(parsed).value());
  });
}

void Session::register_node(std::function<void(CallResult<protocol::RegisterResponse>)> done) {
  protocol::RegisterRequest m{key_.public_key().base64(), settings_.account, settings_.node_name, settings_.client};
  call<protocol::RegisterResponse>("/v1/nodes/register", protocol::to_json(m), "application/json", false, 0,
                                   &protocol::parse_register_response, std::move(done));
}

void Session::lease(int max_tasks, std::int64_t wait_ms, std::function<void(CallResult<protocol::LeaseResponse>)> done) {
  call<protocol::LeaseResponse>("/v1/lease", protocol::to_json(protocol::LeaseRequest{max_tasks, wait_ms}),
                                "application/json", false, wait_ms, &protocol::parse_lease_response, std::move(done));
}

void Session::extend(const std::vector<protocol::LeaseRef>& leases, std::int64_t extend_ms,
                     std::function<void(CallResult<protocol::ExtendResponse>)> done) {
  call<protocol::ExtendResponse>("/v1/leases/extend", protocol::to_json(protocol::ExtendRequest{leases, extend_ms}),
                                 "application/json", false, 0, &protocol::parse_extend_response, std::move(done));
}

void Session::release(const std::vector<protocol::LeaseRef>& leases,
                      std::function<void(CallResult<protocol::ReleaseResponse>)> done) {
  call<protocol::ReleaseResponse>("/v1/leases/release", protocol::to_json(protocol::ReleaseRequest{leases}),
                                  "application/json", false, 0, &protocol::parse_release_response, std::move(done));
}

void Session::upload(std::string body, std::function<void(CallResult<protocol::UploadResponse>)> done) {
  call<protocol::UploadResponse>("/v1/results", std::move(body), "application/x-ndjson", true, 0,
                                 &protocol::parse_upload_response, std::move(done));
}

}  // namespace meadow::client
