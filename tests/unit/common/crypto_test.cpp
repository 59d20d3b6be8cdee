#include "common/crypto.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "common/sha2.h"

namespace meadow::crypto {
namespace {

std::string unhex(std::string_view hex) {
  auto r = from_hex(hex);
  EXPECT_TRUE(r.ok());
  return r.ok() ? r.value() : std::string();
}

// RFC 8032 section 7.1.
struct Rfc8032Vector {
  const char* seed;
  const char* public_key;
  const char* message;
  const char* signature;
};
constexpr Rfc8032Vector kVectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

TEST(Ed25519, Rfc8032VectorsGiveKnownKeysAndSignatures) {
  for (const auto& v : kVectors) {
    auto kp = KeyPair::from_seed(unhex(v.seed));
    ASSERT_TRUE(kp.ok());
    EXPECT_EQ(to_hex(kp->public_key().raw()), v.public_key);
    EXPECT_EQ(kp->seed(), unhex(v.seed));
    const std::string msg = unhex(v.message);
    const std::string sig = kp->sign(msg);
    EXPECT_EQ(to_hex(sig), v.signature);
    auto pub = PublicKey::from_raw(unhex(v.public_key));
    ASSERT_TRUE(pub.ok());
    EXPECT_TRUE(pub->verify(msg, unhex(v.signature)));
  }
}

// `n` bytes from `rng`: repeatable test messages and seeds.
std::string random_bytes_from(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// What OpenSSL's own Ed25519 makes of the message with the key from `seed`.
std::string openssl_signature(const std::string& seed, const std::string& message) {
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                   reinterpret_cast<const unsigned char*>(seed.data()), seed.size()),
      EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  if (!pkey || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    return "openssl failed";
  return sig;
}

// Ed25519 is deterministic: every key and message has one signature. Ours must be OpenSSL's,
// byte for byte, for keys whose scalars land all over the group and for messages from empty
// to larger than a record.
TEST(Ed25519, SignaturesAreOpenSslsByteForByte) {
  std::mt19937_64 rng(20261122);
  auto random_string = [&rng](std::size_t n) { return random_bytes_from(rng, n); };
  int mismatches = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string seed = random_string(32);
    const std::size_t size = i % 3 == 0 ? rng() % 64 : i % 3 == 1 ? rng() % 4096 : 20000 + rng() % 30000;
    const std::string message = random_string(size);
    auto kp = KeyPair::from_seed(seed);
    ASSERT_TRUE(kp.ok());
    const std::string sig = kp->sign(message);
    if (sig != openssl_signature(seed, message)) ++mismatches;
    EXPECT_TRUE(kp->public_key().verify(message, sig));
  }
  EXPECT_EQ(mismatches, 0);
  // Seeds of all zero and all one bits, the ends of the clamped scalar's range.
  for (const std::string& seed : {std::string(32, '\0'), std::string(32, '\xff')}) {
    auto kp = KeyPair::from_seed(seed);
    ASSERT_TRUE(kp.ok());
    EXPECT_EQ(kp->sign("edge"), openssl_signature(seed, "edge"));
  }
}

// Signing many messages at once gives each the signature sign() gives it alone, and OpenSSL's,
// whatever the batch's size (some batches fill the hashing lanes, some leave them part empty,
// some are too small to use them) and however the messages' lengths differ within it.
TEST(Ed25519, SignManyGivesEachMessageItsOwnSignature) {
  std::mt19937_64 rng(4242);
  auto random_string = [&rng](std::size_t n) { return random_bytes_from(rng, n); };
  const std::string seed = random_string(32);
  auto kp = KeyPair::from_seed(seed);
  ASSERT_TRUE(kp.ok());
  EXPECT_TRUE(kp->sign_many({}).empty());
  for (std::size_t n : {1, 2, 3, 4, 5, 8, 9, 11, 16, 17, 40}) {
    std::vector<std::string> messages;
    for (std::size_t i = 0; i < n; ++i)
      messages.push_back(random_string(i % 4 == 0 ? rng() % 200 : i % 4 == 1 ? 0 : 15000 + rng() % 15000));
    const std::vector<std::string_view> views(messages.begin(), messages.end());
    const std::vector<std::string> sigs = kp->sign_many(views);
    ASSERT_EQ(sigs.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(sigs[i], openssl_signature(seed, messages[i])) << "batch of " << n << ", message " << i;
      EXPECT_TRUE(kp->public_key().verify(messages[i], sigs[i]));
    }
  }
}

// SHA-512 of a head and a body, side by side in lanes or one by one, is OpenSSL's SHA-512 of
// the two joined: heads of every allowed length, bodies that end on and around the block and
// padding boundaries (111, 112 and 128 bytes into a block), empty and long ones.
TEST(Sha512, ManyAtOnceAgreeWithOpenSsl) {
  RecordProperty("lanes", sha2_lanes_available() ? "avx512" : "none");  // which path ran
  std::mt19937_64 rng(512);
  auto random_string = [&rng](std::size_t n) { return random_bytes_from(rng, n); };
  auto reference = [](const std::string& message) {
    unsigned char md[64];
    unsigned int len = 0;
    EVP_Digest(message.data(), message.size(), md, &len, EVP_sha512(), nullptr);
    return std::string(reinterpret_cast<const char*>(md), len);
  };
  int mismatches = 0, checked = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const std::size_t n = 1 + rng() % 20;
    std::vector<std::string> heads, bodies;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t head = trial < 129 && i == 0 ? static_cast<std::size_t>(trial) : rng() % (kMaxSha512Head + 1);
      const std::size_t total = rng() % 3 == 0 ? 128 * (rng() % 4) + 100 + rng() % 40 : rng() % 40000;
      heads.push_back(random_string(head));
      bodies.push_back(random_string(total > head ? total - head : 0));
    }
    std::vector<Sha512Input> in;
    for (std::size_t i = 0; i < n; ++i) in.push_back({heads[i], bodies[i]});
    std::vector<Sha512Digest> out(n);
    const std::size_t used = trial % 2 == 0 ? std::min<std::size_t>(n, 8) : n;
    if (trial % 2 == 0)
      sha512_lanes(std::span(in).first(used), out.data());
    else
      sha512_many(in, out.data());
    for (std::size_t i = 0; i < used; ++i, ++checked) {
      if (std::string(reinterpret_cast<const char*>(out[i]), 64) != reference(heads[i] + bodies[i])) ++mismatches;
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << checked;
  // FIPS 180-4's own examples: "abc" and the 112-byte message, split anywhere.
  const std::string abc_digest =
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
  Sha512Digest d;
  sha512({"a", "bc"}, d);
  EXPECT_EQ(to_hex(std::string_view(reinterpret_cast<const char*>(d), 64)), abc_digest);
  const std::string two_blocks =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  std::vector<Sha512Input> in(5, Sha512Input{std::string_view(two_blocks).substr(0, 7), std::string_view(two_blocks).substr(7)});
  in[4] = {{}, "abc"};
  std::vector<Sha512Digest> out(in.size());
  sha512_lanes(in, out.data());
  EXPECT_EQ(to_hex(std::string_view(reinterpret_cast<const char*>(out[0]), 64)),
            "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
            "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
  EXPECT_EQ(to_hex(std::string_view(reinterpret_cast<const char*>(out[4]), 64)), abc_digest);
}

// SHA-256 of many messages, side by side in lanes or one by one, is OpenSSL's SHA-256 of each:
// lengths on and around the block and padding boundaries (55, 56 and 64 bytes into a block),
// empty and long messages, groups that fill the lanes and groups that leave them part empty.
TEST(Sha256, ManyAtOnceAgreeWithOpenSsl) {
  std::mt19937_64 rng(256);
  int mismatches = 0, checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = 1 + rng() % 40;
    std::vector<std::string> messages;
    for (std::size_t i = 0; i < n; ++i)
      messages.push_back(random_bytes_from(rng, rng() % 3 == 0 ? 64 * (rng() % 4) + 50 + rng() % 20 : rng() % 30000));
    const std::vector<std::string_view> in(messages.begin(), messages.end());
    std::vector<Sha256> out(n);
    const std::size_t used = trial % 2 == 0 ? std::min<std::size_t>(n, 16) : n;
    if (trial % 2 == 0)
      sha256_lanes(std::span(in).first(used), out.data());
    else
      sha256_many(in, out.data());
    for (std::size_t i = 0; i < used; ++i, ++checked)
      if (out[i] != sha256(messages[i])) ++mismatches;
  }
  EXPECT_EQ(mismatches, 0) << "of " << checked;
  sha256_lanes({}, nullptr);  // nothing to hash, nowhere to write
  sha256_many({}, nullptr);
  // FIPS 180-4's example "abc", in every lane of a full set.
  std::vector<std::string_view> abc(16, "abc");
  std::vector<Sha256> out(abc.size());
  sha256_lanes(abc, out.data());
  for (const Sha256& d : out)
    EXPECT_EQ(to_hex(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Ed25519, TamperedMessageOrSignatureDoesNotVerify) {
  const KeyPair kp = KeyPair::generate();
  const std::string msg = "lease 42 accepted";
  std::string sig = kp.sign(msg);
  EXPECT_TRUE(kp.public_key().verify(msg, sig));
  EXPECT_FALSE(kp.public_key().verify("lease 43 accepted", sig));
  EXPECT_FALSE(kp.public_key().verify(msg + " ", sig));
  sig[10] = static_cast<char>(sig[10] ^ 1);
  EXPECT_FALSE(kp.public_key().verify(msg, sig));
  EXPECT_FALSE(kp.public_key().verify(msg, sig.substr(0, 63)));
  EXPECT_FALSE(kp.public_key().verify(msg, ""));
  const KeyPair other = KeyPair::generate();
  EXPECT_FALSE(other.public_key().verify(msg, kp.sign(msg)));
}

TEST(Ed25519, GeneratedKeysDiffer) {
  EXPECT_NE(KeyPair::generate().public_key().raw(), KeyPair::generate().public_key().raw());
}

TEST(Ed25519, WrongSizesAreRefused) {
  auto seed = KeyPair::from_seed(std::string(31, 'x'));
  ASSERT_FALSE(seed.ok());
  EXPECT_EQ(seed.error().code, "bad-private-key");
  auto pub = PublicKey::from_raw(std::string(33, 'x'));
  ASSERT_FALSE(pub.ok());
  EXPECT_EQ(pub.error().code, "bad-public-key");
  EXPECT_FALSE(PublicKey::from_base64("not base64!").ok());
}

TEST(Ed25519, PublicKeyBase64AndId) {
  auto kp = KeyPair::from_seed(unhex(kVectors[0].seed));
  ASSERT_TRUE(kp.ok());
  const PublicKey& pub = kp->public_key();
  auto again = PublicKey::from_base64(pub.base64());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->raw(), pub.raw());
  const std::string id = pub.id();
  EXPECT_EQ(id.size(), 33u);
  EXPECT_EQ(id, "n" + sha256_hex(pub.raw()).substr(0, 32));
  EXPECT_EQ(pub.id('c')[0], 'c');
}

TEST(Ed25519, MovedKeyPairKeepsSigning) {
  KeyPair a = KeyPair::generate();
  const std::string pub = a.public_key().raw();
  KeyPair b = std::move(a);
  EXPECT_EQ(b.public_key().raw(), pub);
  EXPECT_TRUE(b.public_key().verify("m", b.sign("m")));
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(to_hex(sha256("abc")), sha256_hex("abc"));
}

TEST(Sha256, StreamMatchesOneShot) {
  const std::string data(100000, 'a');
  Sha256Stream s;
  for (std::size_t i = 0; i < data.size(); i += 777)
    s.update(std::string_view(data).substr(i, 777));
  EXPECT_EQ(s.finish(), sha256(data));
  Sha256Stream million;
  for (int i = 0; i < 1000; ++i) million.update(std::string(1000, 'a'));
  EXPECT_EQ(to_hex(million.finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Hex, RoundTripAndStrictness) {
  const std::string bytes("\x00\x01\xab\xff", 4);
  EXPECT_EQ(to_hex(bytes), "0001abff");
  auto back = from_hex("0001ABff");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), bytes);
  EXPECT_EQ(from_hex("abc").error().code, "bad-hex");
  EXPECT_EQ(from_hex("zz").error().code, "bad-hex");
  EXPECT_EQ(from_hex("0x12").error().code, "bad-hex");
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> table[] = {{"", ""},
                                                       {"f", "Zg=="},
                                                       {"fo", "Zm8="},
                                                       {"foo", "Zm9v"},
                                                       {"foob", "Zm9vYg=="},
                                                       {"fooba", "Zm9vYmE="},
                                                       {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : table) {
    EXPECT_EQ(base64_encode(plain), encoded);
    auto d = base64_decode(encoded);
    ASSERT_TRUE(d.ok()) << encoded;
    EXPECT_EQ(d.value(), plain);
    std::string url = encoded;
    while (!url.empty() && url.back() == '=') url.pop_back();
    EXPECT_EQ(base64url_encode(plain), url);
    auto du = base64url_decode(url);
    ASSERT_TRUE(du.ok()) << url;
    EXPECT_EQ(du.value(), plain);
  }
}

TEST(Base64, AlphabetsDiffer) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(base64_encode(bytes), "+/+/");
  EXPECT_EQ(base64url_encode(bytes), "-_-_");
  EXPECT_FALSE(base64_decode("-_-_").ok());
  EXPECT_FALSE(base64url_decode("+/+/").ok());
}

TEST(Base64, StrictDecodingRefusesSloppyInput) {
  for (const char* bad : {"Zg", "Zg=", "Zg===", "Z===", "Zm9v\n", " Zm9v", "Zm9v YmFy",
                          "Zg==Zg==", "Zh==", "Zm9=", "Zm=v", "====", "Zm9v!"}) {
    auto r = base64_decode(bad);
    EXPECT_FALSE(r.ok()) << "accepted " << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, "bad-base64");
      EXPECT_EQ(r.error().kind, ErrorKind::invalid);
    }
  }
  for (const char* bad : {"Zg==", "Z", "Zh", "Zm9", "a+b/", "Zm9v="}) {
    EXPECT_FALSE(base64url_decode(bad).ok()) << "accepted " << bad;
  }
}

TEST(Random, BytesAndTokens) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(37).size(), 37u);
  std::set<std::string> tokens;
  for (int i = 0; i < 100; ++i) tokens.insert(random_token());
  EXPECT_EQ(tokens.size(), 100u);
  const std::string t = random_token(24);
  EXPECT_EQ(t.size(), 32u);
  EXPECT_TRUE(base64url_decode(t).ok());
}

