#include "common/sha512.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MEADOW_SHA512_LANES 1
#endif

namespace meadow::crypto {
namespace {

[[noreturn]] void fatal(const char* what) {
  std::fprintf(stderr, "meadow: fatal OpenSSL failure in %s\n", what);
  std::abort();
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};

// Groups with fewer messages than this are hashed one by one: the lanes take as long for one
// message as for eight, about three times what OpenSSL takes for one, and break even at three.
constexpr std::size_t kMinLanesUsed = 4;

#ifdef MEADOW_SHA512_LANES

constexpr std::size_t kLanes = 8;
constexpr std::size_t kBlock = 128;

// FIPS 180-4 section 4.2.3: the first 64 bits of the fractional parts of the cube roots of the
// first 80 primes.
constexpr std::uint64_t kRound[80] = {
    0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL,
    0xe9b5dba58189dbbcULL, 0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL,
    0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL, 0xd807aa98a3030242ULL,
    0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
    0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL,
    0xc19bf174cf692694ULL, 0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL,
    0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL, 0x2de92c6f592b0275ULL,
    0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
    0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL,
    0xbf597fc7beef0ee4ULL, 0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL,
    0x06ca6351e003826fULL, 0x142929670a0e6e70ULL, 0x27b70a8546d22ffcULL,
    0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
    0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL,
    0x92722c851482353bULL, 0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL,
    0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL, 0xd192e819d6ef5218ULL,
    0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
    0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL,
    0x34b0bcb5e19b48a8ULL, 0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL,
    0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL, 0x748f82ee5defb2fcULL,
    0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
    0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL,
    0xc67178f2e372532bULL, 0xca273eceea26619cULL, 0xd186b8c721c0c207ULL,
    0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL, 0x06f067aa72176fbaULL,
    0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
    0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL,
    0x431d67c49c100d4cULL, 0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL,
    0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
};
// Section 5.3.5: the same for the square roots of the first eight primes.
constexpr std::uint64_t kInitial[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
    0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
    0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

// Where each 128-byte block of one lane's message is read from. The first block (which may
// hold the head) and the last one or two (the end of the message, the 0x80 byte and the
// length, section 5.1.2) are copied here; the blocks between are read in place from the body.
struct LanePlan {
  alignas(64) unsigned char first[kBlock];
  alignas(64) unsigned char last[2 * kBlock];
  const unsigned char* body = nullptr;
  std::size_t head_size = 0;
  std::size_t blocks = 0;     // padding included
  std::size_t last_from = 0;  // the first block held in last

  void plan(const Sha512Input& in) {
    body = reinterpret_cast<const unsigned char*>(in.body.data());
    head_size = in.head.size();
    const std::size_t total = head_size + in.body.size();
    blocks = (total + 1 + 16 + kBlock - 1) / kBlock;
    last_from = total / kBlock;
    if (last_from > 0) {  // a whole first block ahead of the last ones
      std::memcpy(first, in.head.data(), head_size);
      std::memcpy(first + head_size, body, kBlock - head_size);
    }
    std::memset(last, 0, sizeof last);
    std::size_t at = last_from * kBlock;  // offset in the message
    std::size_t n = 0;
    if (at < head_size) {
      n = head_size - at;
      std::memcpy(last, in.head.data() + at, n);
      at = head_size;
    }
    if (total > at) std::memcpy(last + n, body + (at - head_size), total - at);
    n += total - at;
    last[n] = 0x80;
    const std::uint64_t bits = static_cast<std::uint64_t>(total) * 8;  // the length's upper 64 bits stay 0
    unsigned char* length = last + (blocks - last_from) * kBlock - 8;
    for (int k = 0; k < 8; ++k) length[k] = static_cast<unsigned char>(bits >> (56 - 8 * k));
  }

  const unsigned char* block(std::size_t b) const {
    if (b >= last_from) return last + (b - last_from) * kBlock;
    return b == 0 ? first : body + b * kBlock - head_size;
  }
};

// The zero-masking forms with every lane on are the plain instructions; GCC 12's plain forms
// start from a self-initialised register that -Wmaybe-uninitialized reports.
#define MEADOW_ROR(x, n) _mm512_maskz_ror_epi64(0xFF, (x), (n))

// One round of section 6.4.2 step 3 on all eight lanes; vpternlogq's 0x96 is a three-way xor,
// 0xCA Ch and 0xE8 Maj.
#define MEADOW_ROUND(a, b, c, d, e, f, g, h, kw)                                                                    \
  do {                                                                                                           \
    const __m512i big_s1 = _mm512_ternarylogic_epi64(MEADOW_ROR(e, 14), MEADOW_ROR(e, 18), MEADOW_ROR(e, 41), 0x96); \
    const __m512i t1 = _mm512_add_epi64(_mm512_add_epi64(h, big_s1),                                                  \
                                        _mm512_add_epi64(_mm512_ternarylogic_epi64(e, f, g, 0xCA), kw));         \
    const __m512i big_s0 = _mm512_ternarylogic_epi64(MEADOW_ROR(a, 28), MEADOW_ROR(a, 34), MEADOW_ROR(a, 39), 0x96); \
    const __m512i t2 = _mm512_add_epi64(big_s0, _mm512_ternarylogic_epi64(a, b, c, 0xE8));                           \
    h = g;                                                                                                       \
    g = f;                                                                                                       \
    f = e;                                                                                                       \
    e = _mm512_add_epi64(d, t1);                                                                                 \
    d = c;                                                                                                       \
    c = b;                                                                                                       \
    b = a;                                                                                                       \
    a = _mm512_add_epi64(t1, t2);                                                                                \
  } while (0)

__attribute__((target("avx512f,avx512bw,avx512vl"))) void hash_lanes(const LanePlan* plans, std::size_t n,
                                                                      Sha512Digest* out) {
  // vpshufb within each 64-bit word: the message and the digest are big-endian.
  const __m512i swap = _mm512_set4_epi64(0x08090a0b0c0d0e0fLL, 0x0001020304050607LL, 0x08090a0b0c0d0e0fLL,
                                         0x0001020304050607LL);
  __m512i state[8];
  for (int k = 0; k < 8; ++k) state[k] = _mm512_set1_epi64(static_cast<long long>(kInitial[k]));
  std::size_t blocks = 0;
  for (std::size_t i = 0; i < n; ++i) blocks = std::max(blocks, plans[i].blocks);
  for (std::size_t b = 0; b < blocks; ++b) {
    // A lane whose message has ended reads any block and keeps its state.
    alignas(64) std::uint64_t at[kLanes];
    unsigned active = 0;
    for (std::size_t i = 0; i < kLanes; ++i) {
      const bool on = i < n && b < plans[i].blocks;
      at[i] = reinterpret_cast<std::uintptr_t>(on ? plans[i].block(b) : plans[0].last);
      active |= on ? 1u << i : 0u;
    }
    const __m512i base = _mm512_load_si512(at);
    __m512i w[16];
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) {
      const __m512i v = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), 0xFF,
                                                      _mm512_add_epi64(base, _mm512_set1_epi64(8 * j)), nullptr, 1);
      w[j] = _mm512_shuffle_epi8(v, swap);
    }
    __m512i a = state[0], bb = state[1], c = state[2], d = state[3];
    __m512i e = state[4], f = state[5], g = state[6], h = state[7];
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) {
      const __m512i kw = _mm512_add_epi64(w[j], _mm512_set1_epi64(static_cast<long long>(kRound[j])));
      MEADOW_ROUND(a, bb, c, d, e, f, g, h, kw);
    }
    for (int t = 16; t < 80; t += 16) {
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        // Section 6.4.2 step 1, with w[] as a ring of the last 16 words.
        const __m512i w15 = w[(j + 1) & 15], w2 = w[(j + 14) & 15];
        const __m512i s0 = _mm512_ternarylogic_epi64(MEADOW_ROR(w15, 1), MEADOW_ROR(w15, 8), _mm512_maskz_srli_epi64(0xFF, w15, 7), 0x96);
        const __m512i s1 = _mm512_ternarylogic_epi64(MEADOW_ROR(w2, 19), MEADOW_ROR(w2, 61), _mm512_maskz_srli_epi64(0xFF, w2, 6), 0x96);
        w[j] = _mm512_add_epi64(_mm512_add_epi64(w[j], s0), _mm512_add_epi64(w[(j + 9) & 15], s1));
        const __m512i kw = _mm512_add_epi64(w[j], _mm512_set1_epi64(static_cast<long long>(kRound[t + j])));
        MEADOW_ROUND(a, bb, c, d, e, f, g, h, kw);
      }
    }
    const auto m = static_cast<__mmask8>(active);
    state[0] = _mm512_mask_add_epi64(state[0], m, state[0], a);
    state[1] = _mm512_mask_add_epi64(state[1], m, state[1], bb);
    state[2] = _mm512_mask_add_epi64(state[2], m, state[2], c);
    state[3] = _mm512_mask_add_epi64(state[3], m, state[3], d);
    state[4] = _mm512_mask_add_epi64(state[4], m, state[4], e);
    state[5] = _mm512_mask_add_epi64(state[5], m, state[5], f);
    state[6] = _mm512_mask_add_epi64(state[6], m, state[6], g);
    state[7] = _mm512_mask_add_epi64(state[7], m, state[7], h);
  }
  alignas(64) std::uint64_t words[8][kLanes];
  for (int k = 0; k < 8; ++k) _mm512_store_si512(words[k], _mm512_shuffle_epi8(state[k], swap));
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < 8; ++k) std::memcpy(out[i] + 8 * k, &words[k][i], 8);
  OPENSSL_cleanse(words, sizeof words);
  // Clear the vector registers' upper halves, or the SSE code that runs next waits on them.
  _mm256_zeroupper();
}

