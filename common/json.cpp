#include "common/json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <boost/json/stream_parser.hpp>

#include "common/bytes16.h"
#include "common/charset.h"

namespace meadow {
namespace json = boost::json;

namespace {

// Printable ASCII but the quote and the backslash: the bytes boost::json::serialize copies as
// they are (it escapes every other byte below 0x80, and none from 0x80 up).
constexpr bool plain_byte(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

// The index of the first byte at or after `i` that is not plain; sixteen bytes at a time.
std::size_t skip_plain(std::string_view s, std::size_t i) {
  for (; i + 16 <= s.size(); i += 16) {
    const Bytes16 v = load16(s.data() + i);
    const Bytes16 escaped = lanes_in(v, 0, 0x1F) | lanes_equal(v, '"') | lanes_equal(v, '\\');
    const unsigned stop = lane_bits(escaped) | lane_bits(v);  // lane_bits(v): bytes from 0x80 up
    if (stop != 0) return i + static_cast<unsigned>(__builtin_ctz(stop));
  }
  while (i < s.size() && plain_byte(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

void append_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default: {
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(u, sizeof u);
    }
  }
}

}  // namespace

void append_json_quoted(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  std::size_t copied = 0;  // s[0, copied) is in `out`
  std::size_t i = skip_plain(s, 0);
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (const std::size_t n = charset::utf8_sequence_length(s, i); n > 0) {
        i = skip_plain(s, i + n);
        continue;
      }
    }
    out.append(s.data() + copied, i - copied);
    if (c >= 0x80) {
      out += "\xEF\xBF\xBD";  // not UTF-8: U+FFFD, so the result always parses
    } else {
      append_escape(out, c);
    }
    copied = i + 1;
    i = skip_plain(s, copied);
  }
  out.append(s.data() + copied, s.size() - copied);
  out += '"';
}

std::string json_quote(std::string_view s) {
  std::string out;
  append_json_quoted(out, s);
  return out;
}

Result<json::value> parse_json(std::string_view text, std::size_t max_depth) {
  json::parse_options opt;
  opt.max_depth = max_depth;
  json::stream_parser p({}, opt);
  json::error_code ec;
  std::size_t used = p.write_some(text.data(), text.size(), ec);
  if (!ec && used < text.size()) {
    // write_some stops after one complete value; anything but whitespace after it is an error.
    // (Checked before finish(), which would report such input as merely "incomplete".)
    auto rest = text.substr(used);
    if (rest.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      return make_error(ErrorKind::invalid, "bad-json",
                        "malformed JSON: unexpected data after the value at byte " + std::to_string(used));
    }
  }
  if (!ec) p.finish(ec);
  if (ec) {
    std::string why = ec.message();
    if (ec == json::error::too_deep) why = "nesting deeper than " + std::to_string(max_depth) + " levels";
    return make_error(ErrorKind::invalid, "bad-json",
                      "malformed JSON at byte " + std::to_string(used) + ": " + why);
  }
  return p.release();
}

Result<json::object> parse_json_object(std::string_view text, std::string_view what) {
  MEADOW_ASSIGN(json::value v, parse_json(text));
  if (!v.is_object()) {
    return make_error(ErrorKind::invalid, "bad-json", std::string(what) + " must be a JSON object");
  }
  return std::move(v.as_object());
}

namespace {

void write_value(const json::value& v, std::string& out, bool sorted);

void write_number(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest form that reads back exactly
  out.append(buf, ec == std::errc() ? p : buf);
}

// `skip`: the name of a member left out, if any.
void write_object(const json::object& o, std::string& out, bool sorted, const std::string_view* skip = nullptr) {
  out += '{';
  bool first = true;
  auto member = [&](const json::key_value_pair& kv) {
    if (skip != nullptr && std::string_view(kv.key().data(), kv.key().size()) == *skip) return;
    if (!first) out += ',';
    first = false;
    append_json_quoted(out, std::string_view(kv.key().data(), kv.key().size()));
    out += ':';
    write_value(kv.value(), out, sorted);
  };
  if (sorted) {
    // Records and receipts have a few dozen members: sort pointers on the stack when they fit.
    std::array<const json::key_value_pair*, 48> local;
    std::vector<const json::key_value_pair*> heap;
    const json::key_value_pair** items = local.data();
    if (o.size() > local.size()) {
      heap.resize(o.size());
      items = heap.data();
    }
    std::size_t n = 0;
    for (const auto& kv : o) items[n++] = &kv;
    std::sort(items, items + n, [](auto* a, auto* b) { return a->key() < b->key(); });
    for (std::size_t i = 0; i < n; ++i) member(*items[i]);
  } else {
    for (const auto& kv : o) member(kv);
  }
  out += '}';
}

void write_array(const json::array& a, std::string& out, bool sorted) {
  out += '[';
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i) out += ',';
    write_value(a[i], out, sorted);
  }
  out += ']';
}

void write_value(const json::value& v, std::string& out, bool sorted) {
  switch (v.kind()) {
    case json::kind::object: write_object(v.get_object(), out, sorted); break;
    case json::kind::array: write_array(v.get_array(), out, sorted); break;
    case json::kind::string: append_json_quoted(out, std::string_view(v.get_string().data(), v.get_string().size())); break;
    case json::kind::double_: write_number(v.get_double(), out); break;
    case json::kind::int64: out += std::to_string(v.get_int64()); break;
    case json::kind::uint64: out += std::to_string(v.get_uint64()); break;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case json::kind::null: out += "null"; break;
  }
}

}  // namespace

