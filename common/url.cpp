#include "common/url.h"

#include <arpa/inet.h>
#include <libpsl.h>

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <exception>
#include <vector>

namespace meadow::url {
namespace {

namespace bu = boost::urls;

constexpr std::size_t kMaxUrlLength = 8192;
constexpr std::size_t kMaxQuoted = 120;

using V6 = std::array<std::uint8_t, 16>;

// The URL as it may appear in a message: quoted, and cut short when long.
std::string quoted(std::string_view text) {
  if (text.size() <= kMaxQuoted) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, kMaxQuoted)) + "...'";
}

Error bad(std::string code, std::string message) {
  return make_error(ErrorKind::invalid, std::move(code), std::move(message));
}

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool is_uri_char(char c) {
  return is_unreserved(c) ||
         std::string_view(":/?#[]@!$&'()*+,;=%").find(c) != std::string_view::npos;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string hex_byte(unsigned char c) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  return {'%', kDigits[c >> 4], kDigits[c & 15]};
}

// Length, control characters and characters RFC 3986 never allows unencoded.
Status check_characters(std::string_view text) {
  if (text.size() > kMaxUrlLength)
    return bad("url-too-long", "the URL is " + std::to_string(text.size()) +
                                   " characters long, over the limit of " +
                                   std::to_string(kMaxUrlLength) + "; use a shorter URL");
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f)
      return bad("url-control-character", "the URL " + quoted(text) +
                                              " has a control character (byte " + hex_byte(c) +
                                              ") at position " + std::to_string(i) + "; remove it");
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '%' &&
        (i + 2 >= text.size() || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0))
      return bad("bad-url",
                 "the URL " + quoted(text) + " has a '%' at position " + std::to_string(i) +
                     " that is not followed by two hex digits; write a literal '%' as %25");
    if (!is_uri_char(static_cast<char>(c))) {
      const std::string shown =
          c < 0x80 ? "'" + std::string(1, static_cast<char>(c)) + "'" : "a non-ASCII byte";
      return bad("bad-url", "the URL " + quoted(text) + " has " + shown + " at position " +
                                std::to_string(i) + ", which must be percent-encoded (as " +
                                hex_byte(c) + ")");
    }
  }
  return ok_status();
}

// Percent-encoding normalised: unreserved characters decoded, other escapes upper-cased.
// Reserved characters keep their encoded or literal form, which may differ in meaning.
std::string normalize_percent(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      const auto c = static_cast<unsigned char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      if (is_unreserved(static_cast<char>(c)))
        out += static_cast<char>(c);
      else
        out += hex_byte(c);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// RFC 3986 section 5.2.4 for the absolute paths of URLs with an authority.
std::string remove_dot_segments(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
  std::size_t start = 1;
  for (;;) {
    const std::size_t end = path.find('/', start);
    const bool last = end == std::string_view::npos;
    const std::string_view seg = path.substr(start, last ? std::string_view::npos : end - start);
    if (seg == ".") {
      trailing_slash = last;
    } else if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      trailing_slash = last;
    } else {
      segments.push_back(seg);
    }
    if (last) break;
    start = end + 1;
  }
  std::string out;
  for (const auto seg : segments) {
    out += '/';
    out += seg;
  }
  if (out.empty() || trailing_slash) out += '/';
  return out;
}

std::uint16_t default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

// The host of a reg-name: decoded, lower-cased, one trailing dot dropped, checked to be a
// DNS name that no resolver reads as an IPv4 address.
Result<std::string> normalize_name(std::string_view encoded, std::string_view text) {
  std::string host;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      host += static_cast<char>(hex_value(encoded[i + 1]) * 16 + hex_value(encoded[i + 2]));
      i += 2;
    } else {
      host += encoded[i];
    }
  }
  for (char& c : host) c = lower(c);
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty()) return bad("url-no-host", "the URL " + quoted(text) + " has no host name");
  const auto bad_host = [&](const std::string& why) {
    return bad("url-host", "the host of the URL " + quoted(text) + " is not a valid DNS name (" +
                               why + "); write internationalised names in punycode (xn--...)");
  };
  if (host.size() > 253) return bad_host("longer than 253 characters");
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      const std::size_t len = i - label_start;
      if (len == 0) return bad_host("it has an empty label");
      if (len > 63) return bad_host("a label is longer than 63 characters");
      label_start = i + 1;
      continue;
    }
    const char c = host[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return bad_host("only letters, digits, '-', '_' and '.' are allowed");
  }
  // WHATWG URL and inet_aton read a host whose last label is a number ("2130706433",
  // "127.1", "0x7f.1", "0177.0.0.1") as an IPv4 address.
  const std::string_view last = std::string_view(host).substr(host.rfind('.') + 1);
  const bool hex = last.size() >= 2 && last[0] == '0' && last[1] == 'x' &&
                   last.find_first_not_of("0123456789abcdef", 2) == std::string_view::npos;
  const bool decimal = last.find_first_not_of("0123456789") == std::string_view::npos;
  if (hex || decimal)
    return bad("url-numeric-host",
               "the host of the URL " + quoted(text) + " ends in a number, so it can be read as " +
                   "an IP address in a non-standard form; write IPv4 addresses as four decimal " +
                   "numbers (like 93.184.216.34) or use the host name");
  return host;
}

