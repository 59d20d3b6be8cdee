#include "common/charset.h"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>

#include "common/text.h"

namespace meadow::charset {
namespace {

struct Encoding {
  const char* name;   // canonical (WHATWG) name
  const char* iconv;  // glibc iconv name; nullptr for UTF-8, which is decoded here
  std::size_t unit;   // bytes skipped after an invalid sequence
};

// clang-format off
enum Enc : std::uint8_t {
  kUtf8, kWindows1252, kUtf16le, kUtf16be, kIbm866, kIso2, kIso3, kIso4, kIso5, kIso6, kIso7,
  kIso8, kIso8i, kIso10, kIso13, kIso14, kIso15, kIso16, kKoi8r, kKoi8u, kMacintosh,
  kWindows874, kWindows1250, kWindows1251, kWindows1253, kWindows1254, kWindows1255,
  kWindows1256, kWindows1257, kWindows1258, kGbk, kGb18030, kBig5, kEucJp, kIso2022jp,
  kShiftJis, kEucKr, kEncodingCount
};
// clang-format on

// The WHATWG decoders are supersets of the plain IANA charsets in several places: shift_jis is
// Microsoft's CP932 (0x5C is a backslash, not a yen sign), euc-kr is CP949, gbk decodes as
// GB18030 and big5 includes HKSCS. The iconv names below pick those supersets.
constexpr std::array<Encoding, kEncodingCount> kEncodings = {{
    {"utf-8", nullptr, 1},
    {"windows-1252", "CP1252", 1},
    {"utf-16le", "UTF-16LE", 2},
    {"utf-16be", "UTF-16BE", 2},
    {"ibm866", "IBM866", 1},
    {"iso-8859-2", "ISO-8859-2", 1},
    {"iso-8859-3", "ISO-8859-3", 1},
    {"iso-8859-4", "ISO-8859-4", 1},
    {"iso-8859-5", "ISO-8859-5", 1},
    {"iso-8859-6", "ISO-8859-6", 1},
    {"iso-8859-7", "ISO-8859-7", 1},
    {"iso-8859-8", "ISO-8859-8", 1},
    {"iso-8859-8-i", "ISO-8859-8", 1},
    {"iso-8859-10", "ISO-8859-10", 1},
    {"iso-8859-13", "ISO-8859-13", 1},
    {"iso-8859-14", "ISO-8859-14", 1},
    {"iso-8859-15", "ISO-8859-15", 1},
    {"iso-8859-16", "ISO-8859-16", 1},
    {"koi8-r", "KOI8-R", 1},
    {"koi8-u", "KOI8-U", 1},
    {"macintosh", "MACINTOSH", 1},
    {"windows-874", "WINDOWS-874", 1},
    {"windows-1250", "CP1250", 1},
    {"windows-1251", "CP1251", 1},
    {"windows-1253", "CP1253", 1},
    {"windows-1254", "CP1254", 1},
    {"windows-1255", "CP1255", 1},
    {"windows-1256", "CP1256", 1},
    {"windows-1257", "CP1257", 1},
    {"windows-1258", "CP1258", 1},
    {"gbk", "GB18030", 1},
    {"gb18030", "GB18030", 1},
    {"big5", "BIG5-HKSCS", 1},
    {"euc-jp", "EUC-JP", 1},
    {"iso-2022-jp", "ISO-2022-JP", 1},
    {"shift_jis", "CP932", 1},
    {"euc-kr", "CP949", 1},
}};

struct Label {
  std::string_view label;
  Enc enc;
};

// The labels of the WHATWG Encoding standard for the encodings above.
// clang-format off
constexpr Label kLabels[] = {
    {"unicode-1-1-utf-8", kUtf8}, {"unicode11utf8", kUtf8}, {"unicode20utf8", kUtf8},
    {"utf-8", kUtf8}, {"utf8", kUtf8}, {"x-unicode20utf8", kUtf8},
    {"866", kIbm866}, {"cp866", kIbm866}, {"csibm866", kIbm866}, {"ibm866", kIbm866},
    {"csisolatin2", kIso2}, {"iso-8859-2", kIso2}, {"iso-ir-101", kIso2}, {"iso8859-2", kIso2},
    {"iso88592", kIso2}, {"iso_8859-2", kIso2}, {"iso_8859-2:1987", kIso2}, {"l2", kIso2},
    {"latin2", kIso2},
    {"csisolatin3", kIso3}, {"iso-8859-3", kIso3}, {"iso-ir-109", kIso3}, {"iso8859-3", kIso3},
    {"iso88593", kIso3}, {"iso_8859-3", kIso3}, {"iso_8859-3:1988", kIso3}, {"l3", kIso3},
    {"latin3", kIso3},
    {"csisolatin4", kIso4}, {"iso-8859-4", kIso4}, {"iso-ir-110", kIso4}, {"iso8859-4", kIso4},
    {"iso88594", kIso4}, {"iso_8859-4", kIso4}, {"iso_8859-4:1988", kIso4}, {"l4", kIso4},
    {"latin4", kIso4},
    {"csisolatincyrillic", kIso5}, {"cyrillic", kIso5}, {"iso-8859-5", kIso5},
    {"iso-ir-144", kIso5}, {"iso8859-5", kIso5}, {"iso88595", kIso5}, {"iso_8859-5", kIso5},
    {"iso_8859-5:1988", kIso5},
    {"arabic", kIso6}, {"asmo-708", kIso6}, {"csiso88596e", kIso6}, {"csiso88596i", kIso6},
    {"csisolatinarabic", kIso6}, {"ecma-114", kIso6}, {"iso-8859-6", kIso6},
    {"iso-8859-6-e", kIso6}, {"iso-8859-6-i", kIso6}, {"iso-ir-127", kIso6}, {"iso8859-6", kIso6},
    {"iso88596", kIso6}, {"iso_8859-6", kIso6}, {"iso_8859-6:1987", kIso6},
    {"csisolatingreek", kIso7}, {"ecma-118", kIso7}, {"elot_928", kIso7}, {"greek", kIso7},
    {"greek8", kIso7}, {"iso-8859-7", kIso7}, {"iso-ir-126", kIso7}, {"iso8859-7", kIso7},
    {"iso88597", kIso7}, {"iso_8859-7", kIso7}, {"iso_8859-7:1987", kIso7},
    {"sun_eu_greek", kIso7},
    {"csiso88598e", kIso8}, {"csisolatinhebrew", kIso8}, {"hebrew", kIso8}, {"iso-8859-8", kIso8},
    {"iso-8859-8-e", kIso8}, {"iso-ir-138", kIso8}, {"iso8859-8", kIso8}, {"iso88598", kIso8},
    {"iso_8859-8", kIso8}, {"iso_8859-8:1988", kIso8}, {"visual", kIso8},
    {"csiso88598i", kIso8i}, {"iso-8859-8-i", kIso8i}, {"logical", kIso8i},
    {"csisolatin6", kIso10}, {"iso-8859-10", kIso10}, {"iso-ir-157", kIso10},
    {"iso8859-10", kIso10}, {"iso885910", kIso10}, {"l6", kIso10}, {"latin6", kIso10},
    {"iso-8859-13", kIso13}, {"iso8859-13", kIso13}, {"iso885913", kIso13},
    {"iso-8859-14", kIso14}, {"iso8859-14", kIso14}, {"iso885914", kIso14},
    {"csisolatin9", kIso15}, {"iso-8859-15", kIso15}, {"iso8859-15", kIso15},
    {"iso885915", kIso15}, {"iso_8859-15", kIso15}, {"l9", kIso15},
    {"iso-8859-16", kIso16},
    {"cskoi8r", kKoi8r}, {"koi", kKoi8r}, {"koi8", kKoi8r}, {"koi8-r", kKoi8r}, {"koi8_r", kKoi8r},
    {"koi8-ru", kKoi8u}, {"koi8-u", kKoi8u},
    {"csmacintosh", kMacintosh}, {"mac", kMacintosh}, {"macintosh", kMacintosh},
    {"x-mac-roman", kMacintosh},
    {"dos-874", kWindows874}, {"iso-8859-11", kWindows874}, {"iso8859-11", kWindows874},
    {"iso885911", kWindows874}, {"tis-620", kWindows874}, {"windows-874", kWindows874},
    {"cp1250", kWindows1250}, {"windows-1250", kWindows1250}, {"x-cp1250", kWindows1250},
    {"cp1251", kWindows1251}, {"windows-1251", kWindows1251}, {"x-cp1251", kWindows1251},
    {"ansi_x3.4-1968", kWindows1252}, {"ascii", kWindows1252}, {"cp1252", kWindows1252},
    {"cp819", kWindows1252}, {"csisolatin1", kWindows1252}, {"ibm819", kWindows1252},
    {"iso-8859-1", kWindows1252}, {"iso-ir-100", kWindows1252}, {"iso8859-1", kWindows1252},
    {"iso88591", kWindows1252}, {"iso_8859-1", kWindows1252}, {"iso_8859-1:1987", kWindows1252},
    {"l1", kWindows1252}, {"latin1", kWindows1252}, {"us-ascii", kWindows1252},
    {"windows-1252", kWindows1252}, {"x-cp1252", kWindows1252},
    {"cp1253", kWindows1253}, {"windows-1253", kWindows1253}, {"x-cp1253", kWindows1253},
    {"cp1254", kWindows1254}, {"csisolatin5", kWindows1254}, {"iso-8859-9", kWindows1254},
    {"iso-ir-148", kWindows1254}, {"iso8859-9", kWindows1254}, {"iso88599", kWindows1254},
    {"iso_8859-9", kWindows1254}, {"iso_8859-9:1989", kWindows1254}, {"l5", kWindows1254},
    {"latin5", kWindows1254}, {"windows-1254", kWindows1254}, {"x-cp1254", kWindows1254},
    {"cp1255", kWindows1255}, {"windows-1255", kWindows1255}, {"x-cp1255", kWindows1255},
    {"cp1256", kWindows1256}, {"windows-1256", kWindows1256}, {"x-cp1256", kWindows1256},
    {"cp1257", kWindows1257}, {"windows-1257", kWindows1257}, {"x-cp1257", kWindows1257},
    {"cp1258", kWindows1258}, {"windows-1258", kWindows1258}, {"x-cp1258", kWindows1258},
    {"chinese", kGbk}, {"csgb2312", kGbk}, {"csiso58gb231280", kGbk}, {"gb2312", kGbk},
    {"gb_2312", kGbk}, {"gb_2312-80", kGbk}, {"gbk", kGbk}, {"iso-ir-58", kGbk}, {"x-gbk", kGbk},
    {"gb18030", kGb18030},
    {"big5", kBig5}, {"big5-hkscs", kBig5}, {"cn-big5", kBig5}, {"csbig5", kBig5},
    {"x-x-big5", kBig5},
    {"cseucpkdfmtjapanese", kEucJp}, {"euc-jp", kEucJp}, {"x-euc-jp", kEucJp},
    {"csiso2022jp", kIso2022jp}, {"iso-2022-jp", kIso2022jp},
    {"csshiftjis", kShiftJis}, {"ms932", kShiftJis}, {"ms_kanji", kShiftJis},
    {"shift-jis", kShiftJis}, {"shift_jis", kShiftJis}, {"sjis", kShiftJis},
    {"windows-31j", kShiftJis}, {"x-sjis", kShiftJis},
    {"cseuckr", kEucKr}, {"csksc56011987", kEucKr}, {"euc-kr", kEucKr}, {"iso-ir-149", kEucKr},
    {"korean", kEucKr}, {"ks_c_5601-1987", kEucKr}, {"ks_c_5601-1989", kEucKr},
    {"ksc5601", kEucKr}, {"ksc_5601", kEucKr}, {"windows-949", kEucKr},
    {"csunicode", kUtf16le}, {"iso-10646-ucs-2", kUtf16le}, {"ucs-2", kUtf16le},
    {"unicode", kUtf16le}, {"unicodefeff", kUtf16le}, {"utf-16", kUtf16le},
    {"utf-16le", kUtf16le},
    {"unicodefffe", kUtf16be}, {"utf-16be", kUtf16be},
};
// clang-format on

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

using text::ascii_lower;
using text::iequals;
using text::is_space;
using text::trim;

std::optional<Enc> lookup(std::string_view label) {
  label = trim(label);
  if (label.empty() || label.size() > 32) return std::nullopt;
  const std::string lower = ascii_lower(label);
  for (const auto& entry : kLabels)
    if (entry.label == lower) return entry.enc;
  return std::nullopt;
}

std::optional<Enc> lookup_name(std::string_view name) {
  for (std::size_t i = 0; i < kEncodings.size(); ++i)
    if (name == kEncodings[i].name) return static_cast<Enc>(i);
  return std::nullopt;
}


// Number of leading ASCII bytes of s[i..], read eight at a time.
std::size_t ascii_run(std::string_view s, std::size_t i) {
  const std::size_t start = i;
  while (i + 8 <= s.size()) {
    std::uint64_t word;
    std::copy_n(s.data() + i, 8, reinterpret_cast<char*>(&word));
    if (word & 0x8080808080808080ULL) break;
    i += 8;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i - start;
}

std::string utf8_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t run = ascii_run(s, i);
    out.append(s.substr(i, run));
    i += run;
    if (i >= s.size()) break;
    std::size_t bad = 0;
    const std::size_t len = utf8_sequence_length(s, i, &bad);
    if (len > 0) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append(kReplacement);
      i += bad;
    }
  }
  return out;
}

