#include "coordinator/datasets/assembler.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/json.h"
#include "coordinator/datasets/manifest.h"
#include "coordinator/datasets/warc.h"

namespace meadow::coordinator::datasets {

namespace {

Status make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return make_error(ErrorKind::io, "dataset-dir", "cannot create '" + path + "': " + std::strerror(errno));
  }
  return {};
}

constexpr int kPassGapMs = 50;

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool job_over(const Job& job) {
  return (job.state == JobState::done || job.state == JobState::cancelled) && job.counts.leased == 0;
}

// The page a record is about and its text hash, for dropping duplicates. A record that does
// not parse still becomes an entry (it was accepted), keyed by its own hash.
void dedupe_key(std::string_view record, const std::string& leaf, std::string& url, std::string& text_hash) {
  auto obj = parse_json_object(record, "record");
  if (obj.ok()) {
    JsonFields f(*obj, "record");
    url = f.string_or("final_url", "", 1 << 16);
    if (url.empty()) url = f.string_or("url", "", 1 << 16);
    text_hash = f.string_or("text_sha256", "", 64);
  }
  if (url.empty()) url = "record:" + leaf;
}

}  // namespace

Assembler::Assembler(Store& store, const crypto::KeyPair& key, const Clock& clock, Logger& log,
                     AssemblerOptions options)
    : store_(store), key_(key), clock_(clock), log_(log), options_(std::move(options)) {}

Assembler::~Assembler() { stop(); }

std::string Assembler::job_dir(std::int64_t job_id) const { return datasets::job_dir(options_.dir, job_id); }

std::string Assembler::file_path(std::int64_t job_id, const std::string& name) const {
  return job_dir(job_id) + "/" + name;
}

Result<PassResult> Assembler::run_once() {
  std::lock_guard lock(pass_mu_);
  MEADOW_ASSIGN(PassResult r, ingest());
  MEADOW_ASSIGN(r.sealed, seal_due());
  return r;
}

Result<PassResult> Assembler::ingest() {
  PassResult r;
  Catalog& cat = store_.catalog();
  MEADOW_ASSIGN(std::int64_t cursor, cat.ingested_seq());
  for (;;) {
    MEADOW_ASSIGN(auto batch, cat.results_after(cursor, options_.ingest_batch));
    if (batch.empty()) break;
    std::vector<DatasetEntry> entries;
    entries.reserve(batch.size());
    for (const auto& rec : batch) {
      DatasetEntry e;
      e.job_id = rec.job_id;
      e.seq = rec.seq;
      e.leaf = crypto::sha256_hex(rec.record_json);
      e.bytes = static_cast<std::int64_t>(rec.record_json.size()) + 1;
      dedupe_key(rec.record_json, e.leaf, e.url, e.text_sha256);
      entries.push_back(std::move(e));
    }
    cursor = batch.back().seq;
    MEADOW_ASSIGN(std::int64_t dropped, cat.ingest(entries, cursor, clock_.now_ms()));
    r.ingested += static_cast<std::int64_t>(entries.size());
    r.duplicates += dropped;
  }
  return r;
}

Result<std::int64_t> Assembler::seal_due() {
  Catalog& cat = store_.catalog();
  MEADOW_ASSIGN(auto pending, cat.unsealed());
  if (const std::uint64_t version = store_.jobs_version(); version != known_version_) {
    running_.clear();
    known_version_ = version;
  }
  std::int64_t sealed = 0;
  for (const auto& u : pending) {
    // The oldest entry's age says when to seal a part shard, unless full ones go first.
    const bool waited = options_.seal_after_ms > 0 && clock_.now_ms() - u.oldest_ms >= options_.seal_after_ms;
    const bool may_seal = u.bytes >= options_.shard_bytes || waited || !running_.contains(u.job_id);
    if (!may_seal && file_exists(file_path(u.job_id, "manifest.json"))) continue;
    MEADOW_ASSIGN(Job job, store_.get_job(u.job_id));
    if (job.state == JobState::done || job.state == JobState::cancelled)
      running_.erase(job.id);
    else
      running_.insert(job.id);
    std::int64_t bytes = u.bytes;
    bool wrote = false;
    while (bytes >= options_.shard_bytes) {
      MEADOW_ASSIGN(std::int64_t done, seal_one(job, options_.shard_bytes));
      if (done == 0) break;
      bytes -= done;
      ++sealed;
      wrote = true;
    }
    if (bytes > 0 && (job_over(job) || (waited && !wrote))) {
      MEADOW_ASSIGN(std::int64_t done, seal_one(job, INT64_MAX));
      if (done > 0) {
        ++sealed;
        wrote = true;
      }
    }
    // A dataset is listed from its first entry; its manifest exists from then on too.
    if (wrote || !file_exists(file_path(job.id, "manifest.json"))) MEADOW_TRY(write_manifest(job));
  }
  return sealed;
}

