#include "common/config_file.h"

#include "common/text.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace meadow::config {

using text::trim;

Error bad_value(std::string_view key, std::string_view value, std::string_view want) {
  return make_error(ErrorKind::invalid, "bad-config",
                    "config key '" + std::string(key) + "': '" + std::string(value) + "' is not " + std::string(want));
}

Status set_int(std::int64_t& out, std::string_view key, std::string_view v, std::int64_t min, std::int64_t max) {
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < min || n > max) {
    return bad_value(key, v, "an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  out = n;
  return {};
}

Status set_double(double& out, std::string_view key, std::string_view v, double min, double max) {
  std::string s(v);
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(d) || d < min || d > max) {
    std::ostringstream want;
    want << "a number from " << min << " to " << max;
    return bad_value(key, v, want.str());
  }
  out = d;
  return {};
}

Status set_bool(bool& out, std::string_view key, std::string_view v) {
  if (v == "true" || v == "yes" || v == "on" || v == "1") out = true;
  else if (v == "false" || v == "no" || v == "off" || v == "0") out = false;
  else return bad_value(key, v, "true or false");
  return {};
}

Status parse_lines(std::string_view text, const std::function<Status(std::string_view, std::string_view)>& apply) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    // '#' starts a comment, except inside a quoted value ("https://x.example/#bots").
    char quote = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '#') {
        line = line.substr(0, i);
        break;
      }
    }
    line = trim(line);
    if (line.empty()) continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      return make_error(ErrorKind::invalid, "bad-config",
                        "line " + std::to_string(line_no) + ": expected 'key = value', got '" + std::string(line) + "'");
    }
    std::string_view value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    auto st = apply(trim(line.substr(0, eq)), value);
    if (!st.ok()) {
      Error e = std::move(st).error();
      e.message = "line " + std::to_string(line_no) + ": " + e.message;
      return e;
    }
  }
  return {};
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::io, "bad-config", "cannot read config file '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > 1024 * 1024) {
    return make_error(ErrorKind::invalid, "bad-config", "config file '" + path + "' is larger than 1 MiB");
  }
  return ss.str();
}

}  // namespace meadow::config