struct IconvClose {
  void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
};
using IconvHandle = std::unique_ptr<void, IconvClose>;

// Decodes with iconv; nullopt when glibc cannot convert from `enc` at all.
std::optional<std::string> iconv_to_utf8(std::string_view bytes, const Encoding& enc) {
  const iconv_t raw = iconv_open("UTF-8", enc.iconv);
  if (reinterpret_cast<std::intptr_t>(raw) == -1) return std::nullopt;  // iconv_open's (iconv_t)-1
  const IconvHandle cd(raw);

  std::string out;
  out.resize(bytes.size() + bytes.size() / 2 + 16);
  std::size_t used = 0;
  // iconv's prototype takes char** for its input, though it never writes through it.
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  for (;;) {
    char* out_ptr = out.data() + used;
    std::size_t out_left = out.size() - used;
    const std::size_t r =
        iconv(static_cast<iconv_t>(cd.get()), in_left > 0 ? &in : nullptr, &in_left, &out_ptr, &out_left);
    const int error = errno;
    used = static_cast<std::size_t>(out_ptr - out.data());
    if (r != static_cast<std::size_t>(-1)) break;
    if (error == E2BIG) {
      out.resize(out.size() * 2 + 16);
      continue;
    }
    // EILSEQ: an invalid sequence; EINVAL: one cut off by the end of the input.
    if (out.size() - used < kReplacement.size()) out.resize(out.size() * 2 + 16);
    out.replace(used, kReplacement.size(), kReplacement);
    used += kReplacement.size();
    if (error != EILSEQ) break;
    const std::size_t skip = std::min(enc.unit, in_left);
    in += skip;
    in_left -= skip;
    if (in_left == 0) break;
  }
  out.resize(used);
  return out;
}

