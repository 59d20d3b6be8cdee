#include "common/sha2.h"

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
#define MEADOW_SHA2_LANES 1
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

// Groups with fewer messages than these are hashed one by one. The lanes take as long for one
// message as for a full group: SHA-512's eight lanes about three times what OpenSSL takes for
// one message, breaking even at three; SHA-256's sixteen about nine times what OpenSSL takes
// with the CPU's SHA instructions, breaking even at nine.
constexpr std::size_t kMinSha512Lanes = 4;
constexpr std::size_t kMinSha256Lanes = 10;

// Runs `hash_group` over groups of up to `group` messages of similar length (so few lanes idle
// while the longest finishes), and `hash_one` over the messages of groups too small to be worth
// the lanes.
template <class Input, class Digest, class Group, class One>
void hash_in_groups(std::span<const Input> in, Digest* out, std::size_t group, std::size_t min_group,
                    std::size_t (*size)(const Input&), Group hash_group, One hash_one) {
  const std::size_t n = in.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return size(in[x]) > size(in[y]); });
  std::vector<Input> members(group);
  std::vector<unsigned char> digest_bytes(group * sizeof(Digest));
  auto* digests = reinterpret_cast<Digest*>(digest_bytes.data());
  for (std::size_t g = 0; g < n; g += group) {
    const std::size_t m = std::min(group, n - g);
    if (m < min_group) {
      for (std::size_t k = 0; k < m; ++k) hash_one(in[order[g + k]], out[order[g + k]]);
      continue;
    }
    for (std::size_t k = 0; k < m; ++k) members[k] = in[order[g + k]];
    hash_group(std::span<const Input>(members.data(), m), digests);
    for (std::size_t k = 0; k < m; ++k) std::memcpy(&out[order[g + k]], &digests[k], sizeof(Digest));
  }
  OPENSSL_cleanse(digest_bytes.data(), digest_bytes.size());
}

#ifdef MEADOW_SHA2_LANES