TEST(ConstantTimeEqual, ComparesContent) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secrets"));
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "meadow-crypto-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  static unsigned mode_of(const std::string& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 0777;
  }
  std::filesystem::path dir_;
};

TEST_F(KeyFileTest, SaveLoadRoundTrip) {
  const std::string p = path("node.key");
  const KeyPair kp = KeyPair::generate();
  ASSERT_TRUE(kp.save(p).ok());
  EXPECT_EQ(mode_of(p), 0600u);
  auto loaded = KeyPair::load(p);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->public_key().raw(), kp.public_key().raw());
  EXPECT_EQ(loaded->sign("x"), kp.sign("x"));
  // Saving again replaces the file and leaves no temporary files behind.
  const KeyPair other = KeyPair::generate();
  ASSERT_TRUE(other.save(p).ok());
  EXPECT_EQ(KeyPair::load(p)->public_key().raw(), other.public_key().raw());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator()),
            1);
}

TEST_F(KeyFileTest, LoadOrCreateMakesOneKeyAndKeepsIt) {
  const std::string p = path("coordinator.key");
  auto first = KeyPair::load_or_create(p);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(mode_of(p), 0600u);
  auto second = KeyPair::load_or_create(p);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->public_key().raw(), second->public_key().raw());
}

TEST_F(KeyFileTest, MissingFileIsNotFound) {
  auto r = KeyPair::load(path("absent.key"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
  EXPECT_NE(r.error().message.find("absent.key"), std::string::npos);
}

TEST_F(KeyFileTest, ReadableByOthersIsRefusedWithTheFix) {
  const std::string p = path("open.key");
  ASSERT_TRUE(KeyPair::generate().save(p).ok());
  ASSERT_EQ(::chmod(p.c_str(), 0644), 0);
  for (const bool create : {false, true}) {
    auto r = create ? KeyPair::load_or_create(p) : KeyPair::load(p);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "key-file-mode");
    EXPECT_NE(r.error().message.find(p), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("0644"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos) << r.error().message;
  }
  ASSERT_EQ(::chmod(p.c_str(), 0640), 0);
  EXPECT_EQ(KeyPair::load(p).error().code, "key-file-mode");
  ASSERT_EQ(::chmod(p.c_str(), 0600), 0);
  EXPECT_TRUE(KeyPair::load(p).ok());
}

TEST_F(KeyFileTest, GarbageFileIsRefusedNotReplaced) {
  const std::string p = path("garbage.key");
  {
    std::ofstream f(p);
    f << "hello\nworld\n";
  }
  ASSERT_EQ(::chmod(p.c_str(), 0600), 0);
  auto r = KeyPair::load_or_create(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad-key-file");
  std::ifstream f(p);
  std::string first;
  std::getline(f, first);
  EXPECT_EQ(first, "hello");

  {
    std::ofstream g(p, std::ios::trunc);
    g << "meadow-ed25519-v1\nAAAA\n";
  }
  EXPECT_EQ(KeyPair::load(p).error().code, "bad-key-file");
}

TEST_F(KeyFileTest, FileFormatIsDocumentedText) {
  const std::string p = path("k.key");
  auto kp = KeyPair::from_seed(unhex(kVectors[0].seed));
  ASSERT_TRUE(kp.ok());
  ASSERT_TRUE(kp->save(p).ok());
  std::ifstream f(p);
  std::string magic, seed;
  std::getline(f, magic);
  std::getline(f, seed);
  EXPECT_EQ(magic, "meadow-ed25519-v1");
  EXPECT_EQ(seed, base64_encode(unhex(kVectors[0].seed)));
}

TEST_F(KeyFileTest, UnwritableDirectoryIsAnIoError) {
  const Status s = KeyPair::generate().save(path("no/such/dir/k.key"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::io);
}

}  // namespace
}  // namespace meadow::crypto