std::string ascii_only(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    if (static_cast<unsigned char>(c) < 0x80)
      out += c;
    else
      out.append(kReplacement);
  }
  return out;
}

// --- the HTML prescan for <meta> (WHATWG HTML "prescan a byte stream") ---------------------

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool starts_with_ci(std::string_view s, std::size_t pos, std::string_view prefix) {
  return s.size() - std::min(pos, s.size()) >= prefix.size() && iequals(s.substr(pos, prefix.size()), prefix);
}

struct Attribute {
  std::string name;
  std::string value;
};

// Reads the next attribute at `pos`, lower-casing name and value; nullopt at the end of the tag
// (pos then at the '>') or of the input.
std::optional<Attribute> next_attribute(std::string_view s, std::size_t& pos) {
  while (pos < s.size() && (is_space(s[pos]) || s[pos] == '/')) ++pos;
  if (pos >= s.size() || s[pos] == '>') return std::nullopt;
  Attribute attr;
  if (s[pos] == '=') attr.name += s[pos++];
  for (;;) {
    if (pos >= s.size()) return std::nullopt;
    const char c = s[pos];
    if (c == '=' && !attr.name.empty()) {
      ++pos;
      break;
    }
    if (is_space(c)) {
      while (pos < s.size() && is_space(s[pos])) ++pos;
      if (pos >= s.size() || s[pos] != '=') return attr;
      ++pos;
      break;
    }
    if (c == '/' || c == '>') return attr;
    attr.name += ascii_lower(c);
    ++pos;
  }
  while (pos < s.size() && is_space(s[pos])) ++pos;
  if (pos >= s.size()) return std::nullopt;
  if (s[pos] == '"' || s[pos] == '\'') {
    const char quote = s[pos++];
    const std::size_t end = s.find(quote, pos);
    if (end == std::string_view::npos) return std::nullopt;
    for (std::size_t i = pos; i < end; ++i) attr.value += ascii_lower(s[i]);
    pos = end + 1;
    return attr;
  }
  if (s[pos] == '>') return attr;
  while (pos < s.size() && !is_space(s[pos]) && s[pos] != '>') attr.value += ascii_lower(s[pos++]);
  return attr;
}

