#include "common/http_signature.h"

#include <gtest/gtest.h>

#include <string>

namespace meadow::httpsig {
namespace {

constexpr std::int64_t kCreated = 1'700'000'000;
constexpr const char* kNonce = "n0nce-AbCdEf_0123456";
constexpr const char* kBody = R"({"max_tasks":1})";
constexpr const char* kBodyDigest = "sha-256=:h0BxMLVeSQyTApvnBEnUD9pflI9vJMpMgMrdDt7UW5c=:";

crypto::KeyPair key_from(char fill) {
  auto kp = crypto::KeyPair::from_seed(std::string(32, fill));
  EXPECT_TRUE(kp.ok());
  return std::move(kp).value();
}

std::string replaced(std::string s, std::string_view from, std::string_view to) {
  auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from << " not in " << s;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

class HttpSignature : public ::testing::Test {
 protected:
  const crypto::KeyPair key = key_from('k');
  const std::string key_id = key.public_key().id();

  SignedHeaders sign(std::string_view method = "POST", std::string_view path = "/v1/lease",
                     std::string_view body = kBody, std::string_view nonce = kNonce,
                     std::int64_t created = kCreated) {
    return sign_request(method, path, body, key, key_id, created, nonce);
  }

  // "ok", or "code: message" from parse() or verify().
  std::string check(const SignedHeaders& h, std::string_view method = "POST", std::string_view path = "/v1/lease",
                    std::string_view body = kBody, const crypto::PublicKey* pub = nullptr) {
    auto p = parse(h.signature_input, h.signature);
    if (!p.ok()) return p.error().code + ": " + p.error().message;
    auto s = verify(*p, method, path, body, h.content_digest, pub ? *pub : key.public_key());
    if (!s.ok()) return s.error().code + ": " + s.error().message;
    return "ok";
  }

  std::string code(const SignedHeaders& h, std::string_view method = "POST", std::string_view path = "/v1/lease",
                   std::string_view body = kBody) {
    std::string r = check(h, method, path, body);
    return r.substr(0, r.find(':'));
  }

  std::string parse_code(std::string_view input, std::string_view signature) {
    auto p = parse(input, signature);
    if (p.ok()) return "ok";
    EXPECT_EQ(p.error().kind, ErrorKind::unauthenticated);
    return p.error().code;
  }
};

TEST_F(HttpSignature, ContentDigestHasTheRfc9530Shape) {
  EXPECT_EQ(content_digest(""), "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
  EXPECT_EQ(content_digest(kBody), kBodyDigest);
}

TEST_F(HttpSignature, SignedHeadersHaveTheDocumentedShape) {
  const SignedHeaders h = sign();
  EXPECT_EQ(h.content_digest, kBodyDigest);
  EXPECT_EQ(h.signature_input, R"(sig1=("@method" "@path" "content-digest");created=1700000000;nonce=")" +
                                   std::string(kNonce) + R"(";keyid=")" + key_id + R"(";alg="ed25519")");
  ASSERT_GT(h.signature.size(), 7u);
  EXPECT_EQ(h.signature.substr(0, 6), "sig1=:");
  EXPECT_EQ(h.signature.back(), ':');
}

TEST_F(HttpSignature, SignatureBaseHasTheExactRfc9421Shape) {
  const std::string params =
      R"(("@method" "@path" "content-digest");created=1700000000;nonce="abc";keyid="n1";alg="ed25519")";
  EXPECT_EQ(signature_base("POST", "/v1/results", "sha-256=:X=:", params),
            "\"@method\": POST\n"
            "\"@path\": /v1/results\n"
            "\"content-digest\": sha-256=:X=:\n"
            "\"@signature-params\": (\"@method\" \"@path\" \"content-digest\");created=1700000000;"
            "nonce=\"abc\";keyid=\"n1\";alg=\"ed25519\"");
}

TEST_F(HttpSignature, SignatureIsEd25519OverTheSignatureBase) {
  const SignedHeaders h = sign();
  auto p = parse(h.signature_input, h.signature);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->params_text, h.signature_input.substr(5));
  EXPECT_EQ(p->signature.size(), 64u);
  EXPECT_TRUE(key.public_key().verify(signature_base("POST", "/v1/lease", kBodyDigest, p->params_text), p->signature));
}

TEST_F(HttpSignature, SignThenParseAndVerify) {
  const SignedHeaders h = sign();
  auto p = parse(h.signature_input, h.signature);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->key_id, key_id);
  EXPECT_EQ(p->nonce, kNonce);
  EXPECT_EQ(p->created_s, kCreated);
  EXPECT_EQ(check(h), "ok");

