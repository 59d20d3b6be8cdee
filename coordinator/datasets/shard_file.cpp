#include "coordinator/datasets/shard_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/crypto.h"
#include "common/zstd.h"

namespace meadow::coordinator::datasets {
namespace {

constexpr std::uint32_t kSkippableMagic = 0x184D2A5E;
constexpr std::uint32_t kSeekableMagic = 0x8F92EAB1;
constexpr std::size_t kFooterBytes = 9;  // frame count, descriptor, magic

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t get_u32(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

Error io_error(const std::string& what, const std::string& path) {
  return make_error(ErrorKind::io, "shard-write", what + " '" + path + "': " + std::strerror(errno));
}

}  // namespace

std::string job_dir(const std::string& root, std::int64_t job_id) { return root + "/" + std::to_string(job_id); }

ShardFile encode_shard(const std::vector<std::string_view>& lines, const ShardOptions& options, std::string& out) {
  out.clear();
  ShardFile f;
  zstd::Compressor z(options.level);
  std::size_t frame_start = 0;
  std::int64_t in_frame = 0, frame_raw = 0;
  auto close_frame = [&] {
    z.end_frame(out);
    f.frames.push_back(FrameEntry{static_cast<std::uint32_t>(out.size() - frame_start),
                                  static_cast<std::uint32_t>(frame_raw)});
    frame_start = out.size();
    in_frame = 0;
    frame_raw = 0;
  };
  for (std::string_view line : lines) {
    z.write(line, out);
    if (!options.terminator.empty()) z.write(options.terminator, out);
    const auto raw = static_cast<std::int64_t>(line.size() + options.terminator.size());
    ++in_frame;
    frame_raw += raw;
    f.raw_bytes += raw;
    ++f.records;
    if (in_frame >= options.frame_records || frame_raw >= options.frame_max_bytes) close_frame();
  }
  if (in_frame > 0) close_frame();
  put_u32(out, kSkippableMagic);
  put_u32(out, static_cast<std::uint32_t>(f.frames.size() * 8 + kFooterBytes));
  for (const auto& e : f.frames) {
    put_u32(out, e.compressed);
    put_u32(out, e.decompressed);
  }
  put_u32(out, static_cast<std::uint32_t>(f.frames.size()));
  out.push_back('\0');
  put_u32(out, kSeekableMagic);
  f.bytes = static_cast<std::int64_t>(out.size());
  f.sha256 = crypto::sha256_hex(out);
  return f;
}

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", tmp);
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error e = io_error("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Error e = io_error("cannot sync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = io_error("cannot rename into", path);
    ::unlink(tmp.c_str());
    return e;
  }
  std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<std::vector<FrameEntry>> read_seek_table(std::string_view file) {
  auto bad = [](const std::string& why) { return make_error(ErrorKind::invalid, "bad-seek-table", why); };
  if (file.size() < 8 + kFooterBytes) return bad("the file is too short to hold a seek table");
  if (get_u32(file, file.size() - 4) != kSeekableMagic) return bad("the file does not end with the seekable magic");
  if (static_cast<unsigned char>(file[file.size() - 5]) & 0x7c) return bad("reserved descriptor bits are set");
  const bool checksums = static_cast<unsigned char>(file[file.size() - 5]) & 0x80;
  const std::uint64_t count = get_u32(file, file.size() - kFooterBytes);
  const std::uint64_t entry = checksums ? 12 : 8;
  const std::uint64_t table = 8 + count * entry + kFooterBytes;
  if (table > file.size()) return bad("the seek table claims more frames than the file can hold");
  const std::size_t start = file.size() - table;
  if (get_u32(file, start) != kSkippableMagic || get_u32(file, start + 4) != table - 8) {
    return bad("the seek table's frame header does not match its footer");
  }
  std::vector<FrameEntry> out;
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    FrameEntry e{get_u32(file, start + 8 + i * entry), get_u32(file, start + 12 + i * entry)};
    sum += e.compressed;
    out.push_back(e);
  }
  if (sum != start) return bad("the frames in the seek table do not add up to the data before it");
  return out;
}

}  // namespace meadow::coordinator::datasets
