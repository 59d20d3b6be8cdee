// SHA-512 for Ed25519 signing (common/crypto.cpp), one message at a time or many at once.
//
// Signing hashes each message twice, and on a ~20 KB record those two passes are most of a
// signature's cost. Messages signed together are hashed side by side: on CPUs with AVX-512,
// eight at a time, one per 64-bit lane of a vector register, in about a third of the time
// hashing them one after another takes (9 against 25 us for 25 KB on an AMD EPYC with
// AVX-512). Elsewhere, and for batches too small to fill enough lanes, OpenSSL hashes them one
// by one. Either way the digests are SHA-512's (FIPS 180-4); a test holds them to OpenSSL's.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

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

// Whether this CPU hashes messages side by side (AVX-512 F, BW and VL).
bool sha512_lanes_available() noexcept;

// The side-by-side hash itself: 1 to 8 messages, on a CPU for which sha512_lanes_available().
// Takes as long for one message as for eight; sha512_many() uses it for groups of at least
// four. Exposed for tests.
void sha512_lanes(std::span<const Sha512Input> in, Sha512Digest* out);

}  // namespace meadow::crypto