// The length of the scheme when `text` starts with one ("http" of "http://..."), else 0.
std::size_t scheme_length(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == 0 || colon == std::string_view::npos) return 0;
  const char first = lower(text[0]);
  if (first < 'a' || first > 'z') return 0;
  for (std::size_t i = 1; i < colon; ++i) {
    const char c = lower(text[i]);
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
      return 0;
  }
  return colon;
}

// The host and port of an authority. Boost.URL 1.81 reads "1.2.3.4.nip.io" as the IPv4
// address 1.2.3.4 followed by a path, so the authority is split and classified here.
Status parse_authority(std::string_view authority, std::string_view text, Url& out) {
  if (authority.find('@') != std::string_view::npos)
    return bad("url-credentials",
               "the URL " + quoted(text) + " has user info before '@' (a user name or password); " +
                   "remove it: only public pages that need no login can be fetched");
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  bool bracketed = false;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos || (close + 1 < host.size() && host[close + 1] != ':'))
      return bad("bad-url", "the URL " + quoted(text) + " has a malformed [IPv6] host");
    if (close + 1 < host.size()) {
      has_port = true;
      port = host.substr(close + 2);
    }
    host = host.substr(1, close - 1);
    bracketed = true;
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    has_port = true;
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty())
    return bad("url-no-host", "the URL " + quoted(text) + " has no host; write it as " +
                                  out.scheme + "://host/path");
  out.port = default_port(out.scheme);
  if (has_port && !port.empty()) {
    std::uint32_t value = 0;
    for (const char c : port) {
      if (c < '0' || c > '9')
        return bad("url-port", "the URL " + quoted(text) + " has the port '" + std::string(port) +
                                   "', which is not a number");
      value = value * 10 + static_cast<std::uint32_t>(c - '0');
      if (value > 65535) break;
    }
    if (value == 0 || value > 65535)
      return bad("url-port", "the URL " + quoted(text) + " has the port '" + std::string(port) +
                                 "', which is not between 1 and 65535");
    out.port = static_cast<std::uint16_t>(value);
  }
  const std::string h(host);
  if (bracketed) {
    in6_addr addr{};
    char buf[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET6, h.c_str(), &addr) != 1 ||
        inet_ntop(AF_INET6, &addr, buf, sizeof buf) == nullptr)
      return bad("url-host", "the URL " + quoted(text) + " has '[" + h +
                                 "]' as its host, which is not an IPv6 address");
    out.host = buf;
    return ok_status();
  }
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    out.host = h;
    return ok_status();
  }
  MEADOW_ASSIGN(out.host, normalize_name(host, text));
  return ok_status();
}

