#include "coordinator/datasets/manifest.h"

#include "common/json.h"
#include "common/merkle.h"
#include "coordinator/store/job_codec.h"

namespace meadow::coordinator::datasets {
namespace json = boost::json;

namespace {

std::string merkle_root_hex(const std::vector<std::string>& leaves) {
  std::vector<crypto::Sha256> hashes;
  hashes.reserve(leaves.size());
  for (const auto& hex : leaves) {
    crypto::Sha256 h{};
    auto raw = crypto::from_hex(hex);
    if (raw.ok() && raw->size() == h.size()) std::copy(raw->begin(), raw->end(), h.begin());
    hashes.push_back(h);
  }
  crypto::Sha256 root = merkle::root(hashes);
  return crypto::to_hex(std::string_view(reinterpret_cast<const char*>(root.data()), root.size()));
}

std::int64_t total(const std::vector<Shard>& shards, std::int64_t Shard::*field) {
  std::int64_t n = 0;
  for (const auto& s : shards) n += s.*field;
  return n;
}

// Hub size buckets: n<1K, 1K<n<10K, ... as the dataset hubs name them.
std::string size_category(std::int64_t n) {
  if (n < 1000) return "n<1K";
  if (n < 10'000) return "1K<n<10K";
  if (n < 100'000) return "10K<n<100K";
  if (n < 1'000'000) return "100K<n<1M";
  if (n < 10'000'000) return "1M<n<10M";
  return "10M<n<100M";
}

std::string yaml_quote(std::string_view s) { return json_quote(s); }  // a JSON string is a YAML string

}  // namespace

std::string manifest_json(const ManifestInput& in, const crypto::KeyPair& key) {
  json::array shards;
  for (const auto& s : in.shards) {
    shards.push_back(json::object{{"name", s.name()},
                                  {"records", s.records},
                                  {"bytes", s.bytes},
                                  {"raw_bytes", s.raw_bytes},
                                  {"frames", s.frames},
                                  {"sha256", s.sha256},
                                  {"first_cursor", s.first_seq},
                                  {"last_cursor", s.last_seq},
                                  {"created_ms", s.created_ms}});
    if (s.captures_records > 0) {
      shards.back().as_object()["captures"] = json::object{{"name", s.captures_name()},
                                                           {"warc_records", s.captures_records},
                                                           {"bytes", s.captures_bytes},
                                                           {"sha256", s.captures_sha256}};
    }
  }
  json::object m{
      {"format", kManifestFormat},
      {"dataset_id", in.job.id},
      {"job_id", in.job.id},
      {"name", in.job.spec.name},
      {"record_schema", kRecordSchema},
      {"schema_version", kRecordSchemaVersion},
      {"job", to_json(in.job.spec, false)},
      {"created_ms", in.job.created_ms},
      {"updated_ms", in.updated_ms},
      {"records", total(in.shards, &Shard::records)},
      {"raw_bytes", total(in.shards, &Shard::raw_bytes)},
      {"bytes", total(in.shards, &Shard::bytes)},
      {"duplicates_dropped", in.summary.duplicates},
      {"shards", std::move(shards)},
      {"merkle", json::object{{"algorithm", "rfc6962-sha256"},
                              {"leaves", static_cast<std::int64_t>(in.leaves.size())},
                              {"leaf", "SHA-256 of each record line without its newline, in shard order"},
                              {"root", merkle_root_hex(in.leaves)}}},
      {"coordinator_key", key.public_key().base64()},
      {"coordinator_key_id", key.public_key().id('c')},
  };
  m["signature"] = crypto::base64_encode(key.sign(canonical_json(m)));
  return meadow::to_json(m) + "\n";
}

std::string dataset_card(const ManifestInput& in) {
  const std::int64_t records = total(in.shards, &Shard::records);
  std::string y = "---\n";
  y += "pretty_name: " + yaml_quote(in.job.spec.name) + "\n";
  y += "license: other\n";
  y += "size_categories:\n- " + yaml_quote(size_category(records)) + "\n";
  y += "task_categories:\n- text-generation\n";
  y += "configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: \"records-*.jsonl.zst\"\n";
  y += "dataset_info:\n  features:\n";
  struct Feature {
    const char* name;
    const char* dtype;
  };
  static constexpr Feature kFeatures[] = {
      {"record_id", "string"}, {"url", "string"},          {"final_url", "string"},     {"fetched_at", "string"},
      {"http_status", "int64"}, {"content_type", "string"}, {"charset", "string"},       {"lang", "string"},
      {"title", "string"},     {"description", "string"},  {"canonical_url", "string"}, {"text", "string"},
      {"author", "string"},    {"published", "string"},    {"modified", "string"},      {"site_name", "string"},
      {"body_sha256", "string"}, {"text_sha256", "string"}, {"simhash", "string"},      {"truncated", "bool"},
      {"node_id", "string"},   {"signature", "string"},
  };
  for (const auto& f : kFeatures) y += std::string("  - name: ") + f.name + "\n    dtype: " + f.dtype + "\n";
  y += "  - name: links\n    list:\n    - name: url\n      dtype: string\n    - name: text\n      dtype: string\n";
  y += "  splits:\n  - name: train\n    num_bytes: " + std::to_string(total(in.shards, &Shard::raw_bytes)) +
       "\n    num_examples: " + std::to_string(records) + "\n";
  y += "  download_size: " + std::to_string(total(in.shards, &Shard::bytes)) + "\n";
  y += "  dataset_size: " + std::to_string(total(in.shards, &Shard::raw_bytes)) + "\n";
  y += "---\n\n";
  y += "# " + in.job.spec.name + "\n\n";
  y += "Web pages fetched by Meadow contributors from their own connections, one JSON record per page "
       "(schema: " + std::string(kRecordSchema) + ", version " + kRecordSchemaVersion + "), for job " +
       std::to_string(in.job.id) + ".\n\n";
  y += "- Records: " + std::to_string(records) + " in " + std::to_string(in.shards.size()) + " shard(s); " +
       std::to_string(in.summary.duplicates) + " duplicate page(s) (same URL and text) dropped.\n";
  y += "- Files: `records-NNNNN.jsonl.zst`, newline-delimited JSON compressed as independent zstd frames with a "
       "seek table (zstd seekable format) at the end; `zstd -d` reads them as they are.\n";
  if (total(in.shards, &Shard::captures_records) > 0)
    y += "- Captures: `captures-NNNNN.warc.zst` beside each shard hold the raw HTTP requests and responses of its "
         "pages as WARC 1.1, one record per zstd frame (IIPC zstd-WARC), their SHA-256s in `manifest.json`.\n";
  y += "- Integrity: `manifest.json` gives every shard's SHA-256 and the Merkle root (RFC 6962, SHA-256) over the "
       "records' SHA-256 hashes, signed with the coordinator's Ed25519 key. Each record also carries the "
       "contributing node's signature.\n";
  y += "- Text: main content with boilerplate removed; headings on their own lines, paragraphs separated by a "
       "blank line.\n\n";
  y += "Pages were fetched only where robots.txt allowed, with an honest User-Agent that names Meadow.\n";
  return y;
}

}  // namespace meadow::coordinator::datasets