std::string to_json(const json::value& v) {
  std::string out;
  write_value(v, out, false);
  return out;
}

std::string to_json(const json::object& o) {
  std::string out;
  write_object(o, out, false);
  return out;
}

std::string to_json(const json::array& a) {
  std::string out;
  write_array(a, out, false);
  return out;
}

std::string canonical_json(const json::value& v) {
  std::string out;
  write_value(v, out, true);
  return out;
}

void append_canonical_json(std::string& out, const json::object& o) { write_object(o, out, true); }

std::string canonical_json_without(const json::object& o, std::string_view key) {
  std::string out;
  write_object(o, out, true, &key);
  return out;
}

namespace {

const char* kind_name(json::kind k) {
  switch (k) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64: return "an integer";
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "?";
}

const json::array& empty_array() {
  static const json::array a;
  return a;
}
const json::object& empty_object() {
  static const json::object o;
  return o;
}
}  // namespace


bool JsonFields::has(std::string_view key) const {
  auto it = obj_.find(json::string_view(key.data(), key.size()));
  return it != obj_.end() && !it->value().is_null();
}

void JsonFields::fail(std::string_view key, std::string_view problem) {
  if (error_) return;
  error_ = make_error(ErrorKind::invalid, "bad-field",
                      what_ + ": field '" + std::string(key) + "' " + std::string(problem));
}

const json::value* JsonFields::find(std::string_view key, bool required) {
  if (error_) return nullptr;
  auto it = obj_.find(json::string_view(key.data(), key.size()));
  if (it == obj_.end() || it->value().is_null()) {
    if (required) {
      error_ = make_error(ErrorKind::invalid, "missing-field",
                          what_ + ": field '" + std::string(key) + "' is required");
    }
    return nullptr;
  }
  return &it->value();
}

std::string JsonFields::string(std::string_view key, std::size_t max_len) {
  const json::value* v = find(key, true);
  if (!v) return {};
  if (!v->is_string()) {
    fail(key, std::string("must be a string, not ") + kind_name(v->kind()));
    return {};
  }
  const auto& s = v->get_string();
  if (s.size() > max_len) {
    fail(key, "is longer than " + std::to_string(max_len) + " bytes");
    return {};
  }
  return std::string(s.data(), s.size());
}

std::string JsonFields::string_or(std::string_view key, std::string fallback, std::size_t max_len) {
  if (!has(key)) return fallback;
  return string(key, max_len);
}

std::int64_t JsonFields::integer(std::string_view key, std::int64_t min, std::int64_t max) {
  const json::value* v = find(key, true);
  if (!v) return min;
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64()) {  // only values above INT64_MAX are stored as uint64
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return min;
  } else {
    fail(key, std::string("must be an integer, not ") + kind_name(v->kind()));
    return min;
  }
  if (n < min || n > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                  ", not " + std::to_string(n));
    return min;
  }
  return n;
}

std::int64_t JsonFields::integer_or(std::string_view key, std::int64_t min, std::int64_t max,
                                    std::int64_t fallback) {
  if (!has(key)) return fallback;
  return integer(key, min, max);
}

double JsonFields::number_or(std::string_view key, double min, double max, double fallback) {
  const json::value* v = find(key, false);
  if (!v) return fallback;
  if (!v->is_number()) {
    fail(key, std::string("must be a number, not ") + kind_name(v->kind()));
    return fallback;
  }
  double d = v->to_number<double>();
  if (!(d >= min && d <= max)) {
    fail(key, "must be between " + to_json(json::value(min)) + " and " + to_json(json::value(max)));
    return fallback;
  }
  return d;
}

bool JsonFields::boolean_or(std::string_view key, bool fallback) {
  const json::value* v = find(key, false);
  if (!v) return fallback;
  if (!v->is_bool()) {
    fail(key, std::string("must be true or false, not ") + kind_name(v->kind()));
    return fallback;
  }
  return v->get_bool();
}

const json::array& JsonFields::array(std::string_view key, std::size_t max_items) {
  const json::value* v = find(key, true);
  if (!v) return empty_array();
  if (!v->is_array()) {
    fail(key, std::string("must be an array, not ") + kind_name(v->kind()));
    return empty_array();
  }
  if (v->get_array().size() > max_items) {
    fail(key, "has more than " + std::to_string(max_items) + " items");
    return empty_array();
  }
  return v->get_array();
}

const json::array& JsonFields::array_or_empty(std::string_view key, std::size_t max_items) {
  if (!has(key)) return empty_array();
  return array(key, max_items);
}

const json::object& JsonFields::object(std::string_view key) {
  const json::value* v = find(key, true);
  if (!v) return empty_object();
  if (!v->is_object()) {
    fail(key, std::string("must be an object, not ") + kind_name(v->kind()));
    return empty_object();
  }
  return v->get_object();
}

std::vector<std::string> JsonFields::strings_or_empty(std::string_view key, std::size_t max_items,
                                                      std::size_t max_len) {
  std::vector<std::string> out;
  const auto& arr = array_or_empty(key, max_items);
  out.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_string()) {
      fail(key, "item " + std::to_string(i) + " must be a string, not " + kind_name(arr[i].kind()));
      return {};
    }
    const auto& s = arr[i].get_string();
    if (s.size() > max_len) {
      fail(key, "item " + std::to_string(i) + " is longer than " + std::to_string(max_len) + " bytes");
      return {};
    }
    out.emplace_back(s.data(), s.size());
  }
  return out;
}

}  // namespace meadow