Result<Url> parse_checked(std::string_view text) {
  MEADOW_TRY(check_characters(text));
  const std::size_t scheme_len = scheme_length(text);
  if (scheme_len == 0)
    return bad("bad-url",
               "the URL " + quoted(text) +
                   " is not absolute; write it in full, starting with https:// or http://");
  Url out;
  for (const char c : text.substr(0, scheme_len)) out.scheme += lower(c);
  if (out.scheme != "http" && out.scheme != "https")
    return bad("url-scheme", "the URL " + quoted(text) + " has the scheme '" + out.scheme +
                                 "'; only http and https URLs can be fetched");
  std::string_view after = text.substr(scheme_len + 1);
  if (!after.starts_with("//"))
    return bad("url-no-host", "the URL " + quoted(text) + " has no host; write it as " +
                                  out.scheme + "://host/path");
  after.remove_prefix(2);
  const std::size_t authority_len = std::min(after.find_first_of("/?#"), after.size());
  MEADOW_TRY(parse_authority(after.substr(0, authority_len), text, out));
  // What follows the authority: the path, then '?' and the query, then '#' and the fragment.
  // check_characters let through only characters RFC 3986 has a use for, with every '%'
  // starting an escape; of those, the path, query and fragment may not hold '[' or ']'
  // (which belong to a host) and the fragment may not hold a second '#'.
  const std::string_view rest = after.substr(authority_len);
  const std::size_t hash = std::min(rest.find('#'), rest.size());
  if (rest.find_first_of("[]") != std::string_view::npos ||
      (hash < rest.size() && rest.find('#', hash + 1) != std::string_view::npos))
    return bad("bad-url", "the URL " + quoted(text) +
                              " has a malformed path or query; percent-encode characters such "
                              "as '[', ']' and '%' that are not part of the syntax");
  const std::string_view path_query = rest.substr(0, hash);
  const std::size_t question = std::min(path_query.find('?'), path_query.size());
  out.path_and_query = remove_dot_segments(normalize_percent(path_query.substr(0, question)));
  if (question < path_query.size())
    out.path_and_query += "?" + normalize_percent(path_query.substr(question + 1));
  const bool v6 = out.host.find(':') != std::string::npos;
  out.normalized = out.scheme + "://" + (v6 ? "[" + out.host + "]" : out.host);
  if (out.port != default_port(out.scheme)) out.normalized += ":" + std::to_string(out.port);
  out.normalized += out.path_and_query;
  if (out.normalized.size() > kMaxUrlLength)
    return bad("url-too-long", "the URL " + quoted(text) + " is over " +
                                   std::to_string(kMaxUrlLength) + " characters once normalised");
  out.site = registrable_domain(out.host);
  return out;
}

// Boost.URL may throw std::bad_alloc or, on a broken invariant, system_error; neither
// may leave this library.
template <class F>
Result<Url> guarded(F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return make_error(ErrorKind::internal, "url-internal",
                      std::string("URL processing failed: ") + e.what());
  }
}

bool v4_forbidden(std::uint32_t a) {
  const auto in = [a](std::uint32_t net, int bits) {
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (a & mask) == net;
  };
  return in(0x00000000, 8) ||   // "this network", unspecified
         in(0x0a000000, 8) ||   // private
         in(0x64400000, 10) ||  // CGNAT
         in(0x7f000000, 8) ||   // loopback
         in(0xa9fe0000, 16) ||  // link-local
         in(0xac100000, 12) ||  // private
         in(0xc0000000, 24) ||  // IETF protocol assignments
         in(0xc0000200, 24) ||  // documentation TEST-NET-1
         in(0xc0586300, 24) ||  // 6to4 relay anycast
         in(0xc0a80000, 16) ||  // private
         in(0xc6120000, 15) ||  // benchmarking
         in(0xc6336400, 24) ||  // documentation TEST-NET-2
         in(0xcb007100, 24) ||  // documentation TEST-NET-3
         in(0xe0000000, 4) ||   // multicast
         in(0xf0000000, 4);     // reserved, broadcast
}

std::uint32_t v4_at(const V6& a, std::size_t i) {
  return (std::uint32_t{a[i]} << 24) | (std::uint32_t{a[i + 1]} << 16) |
         (std::uint32_t{a[i + 2]} << 8) | a[i + 3];
}

bool v6_forbidden(const V6& a) {
  const auto prefix = [&a](std::initializer_list<std::uint8_t> p) {
    std::size_t i = 0;
    for (const auto b : p)
      if (a[i++] != b) return false;
    return true;
  };
  // ::ffff:0:0/96 IPv4-mapped: never a real destination (a resolver answers IPv4 as IPv4), only
  // a way to dress one up. 64:ff9b::/96 NAT64 is how IPv6-only networks reach IPv4 sites, so it
  // is judged by the IPv4 address inside.
  if (prefix({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})) return true;
  if (prefix({0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) return v4_forbidden(v4_at(a, 12));
  // Outside 2000::/3 nothing is global unicast: unspecified, loopback, IPv4-compatible,
  // discard, unique-local, link-local, site-local and multicast all live there.
  if ((a[0] & 0xe0) != 0x20) return true;
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02) return true;  // 2001::/23 IETF protocols
  if (prefix({0x20, 0x01, 0x0d, 0xb8})) return true;             // 2001:db8::/32 documentation
  if (prefix({0x20, 0x02})) return v4_forbidden(v4_at(a, 2));    // 2002::/16 6to4
  if (a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xf0) == 0) return true;  // 3fff::/20 documentation
  return false;
}