// The label in a meta content value such as "text/html; charset=Shift_JIS"
// (WHATWG HTML "extracting a character encoding from a meta element").
std::string_view charset_in_content(std::string_view s) {
  std::size_t pos = 0;
  for (;;) {
    std::size_t at = std::string_view::npos;
    for (std::size_t i = pos; i + 7 <= s.size(); ++i)
      if (iequals(s.substr(i, 7), "charset")) {
        at = i;
        break;
      }
    if (at == std::string_view::npos) return {};
    pos = at + 7;
    while (pos < s.size() && is_space(s[pos])) ++pos;
    if (pos >= s.size()) return {};
    if (s[pos] != '=') continue;
    ++pos;
    while (pos < s.size() && is_space(s[pos])) ++pos;
    if (pos >= s.size()) return {};
    if (s[pos] == '"' || s[pos] == '\'') {
      const char quote = s[pos];
      const std::size_t end = s.find(quote, pos + 1);
      if (end == std::string_view::npos) return {};
      return s.substr(pos + 1, end - pos - 1);
    }
    std::size_t end = pos;
    while (end < s.size() && !is_space(s[end]) && s[end] != ';') ++end;
    return s.substr(pos, end - pos);
  }
}

// The canonical name a <meta> whose attributes start at `pos` declares, or "" (also when the
// declaration is unusable). Leaves `pos` at the end of the tag.
std::string meta_declaration(std::string_view s, std::size_t& pos) {
  bool seen_http_equiv = false, seen_content = false, seen_charset = false;
  bool got_pragma = false;
  enum class Need { none, pragma, no_pragma } need = Need::none;
  std::string label;
  while (auto attr = next_attribute(s, pos)) {
    if (attr->name == "http-equiv") {
      if (seen_http_equiv) continue;
      seen_http_equiv = true;
      if (attr->value == "content-type") got_pragma = true;
    } else if (attr->name == "content") {
      if (seen_content) continue;
      seen_content = true;
      if (label.empty()) {
        const auto found = charset_in_content(attr->value);
        if (!found.empty()) {
          label = std::string(found);
          need = Need::pragma;
        }
      }
    } else if (attr->name == "charset") {
      if (seen_charset) continue;
      seen_charset = true;
      label = attr->value;
      need = Need::no_pragma;
    }
  }
  if (need == Need::none || (need == Need::pragma && !got_pragma)) return {};
  const auto enc = lookup(label);
  if (!enc) return {};
  // A meta that could be read as ASCII rules out UTF-16 for the bytes around it.
  if (*enc == kUtf16le || *enc == kUtf16be) return kEncodings[kUtf8].name;
  return kEncodings[*enc].name;
}

}  // namespace