// FIPS 180-4 section 4.2.3: the first 64 bits of the fractional parts of the cube roots of the
// first 80 primes.
constexpr std::uint64_t kRound512[80] = {
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
constexpr std::uint64_t kInitial512[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
    0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
    0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

// Section 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64
// primes.
constexpr std::uint32_t kRound256[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u,
    0x923f82a4u, 0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u,
    0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u,
    0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u,
    0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u,
    0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au,
    0x5b9cca4fu, 0x682e6ff3u, 0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u,
    0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};
// Section 5.3.3: the same for the square roots of the first eight primes.
constexpr std::uint32_t kInitial256[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
    0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

// Where each block of one lane's message is read from. The first block (which may hold the
// head) and the last one or two (the end of the message, the 0x80 byte and the length, section
// 5.1) are copied here; the blocks between are read in place from the body.
template <std::size_t Block, std::size_t LengthBytes>
struct LanePlan {
  alignas(64) unsigned char first[Block];
  alignas(64) unsigned char last[2 * Block];
  const unsigned char* body = nullptr;
  std::size_t head_size = 0;
  std::size_t blocks = 0;     // padding included
  std::size_t last_from = 0;  // the first block held in last

  void plan(std::string_view head, std::string_view message_body) {
    body = reinterpret_cast<const unsigned char*>(message_body.data());
    head_size = head.size();
    const std::size_t total = head_size + message_body.size();
    blocks = (total + 1 + LengthBytes + Block - 1) / Block;
    last_from = total / Block;
    if (last_from > 0) {  // a whole first block ahead of the last ones
      std::memcpy(first, head.data(), head_size);
      std::memcpy(first + head_size, body, Block - head_size);
    }
    std::memset(last, 0, sizeof last);
    std::size_t at = last_from * Block;  // offset in the message
    std::size_t n = 0;
    if (at < head_size) {
      n = head_size - at;
      std::memcpy(last, head.data() + at, n);
      at = head_size;
    }
    if (total > at) std::memcpy(last + n, body + (at - head_size), total - at);
    n += total - at;
    last[n] = 0x80;
    const std::uint64_t bits = static_cast<std::uint64_t>(total) * 8;  // any higher length bytes stay 0
    unsigned char* length = last + (blocks - last_from) * Block - 8;
    for (int k = 0; k < 8; ++k) length[k] = static_cast<unsigned char>(bits >> (56 - 8 * k));
  }

  const unsigned char* block(std::size_t b) const {
    if (b >= last_from) return last + (b - last_from) * Block;
    return b == 0 ? first : body + b * Block - head_size;
  }
};

#define MEADOW_LANES_TARGET __attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) inline

// The two hashes' vector operations. The zero-masking forms with every lane on are the plain
// instructions; GCC 12's plain forms start from a self-initialised register that
// -Wmaybe-uninitialized reports. logic<T> is vpternlog with truth table T.
struct Sha512Lanes {
  static constexpr std::size_t kLanes = 8, kBlock = 128, kRounds = 80, kDigest = 64;
  using Word = std::uint64_t;
  using Plan = LanePlan<kBlock, 16>;
  static constexpr const Word* kRound = kRound512;
  static constexpr const Word* kInitial = kInitial512;
  // The rotations and shifts of the four sigma functions (section 4.1.3).
  static constexpr int kBigSigma0[3] = {28, 34, 39}, kBigSigma1[3] = {14, 18, 41};
  static constexpr int kSigma0[3] = {1, 8, 7}, kSigma1[3] = {19, 61, 6};
  MEADOW_LANES_TARGET static __m512i add(__m512i a, __m512i b) { return _mm512_add_epi64(a, b); }
  MEADOW_LANES_TARGET static __m512i add_masked(__m512i a, unsigned m, __m512i b) {
    return _mm512_mask_add_epi64(a, static_cast<__mmask8>(m), a, b);
  }
  MEADOW_LANES_TARGET static __m512i set1(Word w) { return _mm512_set1_epi64(static_cast<long long>(w)); }
  template <int N>
  MEADOW_LANES_TARGET static __m512i ror(__m512i x) { return _mm512_maskz_ror_epi64(0xFF, x, N); }
  template <int N>
  MEADOW_LANES_TARGET static __m512i shr(__m512i x) { return _mm512_maskz_srli_epi64(0xFF, x, N); }
  template <int Table>
  MEADOW_LANES_TARGET static __m512i logic(__m512i a, __m512i b, __m512i c) {
    return _mm512_ternarylogic_epi64(a, b, c, Table);
  }
  // The 8-byte words at `offset` in each lane's block, big-endian.
  MEADOW_LANES_TARGET static __m512i load(const std::uint64_t* at, int offset) {
    const __m512i where = _mm512_add_epi64(_mm512_load_si512(at), _mm512_set1_epi64(offset));
    return big_endian(_mm512_mask_i64gather_epi64(_mm512_setzero_si512(), 0xFF, where, nullptr, 1));
  }
  MEADOW_LANES_TARGET static __m512i big_endian(__m512i x) {
    const __m512i swap = _mm512_set4_epi64(0x08090a0b0c0d0e0fLL, 0x0001020304050607LL, 0x08090a0b0c0d0e0fLL,
                                           0x0001020304050607LL);
    return _mm512_shuffle_epi8(x, swap);
  }
};

struct Sha256Lanes {
  static constexpr std::size_t kLanes = 16, kBlock = 64, kRounds = 64, kDigest = 32;
  using Word = std::uint32_t;
  using Plan = LanePlan<kBlock, 8>;
  static constexpr const Word* kRound = kRound256;
  static constexpr const Word* kInitial = kInitial256;
  // Section 4.1.2.
  static constexpr int kBigSigma0[3] = {2, 13, 22}, kBigSigma1[3] = {6, 11, 25};
  static constexpr int kSigma0[3] = {7, 18, 3}, kSigma1[3] = {17, 19, 10};
  MEADOW_LANES_TARGET static __m512i add(__m512i a, __m512i b) { return _mm512_add_epi32(a, b); }
  MEADOW_LANES_TARGET static __m512i add_masked(__m512i a, unsigned m, __m512i b) {
    return _mm512_mask_add_epi32(a, static_cast<__mmask16>(m), a, b);
  }
  MEADOW_LANES_TARGET static __m512i set1(Word w) { return _mm512_set1_epi32(static_cast<int>(w)); }
  template <int N>
  MEADOW_LANES_TARGET static __m512i ror(__m512i x) { return _mm512_maskz_ror_epi32(0xFFFF, x, N); }
  template <int N>
  MEADOW_LANES_TARGET static __m512i shr(__m512i x) { return _mm512_maskz_srli_epi32(0xFFFF, x, N); }
  template <int Table>
  MEADOW_LANES_TARGET static __m512i logic(__m512i a, __m512i b, __m512i c) {
    return _mm512_ternarylogic_epi32(a, b, c, Table);
  }
  // The 4-byte words at `offset` in each lane's block, big-endian: two gathers of eight.
  MEADOW_LANES_TARGET static __m512i load(const std::uint64_t* at, int offset) {
    const __m512i off = _mm512_set1_epi64(offset);
    const __m256i low = _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), 0xFF,
                                                    _mm512_add_epi64(_mm512_load_si512(at), off), nullptr, 1);
    const __m256i high = _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), 0xFF,
                                                     _mm512_add_epi64(_mm512_load_si512(at + 8), off), nullptr, 1);
    const __m512i zero = _mm512_setzero_si512();
    const __m512i lower = _mm512_mask_inserti64x4(zero, 0xFF, zero, low, 0);
    return big_endian(_mm512_mask_inserti64x4(lower, 0xFF, lower, high, 1));
  }
  MEADOW_LANES_TARGET static __m512i big_endian(__m512i x) {
    const __m512i swap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
    return _mm512_shuffle_epi8(x, swap);
  }
};

