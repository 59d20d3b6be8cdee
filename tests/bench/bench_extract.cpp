// Main-content extraction over the WCXB development split, side by side with readability-lxml.
//
// For every html/NNNN.html.gz of the split, meadow runs what `meadow-node extract --url URL`
// runs (extract::extract on the page's ground-truth URL, normalised, no Content-Type), on one
// thread. Only the extract() call is timed: gunzip and file reading are not. Speed is MB/s of
// decompressed HTML per core (bytes over the thread's CPU time; wall time is printed too).
// The texts go to a predictions file scored by ../shared/tools/score-extraction --per-type.
// Then tests/bench/readability_peer.py runs readability-lxml (Debian's python3-readability)
// over the same pages in the same run, and its speed and score are printed beside meadow's.
//
// Prints both score tables and a summary on stderr, and one JSON line on stdout. Without
// python3-readability (apt-get install python3-readability) the peer is null.
//
//   bench_extract [--split DIR] [--out DIR] [--repeat N (1)] [--no-peer]
#include <time.h>
#include <zlib.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/extract.h"
#include "common/url.h"

namespace {

namespace fs = std::filesystem;
using namespace meadow;

constexpr double kGoalMbPerS = 40;
constexpr double kGoalF1 = 0.86;
constexpr double kGoalWithoutRate = 0.10;
constexpr double kGoalTypeF1 = 0.70;

struct Settings {
  fs::path split = fs::path(MEADOW_SOURCE_DIR) / ".." / "shared" / "data" / "wcxb-dev";
  fs::path scorer = fs::path(MEADOW_SOURCE_DIR) / ".." / "shared" / "tools" / "score-extraction";
  fs::path peer = fs::path(MEADOW_SOURCE_DIR) / "tests" / "bench" / "readability_peer.py";
  fs::path out;
  int repeat = 1;
  bool run_peer = true;
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

std::optional<std::string> gunzip(const std::string& gz) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return std::nullopt;
  std::string out;
  out.resize(gz.size() * 4 + 4096);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (z.total_out == out.size()) out.resize(out.size() * 2);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + z.total_out);
    z.avail_out = static_cast<uInt>(out.size() - z.total_out);
    rc = inflate(&z, Z_NO_FLUSH);
  }
  out.resize(z.total_out);
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

// Runs a shell command, returning its standard output (nullopt when it exits non-zero).
std::optional<std::string> run(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  return pclose(p) == 0 ? std::optional<std::string>(out) : std::nullopt;
}

std::string quoted(const fs::path& p) {
  std::string s = "'";
  for (const char c : p.string()) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return s + "'";
}

struct Score {
  boost::json::value json;  // score-extraction --json
  std::string table;        // its readable table
};

std::optional<Score> score(const Settings& set, const fs::path& preds) {
  const std::string base = quoted(set.scorer) + " --split " + quoted(set.split) + " --predictions " + quoted(preds) +
                           " --per-type";
  auto json = run(base + " --json");
  auto table = run(base);
  if (!json || !table) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*json, ec);
  if (ec) return std::nullopt;
  return Score{std::move(v), std::move(*table)};
}

double f1_of(const boost::json::value& v, const char* key) {
  const auto* o = v.as_object().if_contains(key);
  return o != nullptr ? o->as_object().at("f1").to_number<double>() : 0;
}

struct MeadowRun {
  int pages = 0, errors = 0;
  std::int64_t html_bytes = 0;
  double cpu_s = 0, wall_s = 0;
};

MeadowRun run_meadow(const Settings& set, const fs::path& preds_path) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(set.split / "html"))
    if (e.path().string().ends_with(".html.gz")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  MeadowRun r;
  boost::json::object preds;
  for (const fs::path& f : files) {
    const std::string id = f.filename().string().substr(0, f.filename().string().find('.'));
    auto gz = read_file(f);
    auto html = gz ? gunzip(*gz) : std::nullopt;
    auto truth_text = read_file(set.split / "ground-truth" / (id + ".json"));
    if (!html || !truth_text) {
      std::fprintf(stderr, "bench_extract: cannot read %s or its ground truth\n", f.c_str());
      ++r.errors;
      continue;
    }
    boost::system::error_code ec;
    const boost::json::value truth = boost::json::parse(*truth_text, ec);
    std::string page_url = "http://localhost/";
    if (!ec && truth.is_object())
      if (const auto* u = truth.as_object().if_contains("url"); u != nullptr && u->is_string())
        if (auto parsed = url::parse(std::string(u->as_string())); parsed.ok()) page_url = parsed->normalized;
    std::string text;
    for (int i = 0; i < set.repeat; ++i) {
      const double c0 = thread_cpu_seconds();
      const auto w0 = std::chrono::steady_clock::now();
      auto page = extract::extract({*html, page_url, "", ""});
      r.cpu_s += thread_cpu_seconds() - c0;
      r.wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
      r.html_bytes += static_cast<std::int64_t>(html->size());
      if (!page.ok()) {
        ++r.errors;
        continue;
      }
      text = std::move(page->text);
    }
    preds[id] = text;
    ++r.pages;
  }
  std::ofstream(preds_path, std::ios::binary) << boost::json::serialize(preds);
  return r;
}

