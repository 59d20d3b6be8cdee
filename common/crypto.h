// Ed25519 keys, signatures and SHA-256 over OpenSSL 3 EVP, plus the encodings the
// protocol uses (hex, base64, base64url). Keys own their EVP_PKEY; all functions are
// thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meadow::crypto {

using Sha256 = std::array<std::uint8_t, 32>;

Sha256 sha256(std::string_view data);
std::string sha256_hex(std::string_view data);  // lower-case hex, 64 characters
std::string to_hex(const Sha256& digest);        // lower-case hex, 64 characters

// Incremental SHA-256 for streams.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void update(std::string_view data);
  Sha256 finish();  // the stream may not be used after finish()

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string to_hex(std::string_view bytes);
Result<std::string> from_hex(std::string_view hex);
std::string base64_encode(std::string_view bytes);        // standard alphabet, padded
Result<std::string> base64_decode(std::string_view text);  // strict: refuses bad characters and padding
std::string base64url_encode(std::string_view bytes);     // URL alphabet, no padding
Result<std::string> base64url_decode(std::string_view text);

// `n` cryptographically random bytes (OpenSSL RAND_bytes).
std::string random_bytes(std::size_t n);
// A random token of `n` bytes, base64url encoded: for nonces, API keys and ids.
std::string random_token(std::size_t n = 24);

// An Ed25519 public key: 32 raw bytes.
class PublicKey {
 public:
  static Result<PublicKey> from_raw(std::string_view raw32);
  static Result<PublicKey> from_base64(std::string_view b64);

  const std::string& raw() const noexcept { return raw_; }
  std::string base64() const { return base64_encode(raw_); }
  // A short stable id: "n" + the first 16 bytes of SHA-256(raw) in hex (33 characters).
  // Nodes and the coordinator are named by it (the keyid of request signatures).
  std::string id(char prefix = 'n') const;

  // True when `signature` (64 raw bytes) is a valid Ed25519 signature of `message`.
  bool verify(std::string_view message, std::string_view signature) const;

 private:
  std::string raw_;
};

// An Ed25519 private key. Move-only; the secret bytes are wiped when it is destroyed.
class KeyPair {
 public:
  static KeyPair generate();
  // From the 32-byte seed (RFC 8032 private key).
  static Result<KeyPair> from_seed(std::string_view seed32);

  KeyPair(KeyPair&&) noexcept;
  KeyPair& operator=(KeyPair&&) noexcept;
  ~KeyPair();

  const PublicKey& public_key() const noexcept { return public_; }
  std::string seed() const;  // 32 raw bytes; handle with care
  std::string sign(std::string_view message) const;  // 64 raw bytes
  // sign() of each message, in order. Faster per message than one call each when there are
  // several: their SHA-512 passes run side by side (common/sha2.h).
  std::vector<std::string> sign_many(std::span<const std::string_view> messages) const;

  // Loads a key file written by save(), or makes a new key and saves it when the file
  // does not exist. The file is created with mode 0600; an existing file that others can
  // read, or that does not hold a key, is refused with the reason.
  static Result<KeyPair> load_or_create(const std::string& path);
  static Result<KeyPair> load(const std::string& path);
  Status save(const std::string& path) const;

 private:
  struct Impl;
  explicit KeyPair(std::unique_ptr<Impl> impl, PublicKey pub);
  std::unique_ptr<Impl> impl_;
  PublicKey public_;
};

// Compares in time independent of where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace meadow::crypto
