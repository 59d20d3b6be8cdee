// Dataset shards: how fast the coordinator assembles them, and how fast it serves them next
// to nginx.
//
// Records: every page of ../shared/data/wcxb-dev (html/NNNN.html.gz, read in place) goes
// through what a node does with a fetched page (extract::extract, client::build_record,
// protocol::sign_record) and becomes the record line the coordinator stores
// (schemas/record.schema.json). These real text records are cycled to the input size.
//
// Assembly: datasets::encode_shard, called as the assembler calls it (its default options:
// zstd level 3, a frame every 100 records, the seek table, the file's SHA-256), on shards of
// --shard-input-mib of NDJSON until --input-mib is done. Speed is MB/s of NDJSON input and
// records/s over the thread's CPU time (per core; wall time printed too). Writing the file
// (fsync) is disk, not assembly, and is not counted. Ratio: input bytes / shard bytes.
//
// Download: one shard of about --shard-mib, written with write_file_atomically into a real
// meadow-coordinator's datasets directory and sealed in its catalog under the job of a
// customer made with `meadow-coordinator customer add`, then fetched with that customer's key
// from GET /v1/datasets/{id}/shards/{name}. Debian's nginx serves the same file (a hard link)
// in the same run. Each server is pinned to one CPU, the client to another; the client is a
// plain socket reader that reads each body into a 1 MiB buffer and drops it. One untimed
// download from each checks the bytes' SHA-256 (and warms both), then --repeats timed
// downloads from each, alternating; the ratio is of the medians.
//
// Prints one JSON line on stdout; progress and a summary go to stderr. Without nginx the
// download figures are meadow's alone ("nginx":null).
//
//   bench_datasets [--input-mib 1024] [--shard-input-mib 64] [--shard-mib 256] [--repeats 9] [--split DIR]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "client/core/record.h"
#include "common/crypto.h"
#include "common/extract.h"
#include "common/json.h"
#include "common/url.h"
#include "coordinator/datasets/assembler.h"
#include "coordinator/datasets/shard_file.h"
#include "coordinator/store/store.h"
#include "support/coordinator_process.h"
#include "support/nginx.h"
#include "support/process.h"
#include "support/test_env.h"

namespace {

namespace fs = std::filesystem;
namespace datasets = meadow::coordinator::datasets;
using namespace meadow;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr double kGoalMbPerCore = 200;
constexpr double kGoalRatio = 3.5;
constexpr double kGoalVsNginx = 0.8;
constexpr std::size_t kReadBuffer = std::size_t{1} << 20;
constexpr std::int64_t kMiB = std::int64_t{1} << 20;

struct Settings {
  fs::path split = fs::path(MEADOW_SOURCE_DIR) / ".." / "shared" / "data" / "wcxb-dev";
  std::int64_t input_mib = 1024;
  std::int64_t shard_input_mib = datasets::AssemblerOptions{}.shard_bytes / kMiB;
  std::int64_t shard_mib = 256;
  std::int64_t repeats = 9;
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double seconds_since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }

std::optional<std::string> read_gzip(const fs::path& p) {
  gzFile f = gzopen(p.c_str(), "rb");
  if (f == nullptr) return std::nullopt;
  std::string out;
  char buf[65536];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  const int closed = gzclose(f);
  if (n < 0 || closed != Z_OK) return std::nullopt;
  return out;
}

// The page's URL from its ground truth, normalised as the scheduler would hand it out.
std::string page_url(const fs::path& truth_file) {
  const std::string text = testing::file_contents(truth_file.string());
  boost::system::error_code ec;
  const boost::json::value truth = boost::json::parse(text, ec);
  if (!ec && truth.is_object())
    if (const auto* u = truth.as_object().if_contains("url"); u != nullptr && u->is_string())
      if (auto parsed = url::parse(std::string(u->as_string())); parsed.ok()) return parsed->normalized;
  return "https://wcxb.example/" + truth_file.stem().string();
}

// One signed record line per page of the split, as a node would upload it and the
// coordinator store it.
struct Record {
  std::string line;
  std::string url;
  std::string text_sha256;
  std::string leaf;  // SHA-256 of the line
};

std::vector<Record> make_records(const fs::path& split, int& failed) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(split / "html", ec))
    if (e.path().string().ends_with(".html.gz")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  const crypto::KeyPair key = crypto::KeyPair::generate();
  const std::string node_id = key.public_key().id();
  const std::int64_t fetched_ms = 1'790'000'000'000;
  std::vector<Record> out;
  failed = 0;
  for (const fs::path& f : files) {
    const std::string id = f.filename().string().substr(0, f.filename().string().find('.'));
    auto html = read_gzip(f);
    if (!html) {
      ++failed;
      continue;
    }
    protocol::TaskLease task;
    task.task_id = static_cast<std::int64_t>(out.size()) + 1;
    task.job_id = 1;
    task.token = task.task_id;
    task.url = page_url(split / "ground-truth" / (id + ".json"));
    client::FetchResult fetch;
    fetch.url = fetch.final_url = task.url;
    fetch.http_status = 200;
    fetch.content_type = "text/html";
    fetch.content_type_header = "text/html";
    fetch.body = std::move(*html);
    fetch.wire_bytes = static_cast<std::int64_t>(fetch.body.size());
    fetch.started_ms = fetched_ms + task.task_id * 100;
    fetch.finished_ms = fetch.started_ms + 80;
    auto page = extract::extract({fetch.body, fetch.final_url, fetch.content_type_header, ""});
    if (!page.ok()) {
      ++failed;
      continue;
    }
    boost::json::object record = client::build_record(task, fetch, *page, node_id);
    protocol::sign_record(record, key);
    Record r;
    r.line = meadow::to_json(record);
    r.url = fetch.final_url;
    r.text_sha256 = crypto::sha256_hex(page->text);
    r.leaf = crypto::sha256_hex(r.line);
    out.push_back(std::move(r));
  }
  return out;
}