// Section 4.1's functions for both hashes. Truth tables for vpternlog: 0x96 a three-way xor,
// 0xCA Ch, 0xE8 Maj.
template <class L>
MEADOW_LANES_TARGET __m512i xor3(__m512i a, __m512i b, __m512i c) {
  return L::template logic<0x96>(a, b, c);
}
// Sigma functions: two rotations and a third, or a shift for the small ones.
template <class L, const int (&R)[3]>
MEADOW_LANES_TARGET __m512i big_sigma(__m512i x) {
  return xor3<L>(L::template ror<R[0]>(x), L::template ror<R[1]>(x), L::template ror<R[2]>(x));
}
template <class L, const int (&R)[3]>
MEADOW_LANES_TARGET __m512i small_sigma(__m512i x) {
  return xor3<L>(L::template ror<R[0]>(x), L::template ror<R[1]>(x), L::template shr<R[2]>(x));
}

// One round of section 6.2.2 / 6.4.2 step 3, `kw` being K[t] + W[t].
template <class L>
MEADOW_LANES_TARGET void round(__m512i& a, __m512i& b, __m512i& c, __m512i& d, __m512i& e, __m512i& f, __m512i& g,
                               __m512i& h, __m512i kw) {
  const __m512i t1 = L::add(L::add(h, big_sigma<L, L::kBigSigma1>(e)), L::add(L::template logic<0xCA>(e, f, g), kw));
  const __m512i t2 = L::add(big_sigma<L, L::kBigSigma0>(a), L::template logic<0xE8>(a, b, c));
  h = g;
  g = f;
  f = e;
  e = L::add(d, t1);
  d = c;
  c = b;
  b = a;
  a = L::add(t1, t2);
}

// Section 6.2.2 / 6.4.2 on every lane at once: each lane of a vector holds one message's word.
template <class L>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void hash_lanes(const typename L::Plan* plans, std::size_t n,
                                                                      unsigned char* out) {
  __m512i state[8];
  for (int k = 0; k < 8; ++k) state[k] = L::set1(L::kInitial[k]);
  std::size_t blocks = 0;
  for (std::size_t i = 0; i < n; ++i) blocks = std::max(blocks, plans[i].blocks);
  for (std::size_t b = 0; b < blocks; ++b) {
    // A lane whose message has ended reads any block and keeps its state.
    alignas(64) std::uint64_t at[L::kLanes];
    unsigned active = 0;
    for (std::size_t i = 0; i < L::kLanes; ++i) {
      const bool on = i < n && b < plans[i].blocks;
      at[i] = reinterpret_cast<std::uintptr_t>(on ? plans[i].block(b) : plans[0].last);
      active |= on ? 1u << i : 0u;
    }
    __m512i w[16];
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) w[j] = L::load(at, j * static_cast<int>(sizeof(typename L::Word)));
    __m512i a = state[0], bb = state[1], c = state[2], d = state[3];
    __m512i e = state[4], f = state[5], g = state[6], h = state[7];
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) round<L>(a, bb, c, d, e, f, g, h, L::add(w[j], L::set1(L::kRound[j])));
    for (std::size_t t = 16; t < L::kRounds; t += 16) {
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        // The message schedule, with w[] as a ring of the last 16 words.
        w[j] = L::add(L::add(w[j], small_sigma<L, L::kSigma0>(w[(j + 1) & 15])),
                      L::add(w[(j + 9) & 15], small_sigma<L, L::kSigma1>(w[(j + 14) & 15])));
        round<L>(a, bb, c, d, e, f, g, h, L::add(w[j], L::set1(L::kRound[t + static_cast<std::size_t>(j)])));
      }
    }
    state[0] = L::add_masked(state[0], active, a);
    state[1] = L::add_masked(state[1], active, bb);
    state[2] = L::add_masked(state[2], active, c);
    state[3] = L::add_masked(state[3], active, d);
    state[4] = L::add_masked(state[4], active, e);
    state[5] = L::add_masked(state[5], active, f);
    state[6] = L::add_masked(state[6], active, g);
    state[7] = L::add_masked(state[7], active, h);
  }
  using Word = typename L::Word;
  alignas(64) Word words[8][L::kLanes];
  for (int k = 0; k < 8; ++k) _mm512_store_si512(words[k], L::big_endian(state[k]));
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < 8; ++k) std::memcpy(out + i * L::kDigest + k * sizeof(Word), &words[k][i], sizeof(Word));
  OPENSSL_cleanse(words, sizeof words);
  // Clear the vector registers' upper halves, or the SSE code that runs next waits on them.
  _mm256_zeroupper();
}

