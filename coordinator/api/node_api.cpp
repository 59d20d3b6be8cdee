// Protocol v1 handlers for nodes: register, lease (long-poll), extend, upload.
#include <boost/json/array.hpp>
#include <optional>
#include <utility>

#include "common/json.h"
#include "common/protocol.h"
#include "common/zstd.h"
#include "coordinator/api/context.h"
#include "coordinator/api/problem.h"

namespace meadow::coordinator::api {
namespace json = boost::json;

namespace {

Error bad_content_type(std::string_view want) {
  return make_error(ErrorKind::invalid, "unsupported-media-type", "the body must be " + std::string(want));
}

bool content_type_is(const http::Request& r, std::string_view want) {
  const std::string* ct = r.header("content-type");
  if (!ct) return false;
  std::string_view v = *ct;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v == want;
}

http::Response lease_answer(const LeaseResult& lr, const Context& ctx) {
  protocol::LeaseResponse resp;
  resp.tasks = lr.tasks;
  resp.next_poll_ms = lr.next_poll_ms;
  resp.server_time_ms = ctx.clock.now_ms();
  return json_response(200, protocol::to_json(resp), "lease");
}

// A parked lease request. When the transport wakes many together, LeaseBatch leases for
// all of them in one transaction and leaves each its result in `prepared`.
struct LeasePark final : http::Park {
  std::string node_id;
  int max_tasks = 1;
  std::int64_t until_ms = 0;
  std::optional<LeaseResult> prepared;
};

class LeaseBatch final : public http::ParkBatch {
 public:
  explicit LeaseBatch(Scheduler& scheduler) : scheduler_(scheduler) {}

  void prepare(const std::vector<http::Park*>& parks) override {
    constexpr std::size_t kPerTransaction = 256;  // keeps one transaction, and the store lock, short
    for (std::size_t start = 0; start < parks.size(); start += kPerTransaction) {
      std::size_t end = std::min(parks.size(), start + kPerTransaction);
      std::vector<Scheduler::LeaseAsk> asks;
      for (std::size_t i = start; i < end; ++i) {
        auto* p = static_cast<LeasePark*>(parks[i]);  // only LeasePark uses this batch
        asks.push_back({p->node_id, p->max_tasks});
      }
      auto results = scheduler_.lease_many(asks);
      if (!results.ok()) return;  // each resume then leases on its own and reports the error
      bool any = false;
      for (std::size_t i = start; i < end; ++i) {
        auto& r = (*results)[i - start];
        any = any || !r.tasks.empty();
        static_cast<LeasePark*>(parks[i])->prepared = std::move(r);
      }
      if (!any) return;  // nothing left to hand out: the rest lease (and find nothing) alone
    }
  }