std::string num(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Settings set;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--split" && i + 1 < argc) {
      set.split = argv[++i];
    } else if (a == "--out" && i + 1 < argc) {
      set.out = argv[++i];
    } else if (a == "--repeat" && i + 1 < argc) {
      set.repeat = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--no-peer") {
      set.run_peer = false;
    } else {
      std::fprintf(stderr, "usage: bench_extract [--split DIR] [--out DIR] [--repeat N (1)] [--no-peer]\n");
      return 2;
    }
  }
  if (set.out.empty()) set.out = fs::temp_directory_path() / ("bench_extract." + std::to_string(getpid()));
  fs::create_directories(set.out);

  std::fprintf(stderr, "bench_extract: meadow over %s ...\n", set.split.c_str());
  const fs::path meadow_preds = set.out / "meadow.json";
  const MeadowRun m = run_meadow(set, meadow_preds);
  const double mb = static_cast<double>(m.html_bytes) / 1e6;
  const double meadow_mbps = m.cpu_s > 0 ? mb / m.cpu_s : 0;
  const auto meadow_score = score(set, meadow_preds);
  if (!meadow_score) {
    std::fprintf(stderr, "bench_extract: score-extraction failed on %s\n", meadow_preds.c_str());
    return 1;
  }

  std::optional<Score> peer_score;
  double peer_mbps = 0, peer_wall_mbps = 0;
  std::string peer_version, peer_errors = "0";
  if (set.run_peer && run("/usr/bin/python3 -c 'import readability' 2>/dev/null")) {
    std::fprintf(stderr, "bench_extract: readability-lxml over the same pages ...\n");
    const fs::path peer_preds = set.out / "readability.json";
    if (auto line = run("/usr/bin/python3 " + quoted(set.peer) + " --split " + quoted(set.split) + " --out " +
                        quoted(peer_preds))) {
      boost::system::error_code ec;
      const boost::json::value v = boost::json::parse(*line, ec);
      if (!ec && v.is_object()) {
        const auto& o = v.as_object();
        const double bytes = o.at("html_bytes").to_number<double>() / 1e6;
        peer_mbps = bytes / std::max(1e-9, o.at("cpu_s").to_number<double>());
        peer_wall_mbps = bytes / std::max(1e-9, o.at("seconds").to_number<double>());
        peer_version = std::string(o.at("version").as_string());
        peer_errors = std::to_string(o.at("errors").to_number<std::int64_t>());
        peer_score = score(set, peer_preds);
      }
    }
    if (!peer_score) std::fprintf(stderr, "bench_extract: readability_peer.py gave no figures\n");
  } else if (set.run_peer) {
    std::fprintf(stderr, "bench_extract: python3-readability missing (apt-get install python3-readability); no peer\n");
  }

  std::fprintf(stderr, "\nmeadow-extract %s: %d pages, %.1f MB HTML, %s MB/s per core (%s MB/s wall), %d errors\n%s",
               extract::kExtractorVersion, m.pages, mb, num(meadow_mbps, 1).c_str(),
               num(m.wall_s > 0 ? mb / m.wall_s : 0, 1).c_str(), m.errors, meadow_score->table.c_str());
  if (peer_score)
    std::fprintf(stderr, "\nreadability-lxml %s: %s MB/s per core (%s MB/s wall), %s errors\n%s", peer_version.c_str(),
                 num(peer_mbps, 1).c_str(), num(peer_wall_mbps, 1).c_str(), peer_errors.c_str(),
                 peer_score->table.c_str());

  const auto& overall = meadow_score->json.as_object().at("overall").as_object();
  const double f1 = overall.at("f1").to_number<double>();
  const double without = overall.at("without_rate").to_number<double>();
  double worst_type = 1;
  std::string worst_name;
  for (const auto& [k, v] : meadow_score->json.as_object().at("per_type").as_object())
    if (v.as_object().at("f1").to_number<double>() < worst_type) {
      worst_type = v.as_object().at("f1").to_number<double>();
      worst_name = k;
    }
  std::string per_type;
  for (const auto& [k, v] : meadow_score->json.as_object().at("per_type").as_object())
    per_type += (per_type.empty() ? "" : ",") + std::string("\"") + std::string(k) +
                "\":" + num(v.as_object().at("f1").to_number<double>(), 4);
  const std::string peer_json =
      peer_score ? "{\"version\":\"" + peer_version + "\",\"mb_per_s\":" + num(peer_mbps, 2) +
                       ",\"f1\":" + num(f1_of(peer_score->json, "overall"), 4) + ",\"without_rate\":" +
                       num(peer_score->json.as_object().at("overall").as_object().at("without_rate").to_number<double>(),
                           4) +
                       "}"
                 : "null";
  std::printf(
      "{\"bench\":\"extract\",\"pages\":%d,\"errors\":%d,\"html_mb\":%s,\"mb_per_s\":%s,\"goal_mb_per_s\":%.0f,"
      "\"f1\":%s,\"goal_f1\":%.2f,\"precision\":%s,\"recall\":%s,\"with_rate\":%s,\"without_rate\":%s,"
      "\"goal_without_rate\":%.2f,\"worst_type\":\"%s\",\"worst_type_f1\":%s,\"goal_type_f1\":%.2f,"
      "\"per_type_f1\":{%s},\"readability\":%s,\"predictions\":\"%s\"}\n",
      m.pages, m.errors, num(mb, 1).c_str(), num(meadow_mbps, 2).c_str(), kGoalMbPerS, num(f1, 4).c_str(), kGoalF1,
      num(overall.at("precision").to_number<double>(), 4).c_str(),
      num(overall.at("recall").to_number<double>(), 4).c_str(),
      num(overall.at("with_rate").to_number<double>(), 4).c_str(), num(without, 4).c_str(), kGoalWithoutRate,
      worst_name.c_str(), num(worst_type, 4).c_str(), kGoalTypeF1, per_type.c_str(), peer_json.c_str(),
      meadow_preds.c_str());
  return 0;
}
