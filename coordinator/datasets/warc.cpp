#include "coordinator/datasets/warc.h"

#include <cstdio>

#include "common/crypto.h"
#include "common/text.h"
#include "common/protocol.h"

namespace meadow::coordinator::datasets {
namespace json = boost::json;

namespace {

std::string_view string_member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

std::string sha256_label(std::string_view bytes) {
  const crypto::Sha256 d = crypto::sha256(bytes);
  return "sha256:" + base32(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// A urn:uuid made from a name: the first 16 bytes of its SHA-256, marked as an RFC 9562
// version 8 (custom) UUID.
std::string uuid_urn(std::string_view name) {
  crypto::Sha256 d = crypto::sha256(name);
  d[6] = static_cast<unsigned char>((d[6] & 0x0f) | 0x80);
  d[8] = static_cast<unsigned char>((d[8] & 0x3f) | 0x80);
  std::string hex = crypto::to_hex(std::string_view(reinterpret_cast<const char*>(d.data()), 16));
  return "<urn:uuid:" + hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) +
         "-" + hex.substr(20) + ">";
}

struct Field {
  std::string_view name;
  std::string value;
};

// One WARC record: the version line, the named fields, Content-Length, the block and the two
// CRLFs that end every record.
std::string warc_record(const std::vector<Field>& fields, std::string_view content_type, std::string_view block) {
  std::string out = "WARC/1.1\r\n";
  for (const auto& f : fields) {
    if (f.value.empty()) continue;
    out.append(f.name).append(": ").append(f.value).append("\r\n");
  }
  out.append("WARC-Block-Digest: ").append(sha256_label(block)).append("\r\n");
  out.append("Content-Type: ").append(content_type).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(block.size())).append("\r\n\r\n");
  out.append(block);
  out.append("\r\n\r\n");
  return out;
}

// The response's head as stored: what the node received, less the framing its decoding undid.
std::string response_head(std::string_view status_line, const json::array& headers, std::size_t body_bytes) {
  std::string head(status_line);
  head += "\r\n";
  for (const auto& h : headers) {
    const json::object* o = h.if_object();
    if (o == nullptr) continue;
    const std::string_view name = string_member(*o, "name");
    if (name.empty() || text::iequals(name, "content-encoding") || text::iequals(name, "transfer-encoding") ||
        text::iequals(name, "content-length"))
      continue;
    head.append(name).append(": ").append(string_member(*o, "value")).append("\r\n");
  }
  head.append("Content-Length: ").append(std::to_string(body_bytes)).append("\r\n\r\n");
  return head;
}

}  // namespace

std::string base32(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  out.reserve((bytes.size() + 4) / 5 * 8);
  std::uint64_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  while (out.size() % 8 != 0) out.push_back('=');
  return out;
}

std::vector<std::string> capture_records(const json::object& record, std::string_view body) {
  std::vector<std::string> out;
  const json::value* raw_value = record.if_contains("raw");
  if (raw_value == nullptr || !raw_value->is_object()) return out;
  const json::object& raw = raw_value->get_object();
  const json::value* headers = raw.if_contains("headers");
  static const json::array kNone;
  const std::string_view record_id = string_member(record, "record_id");
  std::string_view target = string_member(record, "final_url");
  if (target.empty()) target = string_member(record, "url");
  const std::string date(string_member(record, "fetched_at"));
  const std::string response_id = uuid_urn(std::string(record_id) + "/response");
  const bool truncated = record.contains("truncated") && record.at("truncated").is_bool() && record.at("truncated").get_bool();

  const std::string_view request_head = string_member(raw, "request");
  if (!request_head.empty()) {
    out.push_back(warc_record({{"WARC-Type", "request"},
                               {"WARC-Record-ID", uuid_urn(std::string(record_id) + "/request")},
                               {"WARC-Date", date},
                               {"WARC-Target-URI", std::string(target)},
                               {"WARC-Concurrent-To", response_id}},
                              "application/http;msgtype=request", request_head));
  }
  std::string block = response_head(string_member(raw, "status_line"),
                                    headers != nullptr && headers->is_array() ? headers->get_array() : kNone, body.size());
  block.append(body);
  out.push_back(warc_record({{"WARC-Type", "response"},
                             {"WARC-Record-ID", response_id},
                             {"WARC-Date", date},
                             {"WARC-Target-URI", std::string(target)},
                             {"WARC-IP-Address", std::string(string_member(raw, "ip_address"))},
                             {"WARC-Payload-Digest", sha256_label(body)},
                             {"WARC-Truncated", truncated ? "length" : ""}},
                            "application/http;msgtype=response", block));
  return out;
}

std::string warcinfo_record(std::string_view filename, std::int64_t job_id, std::string_view date) {
  const std::string block = "software: meadow-coordinator (protocol " + std::string(protocol::kVersion) + ")" +
                            "\r\nformat: WARC File Format 1.1\r\n"
                            "conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
                            "description: raw captures of Meadow job " +
                            std::to_string(job_id) + "\r\n";
  return warc_record({{"WARC-Type", "warcinfo"},
                      {"WARC-Record-ID", uuid_urn("warcinfo/" + std::to_string(job_id) + "/" + std::string(filename))},
                      {"WARC-Date", std::string(date)},
                      {"WARC-Filename", std::string(filename)}},
                     "application/warc-fields", block);
}

}  // namespace meadow::coordinator::datasets
