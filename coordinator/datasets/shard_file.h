// Shard files: NDJSON records compressed as independent zstd frames, followed by a seek table
// in zstd's seekable format (contrib/seekable_format in the zstd sources): a skippable frame
// (magic 0x184D2A5E) holding, per frame, its compressed and decompressed size as little-endian
// u32, then the frame count (u32), a descriptor byte (0: no checksums) and the magic
// 0x8F92EAB1. Any zstd decoder reads the file as one stream and skips the table; a reader that
// wants record N seeks to its frame without decoding the ones before it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meadow::coordinator::datasets {

struct ShardOptions {
  std::int64_t frame_records = 100;          // records per frame
  std::int64_t frame_max_bytes = 64 << 20;   // a frame also ends past this many raw bytes
  int level = 3;                             // zstd level
  std::string_view terminator = "\n";        // written after each record ("" for WARC records)
};

struct FrameEntry {
  std::uint32_t compressed = 0;
  std::uint32_t decompressed = 0;
};

struct ShardFile {
  std::int64_t records = 0;
  std::int64_t raw_bytes = 0;
  std::int64_t bytes = 0;
  std::string sha256;               // hex, of the whole file
  std::vector<FrameEntry> frames;
};

// Where a job's dataset files live under the datasets root: <root>/<job id>.
std::string job_dir(const std::string& root, std::int64_t job_id);

// Compresses `lines` (each one record, without its terminator) into the shard format and
// returns the file's bytes in `out` (replacing its contents).
ShardFile encode_shard(const std::vector<std::string_view>& lines, const ShardOptions& options, std::string& out);

// Writes `bytes` to `path` so that a reader never sees a half-written file: a temporary file
// beside it, fsync, rename, fsync of the directory.
Status write_file_atomically(const std::string& path, std::string_view bytes);

// Reads the seek table at the end of a shard. Fails with "bad-seek-table" when there is none
// or it does not add up to the file's size.
Result<std::vector<FrameEntry>> read_seek_table(std::string_view file);

}  // namespace meadow::coordinator::datasets
