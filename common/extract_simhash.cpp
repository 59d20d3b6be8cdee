#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "common/bytes16.h"
#include "common/extract.h"

namespace meadow::extract {
namespace {

// The MurmurHash3 finaliser: every input bit moves every output bit, which simhash needs
// because it votes on every bit separately.
std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Eight bytes from p, the first in the lowest byte whatever the machine's byte order.
std::uint64_t load8(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

// The first n (< 8) bytes from p the same way, the rest zero, reading nothing past p + n.
std::uint64_t load_short(const char* p, std::size_t n) noexcept {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < n; ++k) v |= std::uint64_t{static_cast<unsigned char>(p[k])} << (8 * k);
  return v;
}

// ASCII bytes with 0x20 set, others as they are. Every ASCII byte of a word is a letter or a
// digit, so this lower-cases the letters and leaves the digits alone.
std::uint64_t lower_ascii(std::uint64_t v) noexcept { return v | ((~v & 0x8080808080808080ULL) >> 2); }

constexpr std::uint64_t kWordSeed = 0x9e3779b97f4a7c15ULL;
constexpr std::uint64_t kWordStep = 0xff51afd7ed558ccdULL;
constexpr std::uint64_t kWordLast = 0xc4ceb9fe1a85ec53ULL;

// A word's hash: its bytes, ASCII lower-cased, taken eight at a time. Multiplies per eight
// bytes rather than per byte. Reads nothing at or past `end`.
std::uint64_t word_hash(const char* p, std::size_t n, const char* end) noexcept {
  std::uint64_t h = kWordSeed ^ n;
  while (n > 8) {
    h = std::rotl((h ^ lower_ascii(load8(p))) * kWordStep, 31);
    p += 8;
    n -= 8;
  }
  const std::uint64_t keep = n == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * n)) - 1;
  const std::uint64_t last = end - p >= 8 ? load8(p) : load_short(p, n);
  return (h ^ (lower_ascii(last) & keep)) * kWordLast;
}

// What word_hash needs to know about a word of n <= 16 bytes, indexed by n. One array per
// field, so that one base address serves them all.
struct ShortWords {
  std::array<std::uint64_t, 17> seed;       // the hash before the first step
  std::array<std::uint64_t, 17> two_steps;  // all ones when n > 8
  std::array<std::uint64_t, 17> keep;       // the bytes of the last step that are in the word
  std::array<std::uint64_t, 17> last;       // where the last step's eight bytes start
};
constexpr ShortWords kShortWords = [] {
  ShortWords t{};
  for (std::size_t n = 1; n <= 16; ++n) {
    t.seed[n] = kWordSeed ^ n;
    t.two_steps[n] = n > 8 ? ~std::uint64_t{0} : 0;
    t.keep[n] = ~std::uint64_t{0} >> (64 - 8 * (n > 8 ? n - 8 : n));
    t.last[n] = n > 8 ? 8 : 0;
  }
  return t;
}();

// word_hash of a word of 1 to 16 bytes at p in a copy of the text already lower-cased, with
// sixteen bytes readable there. No branch on the length, which would be mispredicted often:
// both steps are computed and a mask picks the result, since the compiler turns a
// conditional expression back into a branch.
[[gnu::always_inline]] inline std::uint64_t short_word_hash(const char* p, std::size_t n) noexcept {
  const std::uint64_t seed = kShortWords.seed[n];
  const std::uint64_t first = std::rotl((seed ^ load8(p)) * kWordStep, 31);
  const std::uint64_t h = seed ^ ((first ^ seed) & kShortWords.two_steps[n]);
  return (h ^ (load8(p + kShortWords.last[n]) & kShortWords.keep[n])) * kWordLast;
}

enum class CharKind { separator, word, single };

