#include "common/url.h"

#include <gtest/gtest.h>

#include <boost/url/parse.hpp>
#include <random>

namespace meadow::url {
namespace {

std::string norm(std::string_view text) {
  auto r = parse(text);
  return r.ok() ? r->normalized : "ERROR " + r.error().code;
}

std::string refused(Result<Url> r) { return r.ok() ? "accepted " + r->normalized : r.error().code; }

TEST(UrlParse, NormalisationTable) {
  const std::pair<const char*, const char*> table[] = {
      // scheme and host case
      {"HTTP://WWW.Example.COM/Path", "http://www.example.com/Path"},
      {"HtTpS://EXAMPLE.com", "https://example.com/"},
      // default ports dropped, others kept, leading zeros gone
      {"http://example.com:80/", "http://example.com/"},
      {"https://example.com:443/a", "https://example.com/a"},
      {"https://example.com:80/", "https://example.com:80/"},
      {"http://example.com:8080/", "http://example.com:8080/"},
      {"http://example.com:0080/", "http://example.com/"},
      {"http://example.com:/", "http://example.com/"},
      // empty path
      {"http://example.com", "http://example.com/"},
      {"http://example.com?q=1", "http://example.com/?q=1"},
      // dot segments
      {"http://example.com/a/./b/../c", "http://example.com/a/c"},
      {"http://example.com/a/b/..", "http://example.com/a/"},
      {"http://example.com/a/b/.", "http://example.com/a/b/"},
      {"http://example.com/../../x", "http://example.com/x"},
      {"http://example.com/a/%2e%2E/b", "http://example.com/b"},
      {"http://example.com/a//b", "http://example.com/a//b"},
      // fragment dropped
      {"http://example.com/page#section-2", "http://example.com/page"},
      {"http://example.com/?a=1#", "http://example.com/?a=1"},
      // percent-encoding: unreserved decoded, hex upper-cased, reserved kept as written
      {"http://example.com/%7euser/%41%62c", "http://example.com/~user/Abc"},
      {"http://example.com/a%2fb%3f", "http://example.com/a%2Fb%3F"},
      {"http://example.com/?q=a%26b&r=%3d&s=%e2%82%ac",
       "http://example.com/?q=a%26b&r=%3D&s=%E2%82%AC"},
      {"http://example.com/?q=a&b=/c?d", "http://example.com/?q=a&b=/c?d"},
      {"http://%65xample.COM/", "http://example.com/"},
      // trailing dot of a fully qualified name
      {"http://example.com./", "http://example.com/"},
      // IP literals
      {"http://93.184.216.34/", "http://93.184.216.34/"},
      {"http://[2606:2800:0220:0001:0248:1893:25C8:1946]/",
       "http://[2606:2800:220:1:248:1893:25c8:1946]/"},
      // punycode stays punycode
      {"https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"},
  };
  for (const auto& [in, out] : table) EXPECT_EQ(norm(in), out) << in;
}

TEST(UrlParse, NormalisedFormIsStable) {
  for (const char* in :
       {"HTTP://A.example.COM:80/x/../%7e?q=%2f#f", "https://[::FFFF:1.2.3.4]:8443/"}) {
    const std::string once = norm(in);
    EXPECT_EQ(norm(once), once);
  }
}

TEST(UrlParse, Fields) {
  auto u = parse("HTTPS://WWW.Example.co.uk:8443/a/b?x=1#top");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->normalized, "https://www.example.co.uk:8443/a/b?x=1");
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "www.example.co.uk");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->path_and_query, "/a/b?x=1");
  EXPECT_EQ(u->site, "example.co.uk");

  auto plain = parse("http://example.com");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->path_and_query, "/");
  EXPECT_EQ(parse("https://example.com")->port, 443);

  auto v6 = parse("http://[2001:4860:4860::8888]/dns");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "2001:4860:4860::8888");
  EXPECT_EQ(v6->site, "2001:4860:4860::8888");
  EXPECT_EQ(parse("http://8.8.8.8/")->site, "8.8.8.8");
}