Result<std::int64_t> Assembler::seal_one(const Job& job, std::int64_t max_bytes) {
  Catalog& cat = store_.catalog();
  std::vector<std::string> records;
  std::vector<DatasetEntry> entries;
  std::int64_t raw = 0, after = 0;
  while (raw < max_bytes) {
    MEADOW_ASSIGN(auto page, cat.unsealed_records(job.id, after, 256));
    if (page.empty()) break;
    for (auto& [e, rec] : page) {
      if (raw >= max_bytes) break;
      raw += e.bytes;
      after = e.seq;
      entries.push_back(std::move(e));
      records.push_back(std::move(rec));
    }
  }
  if (entries.empty()) return std::int64_t{0};
  MEADOW_ASSIGN(auto shards, cat.shards(job.id));
  Shard sh;
  sh.job_id = job.id;
  sh.number = static_cast<std::int64_t>(shards.size());
  std::vector<std::string_view> lines(records.begin(), records.end());
  std::string bytes;
  ShardFile f = encode_shard(lines, options_.shard, bytes);
  sh.records = f.records;
  sh.bytes = f.bytes;
  sh.raw_bytes = f.raw_bytes;
  sh.frames = static_cast<std::int64_t>(f.frames.size());
  sh.sha256 = f.sha256;
  sh.first_seq = entries.front().seq;
  sh.last_seq = entries.back().seq;
  sh.created_ms = clock_.now_ms();
  MEADOW_TRY(make_dir(options_.dir));
  MEADOW_TRY(make_dir(job_dir(job.id)));
  MEADOW_TRY(write_file_atomically(file_path(job.id, sh.name()), bytes));
  if (job.spec.captures) MEADOW_TRY(write_captures(sh, entries, records));
  MEADOW_TRY(cat.seal(sh, sh.created_ms));
  log_.info("datasets", "job " + std::to_string(job.id) + ": sealed " + sh.name() + " with " +
                            std::to_string(sh.records) + " records, " + std::to_string(sh.bytes) + " bytes");
  return raw;
}

Status Assembler::write_captures(Shard& sh, const std::vector<DatasetEntry>& entries,
                                 const std::vector<std::string>& records) {
  std::vector<std::string> warc;
  warc.push_back(warcinfo_record(sh.captures_name(), sh.job_id, format_rfc3339_ms(sh.created_ms)));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    MEADOW_ASSIGN(std::string body, store_.catalog().capture(entries[i].seq));
    auto record = parse_json_object(records[i], "record");
    if (!record.ok()) continue;
    for (auto& r : capture_records(*record, body)) warc.push_back(std::move(r));
  }
  if (warc.size() == 1) return ok_status();  // no page of this shard was captured
  ShardOptions one_per_frame = options_.shard;
  one_per_frame.frame_records = 1;
  one_per_frame.terminator = "";
  std::string bytes;
  ShardFile f = encode_shard(std::vector<std::string_view>(warc.begin(), warc.end()), one_per_frame, bytes);
  MEADOW_TRY(write_file_atomically(file_path(sh.job_id, sh.captures_name()), bytes));
  sh.captures_records = f.records;
  sh.captures_bytes = f.bytes;
  sh.captures_sha256 = f.sha256;
  return ok_status();
}

Status Assembler::write_manifest(const Job& job) {
  Catalog& cat = store_.catalog();
  ManifestInput in;
  in.job = job;
  MEADOW_ASSIGN(in.summary, cat.dataset(job.id));
  MEADOW_ASSIGN(in.shards, cat.shards(job.id));
  MEADOW_ASSIGN(in.leaves, cat.sealed_leaves(job.id));
  in.updated_ms = in.summary.updated_ms;
  MEADOW_TRY(make_dir(options_.dir));
  MEADOW_TRY(make_dir(job_dir(job.id)));
  MEADOW_TRY(write_file_atomically(file_path(job.id, "README.md"), dataset_card(in)));
  return write_file_atomically(file_path(job.id, "manifest.json"), manifest_json(in, key_));
}

void Assembler::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, std::chrono::milliseconds(options_.period_ms), [this] { return woken_ || stopping_; });
      if (stopping_) break;
      woken_ = false;
      lock.unlock();
      auto r = run_once();
      if (!r.ok()) log_.warn("datasets", "dataset assembly failed: " + r.error().message);
      lock.lock();
      // Uploads arriving back to back wake it each time: a short pause between passes lets
      // each ingest a larger batch, in one transaction, instead of a pass per upload.
      cv_.wait_for(lock, std::chrono::milliseconds(kPassGapMs), [this] { return stopping_; });
    }
  });
}

void Assembler::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

void Assembler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

}  // namespace meadow::coordinator::datasets