// Scripts written without spaces between words: each character counts as a word.
bool unspaced_script(char32_t c) {
  return (c >= 0x0E00 && c <= 0x0EFF) ||  // Thai, Lao
         (c >= 0x1000 && c <= 0x109F) ||  // Myanmar
         (c >= 0x1780 && c <= 0x17FF) ||  // Khmer
         (c >= 0x2E80 && c <= 0x2FDF) ||  // CJK radicals
         (c >= 0x3040 && c <= 0x31FF) ||  // kana, bopomofo
         (c >= 0x3400 && c <= 0x4DBF) ||  // CJK extension A
         (c >= 0x4E00 && c <= 0x9FFF) ||  // CJK unified ideographs
         (c >= 0xF900 && c <= 0xFAFF) ||  // CJK compatibility ideographs
         (c >= 0xFF66 && c <= 0xFF9F) ||  // half-width katakana
         (c >= 0x20000 && c <= 0x3FFFF);  // CJK extensions B and later
}

// ASCII letters and digits lower-cased; 0 for every other ASCII byte (a separator).
constexpr std::array<unsigned char, 128> kAsciiWord = [] {
  std::array<unsigned char, 128> t{};
  for (unsigned c = 0; c < 128; ++c) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) t[c] = static_cast<unsigned char>(c);
    if (c >= 'A' && c <= 'Z') t[c] = static_cast<unsigned char>(c - 'A' + 'a');
  }
  return t;
}();

CharKind kind_of(char32_t c) {
  if (c < 0x80) return kAsciiWord[c] != 0 ? CharKind::word : CharKind::separator;
  if (c < 0x800)  // two-byte characters, most of them letters: the same answer as below, sooner
    return c <= 0xBF || c == 0xD7 || c == 0xF7 ? CharKind::separator : CharKind::word;
  if ((c >= 0x80 && c <= 0xBF) || c == 0xD7 || c == 0xF7 ||  // Latin-1 punctuation and signs
      (c >= 0x2000 && c <= 0x206F) ||                        // general punctuation
      (c >= 0x3000 && c <= 0x303F) ||                        // CJK punctuation
      (c >= 0xFE30 && c <= 0xFE4F) ||                        // CJK compatibility forms
      (c >= 0xFF00 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
      (c >= 0xFF5B && c <= 0xFF65) ||  // full-width punctuation
      c == 0xFEFF || c == 0xFFFD)
    return CharKind::separator;
  return unspaced_script(c) ? CharKind::single : CharKind::word;
}

// The code point at s[i] and its length; a byte that does not start a sequence reads as itself.
char32_t decode(std::string_view s, std::size_t i, std::size_t* len) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
  if (i + n > s.size()) n = 1;
  char32_t c = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (std::size_t k = 1; k < n; ++k) {
    const auto cont = static_cast<unsigned char>(s[i + k]);
    if ((cont & 0xC0) != 0x80) {
      *len = 1;
      return b;
    }
    c = (c << 6) | (cont & 0x3F);
  }
  *len = n;
  return c;
}

// A shingle's hash from its three words' hashes. Order matters ("a b c" is not "c b a"):
// each position gets its own rotation and odd multiplier before the finaliser mixes them; a
// few multiplies instead of hashing 24 bytes.
constexpr std::uint64_t kShingleMul[3] = {0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL, 0x165667b19e3779f9ULL};
std::uint64_t shingle(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  return mix(3 ^ (a * kShingleMul[0]) ^ (std::rotl(b, 21) * kShingleMul[1]) ^ (std::rotl(c, 42) * kShingleMul[2]));
}