std::string_view strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

Result<Url> parse(std::string_view text) {
  return guarded([&] { return parse_checked(text); });
}

Result<Url> parse_public(std::string_view text) {
  MEADOW_ASSIGN(Url u, parse(text));
  if (is_forbidden_ip_literal(u.host))
    return bad("url-private-address",
               "the URL " + quoted(text) + " points at " + u.host +
                   ", a loopback, private, link-local or reserved address that nodes never "
                   "fetch; use a public address or host name");
  if (u.host == "localhost" || (u.host.size() > 10 && u.host.ends_with(".localhost")))
    return bad("url-private-address", "the URL " + quoted(text) + " points at " + u.host +
                                          ", which is the fetching computer itself; use a public "
                                          "host name");
  if (u.port != 80 && u.port != 443)
    return bad("url-port", "the URL " + quoted(text) + " uses port " + std::to_string(u.port) +
                               "; nodes fetch only from ports 80 and 443");
  return u;
}

Result<Url> resolve(const Url& base, std::string_view ref) {
  return guarded([&]() -> Result<Url> {
    constexpr std::string_view kSpace = " \t\n\r\f";
    ref.remove_prefix(std::min(ref.find_first_not_of(kSpace), ref.size()));
    ref.remove_suffix(ref.size() - std::min(ref.find_last_not_of(kSpace) + 1, ref.size()));
    MEADOW_TRY(check_characters(ref));
    // A reference with its own scheme or authority replaces the base's (RFC 3986 5.2.2).
    if (scheme_length(ref) > 0) return parse_checked(ref);
    if (ref.starts_with("//")) return parse_checked(base.scheme + ":" + std::string(ref));
    // Otherwise only the path and query merge; Boost.URL does that behind a placeholder
    // host, and the base's own host and port go back in front.
    const std::string base_text = "http://h" + base.path_and_query;
    const auto b = bu::parse_uri(base_text);
    const auto r = bu::parse_uri_reference(bu::string_view(ref.data(), ref.size()));
    if (!b || !r)
      return bad("bad-url", "the link " + quoted(ref) + " is not a valid URL reference");
    bu::url dest(*b);
    if (!dest.resolve(*r))
      return bad("bad-url", "the link " + quoted(ref) + " cannot be resolved against " +
                                quoted(base.normalized));
    const bool v6 = base.host.find(':') != std::string::npos;
    std::string merged = base.scheme + "://" + (v6 ? "[" + base.host + "]" : base.host) + ":" +
                         std::to_string(base.port);
    const std::string_view resolved(dest.buffer().data(), dest.buffer().size());
    merged += resolved.substr(std::string_view("http://h").size());
    return parse_checked(merged);
  });
}

namespace {

std::string registrable_domain_uncached(std::string_view host) {
  if (is_ip_literal(host)) return std::string(strip_brackets(host));
  std::string name;
  name.reserve(host.size());
  for (const char c : host) name += lower(c);
  if (!name.empty() && name.back() == '.') name.pop_back();
  static const psl_ctx_t* const psl = psl_builtin() ? psl_builtin() : psl_latest(nullptr);
  if (psl == nullptr) return name;
  const char* domain = psl_registrable_domain(psl, name.c_str());
  return domain ? std::string(domain) : name;
}

}  // namespace

std::string registrable_domain(std::string_view host) {
  // The links of a page mostly share one host: the last answer is kept.
  thread_local std::string last_host, last_site;
  if (host == last_host && !host.empty()) return last_site;
  std::string site = registrable_domain_uncached(host);
  last_host = host;
  last_site = site;
  return site;
}

bool is_ip_literal(std::string_view host) {
  const std::string h(strip_brackets(host));
  in_addr v4{};
  in6_addr v6{};
  return inet_pton(AF_INET, h.c_str(), &v4) == 1 || inet_pton(AF_INET6, h.c_str(), &v6) == 1;
}

bool is_forbidden_ip_literal(std::string_view host) {
  const std::string h(strip_brackets(host));
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return v4_forbidden(ntohl(v4.s_addr));
  V6 v6{};
  if (inet_pton(AF_INET6, h.c_str(), v6.data()) == 1) return v6_forbidden(v6);
  return false;
}

}  // namespace meadow::url