TEST(UrlParse, OtherSchemesAreRefused) {
  for (const char* in : {"javascript:alert(1)", "JavaScript://example.com/%0aalert(1)",
                         "file:///etc/passwd", "data:text/html,<b>hi</b>", "ftp://example.com/",
                         "ws://example.com/", "mailto:a@example.com", "gopher://example.com/"}) {
    auto r = parse(in);
    ASSERT_FALSE(r.ok()) << in;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid);
    EXPECT_TRUE(r.error().code == "url-scheme" || r.error().code == "bad-url")
        << in << " " << r.error().code;
  }
  auto r = parse("file:///etc/passwd");
  EXPECT_EQ(r.error().code, "url-scheme");
  EXPECT_NE(r.error().message.find("only http and https"), std::string::npos);
}

TEST(UrlParse, CredentialsAreRefused) {
  for (const char* in : {"http://user:pass@example.com/", "http://user@example.com/",
                         "http://@example.com/", "https://:secret@example.com/"}) {
    EXPECT_EQ(refused(parse(in)), "url-credentials") << in;
  }
}

TEST(UrlParse, MalformedInputIsRefusedWithAReason) {
  EXPECT_EQ(refused(parse("")), "bad-url");
  EXPECT_EQ(refused(parse("example.com/page")), "bad-url");
  EXPECT_NE(parse("example.com/page").error().message.find("https://"), std::string::npos);
  EXPECT_EQ(refused(parse("http://exa mple.com/")), "bad-url");
  EXPECT_EQ(refused(parse("http://example.com/a b")), "bad-url");
  EXPECT_NE(parse("http://example.com/a b").error().message.find("%20"), std::string::npos);
  EXPECT_EQ(refused(parse("http://example.com/caf\xc3\xa9")), "bad-url");
  EXPECT_EQ(refused(parse("http://example.com/%zz")), "bad-url");
  EXPECT_EQ(refused(parse("http://example.com/100%")), "bad-url");
  EXPECT_NE(parse("http://example.com/100%").error().message.find("%25"), std::string::npos);
  EXPECT_EQ(refused(parse("http://example.com/a[1]")), "bad-url");
  EXPECT_EQ(refused(parse("http://example.com/a\\b")), "bad-url");
  EXPECT_EQ(refused(parse("http://example.com/\nx")), "url-control-character");
  EXPECT_EQ(refused(parse(std::string("http://example.com/\0x", 21))), "url-control-character");
  EXPECT_EQ(refused(parse("http://example.com/\x7f")), "url-control-character");
  EXPECT_EQ(refused(parse("http://example.com/" + std::string(8200, 'a'))), "url-too-long");
  EXPECT_TRUE(parse("http://example.com/" + std::string(8000, 'a')).ok());
}

TEST(UrlParse, HostProblemsAreRefused) {
  EXPECT_EQ(refused(parse("http:///path")), "url-no-host");
  EXPECT_EQ(refused(parse("http:path")), "url-no-host");
  EXPECT_EQ(refused(parse("http://:80/")), "url-no-host");
  EXPECT_EQ(refused(parse("http://exa%2fmple.com/")), "url-host");
  EXPECT_EQ(refused(parse("http://b%C3%BCcher.example/")), "url-host");
  EXPECT_EQ(refused(parse("http://a..b.com/")), "url-host");
  EXPECT_EQ(refused(parse("http://" + std::string(64, 'a') + ".com/")), "url-host");
  EXPECT_EQ(refused(parse("http://ex!ample.com/")), "url-host");
  EXPECT_EQ(refused(parse("http://[v1.fe80::1]/")), "url-host");
  EXPECT_EQ(refused(parse("http://example.com:65536/")), "url-port");
  EXPECT_EQ(refused(parse("http://example.com:99999/")), "url-port");
  EXPECT_EQ(refused(parse("http://example.com:0/")), "url-port");
  EXPECT_EQ(refused(parse("http://example.com:8x/")), "url-port");
  EXPECT_EQ(refused(parse("http://[::1/")), "bad-url");
  EXPECT_EQ(refused(parse("http://[::1]x/")), "bad-url");
  EXPECT_EQ(refused(parse("http://[fe80::1%25eth0]/")), "url-host");
  EXPECT_EQ(refused(parse("http://[1.2.3.4]/")), "url-host");
  EXPECT_EQ(refused(parse("http://a:b:80/")), "url-host");
}

