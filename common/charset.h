// Character encodings of fetched pages: which encoding a body is in, and its text as UTF-8.
//
// The decision follows browsers (WHATWG Encoding and HTML "determining the character
// encoding"), in this order:
//   1. a byte order mark (UTF-8, UTF-16LE, UTF-16BE) — it wins even over the HTTP header;
//   2. the charset parameter of the Content-Type header;
//   3. <meta charset> or <meta http-equiv=Content-Type content="...charset=..."> in the first
//      kPrescanBytes of the body;
//   4. utf-8 when the whole body is valid UTF-8, else windows-1252.
// A label nobody knows is skipped and the next step decides. Labels are read as the WHATWG
// Encoding standard reads them, so "iso-8859-1", "latin1" and "us-ascii" mean windows-1252,
// "sjis" means shift_jis, and a <meta> naming UTF-16 means utf-8 (the meta was readable as
// ASCII, so the body is not UTF-16).
//
// Conversion uses glibc iconv for everything but UTF-8 (checked and copied here). Bytes that
// are invalid in the chosen encoding become U+FFFD; no input makes these functions fail,
// throw or read out of bounds. All functions are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace meadow::charset {

// How far into the body <meta> charset declarations are looked for.
inline constexpr std::size_t kPrescanBytes = 4096;

// Which rule chose the encoding.
enum class Source : std::uint8_t { bom, header, meta, utf8_valid, fallback };

const char* to_string(Source source) noexcept;

struct Detection {
  std::string name;  // canonical lower-case name, as canonical_name() returns
  Source source = Source::fallback;
  std::size_t bom_bytes = 0;  // length of the byte order mark at the start of the body, if any
};

// The canonical lower-case name ("utf-8", "windows-1252", "shift_jis", "euc-kr", "gbk", ...)
// for an encoding label, ignoring ASCII case and surrounding whitespace; "" for a label this
// module cannot decode.
std::string canonical_name(std::string_view label);

// The charset parameter of a Content-Type value ("text/html; charset=\"Shift_JIS\"" gives
// "Shift_JIS"), unquoted but otherwise as written; "" when there is none.
std::string_view content_type_charset(std::string_view content_type);

// The canonical name of the encoding the first usable <meta> in `head` declares (the HTML
// prescan: comments and other tags' attribute values are skipped, so a "charset=" inside them
// does not count; a meta with an unknown label is passed over); "" when none is found.
std::string meta_charset(std::string_view head);

// True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view bytes) noexcept;

// The length of the well-formed UTF-8 sequence at s[i] (1 for an ASCII byte), or 0 when the
// bytes there are not one; then `*bad`, when given, is the length of the maximal ill-formed
// prefix (at least 1), which a decoder turns into one U+FFFD as the WHATWG decoder does.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i, std::size_t* bad = nullptr) noexcept;

// Decides the encoding of `body` as described at the top of this file.
Detection detect(std::string_view body, std::string_view content_type);

// `bytes` (without a byte order mark) decoded from the encoding `name` (a canonical name) to
// UTF-8. Invalid or truncated sequences become U+FFFD. An unknown name decodes as
// windows-1252.
std::string to_utf8(std::string_view bytes, std::string_view name);

struct Decoded {
  std::string text;     // UTF-8
  std::string charset;  // canonical name of the encoding used
  Source source = Source::fallback;
};

// detect() then to_utf8(), with the byte order mark removed.
Decoded decode(std::string_view body, std::string_view content_type);

}  // namespace meadow::charset
