#include "common/protocol.h"


#include "common/json.h"

namespace meadow::protocol {
namespace json = boost::json;

Status check_version(std::string_view v) {
  if (v.empty()) return {};
  auto dot = v.find('.');
  std::string_view major = v.substr(0, dot);
  if (major == std::to_string(kMajorVersion)) return {};
  return make_error(ErrorKind::invalid, "unsupported-protocol",
                    "the peer speaks Meadow protocol " + std::string(v) + " and this program speaks " +
                        kVersion + "; update Meadow to a version that supports protocol " +
                        std::string(major));
}

const char* to_string(Outcome o) noexcept {
  switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::failed: return "failed";
    case Outcome::skipped: return "skipped";
  }
  return "?";
}

namespace {

Result<json::object> object_of(std::string_view body, std::string_view what) {
  return parse_json_object(body, what);
}

bool valid_field_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

json::object receipt_fields(const Receipt& m) {
  json::object o;
  o["receipt_id"] = m.receipt_id;
  o["task_id"] = m.task_id;
  o["token"] = m.token;
  o["node_id"] = m.node_id;
  o["record_id"] = m.record_id;
  o["record_sha256"] = m.record_sha256;
  o["bytes"] = m.bytes;
  o["accepted_at_ms"] = m.accepted_at_ms;
  o["coordinator_key_id"] = m.coordinator_key_id;
  return o;
}

}  // namespace

json::array to_json_array(const std::vector<FieldSelector>& fields) {
  json::array a;
  for (const auto& f : fields) a.push_back(json::object{{"name", f.name}, {"kind", f.kind}, {"expr", f.expr}});
  return a;
}

Result<std::vector<FieldSelector>> parse_field_selectors(const json::array& arr) {
  std::vector<FieldSelector> out;
  if (arr.size() > 64) return make_error(ErrorKind::invalid, "bad-field", "at most 64 fields may be selected");
  for (std::size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_object()) {
      return make_error(ErrorKind::invalid, "bad-field", "fields[" + std::to_string(i) + "] must be an object");
    }
    JsonFields f(arr[i].get_object(), "fields[" + std::to_string(i) + "]");
    FieldSelector s{f.string("name", 64), f.string("kind", 8), f.string("expr", 1024)};
    if (f.ok() && !valid_field_name(s.name)) f.fail("name", "must be 1..64 characters of a-z, 0-9 and _");
    if (f.ok() && s.kind != "css" && s.kind != "xpath") f.fail("kind", "must be \"css\" or \"xpath\"");
    if (f.ok() && s.expr.empty()) f.fail("expr", "must not be empty");
    if (!f.ok()) return f.error();
    out.push_back(std::move(s));
  }
  return out;
}

std::string to_json(const RegisterRequest& m) {
  json::object o{{"public_key", m.public_key}, {"account", m.account}};
  if (!m.name.empty()) o["name"] = m.name;
  if (!m.client.empty()) o["client"] = m.client;
  return meadow::to_json(o);
}

Result<RegisterRequest> parse_register_request(std::string_view body) {
  MEADOW_ASSIGN(json::object o, object_of(body, "registration"));
  JsonFields f(o, "registration");
  RegisterRequest m{f.string("public_key", 64), f.string("account", 128), f.string_or("name", "", 128),
                    f.string_or("client", "", 128)};
  if (f.ok() && m.account.empty()) f.fail("account", "must not be empty");
  if (!f.ok()) return f.error();
  return m;
}

std::string to_json(const RegisterResponse& m) {
  return meadow::to_json(json::object{{"node_id", m.node_id},
                                      {"account", m.account},
                                      {"registered_at_ms", m.registered_at_ms},
                                      {"coordinator_key", m.coordinator_key}});
}

Result<RegisterResponse> parse_register_response(std::string_view body) {
  MEADOW_ASSIGN(json::object o, object_of(body, "registration response"));
  JsonFields f(o, "registration response");
  RegisterResponse m{f.string("node_id", 64), f.string("account", 128),
                     f.integer("registered_at_ms", 0, INT64_MAX), f.string("coordinator_key", 64)};
  if (!f.ok()) return f.error();
  return m;
}

std::string to_json(const LeaseRequest& m) {
  return meadow::to_json(json::object{{"max_tasks", m.max_tasks}, {"wait_ms", m.wait_ms}});
}