// out[k] = shingle(words[k], words[k + 1], words[k + 2]) for k < count.
void shingles(const std::uint64_t* words, std::size_t count, std::uint64_t* __restrict out) {
  for (std::size_t k = 0; k < count; ++k) out[k] = shingle(words[k], words[k + 1], words[k + 2]);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define MEADOW_SIMHASH_AVX512 1
// shingles() four at a time, on CPUs that have AVX-512's 64-bit multiply (SSE2 and AVX2 have
// none): the multiplies are most of the work. Same arithmetic, so the same values. 256-bit
// vectors, which do as well here and do not slow the core down the way 512-bit ones do on
// some Intel CPUs.
__attribute__((target("avx512f,avx512vl,avx512dq"))) void shingles_avx512(const std::uint64_t* words, std::size_t count,
                                                                          std::uint64_t* __restrict out) {
  using Four = std::uint64_t __attribute__((vector_size(32)));
  std::size_t k = 0;
  for (; k + 4 <= count; k += 4) {
    Four a, b, c;
    std::memcpy(&a, words + k, sizeof a);
    std::memcpy(&b, words + k + 1, sizeof b);
    std::memcpy(&c, words + k + 2, sizeof c);
    b = (b << 21) | (b >> 43);
    c = (c << 42) | (c >> 22);
    Four h = 3 ^ (a * kShingleMul[0]) ^ (b * kShingleMul[1]) ^ (c * kShingleMul[2]);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    std::memcpy(out + k, &h, sizeof h);
  }
  // Clear the vector registers' upper halves, or the SSE code that runs next waits on them;
  // the compiler leaves this out before a tail call.
  __builtin_ia32_vzeroupper();
  shingles(words + k, count - k, out + k);
}

bool has_avx512() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq");
  }();
  return yes;
}
#endif

using Words = std::uint64_t __attribute__((vector_size(16)));

// Votes each shingle of three words into 64 bit counters. The shingles' hashes are counted
// 32 at a time with carry-save adders (Harley and Seal's population count, done on all 64
// bit positions at once): bit b of ones_, twos_, fours_ and eights_ holds the low bits of the
// count of bit b, for two hashes side by side, and only the carries out of eights_, one per
// 32 hashes, go to one-byte counters.
class Accumulator {
 public:
  // The largest number of words add_words takes at once.
  static constexpr std::size_t kMaxWords = 512;

  // Words by their hashes, in text order: words[2 + k] for k < count, with the two words
  // added before them in words[0] and words[1], where it leaves the last two.
  void add_words(std::uint64_t* words, std::size_t count) {
    const std::size_t first = words_ < 2 ? 2 - words_ : 0;  // words that only fill the window
    std::uint64_t* out = gathered_.data() + gathered_count_;
    if (count > first) {
#ifdef MEADOW_SIMHASH_AVX512
      if (has_avx512())
        shingles_avx512(words + first, count - first, out);
      else
#endif
        shingles(words + first, count - first, out);
      gathered_count_ += count - first;
    }
    words_ += count;
    words[0] = words[count];
    words[1] = words[count + 1];
    if (gathered_count_ >= kGroup) count_gathered();
  }

  // `last_two` as add_words left them.
  std::uint64_t finish(const std::uint64_t* last_two) {
    // Texts of one or two words have no full shingle; their one vote is what they have.
    if (words_ < 3) return words_ == 0 ? 0 : shingle_of_last(words_, last_two);
    // Zeros add nothing to the counts, so the last group is filled with them.
    std::fill(gathered_.begin() + static_cast<std::ptrdiff_t>(gathered_count_), gathered_.begin() + kGroup, 0);
    gathered_count_ = kGroup;
    count_gathered();
    spill(sixteens_, 16);
    Counters low{};
    for (int lane = 0; lane < 2; ++lane) {
      vote(low, eights_[lane], 8);
      vote(low, fours_[lane], 4);
      vote(low, twos_[lane], 2);
      vote(low, ones_[lane], 1);
    }
    spill(low, 1);
    const auto votes = static_cast<std::int64_t>(words_ - 2);
    std::uint64_t h = 0;
    for (int bit = 0; bit < 64; ++bit)
      if (2 * totals_[bit] > votes) h |= std::uint64_t{1} << bit;
    return h;
  }

 private:
  static constexpr std::size_t kGroup = 32;  // hashes per carry-save round
  // Counter q, lane j counts bit 2q of byte j of each hash for j < 8, and bit 2q + 1 of byte
  // j - 8 for the others.
  using Counters = std::array<Bytes16, 4>;

