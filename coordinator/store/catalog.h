// The buyer side of the store: customers and their API keys, and the datasets assembled from
// accepted records (entries, sealed shards). Lives in the same database as the task queue;
// every mutating call is one transaction, and a call that returns an error changed nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace meadow::coordinator {

// What an API key may do.
enum Scope : unsigned { kScopeRead = 1, kScopeSubmit = 2 };
std::string scopes_text(unsigned scopes);                   // "read,submit"
bool parse_scopes(std::string_view text, unsigned& out);    // "read", "submit", "read,submit"

struct Customer {
  std::string id;                  // "cus_" + 16 hex
  std::string name;                // 1..128 bytes, unique
  std::int64_t max_active_jobs = 10;   // jobs active or paused at once
  std::int64_t max_pages = 100'000;    // pages over all the customer's jobs, ever
  std::int64_t created_ms = 0;
};

struct ApiKey {
  std::string id;                  // "key_" + 16 hex; the public half, shown in listings
  std::string customer_id;
  unsigned scopes = kScopeRead | kScopeSubmit;
  std::int64_t rate_per_minute = 600;  // requests; a burst of a tenth of it (at least 5) is allowed
  std::string label;
  std::int64_t created_ms = 0;
  std::int64_t revoked_ms = 0;     // 0 while valid
};

// One accepted record as a dataset sees it. `seq` is the result's acceptance sequence: the
// records cursor buyers page with.
struct DatasetEntry {
  std::int64_t job_id = 0;
  std::int64_t seq = 0;
  std::string url;                 // the page fetched (final URL)
  std::string text_sha256;
  std::string leaf;                // hex SHA-256 of the record line
  std::int64_t bytes = 0;          // the record line's length
  std::int64_t shard = -1;         // sealed shard number, -1 while unsealed
};

struct Shard {
  std::int64_t job_id = 0;
  std::int64_t number = 0;         // NNNNN in records-NNNNN.jsonl.zst
  std::int64_t records = 0;
  std::int64_t bytes = 0;          // compressed file size
  std::int64_t raw_bytes = 0;      // NDJSON size before compression
  std::int64_t frames = 0;
  std::string sha256;              // of the file
  std::int64_t first_seq = 0, last_seq = 0;
  std::int64_t created_ms = 0;
  // The raw captures beside it (jobs that ask for captures): WARC records in the file
  // (warcinfo included), its size and SHA-256; 0 records when there is no captures file.
  std::int64_t captures_records = 0;
  std::int64_t captures_bytes = 0;
  std::string captures_sha256;
  std::string name() const;           // "records-00000.jsonl.zst"
  std::string captures_name() const;  // "captures-00000.warc.zst"
};

struct DatasetSummary {
  std::int64_t job_id = 0;
  std::string owner;
  std::int64_t records = 0;        // entries kept (after dropping duplicates)
  std::int64_t duplicates = 0;     // entries dropped as duplicates
  std::int64_t shards = 0;         // sealed
  std::int64_t sealed_records = 0;
  std::int64_t bytes = 0;          // sealed shard bytes
  std::int64_t created_ms = 0;     // the job's
  std::int64_t updated_ms = 0;     // last ingest or seal
};

struct DatasetQuery {
  std::string owner;               // "" = every owner (operator)
  std::optional<std::int64_t> job_id;
  std::int64_t since_ms = 0;       // updated at or after
  std::int64_t until_ms = INT64_MAX;
  std::int64_t before_job = INT64_MAX;  // paging: datasets with job id below this
  int limit = 50;
};

// One result's record with its sequence, for the stream of records since a cursor.
struct SeqRecord {
  std::int64_t seq = 0;
  std::int64_t job_id = 0;
  std::string record_json;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  // --- customers and keys (only SHA-256 hashes of keys are stored)
  // Fails with "customer-exists" when the name is taken.
  virtual Status add_customer(const Customer& c) = 0;
  // By id or by name.
  virtual Result<Customer> get_customer(const std::string& id_or_name) = 0;
  virtual Result<std::vector<Customer>> list_customers() = 0;
  virtual Status add_api_key(const ApiKey& key, const std::string& key_hash) = 0;
  // The key and its customer when the hash is known and the key not revoked.
  virtual Result<std::optional<ApiKey>> find_api_key(const std::string& key_hash) = 0;
  virtual Result<std::vector<ApiKey>> list_api_keys(const std::string& customer_id) = 0;
  // Fails with "unknown-key" when there is no such key; revoking twice is not an error.
  virtual Status revoke_api_key(const std::string& key_id, std::int64_t now_ms) = 0;

  // --- dataset assembly
  // Results accepted after `after_seq`, any job, in acceptance order.
  virtual Result<std::vector<SeqRecord>> results_after(std::int64_t after_seq, int limit) = 0;
  // The sequence up to which results were ingested into dataset entries.
  virtual Result<std::int64_t> ingested_seq() = 0;
  // Adds entries (in order) and moves the ingest cursor to `through_seq`, in one transaction.
  // An entry whose (job, url, text_sha256) is already in the dataset is dropped and counted as
  // a duplicate. Returns how many were dropped.
  virtual Result<std::int64_t> ingest(const std::vector<DatasetEntry>& entries, std::int64_t through_seq,
                                      std::int64_t now_ms) = 0;
  // Jobs with unsealed entries, and for each the unsealed count and bytes and when the oldest
  // of them was accepted.
  struct Unsealed {
    std::int64_t job_id = 0;
    std::int64_t records = 0;
    std::int64_t bytes = 0;
    std::int64_t oldest_ms = 0;
  };
  virtual Result<std::vector<Unsealed>> unsealed() = 0;
  // Unsealed entries of a job after `after_seq` with their records, in order, at most `limit`.
  virtual Result<std::vector<std::pair<DatasetEntry, std::string>>> unsealed_records(std::int64_t job_id,
                                                                                      std::int64_t after_seq,
                                                                                      int limit) = 0;
  // The captured response body of an accepted result, when its job asked for captures; empty
  // when there is none.
  virtual Result<std::string> capture(std::int64_t seq) = 0;
  // Records the shard and marks entries first_seq..last_seq of its job as in it.
  virtual Status seal(const Shard& shard, std::int64_t now_ms) = 0;
  virtual Result<std::vector<Shard>> shards(std::int64_t job_id) = 0;
  // Leaves (hex) of the sealed entries of a job, in shard order.
  virtual Result<std::vector<std::string>> sealed_leaves(std::int64_t job_id) = 0;

  // --- reading datasets
  virtual Result<std::vector<DatasetSummary>> datasets(const DatasetQuery& q) = 0;
  virtual Result<DatasetSummary> dataset(std::int64_t job_id) = 0;
  // Kept (not duplicate) records of a job with seq > after_seq, in order, at most `limit`.
  virtual Result<std::vector<SeqRecord>> records_since(std::int64_t job_id, std::int64_t after_seq, int limit) = 0;
};

}  // namespace meadow::coordinator