#undef MEADOW_LANES_TARGET

template <class L, class Input>
void plan_and_hash(std::span<const Input> in, unsigned char* out, std::string_view (*head)(const Input&),
                   std::string_view (*body)(const Input&)) {
  typename L::Plan plans[L::kLanes];
  for (std::size_t i = 0; i < in.size(); ++i) plans[i].plan(head(in[i]), body(in[i]));
  hash_lanes<L>(plans, in.size(), out);
  OPENSSL_cleanse(plans, sizeof plans);  // a nonce prefix is secret
}

#endif  // MEADOW_SHA2_LANES

std::size_t input_size(const Sha512Input& in) { return in.head.size() + in.body.size(); }
std::size_t view_size(const std::string_view& in) { return in.size(); }

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

bool sha2_lanes_available() noexcept {
#ifdef MEADOW_SHA2_LANES
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
#ifdef MEADOW_SHA2_LANES
  if (in.empty()) return;
  if (in.size() <= Sha512Lanes::kLanes && sha2_lanes_available()) {
    for (const Sha512Input& m : in)
      if (m.head.size() > kMaxSha512Head) std::abort();  // a caller's bug
    plan_and_hash<Sha512Lanes, Sha512Input>(
        in, out[0], [](const Sha512Input& m) { return m.head; }, [](const Sha512Input& m) { return m.body; });
    return;
  }
#endif
  for (std::size_t i = 0; i < in.size(); ++i) sha512(in[i], out[i]);
}

void sha512_many(std::span<const Sha512Input> in, Sha512Digest* out) {
  if (in.size() < kMinSha512Lanes || !sha2_lanes_available()) {
    for (std::size_t i = 0; i < in.size(); ++i) sha512(in[i], out[i]);
    return;
  }
  hash_in_groups(in, out, Sha512Lanes::kLanes, kMinSha512Lanes, input_size, sha512_lanes,
                 [](const Sha512Input& m, Sha512Digest& d) { sha512(m, d); });
}

void sha256_lanes(std::span<const std::string_view> in, Sha256* out) {
#ifdef MEADOW_SHA2_LANES
  if (in.empty()) return;
  if (in.size() <= Sha256Lanes::kLanes && sha2_lanes_available()) {
    plan_and_hash<Sha256Lanes, std::string_view>(
        in, out[0].data(), [](const std::string_view&) { return std::string_view(); },
        [](const std::string_view& m) { return m; });
    return;
  }
#endif
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = sha256(in[i]);
}

void sha256_many(std::span<const std::string_view> in, Sha256* out) {
  if (in.size() < kMinSha256Lanes || !sha2_lanes_available()) {
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = sha256(in[i]);
    return;
  }
  hash_in_groups(in, out, Sha256Lanes::kLanes, kMinSha256Lanes, view_size, sha256_lanes,
                 [](const std::string_view& m, Sha256& d) { d = sha256(m); });
}

}  // namespace meadow::crypto