  // The shingle of the first n (< 3) words, for texts that have no more: the last n of the
  // three positions.
  static std::uint64_t shingle_of_last(std::size_t n, const std::uint64_t* last_two) {
    std::uint64_t h = n;
    for (std::size_t position = 3 - n; position < 3; ++position)
      h ^= std::rotl(last_two[position - 1], static_cast<int>(21 * position)) * kShingleMul[position];
    return mix(h);
  }
  // `weight` (at most 255 in all per lane) for each set bit of h: the hash's eight bytes sit in
  // both halves of a vector, and each counter picks out its bit in every byte with a mask.
  static void vote(Counters& c, std::uint64_t h, std::uint8_t weight) {
    constexpr auto mask = [](int q) {
      const auto lo = static_cast<std::uint8_t>(1u << (2 * q)), hi = static_cast<std::uint8_t>(2u << (2 * q));
      return Bytes16{lo, lo, lo, lo, lo, lo, lo, lo, hi, hi, hi, hi, hi, hi, hi, hi};
    };
    static constexpr std::array<Bytes16, 4> kMask = {mask(0), mask(1), mask(2), mask(3)};
    const Bytes16 v = reinterpret_cast<Bytes16>(Words{h, h});
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) c[q] += reinterpret_cast<Bytes16>((v & kMask[q]) == kMask[q]) & weight;
  }
  void spill(const Counters& c, std::int64_t weight) {
    for (int q = 0; q < 4; ++q)
      for (int j = 0; j < 16; ++j) {
        // Lane j holds the hash's byte j in memory order: bits 8j to 8j + 7 on a
        // little-endian machine, counted from the other end on a big-endian one.
        const int byte = std::endian::native == std::endian::little ? j % 8 : 7 - j % 8;
        totals_[8 * byte + 2 * q + (j < 8 ? 0 : 1)] += weight * c[q][j];
      }
  }
  // A full adder on every bit: low + b + c leaves its sum bit in low and its carry in high.
  static void add3(Words& high, Words& low, Words b, Words c) {
    const Words u = low ^ b;
    high = (low & b) | (u & c);
    low = u ^ c;
  }
  void count_gathered() {
    std::size_t g = 0;
    for (; g + kGroup <= gathered_count_; g += kGroup) {
      Words d[16];
      std::memcpy(d, gathered_.data() + g, sizeof d);
      // Eight vectors of hashes into the running counts, with their carry out of fours_.
      auto add8 = [this](const Words* e, Words& eights) {
        Words twos_a, twos_b, fours_a, fours_b;
        add3(twos_a, ones_, e[0], e[1]);
        add3(twos_b, ones_, e[2], e[3]);
        add3(fours_a, twos_, twos_a, twos_b);
        add3(twos_a, ones_, e[4], e[5]);
        add3(twos_b, ones_, e[6], e[7]);
        add3(fours_b, twos_, twos_a, twos_b);
        add3(eights, fours_, fours_a, fours_b);
      };
      Words eights_a, eights_b, sixteens;
      add8(d, eights_a);
      add8(d + 8, eights_b);
      add3(sixteens, eights_, eights_a, eights_b);
      vote(sixteens_, sixteens[0], 1);
      vote(sixteens_, sixteens[1], 1);
      if (++groups_ == 127) {  // two votes a group into one-byte counters
        spill(sixteens_, 16);
        sixteens_ = {};
        groups_ = 0;
      }
    }
    std::memmove(gathered_.data(), gathered_.data() + g, (gathered_count_ - g) * sizeof(std::uint64_t));
    gathered_count_ -= g;
  }

  std::array<std::uint64_t, kMaxWords + kGroup> gathered_;  // shingle hashes not yet counted
  std::size_t gathered_count_ = 0;
  std::size_t words_ = 0;
  Words ones_{}, twos_{}, fours_{}, eights_{};
  Counters sixteens_{};
  int groups_ = 0;
  std::array<std::int64_t, 64> totals_{};
};

// A chunk of the text lower-cased (lower_ascii), with sixteen bytes of the text before it and
// sixteen after, so that a word of up to sixteen bytes that ends in the chunk hashes with two
// plain loads; and for each 64-byte block, the bits of its ASCII letters and digits and of its
// bytes that are not ASCII. Bytes outside the text read as zeros, which are separators.
class Chunk {
 public:
  static constexpr std::size_t kBytes = 2048;