// Record lines cycled from `records`, starting at `*next`, until they pass `bytes` of NDJSON.
std::vector<std::string_view> take_lines(const std::vector<Record>& records, std::size_t& next, std::int64_t bytes) {
  std::vector<std::string_view> lines;
  std::int64_t raw = 0;
  while (raw < bytes) {
    const std::string& l = records[next++ % records.size()].line;
    lines.push_back(l);
    raw += static_cast<std::int64_t>(l.size()) + 1;
  }
  return lines;
}

struct Assembly {
  int shards = 0;
  std::int64_t records = 0, input_bytes = 0, shard_bytes = 0, frames = 0;
  double cpu_s = 0, wall_s = 0;
};

Assembly run_assembly(const std::vector<Record>& records, const Settings& set, const datasets::ShardOptions& options) {
  Assembly a;
  std::size_t next = 0;
  std::string bytes;
  while (a.input_bytes < set.input_mib * kMiB) {
    const auto lines =
        take_lines(records, next, std::min(set.shard_input_mib * kMiB, set.input_mib * kMiB - a.input_bytes));
    const double c0 = thread_cpu_seconds();
    const auto w0 = Steady::now();
    const datasets::ShardFile f = datasets::encode_shard(lines, options, bytes);
    a.cpu_s += thread_cpu_seconds() - c0;
    a.wall_s += seconds_since(w0);
    ++a.shards;
    a.records += f.records;
    a.input_bytes += f.raw_bytes;
    a.shard_bytes += f.bytes;
    a.frames += static_cast<std::int64_t>(f.frames.size());
  }
  return a;
}

// The download shard: about `set.shard_mib` of compressed records, sealed as shard 0 of a
// finished job of customer "bench" in the coordinator's own store and datasets directory.
struct Seeded {
  std::int64_t job_id = 0;
  std::string name;  // records-00000.jsonl.zst
  std::string path;  // in the coordinator's datasets directory
  std::string sha256;
  std::int64_t bytes = 0;
  std::int64_t records = 0;
};