#undef MEADOW_ROUND
#undef MEADOW_ROR

#endif  // MEADOW_SHA512_LANES

}  // namespace

void sha512(const Sha512Input& in, unsigned char* out) {
  thread_local const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  if (!ctx || !md || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) fatal("EVP_DigestInit_ex");
  if (EVP_DigestUpdate(ctx.get(), in.head.data(), in.head.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), in.body.data(), in.body.size()) != 1)
    fatal("EVP_DigestUpdate");
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out, &len) != 1 || len != 64) fatal("EVP_DigestFinal_ex");
}

bool sha512_lanes_available() noexcept {
#ifdef MEADOW_SHA512_LANES
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
  }();
  return yes;
#else
  return false;
#endif
}

void sha512_lanes(std::span<const Sha512Input> in, Sha512Digest* out) {
#ifdef MEADOW_SHA512_LANES
  if (in.size() <= kLanes && sha512_lanes_available()) {
    LanePlan plans[kLanes];
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (in[i].head.size() > kMaxSha512Head) std::abort();  // a caller's bug
      plans[i].plan(in[i]);
    }
    hash_lanes(plans, in.size(), out);
    OPENSSL_cleanse(plans, sizeof plans);  // the nonce prefix is secret
    return;
  }
#endif
  for (std::size_t i = 0; i < in.size(); ++i) sha512(in[i], out[i]);
}