  const SignedHeaders get = sign("GET", "/v1/status", "");
  EXPECT_EQ(check(get, "GET", "/v1/status", ""), "ok");
}

TEST_F(HttpSignature, TamperedBodyIsABadDigest) {
  const SignedHeaders h = sign();
  const std::string got = check(h, "POST", "/v1/lease", R"({"max_tasks":256})");
  EXPECT_EQ(got.substr(0, got.find(':')), "bad-digest") << got;

  auto p = parse(h.signature_input, h.signature);
  ASSERT_TRUE(p.ok());
  auto s = verify(*p, "POST", "/v1/lease", kBody, "", key.public_key());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::unauthenticated);
  EXPECT_EQ(s.error().code, "bad-digest");
}

TEST_F(HttpSignature, TamperedBodyWithARecomputedDigestIsABadSignature) {
  const std::string other = R"({"max_tasks":256})";
  SignedHeaders h = sign();
  h.content_digest = content_digest(other);
  EXPECT_EQ(code(h, "POST", "/v1/lease", other), "bad-signature");
}

TEST_F(HttpSignature, TamperedMethodPathOrKeyIsABadSignature) {
  const SignedHeaders h = sign();
  EXPECT_EQ(code(h, "PUT"), "bad-signature");
  EXPECT_EQ(code(h, "post"), "bad-signature");
  EXPECT_EQ(code(h, "POST", "/v1/extend"), "bad-signature");
  EXPECT_EQ(code(h, "POST", "/v1/lease/"), "bad-signature");
  const auto other = key_from('o');
  const std::string got = check(h, "POST", "/v1/lease", kBody, &other.public_key());
  EXPECT_EQ(got, "bad-signature: the request signature does not verify with the node's key");
}

TEST_F(HttpSignature, TamperedParametersAreABadSignature) {
  const SignedHeaders h = sign();
  SignedHeaders t = h;
  t.signature_input = replaced(h.signature_input, "created=1700000000", "created=1700000999");
  EXPECT_EQ(code(t), "bad-signature");
  t.signature_input = replaced(h.signature_input, kNonce, "another-nonce-0123456");
  EXPECT_EQ(code(t), "bad-signature");
  t.signature_input = replaced(h.signature_input, key_id, key_from('o').public_key().id());
  EXPECT_EQ(code(t), "bad-signature");
}

TEST_F(HttpSignature, TamperedSignatureBytesAreABadSignature) {
  SignedHeaders h = sign();
  auto raw = crypto::base64_decode(h.signature.substr(6, h.signature.size() - 7));
  ASSERT_TRUE(raw.ok());
  std::string flipped = *raw;
  flipped[10] = static_cast<char>(flipped[10] ^ 0x01);
  h.signature = "sig1=:" + crypto::base64_encode(flipped) + ":";
  EXPECT_EQ(code(h), "bad-signature");
}

TEST_F(HttpSignature, MissingHeadersAreAnUnsignedRequest) {
  const SignedHeaders h = sign();
  for (auto [input, sig] : {std::pair<std::string, std::string>{"", h.signature}, {h.signature_input, ""}, {"", ""}}) {
    auto p = parse(input, sig);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().kind, ErrorKind::unauthenticated);
    EXPECT_EQ(p.error().code, "unsigned-request");
    EXPECT_NE(p.error().message.find("Signature-Input"), std::string::npos) << p.error().message;
  }
}

TEST_F(HttpSignature, OtherLabelsAreRefused) {
  const SignedHeaders h = sign();
  EXPECT_EQ(parse_code(replaced(h.signature_input, "sig1=", "sig2="), h.signature), "bad-signature");
  EXPECT_EQ(parse_code(h.signature_input, replaced(h.signature, "sig1=", "sig2=")), "bad-signature");
  EXPECT_EQ(parse_code(replaced(h.signature_input, "sig1=", "SIG1="), h.signature), "bad-signature");
  auto p = parse(replaced(h.signature_input, "sig1=", "x="), h.signature);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("sig1"), std::string::npos) << p.error().message;
}

TEST_F(HttpSignature, OtherAlgorithmsAreRefused) {
  const SignedHeaders h = sign();
  for (const char* alg : {R"(alg="rsa-pss-sha512")", R"(alg="ED25519")", R"(alg="")", R"(alg=ed25519)",
                          R"(algo="ed25519")"}) {
    auto p = parse(replaced(h.signature_input, R"(alg="ed25519")", alg), h.signature);
    ASSERT_FALSE(p.ok()) << alg;
    EXPECT_EQ(p.error().code, "bad-signature");
    EXPECT_NE(p.error().message.find("ed25519"), std::string::npos) << p.error().message;
  }
}

