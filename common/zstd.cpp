#include "common/zstd.h"

#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace meadow::zstd {
namespace {

struct CCtxFree {
  void operator()(ZSTD_CCtx* p) const noexcept { ZSTD_freeCCtx(p); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* p) const noexcept { ZSTD_freeDCtx(p); }
};

constexpr int kMinLevel = 1;
constexpr int kMaxLevel = 19;
// Levels up to 19 never need a window over 8 MiB (2^23); refusing larger windows keeps a
// hostile frame header from making each decoder allocate up to 2 GiB.
constexpr int kMaxWindowLog = 24;

[[noreturn]] void fatal(const char* what, size_t code) {
  std::fprintf(stderr, "meadow: fatal zstd failure in %s: %s\n", what, ZSTD_getErrorName(code));
  std::abort();
}

std::unique_ptr<ZSTD_CCtx, CCtxFree> make_cctx(int level) {
  std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
  if (!cctx) fatal("ZSTD_createCCtx", 0);
  const int clamped = std::clamp(level, kMinLevel, kMaxLevel);
  size_t rc = ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, clamped);
  if (ZSTD_isError(rc)) fatal("ZSTD_c_compressionLevel", rc);
  rc = ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  if (ZSTD_isError(rc)) fatal("ZSTD_c_checksumFlag", rc);
  return cctx;
}

// Runs the compressor over `in` with `mode` until it has taken all input and, for
// ZSTD_e_end, closed the frame.
void drive(ZSTD_CCtx* cctx, std::string_view in, ZSTD_EndDirective mode, std::string& out) {
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  const size_t chunk = ZSTD_CStreamOutSize();
  for (;;) {
    const size_t old = out.size();
    out.resize(old + chunk);
    ZSTD_outBuffer output{out.data() + old, chunk, 0};
    const size_t rc = ZSTD_compressStream2(cctx, &output, &input, mode);
    out.resize(old + output.pos);
    if (ZSTD_isError(rc)) fatal("ZSTD_compressStream2", rc);
    const bool done = mode == ZSTD_e_end ? rc == 0 : input.pos == input.size;
    if (done) return;
  }
}

}  // namespace

std::string compress(std::string_view data, int level) {
  // A context per thread and level: creating one costs more than compressing a small record.
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx;
  thread_local int cctx_level = 0;
  if (!cctx || cctx_level != level) {
    cctx = make_cctx(level);
    cctx_level = level;
  }
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const size_t rc = ZSTD_compress2(cctx.get(), out.data(), out.size(), data.data(), data.size());
  if (ZSTD_isError(rc)) fatal("ZSTD_compress2", rc);
  out.resize(rc);
  return out;
}

Result<std::string> decompress(std::string_view data, std::size_t max_output) {
  // One decompressor per thread: making a context costs more than a small upload.
  thread_local Decompressor d(max_output);
  d.reset(max_output);
  std::string out;
  MEADOW_TRY(d.write(data, out));
  MEADOW_TRY(d.finish());
  return out;
}

// ---- Compressor

struct Compressor::Impl {
  std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx;
};

Compressor::Compressor(int level) : impl_(std::make_unique<Impl>()) {
  impl_->cctx = make_cctx(level);
}
Compressor::~Compressor() = default;

void Compressor::write(std::string_view data, std::string& out) {
  if (!data.empty()) drive(impl_->cctx.get(), data, ZSTD_e_continue, out);
}

void Compressor::end_frame(std::string& out) { drive(impl_->cctx.get(), {}, ZSTD_e_end, out); }

// ---- Decompressor

struct Decompressor::Impl {
  std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx;
  std::size_t max_output = 0;
  std::size_t total_out = 0;
  bool mid_frame = false;       // input so far ends inside a frame
  std::optional<Error> failed;  // once failed, every later write fails the same way
  std::string buffer;           // staging for one step of output
};

Decompressor::Decompressor(std::size_t max_output) : impl_(std::make_unique<Impl>()) {
  impl_->dctx.reset(ZSTD_createDCtx());
  if (!impl_->dctx) fatal("ZSTD_createDCtx", 0);
  const size_t rc = ZSTD_DCtx_setParameter(impl_->dctx.get(), ZSTD_d_windowLogMax, kMaxWindowLog);
  if (ZSTD_isError(rc)) fatal("ZSTD_d_windowLogMax", rc);
  impl_->max_output = max_output;
  impl_->buffer.resize(ZSTD_DStreamOutSize());
}
Decompressor::~Decompressor() = default;

Status Decompressor::write(std::string_view data, std::string& out) {
  Impl& s = *impl_;
  if (s.failed) return *s.failed;
  if (data.empty()) return ok_status();
  ZSTD_inBuffer input{data.data(), data.size(), 0};
  for (;;) {
    // Ask for at most one byte past the cap, so a bomb is caught after cap+1 bytes.
    const std::size_t room = s.max_output - s.total_out;
    const std::size_t want = room < s.buffer.size() ? room + 1 : s.buffer.size();
    ZSTD_outBuffer output{s.buffer.data(), want, 0};
    const size_t rc = ZSTD_decompressStream(s.dctx.get(), &output, &input);
    if (ZSTD_isError(rc)) {
      if (ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge) {
        s.failed = make_error(ErrorKind::too_large, "zstd-window-too-large",
                              "the zstd data needs a window over " +
                                  std::to_string((1u << kMaxWindowLog) >> 20) +
                                  " MiB; compress it at level 19 or lower, without long mode");
      } else {
        s.failed = make_error(ErrorKind::invalid, "bad-zstd",
                              std::string("the zstd data is corrupt: ") + ZSTD_getErrorName(rc) +
                                  "; send the complete, unmodified compressed data");
      }
      return *s.failed;
    }
    if (output.pos > room) {
      s.failed = make_error(ErrorKind::too_large, "decompressed-too-large",
                            "the zstd data decompresses to more than " +
                                std::to_string(s.max_output) + " bytes, the limit here");
      return *s.failed;
    }
    out.append(s.buffer.data(), output.pos);
    s.total_out += output.pos;
    s.mid_frame = rc != 0;
    // With the input all taken, a call that filled less than the buffer may still have left
    // decoded data inside the decoder (a block far larger than its compressed form arrives a
    // piece at a time): only a call that produced nothing means it is drained.
    if (input.pos == input.size && (rc == 0 || output.pos == 0)) return ok_status();
  }
}

Status Decompressor::finish() const {
  if (impl_->failed) return *impl_->failed;
  if (impl_->mid_frame)
    return make_error(ErrorKind::invalid, "bad-zstd",
                      "the zstd data ends in the middle of a frame (truncated); send the "
                      "complete compressed data");
  return ok_status();
}

std::size_t Decompressor::total_out() const noexcept { return impl_->total_out; }

void Decompressor::reset(std::size_t max_output) {
  Impl& s = *impl_;
  const size_t rc = ZSTD_DCtx_reset(s.dctx.get(), ZSTD_reset_session_only);
  if (ZSTD_isError(rc)) fatal("ZSTD_DCtx_reset", rc);
  s.max_output = max_output;
  s.total_out = 0;
  s.mid_frame = false;
  s.failed.reset();
}

}  // namespace meadow::zstd
