// SHA-512 and SHA-256 of many messages at once, for what a node signs and hashes per page.
//
// Signing hashes each message twice with SHA-512, and a record carries the SHA-256 of the
// page's body and of its text; on ~20 KB pages these passes are a large part of a page's cost.
// Messages hashed together run side by side on CPUs with AVX-512: one message per lane of a
// vector register, eight for SHA-512 and sixteen for SHA-256. On an AMD EPYC with AVX-512 a
// 25 KB message then takes 9 us of SHA-512 instead of OpenSSL's 25, and a 21 KB one 7 us of
// SHA-256 instead of 12.7 with the CPU's SHA instructions. Elsewhere, and for batches too small
// to fill enough lanes, OpenSSL hashes them one by one. Either way the digests are FIPS 180-4's;
// tests hold them to OpenSSL's.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "common/crypto.h"

namespace meadow::crypto {

// A message given in two parts, hashed as head followed by body, so that a short prefix (a
// key's nonce prefix, or R and A) need not be copied in front of a long body. The head is at
// most kMaxSha512Head bytes.
struct Sha512Input {
  std::string_view head;
  std::string_view body;
};
inline constexpr std::size_t kMaxSha512Head = 128;

using Sha512Digest = unsigned char[64];

// out = SHA-512(head || body).
void sha512(const Sha512Input& in, unsigned char* out);

// out[i] = SHA-512(in[i].head || in[i].body) for each i; `out` has in.size() entries.
void sha512_many(std::span<const Sha512Input> in, Sha512Digest* out);

// out[i] = sha256(in[i]) for each i; `out` has in.size() entries.
void sha256_many(std::span<const std::string_view> in, Sha256* out);

// Whether this CPU hashes messages side by side (AVX-512 F, BW and VL).
bool sha2_lanes_available() noexcept;

// The side-by-side hashes themselves, for tests: up to 8 messages for SHA-512 and 16 for
// SHA-256, each taking as long for one message as for a full set. Without the lanes (or with
// more messages) they hash one by one. The _many functions use them for groups big enough.
void sha512_lanes(std::span<const Sha512Input> in, Sha512Digest* out);
void sha256_lanes(std::span<const std::string_view> in, Sha256* out);

}  // namespace meadow::crypto