const char* to_string(Source source) noexcept {
  switch (source) {
    case Source::bom:
      return "bom";
    case Source::header:
      return "header";
    case Source::meta:
      return "meta";
    case Source::utf8_valid:
      return "utf8-valid";
    case Source::fallback:
      return "fallback";
  }
  return "fallback";
}

std::string canonical_name(std::string_view label) {
  const auto enc = lookup(label);
  return enc ? kEncodings[*enc].name : "";
}

std::string_view content_type_charset(std::string_view content_type) {
  std::size_t pos = content_type.find(';');
  while (pos != std::string_view::npos) {
    std::size_t next = pos + 1;
    // Find the end of this parameter, stepping over a quoted value that may hold a ';'.
    std::size_t end = next;
    bool quoted = false;
    while (end < content_type.size() && (quoted || content_type[end] != ';')) {
      if (content_type[end] == '"') quoted = !quoted;
      ++end;
    }
    const std::string_view param = trim(content_type.substr(next, end - next));
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && iequals(trim(param.substr(0, eq)), "charset")) {
      std::string_view value = trim(param.substr(eq + 1));
      if (!value.empty() && value.front() == '"') {
        value.remove_prefix(1);
        const std::size_t close = value.find('"');
        if (close != std::string_view::npos) value = value.substr(0, close);
      }
      return trim(value);
    }
    pos = end < content_type.size() ? end : std::string_view::npos;
  }
  return {};
}