void sha512_many(std::span<const Sha512Input> in, Sha512Digest* out) {
  const std::size_t n = in.size();
  if (n < kMinLanesUsed || !sha512_lanes_available()) {
    for (std::size_t i = 0; i < n; ++i) sha512(in[i], out[i]);
    return;
  }
  // Messages of similar length share a group, so few lanes idle while the longest finishes.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto size = [&in](std::size_t i) { return in[i].head.size() + in[i].body.size(); };
  std::stable_sort(order.begin(), order.end(), [&size](std::size_t x, std::size_t y) { return size(x) > size(y); });
  constexpr std::size_t kGroup = 8;
  for (std::size_t g = 0; g < n; g += kGroup) {
    const std::size_t m = std::min(kGroup, n - g);
    if (m < kMinLanesUsed) {
      for (std::size_t k = 0; k < m; ++k) sha512(in[order[g + k]], out[order[g + k]]);
      continue;
    }
    Sha512Input group[kGroup];
    Sha512Digest digests[kGroup];
    for (std::size_t k = 0; k < m; ++k) group[k] = in[order[g + k]];
    sha512_lanes({group, m}, digests);
    for (std::size_t k = 0; k < m; ++k) std::memcpy(out[order[g + k]], digests[k], sizeof digests[k]);
    OPENSSL_cleanse(digests, sizeof digests);
  }
}

}  // namespace meadow::crypto
