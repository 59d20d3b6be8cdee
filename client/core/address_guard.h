// What a node will never connect to (DESIGN.md), checked twice: on every URL before a request
// (scheme, port, literal addresses) and on the resolved address at connect time, so that no
// DNS answer and no redirect can steer a fetch into the contributor's own machine or LAN.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/url.h"

namespace meadow::client {

struct GuardPolicy {
  // Lets fetches reach 127.0.0.0/8 and ::1 (only those: never mapped or NAT64 forms of
  // them), on any port. A local setting for tests and the demo; never a task field.
  bool allow_loopback = false;
  // When not empty, loopback is allowed on these ports only.
  std::vector<std::uint16_t> loopback_ports;
};

// The URL check before a request: http or https, port 80 or 443, and no literal address
// in a forbidden range (loopback as the policy says). Errors carry code
// "address-forbidden", "scheme-forbidden" or "port-forbidden".
Status check_url(const url::Url& u, const GuardPolicy& policy);

// The connect-time check on the address the resolver produced. Same codes as check_url().
Status check_address(const sockaddr* addr, socklen_t len, const GuardPolicy& policy);

// The address of a sockaddr as text ("10.0.0.1", "::1"), for messages and logs.
std::string address_text(const sockaddr* addr, socklen_t len);

}  // namespace meadow::client