Result<Seeded> seed_dataset(testing::CoordinatorProcess& server, const std::vector<Record>& records,
                            const Settings& set, const datasets::ShardOptions& options, double ratio) {
  auto store_open = coordinator::open_sqlite_store({server.database()});
  if (!store_open.ok()) return store_open.error();
  coordinator::Store& store = **store_open;
  MEADOW_ASSIGN(coordinator::Customer customer, store.catalog().get_customer("bench"));
  const std::int64_t now = 1'790'000'000'000;
  coordinator::JobSpec spec;
  spec.name = "bench_datasets";
  spec.owner = customer.id;
  MEADOW_ASSIGN(std::int64_t job_id, store.create_job(spec, {}, now));  // no tasks: done at once

  std::size_t next = 0;
  const auto lines =
      take_lines(records, next, static_cast<std::int64_t>(static_cast<double>(set.shard_mib * kMiB) * ratio));
  // Every copy of a page gets its own entry key, as a page fetched again with new text would:
  // the catalog keeps one entry per (URL, text hash).
  std::vector<coordinator::DatasetEntry> entries;
  entries.reserve(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Record& r = records[i % records.size()];
    coordinator::DatasetEntry e;
    e.job_id = job_id;
    e.seq = static_cast<std::int64_t>(i) + 1;
    e.url = r.url + "#copy-" + std::to_string(i / records.size());
    e.text_sha256 = r.text_sha256;
    e.leaf = r.leaf;
    e.bytes = static_cast<std::int64_t>(r.line.size()) + 1;
    entries.push_back(std::move(e));
  }
  MEADOW_ASSIGN(std::int64_t dropped, store.catalog().ingest(entries, static_cast<std::int64_t>(entries.size()), now));
  if (dropped != 0) return make_error(ErrorKind::internal, "bench-seed", "the catalog dropped seeded entries");

  Seeded s;
  s.job_id = job_id;
  std::string bytes;
  const datasets::ShardFile f = datasets::encode_shard(lines, options, bytes);
  coordinator::Shard sh;
  sh.job_id = job_id;
  sh.number = 0;
  sh.records = f.records;
  sh.bytes = f.bytes;
  sh.raw_bytes = f.raw_bytes;
  sh.frames = static_cast<std::int64_t>(f.frames.size());
  sh.sha256 = f.sha256;
  sh.first_seq = 1;
  sh.last_seq = static_cast<std::int64_t>(entries.size());
  sh.created_ms = now;
  s.name = sh.name();
  s.sha256 = f.sha256;
  s.bytes = f.bytes;
  s.records = f.records;
  const std::string dir = datasets::job_dir((fs::path(server.database()).parent_path() / "datasets").string(), job_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  s.path = dir + "/" + s.name;
  MEADOW_TRY(datasets::write_file_atomically(s.path, bytes));
  MEADOW_TRY(store.catalog().seal(sh, now));
  return s;
}

struct Download {
  int status = 0;
  std::uint64_t bytes = 0;  // of the body
  double seconds = 0;       // from connecting to the last byte
  std::string sha256;       // with `hash` only
  std::string error;
};

// GET `target` from 127.0.0.1:`port` on a new connection; the body is read into one 1 MiB
// buffer and dropped (hashed first with `hash`).
Download download(std::uint16_t port, const std::string& target, const std::string& key, bool hash,
                  std::vector<char>& buffer) {
  Download d;
  const auto t0 = Steady::now();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    d.error = "cannot connect to 127.0.0.1:" + std::to_string(port);
    if (fd >= 0) ::close(fd);
    return d;
  }
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  if (!key.empty()) req += "Authorization: Bearer " + key + "\r\n";
  req += "Connection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    d.error = "cannot send the request";
    ::close(fd);
    return d;
  }
  // The header, then whatever part of the body came with it.
  std::string head;
  std::size_t end = std::string::npos;
  while (end == std::string::npos) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) {
      d.error = "the connection ended before the response header did";
      ::close(fd);
      return d;
    }
    head.append(buffer.data(), static_cast<std::size_t>(n));
    end = head.find("\r\n\r\n");
  }
  std::string lower = head.substr(0, end);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  d.status = lower.size() > 12 ? std::atoi(lower.c_str() + 9) : 0;
  const std::size_t cl = lower.find("\r\ncontent-length:");
  const std::uint64_t length =
      cl == std::string::npos ? UINT64_MAX : std::strtoull(lower.c_str() + cl + 17, nullptr, 10);
  std::optional<crypto::Sha256Stream> sha;
  if (hash) sha.emplace();
  std::string_view first(head.data() + end + 4, head.size() - end - 4);
  d.bytes = first.size();
  if (sha) sha->update(first);
  while (d.bytes < length) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (sha) sha->update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    d.bytes += static_cast<std::uint64_t>(n);
  }
  d.seconds = seconds_since(t0);
  ::close(fd);
  if (length != UINT64_MAX && d.bytes != length)
    d.error = "got " + std::to_string(d.bytes) + " of " + std::to_string(length) + " body bytes";
  if (sha) {
    const crypto::Sha256 digest = sha->finish();
    d.sha256 = crypto::to_hex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  }
  return d;
}