TEST(UrlParse, HostsResolversMayReadAsAddressesAreRefused) {
  for (const char* in :
       {"http://2130706433/", "http://0x7f.1/", "http://0x7f000001/", "http://127.1/",
        "http://0177.0.0.1/", "http://127.0.0.01/", "http://1.2.3.4./", "http://0x/",
        "http://example.0x1f/", "http://example.123/"}) {
    EXPECT_EQ(refused(parse(in)), "url-numeric-host") << in;
  }
  EXPECT_TRUE(parse("http://1example.com/").ok());
  EXPECT_TRUE(parse("http://123.example/").ok());
  EXPECT_TRUE(parse("http://0xdeadbeef.example.com/").ok());
}

TEST(UrlParse, HostsThatStartLikeAnAddressAreNames) {
  // Boost.URL 1.81 alone reads these as the IPv4 address 1.2.3.4 followed by a path.
  auto nip = parse("http://1.2.3.4.nip.io/x");
  ASSERT_TRUE(nip.ok());
  EXPECT_EQ(nip->host, "1.2.3.4.nip.io");
  EXPECT_EQ(nip->path_and_query, "/x");
  EXPECT_EQ(nip->site, "nip.io");
  auto port = parse("http://1.2.3.4x.com:8080/p");
  ASSERT_TRUE(port.ok());
  EXPECT_EQ(port->host, "1.2.3.4x.com");
  EXPECT_EQ(port->port, 8080);
  auto pub = parse_public("http://8.8.8.8.example.com/");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->host, "8.8.8.8.example.com");
  auto rel = resolve(*nip, "../y?z");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->normalized, "http://1.2.3.4.nip.io/y?z");
  EXPECT_EQ(resolve(*nip, "//127.0.0.1.nip.io/")->host, "127.0.0.1.nip.io");
}

TEST(UrlParsePublic, ForbiddenAddressesAreRefused) {
  for (const char* in : {"http://127.0.0.1/",
                         "http://127.8.9.10/",
                         "http://10.1.2.3/",
                         "http://172.16.0.1/",
                         "http://172.31.255.255/",
                         "http://192.168.1.1/",
                         "http://0.0.0.0/",
                         "http://0.1.2.3/",
                         "http://100.64.0.1/",
                         "http://100.127.255.254/",
                         "http://169.254.1.1/",
                         "http://169.254.169.254/latest/meta-data/",
                         "http://224.0.0.1/",
                         "http://239.1.1.1/",
                         "http://255.255.255.255/",
                         "http://240.0.0.1/",
                         "http://192.0.2.1/",
                         "http://198.51.100.7/",
                         "http://203.0.113.9/",
                         "http://198.18.0.1/",
                         "http://192.0.0.8/",
                         "http://[::1]/",
                         "http://[::]/",
                         "http://[0:0:0:0:0:0:0:1]/",
                         "http://[::ffff:127.0.0.1]/",
                         "http://[::ffff:7f00:1]/",
                         "http://[::ffff:10.0.0.1]/",
                         "http://[::ffff:8.8.8.8]/",  // mapped: a disguise even for a public address
                         "http://[::127.0.0.1]/",
                         "http://[fe80::1]/",
                         "http://[febf::1]/",
                         "http://[fec0::1]/",
                         "http://[fc00::1]/",
                         "http://[fd12:3456::1]/",
                         "http://[ff02::1]/",
                         "http://[64:ff9b::a00:1]/",
                         "http://[64:ff9b::127.0.0.1]/",
                         "http://[2001:db8::1]/",
                         "http://[2002:7f00:1::]/",
                         "http://[2001::1]/",
                         "http://[100::1]/",
                         "http://[3fff::1]/"}) {
    auto r = parse_public(in);
    ASSERT_FALSE(r.ok()) << in;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid);
    EXPECT_EQ(r.error().code, "url-private-address") << in;
    EXPECT_TRUE(parse(in).ok()) << in << " is a valid URL, only not a public one";
  }
}

