// URL parsing and normalisation (Boost.URL) and registrable domains (libpsl).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace meadow::url {

struct Url {
  std::string normalized;  // the canonical form used as the identity of a page
  std::string scheme;      // "http" or "https"
  std::string host;        // lower-case; IDNs as given (punycode stays punycode); IPv6 without []
  std::uint16_t port = 0;  // effective port (80/443 when absent)
  std::string path_and_query;  // "/a/b?x=1", never empty (at least "/")
  std::string site;        // registrable domain ("example.co.uk"); the host itself for IPs
};

// Parses an absolute http(s) URL and normalises it: scheme and host lower-cased, default
// port removed, fragment dropped, empty path made "/", dot segments resolved,
// percent-encoding normalised (unreserved characters decoded, hex upper-cased).
// Refused, each with a reason: other schemes (javascript:, file:, data:, ftp: ...),
// user info (credentials), a missing host, a length over 8 KiB, control characters.
Result<Url> parse(std::string_view text);

// Like parse(), and also refuses hosts that are literal loopback, private, link-local,
// CGNAT, multicast, reserved or unspecified addresses, "localhost", and ports other
// than 80 and 443. This is the check a job's URLs pass at creation; the node repeats the
// address check at connect time, whatever DNS says.
Result<Url> parse_public(std::string_view text);

// Resolves `ref` (absolute or relative) against `base` and normalises the result as parse().
// Leading and trailing ASCII whitespace of `ref` is ignored, as browsers do for href values.
Result<Url> resolve(const Url& base, std::string_view ref);

// The registrable domain (eTLD+1) of `host`, by the public suffix list; the host itself
// when it is an IP address or has no registrable part.
std::string registrable_domain(std::string_view host);

// True when `host` is a literal IPv4 or IPv6 address in a range a node must never reach:
// loopback, private (RFC 1918), link-local, CGNAT (100.64/10), multicast, reserved,
// unspecified, broadcast, documentation, benchmarking, unique-local (fc00::/7),
// site-local (fec0::/10), every IPv4-mapped (::ffff:0:0/96) and IPv4-compatible (::/96)
// address, and NAT64 (64:ff9b::/96) or 6to4 forms of a forbidden IPv4 address.
bool is_forbidden_ip_literal(std::string_view host);

// True when `host` is a literal IP address at all (v4 dotted-quad or v6 without brackets).
bool is_ip_literal(std::string_view host);

}  // namespace meadow::url
