// What a node will never connect to (DESIGN.md "What a node will never do"), as a table: every
// forbidden range is refused twice, by the URL check before a request and by the connect-time
// check on the resolved address, and public addresses pass only on ports 80 and 443.
#include "client/core/address_guard.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>
#include <string>
#include <vector>

namespace meadow::client {
namespace {

// A socket address for a literal IPv4 or IPv6 address, as the resolver hands it to curl.
struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

SockAddr sockaddr_of(const std::string& ip, std::uint16_t port) {
  SockAddr out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.len = sizeof(sockaddr_in);
    return out;
  }
  out.storage = {};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.len = sizeof(sockaddr_in6);
    return out;
  }
  ADD_FAILURE() << ip << " is not an IP address";
  return out;
}

std::string url_for(const std::string& ip, std::uint16_t port) {
  const bool v6 = ip.find(':') != std::string::npos;
  std::string host = v6 ? "[" + ip + "]" : ip;
  return "http://" + host + (port == 80 ? "" : ":" + std::to_string(port)) + "/";
}

// The code of a refusal, or "ok".
std::string code_of(const Status& st) { return st.ok() ? "ok" : st.error().code; }

std::string url_verdict(const std::string& text, const GuardPolicy& policy) {
  auto u = url::parse(text);
  if (!u.ok()) return "unparsed: " + u.error().message;
  return code_of(check_url(*u, policy));
}

std::string address_verdict(const std::string& ip, std::uint16_t port, const GuardPolicy& policy) {
  const SockAddr a = sockaddr_of(ip, port);
  if (a.len == 0) return "not an address";
  return code_of(check_address(a.get(), a.len, policy));
}

struct Range {
  const char* address;
  const char* what;
};

// Every range DESIGN.md names, with both ends of the ranges whose masks are easy to get wrong.
const std::vector<Range> kForbidden = {
    {"127.0.0.1", "IPv4 loopback"},
    {"127.8.9.10", "IPv4 loopback, not .0.0.1"},
    {"127.255.255.254", "IPv4 loopback, top of 127/8"},
    {"10.0.0.1", "private 10/8"},
    {"10.255.255.255", "private 10/8, top"},
    {"172.16.0.1", "private 172.16/12, bottom"},
    {"172.31.255.254", "private 172.16/12, top"},
    {"192.168.0.1", "private 192.168/16"},
    {"192.168.255.254", "private 192.168/16, top"},
    {"169.254.0.1", "link-local"},
    {"169.254.169.254", "link-local: cloud metadata service"},
    {"100.64.0.1", "CGNAT 100.64/10, bottom"},
    {"100.127.255.254", "CGNAT 100.64/10, top"},
    {"224.0.0.1", "multicast"},
    {"239.255.255.250", "multicast (SSDP)"},
    {"240.0.0.1", "reserved 240/4"},
    {"255.255.255.255", "broadcast"},
    {"0.0.0.0", "unspecified"},
    {"0.1.2.3", "\"this network\" 0/8"},
    {"::1", "IPv6 loopback"},
    {"::", "IPv6 unspecified"},
    {"::ffff:127.0.0.1", "IPv4-mapped loopback"},
    {"::ffff:10.0.0.1", "IPv4-mapped private"},
    {"::ffff:169.254.169.254", "IPv4-mapped metadata service"},
    {"::127.0.0.1", "IPv4-compatible loopback"},
    {"::10.0.0.1", "IPv4-compatible private"},
    {"64:ff9b::a00:1", "NAT64 of 10.0.0.1"},
    {"64:ff9b::7f00:1", "NAT64 of 127.0.0.1"},
    {"2002:a00:1::", "6to4 of 10.0.0.1"},
    {"fc00::1", "unique-local fc00::/7"},
    {"fd12::1", "unique-local fd00::/8"},
    {"fe80::1", "IPv6 link-local"},
    {"febf::1", "IPv6 link-local, top of fe80::/10"},
    {"fec0::1", "IPv6 site-local"},
    {"ff02::1", "IPv6 multicast"},
    {"ff0e::1", "IPv6 global multicast"},
};

