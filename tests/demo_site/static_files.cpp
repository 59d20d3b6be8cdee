// Safe file lookup under the pages root and the content-type table.
#include "static_files.h"

#include <array>
#include <fstream>
#include <iterator>
#include <string_view>
#include <system_error>
#include <utility>

namespace meadow::demo_site {

namespace fs = std::filesystem;

namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypesByExtension = {{
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".txt", "text/plain; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".xml", "application/xml"},
    {".pdf", "application/pdf"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".svg", "image/svg+xml"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".zip", "application/zip"},
}};

// Pages whose header must say something other than their extension's default: the
// charset tests check how a fetcher reconciles the header, the meta tag and the bytes.
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kTypesByPath = {{
    {"charsets/windows-1252.html", "text/html; charset=windows-1252"},
    {"charsets/shift_jis.html", "text/html"},
    {"charsets/lying.html", "text/html; charset=iso-8859-1"},
}};

bool safe_segment(const std::string& segment) {
  if (!segment.empty() && segment.front() == '.') return false;  // ".", "..", hidden files
  return segment.find_first_of(std::string_view("/\\\0", 3)) == std::string::npos;
}

bool is_within(const fs::path& root, const fs::path& path) {
  auto r = root.begin();
  auto p = path.begin();
  for (; r != root.end(); ++r, ++p) {
    if (p == path.end() || *r != *p) return false;
  }
  return true;
}

}  // namespace

StaticFiles::StaticFiles(const fs::path& root) {
  std::error_code ec;
  root_ = fs::weakly_canonical(root, ec);
  if (ec) root_ = root;
}

std::string StaticFiles::content_type_for(const std::string& relative_path) {
  for (const auto& [path, type] : kTypesByPath) {
    if (relative_path == path) return std::string(type);
  }
  const std::string extension = fs::path(relative_path).extension().string();
  for (const auto& [ext, type] : kTypesByExtension) {
    if (extension == ext) return std::string(type);
  }
  return "application/octet-stream";
}

StaticLookup StaticFiles::lookup(const std::vector<std::string>& segments) const {
  StaticLookup result;
  std::string relative;
  for (const auto& segment : segments) {
    if (segment.empty()) continue;
    if (!safe_segment(segment)) {
      result.kind = StaticLookup::Kind::forbidden;
      return result;
    }
    if (!relative.empty()) relative += '/';
    relative += segment;
  }
  const bool trailing_slash = segments.empty() || segments.back().empty();

  std::error_code ec;
  fs::path path = root_ / relative;
  if (fs::is_directory(path, ec)) {
    if (!trailing_slash) {
      result.kind = StaticLookup::Kind::needs_slash;
      return result;
    }
    path /= "index.html";
    relative += relative.empty() ? "index.html" : "/index.html";
  } else if (trailing_slash && !relative.empty()) {
    return result;  // "/notes.txt/" names no folder
  }
  if (!fs::is_regular_file(path, ec)) return result;

  // A symbolic link may still point outside the root.
  const fs::path real = fs::canonical(path, ec);
  if (ec || !is_within(root_, real)) {
    result.kind = StaticLookup::Kind::forbidden;
    return result;
  }
  std::ifstream in(real, std::ios::binary);
  if (!in) return result;
  result.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  result.content_type = content_type_for(relative);
  result.kind = StaticLookup::Kind::file;
  return result;
}

}  // namespace meadow::demo_site
