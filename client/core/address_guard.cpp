#include "client/core/address_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace meadow::client {
namespace {

bool loopback_v6(const in6_addr& a) {
  static const in6_addr kLoopback = IN6ADDR_LOOPBACK_INIT;
  return std::memcmp(&a, &kLoopback, sizeof a) == 0;
}

bool is_loopback_text(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && loopback_v6(v6);
}

bool loopback_allowed(const GuardPolicy& policy, std::uint16_t port) {
  if (!policy.allow_loopback) return false;
  const auto& ports = policy.loopback_ports;
  return ports.empty() || std::find(ports.begin(), ports.end(), port) != ports.end();
}

Status refuse_address(const std::string& host, std::uint16_t port) {
  return make_error(ErrorKind::forbidden, "address-forbidden",
                    host + " port " + std::to_string(port) +
                        " is a loopback, private, link-local or reserved address; nodes never connect there");
}

// One rule for both checks: a public address on 80/443, or loopback where the policy allows.
Status check_host_port(const std::string& host, std::uint16_t port, bool literal, const GuardPolicy& policy) {
  if (literal && is_loopback_text(host)) {
    if (loopback_allowed(policy, port)) return {};
    return refuse_address(host, port);
  }
  if (literal && url::is_forbidden_ip_literal(host)) return refuse_address(host, port);
  if (port != 80 && port != 443) {
    return make_error(ErrorKind::forbidden, "port-forbidden",
                      host + " port " + std::to_string(port) + ": nodes fetch only from ports 80 and 443");
  }
  return {};
}

}  // namespace

std::string address_text(const sockaddr* addr, socklen_t len) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    if (inet_ntop(AF_INET, &in->sin_addr, buf.data(), buf.size())) return buf.data();
  } else if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    if (inet_ntop(AF_INET6, &in6->sin6_addr, buf.data(), buf.size())) return buf.data();
  }
  return "(address of family " + std::to_string(addr->sa_family) + ")";
}

Status check_url(const url::Url& u, const GuardPolicy& policy) {
  if (u.scheme != "http" && u.scheme != "https") {
    return make_error(ErrorKind::forbidden, "scheme-forbidden", "nodes fetch only http and https, not " + u.scheme);
  }
  const bool literal = url::is_ip_literal(u.host);
  if (!literal && (u.host == "localhost" || u.host.ends_with(".localhost"))) {
    if (loopback_allowed(policy, u.port)) return {};
    return refuse_address(u.host, u.port);
  }
  return check_host_port(u.host, u.port, literal, policy);
}

Status check_address(const sockaddr* addr, socklen_t len, const GuardPolicy& policy) {
  std::uint16_t port = 0;
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    port = ntohs(reinterpret_cast<const sockaddr_in*>(addr)->sin_port);
  } else if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    port = ntohs(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_port);
  } else {
    return make_error(ErrorKind::forbidden, "address-forbidden",
                      "only IPv4 and IPv6 connections are made, not family " + std::to_string(addr->sa_family));
  }
  return check_host_port(address_text(addr, len), port, true, policy);
}

}  // namespace meadow::client
