// JSON helpers over Boost.JSON: strict parsing with clear messages, a field reader that
// turns wrong types and missing fields into one Error naming the field, and canonical bytes
// for signatures.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meadow {

// `s` as a JSON string literal, quotes included: the bytes boost::json::serialize writes, with
// every byte that is not part of valid UTF-8 replaced by U+FFFD so the result always parses.
std::string json_quote(std::string_view s);
// Appends json_quote(s) to `out`.
void append_json_quoted(std::string& out, std::string_view s);

// Parses one JSON text. Errors are ErrorKind::invalid with code "bad-json" and say where
// (byte offset) and why. Nesting deeper than `max_depth` is refused rather than recursed.
Result<boost::json::value> parse_json(std::string_view text, std::size_t max_depth = 64);

// Parses and requires an object at the top; `what` names it in the error ("lease request").
Result<boost::json::object> parse_json_object(std::string_view text, std::string_view what);

// Serialises compactly (no whitespace), keys in insertion order; numbers in their shortest
// exact form ("2", "0.5", "1e+21"), non-finite numbers as null.
std::string to_json(const boost::json::value& v);
std::string to_json(const boost::json::object& o);
std::string to_json(const boost::json::array& a);

// Canonical bytes for signing: object keys sorted by their UTF-8 bytes, no whitespace,
// to_json's number and string formatting. Both signer and verifier use this function.
std::string canonical_json(const boost::json::value& v);
// Appends canonical_json(o) to `out`, so a caller can sign the bytes where they will be sent.
void append_canonical_json(std::string& out, const boost::json::object& o);
// canonical_json(o) as if o had no member named `key`, without copying o.
std::string canonical_json_without(const boost::json::object& o, std::string_view key);

// Reads typed fields from an object. The first problem is kept and later reads return
// defaults, so a parser reads every field and then checks ok() once:
//
//   JsonFields f(obj, "lease request");
//   auto max = f.integer("max", 1, 256, 1);
//   if (!f.ok()) return f.error();
class JsonFields {
 public:
  JsonFields(const boost::json::object& obj, std::string what) : obj_(obj), what_(std::move(what)) {}

  bool ok() const noexcept { return !error_.has_value(); }
  const Error& error() const { return *error_; }
  bool has(std::string_view key) const;

  // Required string of at most `max_len` bytes (UTF-8 as sent).
  std::string string(std::string_view key, std::size_t max_len = 4096);
  // Optional string; `fallback` when absent or null.
  std::string string_or(std::string_view key, std::string fallback, std::size_t max_len = 4096);
  // Required integer in [min, max].
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max);
  // Optional integer in [min, max]; `fallback` when absent or null.
  std::int64_t integer_or(std::string_view key, std::int64_t min, std::int64_t max, std::int64_t fallback);
  // Optional number in [min, max] (integers accepted).
  double number_or(std::string_view key, double min, double max, double fallback);
  bool boolean_or(std::string_view key, bool fallback);
  // Required array of at most `max_items`; an empty array when the field failed.
  const boost::json::array& array(std::string_view key, std::size_t max_items);
  // Optional array; empty when absent or null.
  const boost::json::array& array_or_empty(std::string_view key, std::size_t max_items);
  // Required object.
  const boost::json::object& object(std::string_view key);
  // Optional array of strings, each at most `max_len` bytes.
  std::vector<std::string> strings_or_empty(std::string_view key, std::size_t max_items, std::size_t max_len);

  // Records a problem found by the caller's own check (kept only if it is the first).
  void fail(std::string_view key, std::string_view problem);

 private:
  const boost::json::value* find(std::string_view key, bool required);

  const boost::json::object& obj_;
  std::string what_;
  std::optional<Error> error_;
};

}  // namespace meadow