TEST(UrlParsePublic, LocalhostIsRefused) {
  for (const char* in : {"http://localhost/", "http://LOCALHOST:80/", "http://localhost./",
                         "http://api.localhost/"}) {
    EXPECT_EQ(refused(parse_public(in)), "url-private-address") << in;
  }
  EXPECT_TRUE(parse_public("http://notlocalhost.com/").ok());
}

TEST(UrlParsePublic, OnlyPorts80And443) {
  EXPECT_TRUE(parse_public("http://example.com/").ok());
  EXPECT_TRUE(parse_public("https://example.com:443/").ok());
  EXPECT_TRUE(parse_public("http://example.com:443/").ok());
  EXPECT_TRUE(parse_public("https://example.com:80/").ok());
  for (const char* in :
       {"http://example.com:8080/", "https://example.com:22/", "http://example.com:6379/"}) {
    auto r = parse_public(in);
    EXPECT_EQ(refused(r), "url-port") << in;
  }
  EXPECT_NE(parse_public("http://example.com:25/").error().message.find("80 and 443"),
            std::string::npos);
}

TEST(UrlParsePublic, PublicAddressesPass) {
  for (const char* in : {"http://93.184.216.34/", "http://8.8.8.8/", "http://[2606:4700::1111]/",
                         "http://[64:ff9b::808:808]/",
                         "http://172.32.0.1/", "http://100.128.0.1/", "https://www.example.com/"}) {
    auto r = parse_public(in);
    EXPECT_TRUE(r.ok()) << in << ": " << (r.ok() ? "" : r.error().message);
  }
}

TEST(IpLiterals, Classification) {
  EXPECT_TRUE(is_ip_literal("1.2.3.4"));
  EXPECT_TRUE(is_ip_literal("::1"));
  EXPECT_TRUE(is_ip_literal("[::1]"));
  EXPECT_FALSE(is_ip_literal("example.com"));
  EXPECT_FALSE(is_ip_literal("127.1"));
  EXPECT_FALSE(is_ip_literal(""));
  EXPECT_TRUE(is_forbidden_ip_literal("127.0.0.1"));
  EXPECT_TRUE(is_forbidden_ip_literal("::ffff:127.0.0.1"));
  EXPECT_TRUE(is_forbidden_ip_literal("fe80::1"));
  EXPECT_FALSE(is_forbidden_ip_literal("1.1.1.1"));
  EXPECT_FALSE(is_forbidden_ip_literal("2a00:1450:4001::200e"));
  EXPECT_FALSE(is_forbidden_ip_literal("example.com"));
}

// The path, query and fragment are read by hand. Boost.URL's RFC 3986 parser is the referee:
// over tails made of every kind of character a URL may and may not hold, a URL is accepted
// exactly when Boost.URL accepts it, and the path and query kept are the ones Boost.URL splits
// off (the fragment dropped).
TEST(UrlParse, PathQueryAndFragmentAgreeWithRfc3986) {
  std::mt19937 rng(3986);
  const std::string alphabet = "/?#[]%%aZ09fF:@!$&'()*+,;=.-_~ \"<>{}|\\^`";
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    // What follows the host starts with '/', '?' or '#' (or there is nothing).
    std::string tail(1, "/?#/"[rng() % 4]);
    for (std::size_t n = rng() % 14; n > 0; --n) tail += alphabet[rng() % alphabet.size()];
    const std::string text = "http://example.com" + tail;
    const auto ours = parse(text);
    const auto theirs = boost::urls::parse_uri(text);
    ASSERT_EQ(ours.ok(), theirs.has_value()) << text;
    if (!ours.ok()) continue;
    ++accepted;
    std::string split = "http://example.com" + std::string(theirs->encoded_path());
    if (theirs->has_query()) split += "?" + std::string(theirs->encoded_query());
    const auto expected = parse(split);
    ASSERT_TRUE(expected.ok()) << split;
    EXPECT_EQ(ours->path_and_query, expected->path_and_query) << text;
  }
  EXPECT_GT(accepted, 2000);  // both kinds of answer were tried many times
  EXPECT_EQ(parse("http://example.com/p?q=1#frag")->path_and_query, "/p?q=1");
  EXPECT_EQ(parse("http://example.com/p#a?b")->path_and_query, "/p");
  EXPECT_EQ(parse("http://example.com?x#y")->path_and_query, "/?x");
  EXPECT_EQ(refused(parse("http://example.com/p#a#b")), "bad-url");
  EXPECT_EQ(refused(parse("http://example.com/p?a]")), "bad-url");
}