  // Reads text[from, from + kBytes); returns the number of 64-byte blocks to scan.
  std::size_t read(std::string_view text, std::size_t from) {
    from_ = from;
    const std::size_t n = text.size();
    const std::size_t blocks = (std::min(kBytes, n - from) + 63) / 64;
    if (from >= kBefore) {
      lower(text.data() + from - kBefore, lowered_);
    } else {
      char head[kBefore] = {};
      std::memcpy(head + kBefore - from, text.data(), from);
      lower(head, lowered_);
    }
    const char* src = text.data() + from;
    if (n - from < 64 * blocks + kAfter) {  // the end of the text: copied with zeros after it
      std::memset(tail_, 0, 64 * blocks + kAfter);
      std::memcpy(tail_, src, n - from);
      src = tail_;
    }
    for (std::size_t b = 0; b < blocks; ++b, src += 64) {
      std::uint64_t word = 0, high = 0;
#pragma GCC unroll 4
      for (std::size_t k = 0; k < 4; ++k) {
        const Bytes16 x = load16(src + 16 * k);
        const Bytes16 lowered = lower(src + 16 * k, lowered_ + kBefore + 64 * b + 16 * k);
        word |= std::uint64_t{lane_bits(lanes_in(lowered, 'a', 'z' - 'a') | lanes_in(x, '0', '9' - '0'))} << (16 * k);
        high |= std::uint64_t{lane_bits(x)} << (16 * k);
      }
      word_[b] = word;
      high_[b] = high;
    }
    lower(src, lowered_ + kBefore + 64 * blocks);
    return blocks;
  }
  std::uint64_t word_bits(std::size_t block) const { return word_[block]; }
  std::uint64_t high_bits(std::size_t block) const { return high_[block]; }

  // word_hash of the word of n bytes at `at` from the start of block b, which ends in this
  // chunk (at < 0 when it starts before the block).
  [[gnu::always_inline]] std::uint64_t hash(std::string_view text, std::size_t b, std::ptrdiff_t at,
                                            std::size_t n) const {
    if (n > 16) [[unlikely]]
      return word_hash(text.data() + from_ + 64 * b + at, n, text.data() + text.size());
    return short_word_hash(lowered_ + kBefore + 64 * b + at, n);
  }

 private:
  static constexpr std::size_t kBefore = 16;  // where a short word that ends in the chunk can start
  static constexpr std::size_t kAfter = 16;   // where a short word that ends in the chunk can reach

  // Sixteen bytes from src lower-cased into `to`: 0x20 added to those below 0x80. Shifting
  // sixteen-bit lanes moves each byte's top bit to its 0x20 bit and no further.
  static Bytes16 lower(const char* src, char* to) {
    using Lanes16 = std::uint16_t __attribute__((vector_size(16)));
    const Bytes16 x = load16(src);
    const Bytes16 lowered = x | reinterpret_cast<Bytes16>(~(reinterpret_cast<Lanes16>(x) >> 2) & 0x2020);
    std::memcpy(to, &lowered, sizeof lowered);
    return lowered;
  }

  std::size_t from_ = 0;
  char lowered_[kBefore + kBytes + kAfter];
  char tail_[kBytes + kAfter];
  std::uint64_t word_[kBytes / 64], high_[kBytes / 64];
};

// A character that runs past the end of a 64-byte block, seen from the next block: its bytes
// there, those of them that are in a word, and the cut just after it when it is unspaced.
struct Overhang {
  std::uint64_t skip = 0, word = 0, cut = 0;
};

// Adds the characters that are not ASCII to the `word` and `cut` masks of the block at
// text[at, at + 64), whose bytes that are not ASCII are `high`; returns what runs past it.
Overhang mark_characters(std::string_view text, std::size_t at, std::uint64_t high, std::uint64_t& word,
                         std::uint64_t& cut) {
  while (high != 0) {
    const auto k = static_cast<unsigned>(std::countr_zero(high));
    std::size_t len = 1;
    const CharKind kind = kind_of(decode(text, at + k, &len));
    const std::size_t after = k + len;
    const std::uint64_t from_k = ~std::uint64_t{0} << k;
    if (after >= 64) {  // the block's last character
      Overhang next;
      next.skip = (std::uint64_t{1} << (after - 64)) - 1;
      if (kind != CharKind::separator) {
        word |= from_k;
        next.word = next.skip;
      }
      if (kind == CharKind::single) {
        cut |= std::uint64_t{1} << k;
        next.cut = std::uint64_t{1} << (after - 64);
      }
      return next;
    }
    const std::uint64_t up_to_after = (std::uint64_t{1} << after) - 1;
    if (kind != CharKind::separator) word |= from_k & up_to_after;
    if (kind == CharKind::single) cut |= (std::uint64_t{1} << k) | (std::uint64_t{1} << after);
    high &= ~up_to_after;
  }
  return {};
}

}  // namespace

