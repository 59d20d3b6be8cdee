// Turns accepted records into datasets. Two steps, each its own transaction:
//
//  ingest  every result accepted since the last pass becomes a dataset entry of its job, with
//          the SHA-256 of its record line (a Merkle leaf); a record whose page (final URL) and
//          text hash are already in the dataset is dropped as a duplicate.
//  seal    a job's unsealed entries become a shard file once they pass `shard_bytes` of NDJSON,
//          or when the job is over (done or cancelled, nothing leased), or when the oldest has
//          waited `seal_after_ms` since it was accepted. The file is written
//          and synced first, then recorded in the store with its entries; then the manifest
//          and card are rewritten. For a job that asks for captures, the shard's pages'
//          raw responses go beside it as captures-NNNNN.warc.zst (see warc.h), written first too. A crash between the steps leaves a file the store does not
//          know, which the next pass overwrites with the same bytes.
//
// Files live in <dir>/<job id>/. The assembler runs on its own thread, woken after uploads
// and every `period_ms`.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "coordinator/datasets/shard_file.h"
#include "coordinator/store/store.h"

namespace meadow::coordinator::datasets {

struct AssemblerOptions {
  std::string dir;                          // datasets root
  std::int64_t shard_bytes = 64ll << 20;    // raw NDJSON bytes per shard (at least)
  // Entries accepted this long ago are sealed even when they do not fill a shard, so a long
  // slow job's records become downloadable shards; 0: only shard_bytes or the job's end.
  std::int64_t seal_after_ms = 600'000;
  ShardOptions shard;
  std::int64_t period_ms = 1000;
  int ingest_batch = 500;
};

struct PassResult {
  std::int64_t ingested = 0;
  std::int64_t duplicates = 0;
  std::int64_t sealed = 0;  // shards
};

class Assembler {
 public:
  Assembler(Store& store, const crypto::KeyPair& key, const Clock& clock, Logger& log, AssemblerOptions options);
  ~Assembler();

  // One pass of ingest and seal. Thread-safe (passes are serialised).
  Result<PassResult> run_once();

  // The directory of a job's dataset files, and a file in it.
  std::string job_dir(std::int64_t job_id) const;
  std::string file_path(std::int64_t job_id, const std::string& name) const;

  // Background thread: start() once; wake() asks for a pass soon; stop() joins.
  void start();
  void wake();
  void stop();

 private:
  Result<PassResult> ingest();
  Result<std::int64_t> seal_due();
  // Seals the job's oldest unsealed entries, up to about `max_bytes`; returns the NDJSON bytes
  // sealed (0 when there was nothing to seal).
  Result<std::int64_t> seal_one(const Job& job, std::int64_t max_bytes);
  // Writes the shard's captures file (WARC, one record per zstd frame) when any of its pages
  // was captured, and notes it in `sh`.
  Status write_captures(Shard& sh, const std::vector<DatasetEntry>& entries, const std::vector<std::string>& records);
  Status write_manifest(const Job& job);

  Store& store_;
  const crypto::KeyPair& key_;
  const Clock& clock_;
  Logger& log_;
  AssemblerOptions options_;
  // Jobs last seen neither done nor cancelled, as of jobs_version known_version_: until that
  // changes they cannot have ended, so a pass need not read them (reading a job counts its
  // tasks, and holds the store while it does).
  std::set<std::int64_t> running_;
  std::uint64_t known_version_ = 0;
  std::mutex pass_mu_;  // one pass at a time; guards running_ and known_version_
  std::mutex mu_;       // guards woken_ and stopping_
  std::condition_variable cv_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace meadow::coordinator::datasets