TEST_F(HttpSignature, NonceMustBe16To128SafeCharacters) {
  EXPECT_EQ(code(sign("POST", "/v1/lease", kBody, std::string(16, 'a'))), "ok");
  EXPECT_EQ(code(sign("POST", "/v1/lease", kBody, std::string(128, 'Z'))), "ok");
  EXPECT_EQ(code(sign("POST", "/v1/lease", kBody, "aZ09-_aZ09-_aZ09")), "ok");

  for (const std::string& nonce : {std::string(15, 'a'), std::string(129, 'a'), std::string(),
                                   std::string("abcdefghijklmnop.q"), std::string("abcdefghijklmnop q"),
                                   std::string("abcdefghijklmnop=="), std::string("abcdefghijklmnop\xC3\xA9"),
                                   std::string("abcdefghijklmnop;x")}) {
    const SignedHeaders h = sign("POST", "/v1/lease", kBody, nonce);
    auto p = parse(h.signature_input, h.signature);
    ASSERT_FALSE(p.ok()) << "nonce accepted: " << nonce;
    EXPECT_EQ(p.error().code, "bad-signature");
    EXPECT_NE(p.error().message.find("nonce"), std::string::npos) << p.error().message;
  }

  const SignedHeaders h = sign();
  EXPECT_EQ(parse_code(replaced(h.signature_input, std::string(";nonce=\"") + kNonce + "\"", ""), h.signature),
            "bad-signature");
}

TEST_F(HttpSignature, KeyIdMustBePresentAndShort) {
  const SignedHeaders h = sign();
  EXPECT_EQ(parse_code(replaced(h.signature_input, ";keyid=\"" + key_id + "\"", ""), h.signature), "bad-signature");
  EXPECT_EQ(parse_code(replaced(h.signature_input, key_id, ""), h.signature), "bad-signature");
  EXPECT_EQ(parse_code(replaced(h.signature_input, key_id, std::string(65, 'n')), h.signature), "bad-signature");
  EXPECT_EQ(parse_code(replaced(h.signature_input, key_id, std::string(64, 'n')), h.signature), "ok");
  EXPECT_EQ(parse_code(replaced(h.signature_input, key_id, "n/../x"), h.signature), "bad-signature");
}

TEST_F(HttpSignature, CreatedMustBeUnixSeconds) {
  const SignedHeaders h = sign();
  for (const char* created : {"created=abc", "created=-5", "created=12x", "created=", "created=1.5",
                              "created=1700000000000000", "created=\"1700000000\""}) {
    auto p = parse(replaced(h.signature_input, "created=1700000000", created), h.signature);
    ASSERT_FALSE(p.ok()) << created;
    EXPECT_EQ(p.error().code, "bad-signature");
    EXPECT_NE(p.error().message.find("created"), std::string::npos) << p.error().message;
  }
  auto missing = parse(replaced(h.signature_input, ";created=1700000000", ""), h.signature);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "the signature needs a created time");

  // Freshness is the caller's check: an old but well-formed time parses.
  auto old = parse(replaced(h.signature_input, "created=1700000000", "created=0"), h.signature);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->created_s, 0);
}

TEST_F(HttpSignature, CoveredComponentsMustBeExactlyOursInOrder) {
  const SignedHeaders h = sign();
  const std::string ours = R"(("@method" "@path" "content-digest"))";
  for (const char* other : {R"(("@path" "@method" "content-digest"))", R"(("@method" "content-digest" "@path"))",
                            R"(("@method" "@path"))", R"(("@method" "@path" "content-digest" "@query"))",
                            R"(("@method" "@target-uri" "content-digest"))", R"(())",
                            R"(("@method"  "@path" "content-digest"))"}) {
    auto p = parse(replaced(h.signature_input, ours, other), h.signature);
    ASSERT_FALSE(p.ok()) << other;
    EXPECT_EQ(p.error().code, "bad-signature");
    EXPECT_NE(p.error().message.find("in that order"), std::string::npos) << p.error().message;
  }
}

TEST_F(HttpSignature, MalformedSignatureHeaderIsRefused) {
  const SignedHeaders h = sign();
  auto raw = crypto::base64_decode(h.signature.substr(6, h.signature.size() - 7));
  ASSERT_TRUE(raw.ok());
  for (const std::string& sig : {std::string("sig1=abc"), std::string("sig1=:"), std::string("sig1=::"),
                                 std::string("sig1=:not base64!:"), "sig1=" + h.signature.substr(5, h.signature.size() - 6),
                                 "sig1=:" + crypto::base64_encode(raw->substr(0, 63)) + ":",
                                 "sig1=:" + crypto::base64_encode(*raw + "x") + ":"}) {
    auto p = parse(h.signature_input, sig);
    ASSERT_FALSE(p.ok()) << sig;
    EXPECT_EQ(p.error().code, "bad-signature") << sig;
  }
}

}  // namespace
}  // namespace meadow::httpsig