const std::vector<Range> kPublic = {
    {"93.184.216.34", "public IPv4"},
    {"1.1.1.1", "public IPv4"},
    {"11.0.0.1", "just above 10/8"},
    {"9.255.255.255", "just below 10/8"},
    {"172.15.255.255", "just below 172.16/12"},
    {"172.32.0.1", "just above 172.16/12"},
    {"100.63.255.255", "just below 100.64/10"},
    {"100.128.0.1", "just above 100.64/10"},
    {"169.253.255.255", "just below 169.254/16"},
    {"192.169.0.1", "just above 192.168/16"},
    {"126.255.255.255", "just below 127/8"},
    {"128.0.0.1", "just above 127/8"},
    {"223.1.2.3", "just below multicast"},
    {"2606:2800:220:1::1", "public IPv6"},
    {"2a00:1450:4001:81b::200e", "public IPv6"},
};

TEST(AddressGuard, EveryForbiddenRangeIsRefusedByTheUrlCheck) {
  const GuardPolicy policy;
  for (const auto& r : kForbidden) {
    for (std::uint16_t port : {80, 443}) {
      const std::string u = url_for(r.address, port);
      SCOPED_TRACE(std::string(r.what) + ": " + u);
      EXPECT_EQ(url_verdict(u, policy), "address-forbidden");
    }
  }
}

TEST(AddressGuard, EveryForbiddenRangeIsRefusedAtConnectTime) {
  const GuardPolicy policy;
  for (const auto& r : kForbidden) {
    for (std::uint16_t port : {80, 443}) {
      SCOPED_TRACE(std::string(r.what) + ": " + r.address + " port " + std::to_string(port));
      EXPECT_EQ(address_verdict(r.address, port, policy), "address-forbidden");
    }
  }
}

TEST(AddressGuard, RefusalSaysWhichAddressAndWhy) {
  const SockAddr a = sockaddr_of("169.254.169.254", 80);
  const Status st = check_address(a.get(), a.len, GuardPolicy{});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::forbidden);
  EXPECT_NE(st.error().message.find("169.254.169.254"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("never"), std::string::npos) << st.error().message;
}

TEST(AddressGuard, PublicAddressesPassOnlyOnPorts80And443) {
  const GuardPolicy policy;
  for (const auto& r : kPublic) {
    SCOPED_TRACE(std::string(r.what) + ": " + r.address);
    for (std::uint16_t port : {80, 443}) {
      EXPECT_EQ(url_verdict(url_for(r.address, port), policy), "ok") << "port " << port;
      EXPECT_EQ(address_verdict(r.address, port, policy), "ok") << "port " << port;
    }
    for (std::uint16_t port : {8080, 22, 25, 8443, 1}) {
      EXPECT_EQ(url_verdict(url_for(r.address, port), policy), "port-forbidden") << "port " << port;
      EXPECT_EQ(address_verdict(r.address, port, policy), "port-forbidden") << "port " << port;
    }
  }
}

TEST(AddressGuard, HostNamesPassTheUrlCheckOnPublicPortsOnly) {
  const GuardPolicy policy;
  EXPECT_EQ(url_verdict("http://example.com/", policy), "ok");
  EXPECT_EQ(url_verdict("https://example.com/a?b=c", policy), "ok");
  EXPECT_EQ(url_verdict("https://example.com:443/", policy), "ok");
  EXPECT_EQ(url_verdict("http://example.com:8080/", policy), "port-forbidden");
  EXPECT_EQ(url_verdict("https://example.com:8443/", policy), "port-forbidden");
  EXPECT_EQ(url_verdict("http://example.com:443/", policy), "ok");
}

TEST(AddressGuard, LocalhostNamesAreRefusedLikeLoopback) {
  const GuardPolicy policy;
  for (const char* u : {"http://localhost/", "http://LOCALHOST/", "https://localhost:443/", "http://app.localhost/",
                        "http://a.b.localhost/"}) {
    SCOPED_TRACE(u);
    EXPECT_EQ(url_verdict(u, policy), "address-forbidden");
  }
}

TEST(AddressGuard, OnlyHttpAndHttpsSchemes) {
  const GuardPolicy policy;
  // url::parse already refuses them ...
  for (const char* text : {"ftp://example.com/", "file:///etc/passwd", "gopher://example.com/", "data:text/html,hi"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(url::parse(text).ok());
  }
  // ... and the guard refuses them too, should a URL get past the parser.
  for (const auto& [scheme, port] :
       std::vector<std::pair<std::string, std::uint16_t>>{{"ftp", 21}, {"file", 0}, {"gopher", 70}, {"ws", 80}}) {
    SCOPED_TRACE(scheme);
    url::Url u;
    u.scheme = scheme;
    u.host = scheme == "file" ? "" : "example.com";
    u.port = port;
    u.path_and_query = "/";
    u.normalized = scheme + "://" + u.host + "/";
    const Status st = check_url(u, policy);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, "scheme-forbidden");
  }
}