std::uint64_t simhash(std::string_view text) {
  // The text is scanned 64 bytes at a time as bit masks, bit k for the block's byte k: `word`
  // marks the bytes of words and of unspaced characters, `cut` the bytes where a word starts
  // although the byte before is marked too (an unspaced character, and the byte after one).
  // Words start where `word` turns on or at a cut, and end where it turns off or at a cut.
  // Their hashes go to the accumulator a batch at a time.
  Accumulator acc;
  Chunk chunk;
  std::array<std::uint64_t, 2 + Accumulator::kMaxWords> hashes;  // the two words before, then new ones
  hashes[0] = hashes[1] = 0;
  std::uint64_t* out = hashes.data() + 2;
  std::uint64_t in_word = 0;  // 1 when the byte before the block is in a word
  std::ptrdiff_t start = 0;   // of the word being read, from the block's start
  Overhang overhang;
  std::size_t blocks = 0;
  constexpr std::uint64_t kTop = std::uint64_t{1} << 63;
  for (std::size_t from = 0; from < text.size(); from += Chunk::kBytes) {
    blocks = chunk.read(text, from);
    for (std::size_t b = 0; b < blocks; ++b) {
      std::uint64_t word = chunk.word_bits(b) | overhang.word;
      std::uint64_t cut = overhang.cut;
      const std::uint64_t high = chunk.high_bits(b) & ~overhang.skip;
      overhang = high != 0 ? mark_characters(text, from + 64 * b, high, word, cut) : Overhang{};
      const std::uint64_t before = (word << 1) | in_word;  // bit k: byte k - 1 is in a word
      std::uint64_t ends = before & (~word | cut);
      // Each end closes the word at `start`, and the next start is the next word's. Bit 63,
      // set as well, keeps ctz defined: it is read past the real starts only once, after the
      // block's last end, when no word runs on into the next block.
      std::uint64_t starts = (word & (~before | cut)) | kTop;
      // A word open at the block's start keeps its start: chosen by arithmetic, since a branch
      // on it would be mispredicted often.
      const std::ptrdiff_t first = __builtin_ctzll(starts);
      start = first ^ ((start ^ first) & -static_cast<std::ptrdiff_t>(in_word));
      starts &= starts - 1 + in_word;
      while (ends != 0) {
        const std::ptrdiff_t end = __builtin_ctzll(ends);
        ends &= ends - 1;
        *out++ = chunk.hash(text, b, start, static_cast<std::size_t>(end - start));
        start = __builtin_ctzll(starts);
        starts &= starts - 1;
      }
      in_word = word >> 63;
      start -= 64;
      if (out >= hashes.data() + hashes.size() - 64) {  // room for another block's words
        acc.add_words(hashes.data(), static_cast<std::size_t>(out - hashes.data() - 2));
        out = hashes.data() + 2;
      }
    }
  }
  // A word that runs to the end of the text, which is then the end of a block.
  if (in_word != 0) *out++ = chunk.hash(text, blocks, start, static_cast<std::size_t>(-start));
  acc.add_words(hashes.data(), static_cast<std::size_t>(out - hashes.data() - 2));
  return acc.finish(hashes.data());
}

std::string simhash_hex(std::uint64_t h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = kDigits[h & 15];
  return out;
}

int simhash_distance(std::uint64_t a, std::uint64_t b) noexcept { return std::popcount(a ^ b); }

}  // namespace meadow::extract