Result<LeaseRequest> parse_lease_request(std::string_view body) {
  MEADOW_ASSIGN(json::object o, object_of(body, "lease request"));
  JsonFields f(o, "lease request");
  LeaseRequest m;
  m.max_tasks = static_cast<int>(f.integer_or("max_tasks", 1, kMaxLeaseBatch, 1));
  m.wait_ms = f.integer_or("wait_ms", 0, kMaxLongPollMs, 0);
  if (!f.ok()) return f.error();
  return m;
}

std::string to_json(const LeaseResponse& m) {
  json::array tasks;
  tasks.reserve(m.tasks.size());
  for (const auto& t : m.tasks) {
    tasks.push_back(json::object{{"task_id", t.task_id},
                                 {"job_id", t.job_id},
                                 {"url", t.url},
                                 {"depth", t.depth},
                                 {"token", t.token},
                                 {"deadline_ms", t.deadline_ms},
                                 {"attempt", t.attempt},
                                 {"fields", to_json_array(t.fields)}});
    if (t.captures) tasks.back().as_object()["captures"] = true;
  }
  return meadow::to_json(json::object{{"tasks", std::move(tasks)},
                                      {"next_poll_ms", m.next_poll_ms},
                                      {"server_time_ms", m.server_time_ms}});
}

Result<LeaseResponse> parse_lease_response(std::string_view body) {
  MEADOW_ASSIGN(json::object o, object_of(body, "lease response"));
  JsonFields f(o, "lease response");
  LeaseResponse m;
  const auto& tasks = f.array("tasks", kMaxLeaseBatch);
  m.next_poll_ms = f.integer("next_poll_ms", 0, 86'400'000);
  m.server_time_ms = f.integer("server_time_ms", 0, INT64_MAX);
  if (!f.ok()) return f.error();
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (!tasks[i].is_object()) {
      return make_error(ErrorKind::invalid, "bad-field", "lease response: tasks[" + std::to_string(i) + "] must be an object");
    }
    JsonFields t(tasks[i].get_object(), "lease response: tasks[" + std::to_string(i) + "]");
    TaskLease l;
    l.task_id = t.integer("task_id", 1, INT64_MAX);
    l.job_id = t.integer("job_id", 1, INT64_MAX);
    l.url = t.string("url", kMaxUrlBytes);
    l.depth = static_cast<int>(t.integer_or("depth", 0, 1000, 0));
    l.token = t.integer("token", 1, INT64_MAX);
    l.deadline_ms = t.integer("deadline_ms", 0, INT64_MAX);
    l.attempt = static_cast<int>(t.integer_or("attempt", 1, 1000, 1));
    const auto& fields = t.array_or_empty("fields", 64);
    l.captures = t.boolean_or("captures", false);
    if (!t.ok()) return t.error();
    MEADOW_ASSIGN(l.fields, parse_field_selectors(fields));
    m.tasks.push_back(std::move(l));
  }
  return m;
}

namespace {
json::array lease_refs_json(const std::vector<LeaseRef>& refs) {
  json::array leases;
  for (const auto& l : refs) leases.push_back(json::object{{"task_id", l.task_id}, {"token", l.token}});
  return leases;
}
}  // namespace

std::string to_json(const ExtendRequest& m) {
  return meadow::to_json(json::object{{"leases", lease_refs_json(m.leases)}, {"extend_ms", m.extend_ms}});
}

namespace {
Result<std::vector<LeaseRef>> parse_lease_refs(const json::array& arr, std::string_view what) {
  std::vector<LeaseRef> out;
  out.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    std::string where = std::string(what) + "[" + std::to_string(i) + "]";
    if (!arr[i].is_object()) return make_error(ErrorKind::invalid, "bad-field", where + " must be an object");
    JsonFields f(arr[i].get_object(), where);
    LeaseRef r{f.integer("task_id", 1, INT64_MAX), f.integer("token", 1, INT64_MAX)};
    if (!f.ok()) return f.error();
    out.push_back(r);
  }
  return out;
}
}  // namespace