TEST(AddressGuard, AllowLoopbackOpensOnlyRealLoopback) {
  GuardPolicy policy;
  policy.allow_loopback = true;
  for (const char* ip : {"127.0.0.1", "127.8.9.10", "::1"}) {
    SCOPED_TRACE(ip);
    for (std::uint16_t port : {80, 8481, 1}) {
      EXPECT_EQ(url_verdict(url_for(ip, port), policy), "ok") << "port " << port;
      EXPECT_EQ(address_verdict(ip, port, policy), "ok") << "port " << port;
    }
  }
  EXPECT_EQ(url_verdict("http://localhost:8481/", policy), "ok");

  // Never the disguised forms of loopback, and never anything else private.
  for (const char* ip : {"::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "10.0.0.1", "192.168.1.1",
                         "169.254.169.254", "0.0.0.0", "::", "fe80::1", "fd12::1"}) {
    SCOPED_TRACE(ip);
    for (std::uint16_t port : {80, 8481}) {
      EXPECT_EQ(url_verdict(url_for(ip, port), policy), "address-forbidden") << "port " << port;
      EXPECT_EQ(address_verdict(ip, port, policy), "address-forbidden") << "port " << port;
    }
  }
  // Public addresses keep the port rule.
  EXPECT_EQ(url_verdict("http://93.184.216.34:8080/", policy), "port-forbidden");
  EXPECT_EQ(address_verdict("93.184.216.34", 8080, policy), "port-forbidden");
}

TEST(AddressGuard, LoopbackPortsRestrictWhereLoopbackIsAllowed) {
  GuardPolicy policy;
  policy.allow_loopback = true;
  policy.loopback_ports = {8481, 9000};
  for (const char* ip : {"127.0.0.1", "::1"}) {
    SCOPED_TRACE(ip);
    EXPECT_EQ(url_verdict(url_for(ip, 8481), policy), "ok");
    EXPECT_EQ(address_verdict(ip, 9000, policy), "ok");
    for (std::uint16_t port : {80, 443, 8482, 22}) {
      EXPECT_EQ(url_verdict(url_for(ip, port), policy), "address-forbidden") << "port " << port;
      EXPECT_EQ(address_verdict(ip, port, policy), "address-forbidden") << "port " << port;
    }
  }
  EXPECT_EQ(url_verdict("http://localhost:8481/", policy), "ok");
  EXPECT_EQ(url_verdict("http://localhost/", policy), "address-forbidden");

  // The ports open loopback, nothing else.
  EXPECT_EQ(url_verdict("http://93.184.216.34:8481/", policy), "port-forbidden");
  EXPECT_EQ(address_verdict("10.0.0.1", 8481, policy), "address-forbidden");
}

TEST(AddressGuard, LoopbackPortsWithoutAllowLoopbackOpenNothing) {
  GuardPolicy policy;
  policy.loopback_ports = {8481};
  EXPECT_EQ(url_verdict("http://127.0.0.1:8481/", policy), "address-forbidden");
  EXPECT_EQ(address_verdict("127.0.0.1", 8481, policy), "address-forbidden");
  EXPECT_EQ(address_verdict("::1", 8481, policy), "address-forbidden");
}

TEST(AddressGuard, ConnectTimeCheckRefusesOtherAddressFamilies) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strncpy(un.sun_path, "/run/docker.sock", sizeof un.sun_path - 1);
  GuardPolicy policy;
  policy.allow_loopback = true;
  const Status st = check_address(reinterpret_cast<const sockaddr*>(&un), sizeof un, policy);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "address-forbidden");

  // A truncated IPv4 address is not taken on trust either.
  const SockAddr a = sockaddr_of("93.184.216.34", 80);
  EXPECT_FALSE(check_address(a.get(), 4, GuardPolicy{}).ok());
}

TEST(AddressGuard, AddressTextNamesTheAddress) {
  const SockAddr v4 = sockaddr_of("10.1.2.3", 80);
  EXPECT_EQ(address_text(v4.get(), v4.len), "10.1.2.3");
  const SockAddr v6 = sockaddr_of("fd12::1", 443);
  EXPECT_EQ(address_text(v6.get(), v6.len), "fd12::1");
}

}  // namespace
}  // namespace meadow::client