// One server's timed downloads.
struct Peer {
  std::string name;
  std::uint16_t port = 0;
  std::string target, key;
  pid_t pid = -1;
  std::vector<double> mb_per_s;
  double server_cpu_s = 0;  // over the timed downloads
  std::uint64_t bytes = 0;
  std::string error;

  double median() const {
    if (mb_per_s.empty()) return -1;
    std::vector<double> v = mb_per_s;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
  double best() const { return mb_per_s.empty() ? -1 : *std::max_element(mb_per_s.begin(), mb_per_s.end()); }
  double cpu_s_per_gb() const { return bytes > 0 ? server_cpu_s / (static_cast<double>(bytes) / 1e9) : -1; }
};

// The untimed check: status 200, every byte, the shard's SHA-256.
bool verify(Peer& p, const Seeded& shard, std::vector<char>& buffer) {
  const Download d = download(p.port, p.target, p.key, true, buffer);
  if (d.status != 200 || !d.error.empty() || d.sha256 != shard.sha256) {
    p.error = p.name + ": status " + std::to_string(d.status) + ", " + std::to_string(d.bytes) + " bytes, sha256 " +
              (d.sha256 == shard.sha256 ? "ok" : "wrong") + (d.error.empty() ? "" : ": " + d.error);
    return false;
  }
  return true;
}

void timed(Peer& p, std::vector<char>& buffer) {
  const double cpu0 = testing::cpu_seconds_of(p.pid);
  const Download d = download(p.port, p.target, p.key, false, buffer);
  p.server_cpu_s += testing::cpu_seconds_of(p.pid) - cpu0;
  if (d.status != 200 || !d.error.empty()) {
    if (p.error.empty()) p.error = p.name + ": status " + std::to_string(d.status) + " " + d.error;
    return;
  }
  p.bytes += d.bytes;
  p.mb_per_s.push_back(static_cast<double>(d.bytes) / 1e6 / d.seconds);
}

std::string num(double v, int decimals) {
  if (!std::isfinite(v) || v < 0) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string peer_json(const Peer& p) {
  std::string runs;
  for (double v : p.mb_per_s) runs += (runs.empty() ? "" : ",") + num(v, 1);
  return "{\"mb_per_s_median\":" + num(p.median(), 1) + ",\"mb_per_s_best\":" + num(p.best(), 1) + ",\"runs\":[" +
         runs + "],\"server_cpu_s_per_gb\":" + num(p.cpu_s_per_gb(), 3) + "}";
}

// Every option takes a value: --split a directory, the others a count from 1 to 1,000,000.
bool parse_args(int argc, char** argv, Settings& s) {
  const std::pair<std::string_view, std::int64_t*> counts[] = {{"--input-mib", &s.input_mib},
                                                               {"--shard-input-mib", &s.shard_input_mib},
                                                               {"--shard-mib", &s.shard_mib},
                                                               {"--repeats", &s.repeats}};
  if (argc % 2 == 0) return false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--split") {
      s.split = argv[i + 1];
      continue;
    }
    const auto* it = std::find_if(std::begin(counts), std::end(counts), [&](const auto& c) { return c.first == flag; });
    const long long n = std::atoll(argv[i + 1]);
    if (it == std::end(counts) || n <= 0 || n > 1'000'000) return false;
    *it->second = n;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Settings set;
  if (!parse_args(argc, argv, set)) {
    std::fprintf(stderr,
                 "usage: bench_datasets [--input-mib N (1024)] [--shard-input-mib N (64)] [--shard-mib N (256)] "
                 "[--repeats N (9)] [--split DIR]\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<int> cpus = testing::allowed_cpus();
  const int client_cpu = cpus.empty() ? -1 : cpus[0];
  const int server_cpu = cpus.size() >= 2 ? cpus[1] : -1;

  std::fprintf(stderr, "bench_datasets: records from %s ...\n", set.split.c_str());
  int failed = 0;
  const std::vector<Record> records = make_records(set.split, failed);
  if (records.size() < 200) {
    std::fprintf(stderr, "bench_datasets: only %zu records could be made from %s (%d pages failed)\n", records.size(),
                 set.split.c_str(), failed);
    return 1;
  }
  std::int64_t pool_bytes = 0;
  for (const auto& r : records) pool_bytes += static_cast<std::int64_t>(r.line.size()) + 1;
  const double record_avg = static_cast<double>(pool_bytes) / static_cast<double>(records.size());

  // --- assembly, on one thread pinned to the client's CPU
  const datasets::ShardOptions options = datasets::AssemblerOptions{}.shard;
  std::fprintf(stderr,
               "bench_datasets: assembly: %lld MiB of NDJSON (%zu distinct records, %.0f bytes on average) "
               "in shards of %lld MiB, zstd level %d, %lld records a frame ...\n",
               static_cast<long long>(set.input_mib), records.size(), record_avg,
               static_cast<long long>(set.shard_input_mib), options.level,
               static_cast<long long>(options.frame_records));
  Assembly a;
  std::thread([&] {
    if (client_cpu >= 0) testing::pin_calling_thread(client_cpu);
    a = run_assembly(records, set, options);
  }).join();
  const double in_mb = static_cast<double>(a.input_bytes) / 1e6;
  const double asm_mb_core = in_mb / a.cpu_s;
  const double asm_ratio = static_cast<double>(a.input_bytes) / static_cast<double>(a.shard_bytes);

  // --- download: the coordinator and nginx serve one shard
  testing::TempDir dir;
  fs::create_directories(dir.file("coordinator"));
  testing::CoordinatorProcess server(dir.file("coordinator"));
  auto added = server.cli({"customer", "add", "bench"});
  if (added.exit_code != 0) {
    std::fprintf(stderr, "bench_datasets: customer add failed: %s%s\n", added.out.c_str(), added.err.c_str());
    return 1;
  }
  const std::string key = added.out.substr(0, added.out.find('\n'));
  std::fprintf(stderr, "bench_datasets: download: sealing a shard of about %lld MiB ...\n",
               static_cast<long long>(set.shard_mib));
  auto seeded = seed_dataset(server, records, set, options, asm_ratio);
  if (!seeded.ok()) {
    std::fprintf(stderr, "bench_datasets: could not seed the dataset: %s (%s)\n", seeded.error().message.c_str(),
                 seeded.error().code.c_str());
    return 1;
  }
  const Seeded& shard = *seeded;
  if (auto st = server.start(); !st.ok()) {
    std::fprintf(stderr, "bench_datasets: %s\n%s\n", st.error().message.c_str(),
                 testing::file_contents(server.log_file()).c_str());
    return 1;
  }
  if (server_cpu >= 0 && !testing::pin_process(server.process().pid(), server_cpu))
    std::fprintf(stderr, "bench_datasets: could not pin meadow-coordinator to CPU %d\n", server_cpu);

  const std::string root = dir.file("nginx-root");
  fs::create_directories(root);
  std::ofstream(root + "/ready.txt") << "ready\n";
  std::error_code link_ec;
  fs::create_hard_link(shard.path, root + "/" + shard.name, link_ec);
  if (link_ec) fs::create_symlink(shard.path, root + "/" + shard.name, link_ec);
  std::unique_ptr<testing::Nginx> nginx;
  if (auto started = testing::Nginx::start(dir.file("nginx"), root, server_cpu, "/ready.txt"); started.ok()) {
    nginx = std::move(started).value();
  } else {
    std::fprintf(stderr, "bench_datasets: no nginx peer: %s\n", started.error().message.c_str());
  }

  Peer ours, theirs;
  ours.name = "meadow";
  ours.port = server.port();
  ours.target = "/v1/datasets/" + std::to_string(shard.job_id) + "/shards/" + shard.name;
  ours.key = key;
  ours.pid = server.process().pid();
  theirs.name = "nginx";
  theirs.target = "/" + shard.name;
  std::vector<Peer*> peers = {&ours};
  if (nginx) {
    theirs.port = nginx->port();
    theirs.pid = nginx->pid();
    peers.push_back(&theirs);
  }

  char load[64] = {};
  std::ifstream("/proc/loadavg").getline(load, sizeof load);
  // What else ran on the machine meanwhile, as cores' worth of CPU.
  const double machine0 = testing::machine_cpu_seconds(), own0 = testing::own_cpu_seconds();
  double servers0 = 0;
  for (const Peer* p : peers) servers0 += testing::cpu_seconds_of(p->pid);
  const auto wall0 = Steady::now();
  bool verified = true;
  std::fprintf(stderr,
               "bench_datasets: download: %s (%.1f MiB), %d times from each server on CPU %d, client on CPU %d ...\n",
               shard.name.c_str(), static_cast<double>(shard.bytes) / kMiB, static_cast<int>(set.repeats), server_cpu,
               client_cpu);
  std::thread([&] {
    if (client_cpu >= 0) testing::pin_calling_thread(client_cpu);
    std::vector<char> buffer(kReadBuffer);
    for (Peer* p : peers) verified = verify(*p, shard, buffer) && verified;
    if (!verified) return;
    for (std::int64_t i = 0; i < set.repeats; ++i)
      for (Peer* p : peers) timed(*p, buffer);
  }).join();
  const double download_wall = seconds_since(wall0);
  double servers_s = -servers0;
  for (const Peer* p : peers) servers_s += testing::cpu_seconds_of(p->pid);
  const double other_cores =
      std::max(0.0, testing::machine_cpu_seconds() - machine0 - (testing::own_cpu_seconds() - own0) - servers_s) /
      download_wall;
  for (Peer* p : peers)
    if (!p->error.empty()) std::fprintf(stderr, "bench_datasets: %s\n", p->error.c_str());

  nginx.reset();
  server.process().signal(SIGTERM);
  server.process().wait(15s);

  const bool compared = !theirs.mb_per_s.empty();
  const double vs_nginx = compared ? ours.median() / theirs.median() : -1;
  std::printf(
      "{\"bench\":\"datasets\",\"records_distinct\":%zu,\"pages_failed\":%d,\"record_bytes_avg\":%s,"
      "\"assembly\":{\"input_mb\":%s,\"shards\":%d,\"records\":%lld,\"frames\":%lld,\"level\":%d,"
      "\"frame_records\":%lld,\"mb_per_s_per_core\":%s,\"records_per_s_per_core\":%s,\"mb_per_s_wall\":%s,"
      "\"ratio\":%s,\"goal_mb_per_s_per_core\":%.0f,\"goal_ratio\":%.1f},"
      "\"download\":{\"shard_bytes\":%lld,\"shard_records\":%lld,\"repeats\":%d,\"verified\":%s,"
      "\"meadow\":%s,\"nginx\":%s,\"ratio\":%s,\"goal_ratio\":%.1f,\"client_cpu\":%d,\"server_cpu\":%d},"
      "\"machine_busy\":{\"cores\":%zu,\"load1_at_start\":%.2f,\"other_cores_during_download\":%s}}\n",
      records.size(), failed, num(record_avg, 0).c_str(), num(in_mb, 1).c_str(), a.shards,
      static_cast<long long>(a.records), static_cast<long long>(a.frames), options.level,
      static_cast<long long>(options.frame_records), num(asm_mb_core, 1).c_str(),
      num(static_cast<double>(a.records) / a.cpu_s, 0).c_str(), num(in_mb / a.wall_s, 1).c_str(),
      num(asm_ratio, 2).c_str(), kGoalMbPerCore, kGoalRatio, static_cast<long long>(shard.bytes),
      static_cast<long long>(shard.records), static_cast<int>(set.repeats), verified ? "true" : "false",
      peer_json(ours).c_str(), compared ? peer_json(theirs).c_str() : "null", num(vs_nginx, 2).c_str(), kGoalVsNginx,
      client_cpu, server_cpu, cpus.size(), std::atof(load), num(other_cores, 2).c_str());
  std::fflush(stdout);

  std::fprintf(stderr,
               "bench_datasets: assembly %.0f MB/s of input per core (goal >= %.0f), %.0f records/s per core, "
               "%.0f MB/s wall; ratio %.2fx (goal >= %.1fx)\n",
               asm_mb_core, kGoalMbPerCore, static_cast<double>(a.records) / a.cpu_s, in_mb / a.wall_s, asm_ratio,
               kGoalRatio);
  std::fprintf(stderr, "bench_datasets: download meadow %.0f MB/s (best %.0f, %.3f server CPU s/GB)", ours.median(),
               ours.best(), ours.cpu_s_per_gb());
  if (compared)
    std::fprintf(stderr, ", nginx %.0f MB/s (best %.0f, %.3f server CPU s/GB); ratio %.2fx (goal >= %.1fx)",
                 theirs.median(), theirs.best(), theirs.cpu_s_per_gb(), vs_nginx, kGoalVsNginx);
  std::fprintf(stderr, "; other load %.2f cores while downloading\n", other_cores);
  return verified && ours.error.empty() && theirs.error.empty() ? 0 : 1;
}