std::string meta_charset(std::string_view head) {
  const std::string_view s = head;
  std::size_t pos = 0;
  while (pos < s.size()) {
    if (s[pos] != '<') {
      const std::size_t lt = s.find('<', pos);
      if (lt == std::string_view::npos) break;
      pos = lt;
      continue;
    }
    if (s.compare(pos, 4, "<!--") == 0) {
      const std::size_t end = s.find("-->", pos + 2);
      if (end == std::string_view::npos) break;
      pos = end + 3;
      continue;
    }
    if (starts_with_ci(s, pos, "<meta") && pos + 5 < s.size() && (is_space(s[pos + 5]) || s[pos + 5] == '/')) {
      pos += 5;
      auto name = meta_declaration(s, pos);
      if (!name.empty()) return name;
      continue;
    }
    const bool end_tag = pos + 1 < s.size() && s[pos + 1] == '/';
    const std::size_t name_at = pos + (end_tag ? 2 : 1);
    if (name_at < s.size() && is_alpha(s[name_at])) {
      pos = name_at;
      while (pos < s.size() && !is_space(s[pos]) && s[pos] != '>') ++pos;
      while (next_attribute(s, pos)) {
      }
      ++pos;
      continue;
    }
    if (pos + 1 < s.size() && (s[pos + 1] == '!' || s[pos + 1] == '/' || s[pos + 1] == '?')) {
      const std::size_t gt = s.find('>', pos + 1);
      if (gt == std::string_view::npos) break;
      pos = gt + 1;
      continue;
    }
    ++pos;
  }
  return {};
}

std::size_t utf8_sequence_length(std::string_view s, std::size_t i, std::size_t* bad) noexcept {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return 1;
  std::size_t need = 0;
  unsigned char lower = 0x80;
  unsigned char upper = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    need = 1;
  } else if (b >= 0xE0 && b <= 0xEF) {
    need = 2;
    if (b == 0xE0) lower = 0xA0;
    if (b == 0xED) upper = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    need = 3;
    if (b == 0xF0) lower = 0x90;
    if (b == 0xF4) upper = 0x8F;
  } else {
    if (bad != nullptr) *bad = 1;
    return 0;
  }
  std::size_t j = i + 1;
  for (std::size_t k = 0; k < need; ++k, ++j) {
    if (j >= s.size()) {
      if (bad != nullptr) *bad = j - i;
      return 0;
    }
    const auto c = static_cast<unsigned char>(s[j]);
    if (c < lower || c > upper) {
      if (bad != nullptr) *bad = j - i;
      return 0;
    }
    lower = 0x80;
    upper = 0xBF;
  }
  return need + 1;
}

bool is_valid_utf8(std::string_view bytes) noexcept {
  std::size_t i = 0;
  while (i < bytes.size()) {
    i += ascii_run(bytes, i);
    if (i >= bytes.size()) break;
    std::size_t bad = 0;
    const std::size_t len = utf8_sequence_length(bytes, i, &bad);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

Detection detect(std::string_view body, std::string_view content_type) {
  if (body.starts_with("\xEF\xBB\xBF")) return {"utf-8", Source::bom, 3};
  if (body.starts_with("\xFE\xFF")) return {"utf-16be", Source::bom, 2};
  if (body.starts_with("\xFF\xFE")) return {"utf-16le", Source::bom, 2};
  if (auto name = canonical_name(content_type_charset(content_type)); !name.empty())
    return {std::move(name), Source::header, 0};
  if (auto name = meta_charset(body.substr(0, kPrescanBytes)); !name.empty()) return {std::move(name), Source::meta, 0};
  if (is_valid_utf8(body)) return {"utf-8", Source::utf8_valid, 0};
  return {"windows-1252", Source::fallback, 0};
}

std::string to_utf8(std::string_view bytes, std::string_view name) {
  const Enc enc = lookup_name(name).value_or(kWindows1252);
  if (enc == kUtf8) return utf8_to_utf8(bytes);
  if (auto out = iconv_to_utf8(bytes, kEncodings[enc])) return std::move(*out);
  if (enc != kWindows1252)
    if (auto out = iconv_to_utf8(bytes, kEncodings[kWindows1252])) return std::move(*out);
  return ascii_only(bytes);
}

Decoded decode(std::string_view body, std::string_view content_type) {
  Detection d = detect(body, content_type);
  const std::string_view bytes = body.substr(d.bom_bytes);
  Decoded out;
  out.source = d.source;
  const Enc enc = lookup_name(d.name).value_or(kWindows1252);
  if (enc == kUtf8) {
    out.text = utf8_to_utf8(bytes);
    out.charset = std::move(d.name);
    return out;
  }
  if (auto text = iconv_to_utf8(bytes, kEncodings[enc])) {
    out.text = std::move(*text);
    out.charset = std::move(d.name);
    return out;
  }
  // This glibc lacks the converter (a trimmed gconv install): read the bytes as windows-1252
  // and say so, rather than naming an encoding that was not used.
  out.charset = kEncodings[kWindows1252].name;
  out.source = Source::fallback;
  out.text = to_utf8(bytes, out.charset);
  return out;
}

}  // namespace meadow::charset
