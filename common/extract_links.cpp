#include "common/extract_links.h"

#include <algorithm>
#include <array>
#include <unordered_map>

namespace meadow::extract {
namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The characters RFC 3986 allows literally somewhere in a URI (common/url.cpp refuses others).
constexpr std::array<bool, 256> kUriChars = [] {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (const char c : std::string_view("-._~:/?#[]@!$&'()*+,;=%")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool is_uri_char(char c) { return kUriChars[static_cast<unsigned char>(c)]; }

void percent_encode(std::string& out, char c) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  const auto b = static_cast<unsigned char>(c);
  out += '%';
  out += kDigits[b >> 4];
  out += kDigits[b & 15];
}

// The length of the scheme `s` starts with ("http" of "http://..."), else 0.
std::size_t scheme_length(std::string_view s) {
  if (s.empty() || !is_alpha(s[0])) return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ':') return i;
    if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

// Where the authority of `s` starts: after "scheme://" or a leading "//"; npos when it has none.
std::size_t authority_start(std::string_view s) {
  if (s.starts_with("//") || s.starts_with("\\\\")) return 2;
  const std::size_t scheme = scheme_length(s);
  if (scheme > 0 && s.compare(scheme + 1, 2, "//") == 0) return scheme + 3;
  return std::string_view::npos;
}

}  // namespace

std::string escape_href(std::string_view href) {
  while (!href.empty() && static_cast<unsigned char>(href.front()) <= 0x20) href.remove_prefix(1);
  while (!href.empty() && static_cast<unsigned char>(href.back()) <= 0x20) href.remove_suffix(1);
  const std::size_t auth_begin = authority_start(href);
  const std::size_t auth_end =
      auth_begin == std::string_view::npos ? auth_begin : href.find_first_of("/\\?#", auth_begin);
  std::string out;
  out.reserve(href.size() + 8);
  bool in_query = false, in_fragment = false;
  for (std::size_t i = 0; i < href.size(); ++i) {
    const char c = href[i];
    if (c == '\t' || c == '\n' || c == '\r') continue;
    const bool in_authority = auth_begin != std::string_view::npos && i >= auth_begin && i < auth_end;
    if (c == '\\' && !in_query && !in_fragment) {
      out += '/';
    } else if (c == '?' && !in_fragment) {
      in_query = true;
      out += c;
    } else if (c == '#') {
      if (in_fragment)
        percent_encode(out, c);
      else
        out += c;
      in_fragment = true;
    } else if (c == '%') {
      if (i + 2 < href.size() && is_hex(href[i + 1]) && is_hex(href[i + 2]))
        out += c;
      else
        percent_encode(out, c);
    } else if (is_uri_char(c) && (in_authority || (c != '[' && c != ']'))) {
      out += c;
    } else {
      percent_encode(out, c);
    }
  }
  return out;
}

namespace {

// The target of `ref` against `base` before normalisation (RFC 3986 5.2.2, with the merge of
// 5.2.3); url::parse then removes dot segments and normalises. This is url::resolve without
// its re-parse of the base for every reference, which on link-heavy pages cost more than the
// rest of the extraction.
std::string merge_reference(const url::Url& base, std::string_view ref) {
  if (scheme_length(ref) > 0) return std::string(ref);
  std::string out = base.scheme + ":";
  if (ref.starts_with("//")) return out.append(ref);
  out += "//";
  if (base.host.find(':') != std::string::npos)
    out.append("[").append(base.host).append("]");
  else
    out += base.host;
  out.append(":").append(std::to_string(base.port));
  if (ref.starts_with('/')) return out.append(ref);
  if (ref.empty() || ref.front() == '#') return out.append(base.path_and_query).append(ref);
  const std::string_view path = std::string_view(base.path_and_query).substr(0, base.path_and_query.find('?'));
  if (ref.front() == '?') return out.append(path).append(ref);
  return out.append(path.substr(0, path.rfind('/') + 1)).append(ref);
}

}  // namespace

std::optional<url::Url> resolve_href(const url::Url* base, std::string_view href) {
  const std::string escaped = escape_href(href);
  auto r = url::parse(base != nullptr ? merge_reference(*base, escaped) : escaped);
  if (!r.ok()) return std::nullopt;
  return std::move(r).value();
}

std::vector<Link> resolve_links(const std::vector<RawLink>& raw, const url::Url* base, std::string_view page_site,
                                std::size_t max_links) {
  std::vector<Link> links;
  links.reserve(std::min(raw.size(), max_links));
  std::unordered_map<std::string, std::size_t> index;
  for (const RawLink& r : raw) {
    if (links.size() >= max_links) break;
    std::string_view href = r.href;
    while (!href.empty() && static_cast<unsigned char>(href.front()) <= 0x20) href.remove_prefix(1);
    // An empty or fragment-only href names the page itself, not a page to crawl.
    if (href.empty() || href.front() == '#') continue;
    auto u = resolve_href(base, href);
    if (!u) continue;
    const auto [it, inserted] = index.try_emplace(u->normalized, links.size());
    if (!inserted) {
      if (links[it->second].text.empty()) links[it->second].text = r.text;
      continue;
    }
    const bool internal = !page_site.empty() && u->site == page_site;
    links.push_back(Link{std::move(u->normalized), r.text, internal});
  }
  return links;
}

}  // namespace meadow::extract