TEST(RegistrableDomain, ByPublicSuffixList) {
  EXPECT_EQ(registrable_domain("www.example.co.uk"), "example.co.uk");
  EXPECT_EQ(registrable_domain("a.b.example.com"), "example.com");
  EXPECT_EQ(registrable_domain("example.com"), "example.com");
  EXPECT_EQ(registrable_domain("WWW.Example.COM"), "example.com");
  EXPECT_EQ(registrable_domain("user.github.io"), "user.github.io");
  EXPECT_EQ(registrable_domain("co.uk"), "co.uk");
  EXPECT_EQ(registrable_domain("93.184.216.34"), "93.184.216.34");
  EXPECT_EQ(registrable_domain("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(parse("http://a.b.example.com/")->site, "example.com");
  // The last host's answer is kept; asking in turns gives each its own.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(registrable_domain("www.example.co.uk"), "example.co.uk");
    EXPECT_EQ(registrable_domain("www.example.co.uk"), "example.co.uk");
    EXPECT_EQ(registrable_domain("user.github.io"), "user.github.io");
  }
}

TEST(UrlResolve, RelativeLinks) {
  auto base = parse("http://a.example/b/c/d;p?q");
  ASSERT_TRUE(base.ok());
  const std::pair<const char*, const char*> table[] = {
      {"g", "http://a.example/b/c/g"},
      {"./g", "http://a.example/b/c/g"},
      {"g/", "http://a.example/b/c/g/"},
      {"/g", "http://a.example/g"},
      {"//g.example/x", "http://g.example/x"},
      {"?y", "http://a.example/b/c/d;p?y"},
      {"g?y", "http://a.example/b/c/g?y"},
      {"#s", "http://a.example/b/c/d;p?q"},
      {"g#s", "http://a.example/b/c/g"},
      {"", "http://a.example/b/c/d;p?q"},
      {".", "http://a.example/b/c/"},
      {"..", "http://a.example/b/"},
      {"../g", "http://a.example/b/g"},
      {"../../g", "http://a.example/g"},
      {"../../../g", "http://a.example/g"},
      {"../../../../g", "http://a.example/g"},
      {"/./g", "http://a.example/g"},
      {"/../g", "http://a.example/g"},
      {"https://Other.Example:443/%7Ex", "https://other.example/~x"},
  };
  for (const auto& [ref, out] : table) {
    auto r = resolve(*base, ref);
    ASSERT_TRUE(r.ok()) << ref << ": " << r.error().message;
    EXPECT_EQ(r->normalized, out) << ref;
  }
}

TEST(UrlResolve, BadLinksAreRefused) {
  auto base = parse("https://example.com/dir/page");
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(refused(resolve(*base, "javascript:alert(1)")), "url-scheme");
  EXPECT_EQ(refused(resolve(*base, "mailto:someone@example.com")), "url-scheme");
  EXPECT_EQ(refused(resolve(*base, "//user:pw@example.com/")), "url-credentials");
  EXPECT_EQ(refused(resolve(*base, "a b")), "bad-url");
  EXPECT_EQ(refused(resolve(*base, "x\ty")), "url-control-character");
  EXPECT_EQ(refused(resolve(*base, "%")), "bad-url");
  // Surrounding whitespace of an href is ignored, as browsers do.
  EXPECT_EQ(resolve(*base, "  other\n")->normalized, "https://example.com/dir/other");
  // resolve() is parse(), not parse_public(): the address check is the caller's.
  EXPECT_EQ(resolve(*base, "http://127.0.0.1:8080/")->normalized, "http://127.0.0.1:8080/");
}

}  // namespace
}  // namespace meadow::url