Result<ExtendRequest> parse_extend_request(std::string_view body) {
  MEADOW_ASSIGN(json::object o, object_of(body, "extend request"));
  JsonFields f(o, "extend request");
  const auto& leases = f.array("leases", kMaxLeaseBatch);
  ExtendRequest m;
  m.extend_ms = f.integer("extend_ms", 1000, 600'000);
  if (f.ok() && leases.empty()) f.fail("leases", "must name at least one lease");
  if (!f.ok()) return f.error();
  MEADOW_ASSIGN(m.leases, parse_lease_refs(leases, "extend request: leases"));
  return m;
}

namespace {
json::array refused_json(const std::vector<RefusedItem>& items) {
  json::array a;
  for (const auto& r : items) {
    a.push_back(json::object{{"task_id", r.task_id}, {"code", r.code}, {"message", r.message}});
  }
  return a;
}

Result<std::vector<RefusedItem>> parse_refused(const json::array& arr, const std::string& what) {
  std::vector<RefusedItem> out;
  for (const auto& v : arr) {
    if (!v.is_object()) return make_error(ErrorKind::invalid, "bad-field", what + " items must be objects");
    JsonFields e(v.get_object(), what);
    RefusedItem r{e.integer("task_id", 1, INT64_MAX), e.string("code", 64), e.string("message", 1024)};
    if (!e.ok()) return e.error();
    out.push_back(std::move(r));
  }
  return out;
}
}  // namespace

std::string to_json(const ExtendResponse& m) {
  json::array ext;
  for (const auto& e : m.extended) {
    ext.push_back(json::object{{"task_id", e.task_id}, {"token", e.token}, {"deadline_ms", e.deadline_ms}});
  }
  return meadow::to_json(json::object{{"extended", std::move(ext)}, {"refused", refused_json(m.refused)}});
}

Result<ExtendResponse> parse_extend_response(std::string_view body) {
  MEADOW_ASSIGN(json::object o, object_of(body, "extend response"));
  JsonFields f(o, "extend response");
  const auto& ext = f.array("extended", kMaxLeaseBatch);
  const auto& refused = f.array_or_empty("refused", kMaxLeaseBatch);
  if (!f.ok()) return f.error();
  ExtendResponse m;
  for (const auto& v : ext) {
    if (!v.is_object()) return make_error(ErrorKind::invalid, "bad-field", "extend response: extended items must be objects");
    JsonFields e(v.get_object(), "extend response: extended");
    ExtendedLease l{e.integer("task_id", 1, INT64_MAX), e.integer("token", 1, INT64_MAX),
                    e.integer("deadline_ms", 0, INT64_MAX)};
    if (!e.ok()) return e.error();
    m.extended.push_back(l);
  }
  MEADOW_ASSIGN(m.refused, parse_refused(refused, "extend response: refused"));
  return m;
}

std::string to_json(const ReleaseRequest& m) {
  return meadow::to_json(json::object{{"leases", lease_refs_json(m.leases)}});
}

std::string to_json(const ReleaseResponse& m) {
  json::array released;
  for (auto id : m.released) released.push_back(id);
  return meadow::to_json(json::object{{"released", std::move(released)}, {"refused", refused_json(m.refused)}});
}

Result<ReleaseRequest> parse_release_request(std::string_view body) {
  MEADOW_ASSIGN(json::object o, object_of(body, "release request"));
  JsonFields f(o, "release request");
  const auto& leases = f.array("leases", kMaxLeaseBatch);
  if (f.ok() && leases.empty()) f.fail("leases", "must name at least one lease");
  if (!f.ok()) return f.error();
  ReleaseRequest m;
  MEADOW_ASSIGN(m.leases, parse_lease_refs(leases, "release request: leases"));
  return m;
}

Result<ReleaseResponse> parse_release_response(std::string_view body) {
  MEADOW_ASSIGN(json::object o, object_of(body, "release response"));
  JsonFields f(o, "release response");
  const auto& released = f.array("released", kMaxLeaseBatch);
  const auto& refused = f.array_or_empty("refused", kMaxLeaseBatch);
  if (!f.ok()) return f.error();
  ReleaseResponse m;
  for (const auto& v : released) {
    if (!v.is_int64() || v.get_int64() < 1) {
      return make_error(ErrorKind::invalid, "bad-field", "release response: released items must be task ids");
    }
    m.released.push_back(v.get_int64());
  }
  MEADOW_ASSIGN(m.refused, parse_refused(refused, "release response: refused"));
  return m;
}

std::string to_json(const ResultLine& m) {
  json::object o{{"task_id", m.task_id}, {"token", m.token}, {"outcome", to_string(m.outcome)}};
  if (!m.reason.empty()) o["reason"] = m.reason;
  if (m.outcome == Outcome::ok) o["record"] = m.record;
  if (m.outcome == Outcome::ok && !m.capture_body.empty()) o["capture_base64"] = crypto::base64_encode(m.capture_body);
  return meadow::to_json(o);
}

Result<ResultLine> parse_result_line(std::string_view line) {
  MEADOW_ASSIGN(json::object o, object_of(line, "result"));
  JsonFields f(o, "result");
  ResultLine m;
  m.task_id = f.integer("task_id", 1, INT64_MAX);
  m.token = f.integer("token", 1, INT64_MAX);
  std::string outcome = f.string("outcome", 16);
  m.reason = f.string_or("reason", "", 2048);
  if (f.ok()) {
    if (outcome == "ok") m.outcome = Outcome::ok;
    else if (outcome == "failed") m.outcome = Outcome::failed;
    else if (outcome == "skipped") m.outcome = Outcome::skipped;
    else f.fail("outcome", "must be \"ok\", \"failed\" or \"skipped\"");
  }
  if (f.ok() && m.outcome == Outcome::ok) m.record = f.object("record");
  const std::string capture = f.string_or("capture_base64", "", (kMaxCaptureBytes + 2) / 3 * 4);
  if (f.ok() && m.outcome != Outcome::ok && m.reason.empty()) f.fail("reason", "is required when outcome is not ok");
  if (!f.ok()) return f.error();
  if (!capture.empty()) {
    auto body = crypto::base64_decode(capture);
    if (!body.ok()) return make_error(ErrorKind::invalid, "bad-field", "result: field 'capture_base64' must be base64");
    m.capture_body = std::move(*body);
  }
  return m;
}

json::object to_json_object(const Receipt& m) {
  json::object o = receipt_fields(m);
  o["signature"] = m.signature;
  return o;
}

Result<Receipt> parse_receipt(const json::object& o) {
  JsonFields f(o, "receipt");
  Receipt m;
  m.receipt_id = f.string("receipt_id", 128);
  m.task_id = f.integer("task_id", 1, INT64_MAX);
  m.token = f.integer("token", 1, INT64_MAX);
  m.node_id = f.string("node_id", 64);
  m.record_id = f.string("record_id", 128);
  m.record_sha256 = f.string("record_sha256", 64);
  m.bytes = f.integer("bytes", 0, INT64_MAX);
  m.accepted_at_ms = f.integer("accepted_at_ms", 0, INT64_MAX);
  m.coordinator_key_id = f.string("coordinator_key_id", 64);
  m.signature = f.string("signature", 128);
  if (!f.ok()) return f.error();
  return m;
}

std::string to_json(const UploadResponse& m) {
  json::array items;
  items.reserve(m.items.size());
  for (const auto& it : m.items) {
    json::object o{{"task_id", it.task_id}, {"outcome", to_string(it.outcome)}, {"duplicate", it.duplicate}};
    if (it.receipt) o["receipt"] = to_json_object(*it.receipt);
    items.push_back(std::move(o));
  }
  return meadow::to_json(json::object{{"items", std::move(items)}});
}

Result<UploadResponse> parse_upload_response(std::string_view body) {
  MEADOW_ASSIGN(json::object o, object_of(body, "upload response"));
  JsonFields f(o, "upload response");
  const auto& items = f.array("items", 100'000);
  if (!f.ok()) return f.error();
  UploadResponse m;
  for (const auto& v : items) {
    if (!v.is_object()) return make_error(ErrorKind::invalid, "bad-field", "upload response: items must be objects");
    JsonFields i(v.get_object(), "upload response item");
    UploadItem item;
    item.task_id = i.integer("task_id", 1, INT64_MAX);
    std::string outcome = i.string("outcome", 16);
    item.duplicate = i.boolean_or("duplicate", false);
    if (i.ok()) {
      if (outcome == "ok") item.outcome = Outcome::ok;
      else if (outcome == "failed") item.outcome = Outcome::failed;
      else if (outcome == "skipped") item.outcome = Outcome::skipped;
      else i.fail("outcome", "must be \"ok\", \"failed\" or \"skipped\"");
    }
    if (!i.ok()) return i.error();
    if (i.has("receipt")) {
      const auto& r = i.object("receipt");
      if (!i.ok()) return i.error();
      MEADOW_ASSIGN(item.receipt, parse_receipt(r));
    }
    m.items.push_back(std::move(item));
  }
  return m;
}

std::string record_signing_bytes(const json::object& record) { return canonical_json_without(record, "signature"); }

void sign_record(json::object& record, const crypto::KeyPair& key) {
  record["signature"] = crypto::base64_encode(key.sign(record_signing_bytes(record)));
}

std::string signed_ok_line_json(std::int64_t task_id, std::int64_t token, const json::object& unsigned_record,
                                const crypto::KeyPair& key, std::string_view capture_body) {
  const OkLineInput line{task_id, token, &unsigned_record, capture_body};
  return std::move(signed_ok_lines_json({&line, 1}, key).front());
}

std::vector<std::string> signed_ok_lines_json(std::span<const OkLineInput> lines, const crypto::KeyPair& key) {
  // The canonical records go to buffers each thread keeps, so records of tens of KB are
  // written without regrowing; they are signed together, and each line is then built at its
  // final size (with room for the newline callers add).
  thread_local std::vector<std::string> canonical;
  if (canonical.size() < lines.size()) canonical.resize(lines.size());
  std::vector<std::string_view> signing(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    canonical[i].clear();
    append_canonical_json(canonical[i], *lines[i].record);
    signing[i] = canonical[i];
  }
  const std::vector<std::string> sigs = key.sign_many(signing);
  std::vector<std::string> out(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const OkLineInput& in = lines[i];
    const std::string& record = canonical[i];
    const std::string sig = crypto::base64_encode(sigs[i]);
    const std::string head = "{\"task_id\":" + std::to_string(in.task_id) + ",\"token\":" + std::to_string(in.token) +
                             ",\"outcome\":\"ok\",\"record\":";
    std::string& line = out[i];
    line.reserve(head.size() + record.size() + sig.size() + 20 +
                 (in.capture_body.empty() ? 0 : 24 + (in.capture_body.size() + 2) / 3 * 4));
    line += head;
    line.append(record, 0, record.size() - 1);  // without the record's closing '}'
    line += in.record->empty() ? "\"signature\":\"" : ",\"signature\":\"";
    line += sig;
    line += "\"}";
    if (!in.capture_body.empty()) {
      line += ",\"capture_base64\":\"";
      line += crypto::base64_encode(in.capture_body);
      line += '"';
    }
    line += '}';
  }
  // Keep about 2 MiB for the next batch (some eighty typical records), not what big ones took.
  std::size_t kept = 0;
  for (std::string& c : canonical) {
    kept += c.capacity();
    if (kept > (2u << 20)) c = std::string();
  }
  return out;
}

Status verify_record(const json::object& record, const crypto::PublicKey& key) {
  auto it = record.find("signature");
  if (it == record.end() || !it->value().is_string()) {
    return make_error(ErrorKind::invalid, "bad-record-signature", "the record has no signature");
  }
  const auto& s = it->value().get_string();
  auto raw = crypto::base64_decode(std::string_view(s.data(), s.size()));
  if (!raw.ok() || !key.verify(record_signing_bytes(record), *raw)) {
    return make_error(ErrorKind::invalid, "bad-record-signature",
                      "the record's signature does not verify with the uploading node's key");
  }
  return {};
}

void sign_receipt(Receipt& receipt, const crypto::KeyPair& key) {
  receipt.signature = crypto::base64_encode(key.sign(canonical_json(receipt_fields(receipt))));
}

Status verify_receipt(const Receipt& receipt, const crypto::PublicKey& key) {
  auto raw = crypto::base64_decode(receipt.signature);
  if (!raw.ok() || !key.verify(canonical_json(receipt_fields(receipt)), *raw)) {
    return make_error(ErrorKind::invalid, "bad-receipt-signature",
                      "the receipt's signature does not verify with the coordinator's key");
  }
  return {};
}

}  // namespace meadow::protocol
