// Protocol v1 between nodes and the coordinator: message types and their JSON codec.
// The JSON Schemas in schemas/ describe the same shapes; tests check real messages
// against them. Parsers are strict about types and ranges and say which field was wrong;
// unknown fields are ignored so that minor versions can add fields.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto.h"
#include "common/result.h"

namespace meadow::protocol {

inline constexpr int kMajorVersion = 1;
inline constexpr int kMinorVersion = 2;
inline constexpr const char* kVersion = "1.2";
inline constexpr const char* kVersionHeader = "meadow-protocol";

// Checks a peer's "meadow-protocol" value: an unknown major version is refused with a
// message telling the user to update. An absent header is taken as 1.0.
Status check_version(std::string_view header_value);

// Limits every implementation enforces.
inline constexpr int kMaxLeaseBatch = 256;
inline constexpr std::int64_t kMaxLongPollMs = 30'000;
inline constexpr std::size_t kMaxUrlBytes = 8192;

struct FieldSelector {
  std::string name;  // [a-z0-9_]{1,64}
  std::string kind;  // "css" or "xpath"
  std::string expr;
};

struct RegisterRequest {
  std::string public_key;  // base64 of the 32-byte Ed25519 key; must be the key that signed the request
  std::string account;     // the contributor account to credit, 1..128 bytes
  std::string name;        // a label for the node ("alice-laptop"), optional
  std::string client;      // software and version ("meadow-node/0.1.0"), optional
};
struct RegisterResponse {
  std::string node_id;
  std::string account;
  std::int64_t registered_at_ms = 0;
  std::string coordinator_key;  // base64 Ed25519 key that signs receipts
};

struct LeaseRequest {
  int max_tasks = 1;           // 1..kMaxLeaseBatch
  std::int64_t wait_ms = 0;    // 0..kMaxLongPollMs: how long to hold the request when nothing is ready
};
struct TaskLease {
  std::int64_t task_id = 0;
  std::int64_t job_id = 0;
  std::string url;
  int depth = 0;
  std::int64_t token = 0;        // fencing token: uploads and extensions must quote it
  std::int64_t deadline_ms = 0;  // the lease ends then unless extended
  int attempt = 1;
  std::vector<FieldSelector> fields;
  bool captures = false;  // the job wants the raw response for WARC (record.raw + capture_base64); 1.2
};
struct LeaseResponse {
  std::vector<TaskLease> tasks;
  std::int64_t next_poll_ms = 0;   // ask again after this long (back-pressure)
  std::int64_t server_time_ms = 0;
};

struct LeaseRef {
  std::int64_t task_id = 0;
  std::int64_t token = 0;
};
struct ExtendRequest {
  std::vector<LeaseRef> leases;  // 1..kMaxLeaseBatch
  std::int64_t extend_ms = 0;    // new deadline = now + extend_ms, 1000..600000
};
struct ExtendedLease {
  std::int64_t task_id = 0;
  std::int64_t token = 0;
  std::int64_t deadline_ms = 0;
};
struct RefusedItem {
  std::int64_t task_id = 0;
  std::string code;
  std::string message;
};
struct ExtendResponse {
  std::vector<ExtendedLease> extended;
  std::vector<RefusedItem> refused;
};

// Leases a node gives back unstarted (it is pausing, hit a limit or is shutting down): the
// tasks return to the queue at once, and the attempt does not count against max_attempts.
// Added in 1.1.
struct ReleaseRequest {
  std::vector<LeaseRef> leases;  // 1..kMaxLeaseBatch
};
struct ReleaseResponse {
  std::vector<std::int64_t> released;  // task ids
  std::vector<RefusedItem> refused;
};

enum class Outcome { ok, failed, skipped };
const char* to_string(Outcome o) noexcept;

// One line of an upload (zstd-compressed NDJSON). `record` is present when outcome is ok,
// signed by the node over record_signing_bytes(); `reason` says why when it is not.
struct ResultLine {
  std::int64_t task_id = 0;
  std::int64_t token = 0;
  Outcome outcome = Outcome::ok;
  std::string reason;
  boost::json::object record;
  // The response body as captured, when the record has `raw` (a job that wants captures); it
  // travels outside the record, as "capture_base64", and record.body_sha256 binds it.
  std::string capture_body;
};

// The largest capture body a result line may carry (what a node's page cap allows and more).
inline constexpr std::size_t kMaxCaptureBytes = 16u << 20;

// The coordinator's signed proof that a record was accepted. Signed over
// canonical_json of every other field.
struct Receipt {
  std::string receipt_id;
  std::int64_t task_id = 0;
  std::int64_t token = 0;
  std::string node_id;
  std::string record_id;
  std::string record_sha256;  // hex SHA-256 of record_signing_bytes(record)
  std::int64_t bytes = 0;     // size of those bytes
  std::int64_t accepted_at_ms = 0;
  std::string coordinator_key_id;
  std::string signature;      // base64
};
struct UploadItem {
  std::int64_t task_id = 0;
  Outcome outcome = Outcome::ok;
  bool duplicate = false;     // this (task, token) was already accepted; nothing counted twice
  std::optional<Receipt> receipt;
};
struct UploadResponse {
  std::vector<UploadItem> items;
};

// Codec. Encoders produce compact JSON; parsers return ErrorKind::invalid errors that name
// the field.
std::string to_json(const RegisterRequest& m);
std::string to_json(const RegisterResponse& m);
std::string to_json(const LeaseRequest& m);
std::string to_json(const LeaseResponse& m);
std::string to_json(const ExtendRequest& m);
std::string to_json(const ExtendResponse& m);
std::string to_json(const ReleaseRequest& m);
std::string to_json(const ReleaseResponse& m);
std::string to_json(const ResultLine& m);
std::string to_json(const UploadResponse& m);
boost::json::object to_json_object(const Receipt& m);

Result<RegisterRequest> parse_register_request(std::string_view body);
Result<RegisterResponse> parse_register_response(std::string_view body);
Result<LeaseRequest> parse_lease_request(std::string_view body);
Result<LeaseResponse> parse_lease_response(std::string_view body);
Result<ExtendRequest> parse_extend_request(std::string_view body);
Result<ExtendResponse> parse_extend_response(std::string_view body);
Result<ReleaseRequest> parse_release_request(std::string_view body);
Result<ReleaseResponse> parse_release_response(std::string_view body);
Result<ResultLine> parse_result_line(std::string_view line);
Result<UploadResponse> parse_upload_response(std::string_view body);
Result<Receipt> parse_receipt(const boost::json::object& obj);
Result<std::vector<FieldSelector>> parse_field_selectors(const boost::json::array& arr);
boost::json::array to_json_array(const std::vector<FieldSelector>& fields);

// Record signatures. A record's "signature" member holds the base64 Ed25519 signature of
// record_signing_bytes(record): canonical_json of the record without "signature".
std::string record_signing_bytes(const boost::json::object& record);
void sign_record(boost::json::object& record, const crypto::KeyPair& key);
// The JSON of an ok result line whose record (given without "signature") is signed on the
// way: the record is serialised once, in canonical form, and the signature appended to it.
// Equal in meaning to to_json() of a ResultLine holding the sign_record()ed record.
// A non-empty `capture_body` is added as "capture_base64".
std::string signed_ok_line_json(std::int64_t task_id, std::int64_t token, const boost::json::object& unsigned_record,
                                const crypto::KeyPair& key, std::string_view capture_body = {});
// signed_ok_line_json() of several lines at once, in order: their records are signed together
// (KeyPair::sign_many), which costs less per record than one at a time.
struct OkLineInput {
  std::int64_t task_id = 0;
  std::int64_t token = 0;
  const boost::json::object* record = nullptr;  // without "signature"
  std::string_view capture_body;                // added as "capture_base64" when not empty
};
std::vector<std::string> signed_ok_lines_json(std::span<const OkLineInput> lines, const crypto::KeyPair& key);
// Fails with code "bad-record-signature" when missing or not valid for `key`.
Status verify_record(const boost::json::object& record, const crypto::PublicKey& key);

// Receipt signatures, over canonical_json of the receipt without "signature".
void sign_receipt(Receipt& receipt, const crypto::KeyPair& coordinator_key);
Status verify_receipt(const Receipt& receipt, const crypto::PublicKey& coordinator_key);

}  // namespace meadow::protocol
