// zstd compression with caps: one-shot and streaming, and a decompressor that refuses to
// produce more than a given number of bytes (zstd bombs stop at the cap, not at OOM).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace meadow::zstd {

// Compresses `data` as one frame at `level` (1..19; 3 is zstd's default).
std::string compress(std::string_view data, int level = 3);

// Decompresses every frame in `data`. Fails with ErrorKind::too_large (code
// "decompressed-too-large") as soon as the output would pass `max_output` bytes, and with
// ErrorKind::invalid (code "bad-zstd") on corrupt or truncated input.
Result<std::string> decompress(std::string_view data, std::size_t max_output);

// Streaming compressor: feed pieces, end_frame() closes the current frame (the next write
// starts a new, independently decodable one). Output is appended to the caller's string.
class Compressor {
 public:
  explicit Compressor(int level = 3);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  void write(std::string_view data, std::string& out);
  void end_frame(std::string& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Streaming decompressor with an output cap across all calls.
class Decompressor {
 public:
  explicit Decompressor(std::size_t max_output);
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  // Appends what `data` decodes to `out`. Errors as decompress().
  Status write(std::string_view data, std::string& out);
  // Fails with "bad-zstd" if the input ended in the middle of a frame.
  Status finish() const;
  // Starts a new stream with a new cap, keeping the context and buffers (cheaper than a
  // new Decompressor).
  void reset(std::size_t max_output);
  std::size_t total_out() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meadow::zstd