 private:
  Scheduler& scheduler_;
};

// Keeps asking the scheduler until tasks come, the wait ends or the server stops.
http::Response park_lease(Context& ctx, std::string node_id, int max_tasks, std::int64_t wait_ms,
                          std::int64_t until_ms) {
  http::Response r;
  r.route = "lease";
  auto park = std::make_shared<LeasePark>();
  park->wait_ms = wait_ms;
  park->node_id = std::move(node_id);
  park->max_tasks = max_tasks;
  park->until_ms = until_ms;
  park->batch = ctx.lease_batch;
  park->resume = [&ctx, p = park.get()](bool final) -> http::Response {
    Result<LeaseResult> lr = p->prepared ? Result<LeaseResult>(*std::exchange(p->prepared, std::nullopt))
                                         : ctx.scheduler.lease(p->node_id, p->max_tasks);
    if (!lr.ok()) return problem(lr.error());
    std::int64_t left = p->until_ms - ctx.clock.now_ms();
    if (lr->tasks.empty() && !final && left > 0) return park_lease(ctx, p->node_id, p->max_tasks, left, p->until_ms);
    return lease_answer(*lr, ctx);
  };
  r.park = std::move(park);
  return r;
}

}  // namespace

std::shared_ptr<http::ParkBatch> make_lease_batch(Scheduler& scheduler) {
  return std::make_shared<LeaseBatch>(scheduler);
}

namespace {

std::vector<std::string> record_links(const json::object& record) {
  std::vector<std::string> out;
  auto it = record.find("links");
  if (it == record.end() || !it->value().is_array()) return out;
  for (const auto& l : it->value().get_array()) {
    if (l.is_string()) {
      out.emplace_back(l.get_string());
    } else if (l.is_object()) {
      auto u = l.get_object().find("url");
      if (u != l.get_object().end() && u->value().is_string()) out.emplace_back(u->value().get_string());
    }
    if (out.size() >= 5000) break;
  }
  return out;
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// A record with `raw` is a capture. Only a job that asks for captures takes one; its heads go
// into WARC header blocks as they are, so they may not break lines where a field would; and
// the body sent beside the record must be the one the signed body_sha256 names.
Status check_capture(const protocol::ResultLine& line, const json::object& rec, bool wanted) {
  auto bad = [](std::string code, std::string message) { return make_error(ErrorKind::invalid, std::move(code), std::move(message)); };
  const json::value* raw = rec.if_contains("raw");
  if (raw == nullptr) {
    if (!line.capture_body.empty()) return bad("capture-mismatch", "capture_base64 came without record.raw");
    return ok_status();
  }
  if (!wanted) return bad("capture-not-wanted", "the record has raw, but its job does not ask for captures");
  if (!raw->is_object()) return bad("bad-field", "record: field 'raw' must be an object");
  JsonFields f(raw->get_object(), "record.raw");
  const std::string status_line = f.string("status_line", 1024);
  const json::array& headers = f.array("headers", 500);
  f.string_or("request", "", 64 * 1024);
  f.string_or("ip_address", "", 45);
  if (!f.ok()) return f.error();
  if (has_line_break(status_line) || !status_line.starts_with("HTTP/"))
    return bad("bad-field", "record.raw: status_line must be one line starting HTTP/");
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const json::object* h = headers[i].if_object();
    const json::value* name = h ? h->if_contains("name") : nullptr;
    const json::value* value = h ? h->if_contains("value") : nullptr;
    if (!name || !value || !name->is_string() || !value->is_string() || name->get_string().empty() ||
        has_line_break(name->get_string()) || has_line_break(value->get_string()) ||
        std::string_view(name->get_string()).find(':') != std::string_view::npos)
      return bad("bad-field", "record.raw: headers[" + std::to_string(i) +
                                  "] must be {name, value} strings, the name non-empty without ':', neither breaking a line");
  }
  const json::value* digest = rec.if_contains("body_sha256");
  const std::string actual = crypto::sha256_hex(line.capture_body);
  if (digest == nullptr || !digest->is_string() || digest->get_string() != actual)
    return bad("capture-mismatch", "the captured body's SHA-256 is " + actual + ", not the record's body_sha256");
  return ok_status();
}

// Checks one line of an upload against the node and its lease and builds what to store.
Result<VerifiedResult> verify_line(std::size_t line_no, const protocol::ResultLine& line, const Node& node,
                                   const crypto::PublicKey& node_key, Context& ctx, std::int64_t now_ms) {
  std::string where = "line " + std::to_string(line_no) + " (task " + std::to_string(line.task_id) + "): ";
  auto fail = [&](ErrorKind kind, std::string code, std::string msg) {
    return make_error(kind, std::move(code), where + msg);
  };
  auto task = ctx.store.get_task(line.task_id);
  if (!task.ok()) return fail(task.error().kind, task.error().code, task.error().message);
  if (task->node_id != node.id && task->state == TaskState::leased) {
    return fail(ErrorKind::conflict, "not-your-lease", "task " + std::to_string(line.task_id) + " is leased to another node");
  }
  VerifiedResult v;
  v.task_id = line.task_id;
  v.token = line.token;
  v.outcome = line.outcome;
  v.reason = line.reason;
  if (line.outcome != protocol::Outcome::ok) return v;

  const json::object& rec = line.record;
  auto st = protocol::verify_record(rec, node_key);
  if (!st.ok()) return fail(ErrorKind::invalid, st.error().code, st.error().message);
  JsonFields f(rec, "record");
  v.record_id = f.string("record_id", 128);
  std::int64_t rec_task = f.integer("task_id", 1, INT64_MAX);
  std::int64_t rec_job = f.integer("job_id", 1, INT64_MAX);
  std::string rec_node = f.string("node_id", 64);
  std::string rec_url = f.string("url", protocol::kMaxUrlBytes);
  if (!f.ok()) return fail(ErrorKind::invalid, f.error().code, f.error().message);
  if (v.record_id.empty()) return fail(ErrorKind::invalid, "bad-field", "record: field 'record_id' must not be empty");
  if (rec_task != line.task_id || rec_job != task->job_id) {
    return fail(ErrorKind::invalid, "record-mismatch", "the record names task " + std::to_string(rec_task) +
                                                           " of job " + std::to_string(rec_job) + ", not this task");
  }
  if (rec_node != node.id) return fail(ErrorKind::invalid, "record-mismatch", "the record names node " + rec_node + ", not the uploader");
  if (rec_url != task->url) return fail(ErrorKind::invalid, "record-mismatch", "the record's url is not the task's url " + task->url);

  std::string bytes = protocol::record_signing_bytes(rec);
  if (bytes.size() > ctx.options.max_record_bytes) {
    return fail(ErrorKind::too_large, "record-too-large",
                "the record is " + std::to_string(bytes.size()) + " bytes; at most " +
                    std::to_string(ctx.options.max_record_bytes) + " are accepted");
  }
  v.record_sha256 = crypto::sha256_hex(bytes);
  v.record_json = to_json(rec);
  auto job = ctx.scheduler.active_job(task->job_id);
  auto capture = check_capture(line, rec, job.ok() && job->has_value() && (*job)->spec.captures);
  if (!capture.ok()) return fail(capture.error().kind, capture.error().code, capture.error().message);
  if (rec.contains("raw")) v.capture_body = line.capture_body;

  protocol::Receipt& rc = v.receipt;
  rc.receipt_id = "rcpt-" + std::to_string(line.task_id) + "-" + std::to_string(line.token);
  rc.task_id = line.task_id;
  rc.token = line.token;
  rc.node_id = node.id;
  rc.record_id = v.record_id;
  rc.record_sha256 = v.record_sha256;
  rc.bytes = static_cast<std::int64_t>(bytes.size());
  rc.accepted_at_ms = now_ms;
  rc.coordinator_key_id = ctx.key.public_key().id('c');
  protocol::sign_receipt(rc, ctx.key);

  if (job.ok() && job->has_value()) v.discovered = ctx.scheduler.links_to_follow(**job, *task, record_links(rec));
  return v;
}

}  // namespace

http::Response node_register(const http::Request& r, Context& ctx) {
  if (!content_type_is(r, "application/json")) return problem(bad_content_type("application/json"));
  auto req = protocol::parse_register_request(r.body);
  if (!req.ok()) return problem(req.error());
  auto key = crypto::PublicKey::from_base64(req->public_key);
  if (!key.ok()) {
    return problem(make_error(ErrorKind::invalid, "bad-public-key",
                              "registration: public_key must be a base64 Ed25519 key of 32 bytes"));
  }
  auto auth = authenticate_node(r, ctx, &*key);
  if (!auth.ok()) return problem(auth.error());
  Node n;
  n.id = key->id();
  n.public_key = key->raw();
  n.account = req->account;
  n.name = req->name;
  n.client = req->client;
  n.registered_ms = ctx.clock.now_ms();
  auto stored = ctx.store.register_node(n);
  if (!stored.ok()) return problem(stored.error());
  if (stored->banned) return problem(make_error(ErrorKind::forbidden, "node-banned", "node " + n.id + " is banned"));
  if (stored->account != n.account) {
    return problem(make_error(ErrorKind::conflict, "key-registered",
                              "this key is already registered to another account; make a new key"));
  }
  protocol::RegisterResponse resp{stored->id, stored->account, stored->registered_ms, ctx.key.public_key().base64()};
  ctx.metrics.add("nodes_registered_total");
  return json_response(200, protocol::to_json(resp), "register");
}

http::Response node_lease(const http::Request& r, Context& ctx) {
  if (!content_type_is(r, "application/json")) return problem(bad_content_type("application/json"));
  auto node = authenticate_node(r, ctx, nullptr);
  if (!node.ok()) return problem(node.error());
  auto req = protocol::parse_lease_request(r.body);
  if (!req.ok()) return problem(req.error());
  auto lr = ctx.scheduler.lease(node->id, req->max_tasks);
  if (!lr.ok()) return problem(lr.error());
  ctx.metrics.add("leases_total", static_cast<std::int64_t>(lr->tasks.size()));
  std::int64_t wait = std::min(req->wait_ms, ctx.options.max_long_poll_ms);
  if (lr->tasks.empty() && wait > 0 && !ctx.draining) {
    return park_lease(ctx, node->id, req->max_tasks, wait, ctx.clock.now_ms() + wait);
  }
  return lease_answer(*lr, ctx);
}

http::Response node_extend(const http::Request& r, Context& ctx) {
  if (!content_type_is(r, "application/json")) return problem(bad_content_type("application/json"));
  auto node = authenticate_node(r, ctx, nullptr);
  if (!node.ok()) return problem(node.error());
  auto req = protocol::parse_extend_request(r.body);
  if (!req.ok()) return problem(req.error());
  auto resp = ctx.scheduler.extend(node->id, req->leases, req->extend_ms);
  if (!resp.ok()) return problem(resp.error());
  return json_response(200, protocol::to_json(*resp), "extend");
}

http::Response node_release(const http::Request& r, Context& ctx) {
  if (!content_type_is(r, "application/json")) return problem(bad_content_type("application/json"));
  auto node = authenticate_node(r, ctx, nullptr);
  if (!node.ok()) return problem(node.error());
  auto req = protocol::parse_release_request(r.body);
  if (!req.ok()) return problem(req.error());
  auto resp = ctx.scheduler.release(node->id, req->leases);
  if (!resp.ok()) return problem(resp.error());
  ctx.metrics.add("leases_released_total", static_cast<std::int64_t>(resp->released.size()));
  if (!resp->released.empty() && ctx.notify_work) ctx.notify_work(resp->released.size());
  return json_response(200, protocol::to_json(*resp), "release");
}

http::Response node_upload(const http::Request& r, Context& ctx) {
  if (!content_type_is(r, "application/x-ndjson")) return problem(bad_content_type("application/x-ndjson"));
  const std::string* enc = r.header("content-encoding");
  if (!enc || *enc != "zstd") {
    return problem(make_error(ErrorKind::invalid, "unsupported-media-type",
                              "uploads must be zstd-compressed NDJSON with 'Content-Encoding: zstd'"));
  }
  auto node = authenticate_node(r, ctx, nullptr);
  if (!node.ok()) return problem(node.error());
  auto node_key = crypto::PublicKey::from_raw(node->public_key);
  if (!node_key.ok()) return problem(node_key.error());

  auto text = zstd::decompress(r.body, ctx.options.max_upload_decompressed);
  if (!text.ok()) {
    Error e = std::move(text).error();
    if (e.kind == ErrorKind::too_large) {
      e.message = "the upload expands past " + std::to_string(ctx.options.max_upload_decompressed) +
                  " bytes; send fewer records per upload";
    } else {
      e.message = "the upload is not valid zstd: " + e.message;
    }
    return problem(e);
  }
  std::int64_t now = ctx.clock.now_ms();
  std::vector<VerifiedResult> results;
  std::string_view rest = *text;
  std::size_t line_no = 0;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (results.size() >= ctx.options.max_upload_lines) {
      return problem(make_error(ErrorKind::too_large, "too-many-results",
                                "an upload carries at most " + std::to_string(ctx.options.max_upload_lines) +
                                    " results; split it"));
    }
    auto parsed = protocol::parse_result_line(line);
    if (!parsed.ok()) {
      Error e = std::move(parsed).error();
      e.message = "line " + std::to_string(line_no) + ": " + e.message;
      return problem(e);
    }
    auto v = verify_line(line_no, *parsed, *node, *node_key, ctx, now);
    if (!v.ok()) return problem(v.error());
    results.push_back(std::move(v).value());
  }
  if (results.empty()) return problem(make_error(ErrorKind::invalid, "empty-upload", "the upload holds no results"));

  auto items = ctx.store.complete(node->id, results, now, ctx.scheduler.options().retry_delay_ms);
  if (!items.ok()) return problem(items.error());
  std::size_t wake = 0;
  std::int64_t accepted = 0;
  for (std::size_t i = 0; i < items->size(); ++i) {
    const auto& item = (*items)[i];
    if (item.duplicate) continue;
    if (item.outcome == protocol::Outcome::ok) {
      ++accepted;
      wake += results[i].discovered.size();
    } else if (item.outcome == protocol::Outcome::failed) {
      ++wake;
    }
  }
  ctx.metrics.add("results_accepted_total", accepted);
  if (wake > 0 && ctx.notify_work) ctx.notify_work(wake);
  if (accepted > 0 && ctx.results_accepted) ctx.results_accepted();
  protocol::UploadResponse resp;
  resp.items = std::move(items).value();
  return json_response(200, protocol::to_json(resp), "upload");
}

}  // namespace meadow::coordinator::api
