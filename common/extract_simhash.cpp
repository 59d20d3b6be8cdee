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

// A word's hash: its bytes, ASCII lower-cased, taken eight at a time. Multiplies per eight
// bytes rather than per byte, and with no branch for most words, which are eight bytes or
// fewer. Reads nothing at or past `end`.
std::uint64_t word_hash(const char* p, std::size_t n, const char* end) noexcept {
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
  while (n > 8) {
    h = std::rotl((h ^ lower_ascii(load8(p))) * 0xff51afd7ed558ccdULL, 31);
    p += 8;
    n -= 8;
  }
  const std::uint64_t keep = n == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * n)) - 1;
  const std::uint64_t last = end - p >= 8 ? load8(p) : load_short(p, n);
  return (h ^ (lower_ascii(last) & keep)) * 0xc4ceb9fe1a85ec53ULL;
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

// Votes each shingle of three words into 64 bit counters. Word hashes are gathered and voted
// in runs, so the counters stay in registers for a whole run.
class Accumulator {
 public:
  void add_word(std::uint64_t word_hash) {
    gathered_[gathered_count_++] = word_hash;
    if (gathered_count_ == gathered_.size()) vote_gathered();
  }
  std::uint64_t finish() {
    vote_gathered();
    // Texts of one or two words have no full shingle; they vote with what they have.
    if (words_ > 0 && words_ < 3) {
      Counters c{};
      vote(c, shingle(window_, words_));
      spill(c);
    }
    std::uint64_t h = 0;
    for (int bit = 0; bit < 64; ++bit)
      if (2 * ones_[bit] > votes_) h |= std::uint64_t{1} << bit;
    return h;
  }

 private:
  // Counter q, lane j counts bit 2q of byte j of each hash for j < 8, and bit 2q + 1 of byte
  // j - 8 for the others.
  using Counters = std::array<Bytes16, 4>;

  // Order matters ("a b c" is not "c b a"): each position gets its own rotation and odd
  // multiplier before the finaliser mixes them; a few multiplies instead of hashing 24 bytes.
  // Shingles of fewer words use the last n of the window.
  static std::uint64_t shingle(const std::array<std::uint64_t, 3>& window, std::size_t n) {
    constexpr std::uint64_t kMul[3] = {0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL, 0x165667b19e3779f9ULL};
    std::uint64_t h = n;
    for (std::size_t w = 3 - n; w < 3; ++w) h ^= std::rotl(window[w], static_cast<int>(21 * w)) * kMul[w];
    return mix(h);
  }
  // One vote per bit of h: the hash's eight bytes sit in both halves of a vector, and each
  // counter picks out its bit in every byte with a mask; a lane that matches adds one.
  static void vote(Counters& c, std::uint64_t h) {
    constexpr auto mask = [](int q) {
      const auto lo = static_cast<std::uint8_t>(1u << (2 * q)), hi = static_cast<std::uint8_t>(2u << (2 * q));
      return Bytes16{lo, lo, lo, lo, lo, lo, lo, lo, hi, hi, hi, hi, hi, hi, hi, hi};
    };
    static constexpr std::array<Bytes16, 4> kMask = {mask(0), mask(1), mask(2), mask(3)};
    using Words = std::uint64_t __attribute__((vector_size(16)));
    const Bytes16 v = reinterpret_cast<Bytes16>(Words{h, h});
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) c[q] -= reinterpret_cast<Bytes16>((v & kMask[q]) == kMask[q]);  // true is all ones
  }
  void spill(const Counters& c) {
    for (int q = 0; q < 4; ++q)
      for (int j = 0; j < 16; ++j) {
        // Lane j holds the hash's byte j in memory order: bits 8j to 8j + 7 on a
        // little-endian machine, counted from the other end on a big-endian one.
        const int byte = std::endian::native == std::endian::little ? j % 8 : 7 - j % 8;
        ones_[8 * byte + 2 * q + (j < 8 ? 0 : 1)] += c[q][j];
      }
  }
  void vote_gathered() {
    static_assert(std::tuple_size_v<decltype(gathered_)> <= 255, "a one-byte counter holds 255 votes");
    Counters c{};
    std::array<std::uint64_t, 3> window = window_;
    std::int64_t votes = 0;
    for (std::size_t i = 0; i < gathered_count_; ++i) {
      window = {window[1], window[2], gathered_[i]};
      if (++words_ >= 3) {
        vote(c, shingle(window, 3));
        ++votes;
      }
    }
    window_ = window;
    votes_ += votes;
    gathered_count_ = 0;
    spill(c);
  }

  std::array<std::uint64_t, 240> gathered_;  // word hashes not yet voted
  std::size_t gathered_count_ = 0;
  std::array<std::uint64_t, 3> window_{};  // the last three words voted
  std::size_t words_ = 0;
  std::int64_t votes_ = 0;
  std::array<std::int64_t, 64> ones_{};
};

// Bit k set when byte k of v is an ASCII letter or digit.
unsigned ascii_word_bits(Bytes16 v) noexcept {
  return lane_bits(lanes_in(v | 0x20, 'a', 'z' - 'a') | lanes_in(v, '0', '9' - '0'));
}

}  // namespace

std::uint64_t simhash(std::string_view text) {
  Accumulator acc;
  const char* const s = text.data();
  const char* const end = s + text.size();
  const std::size_t n = text.size();
  bool in_word = false;
  std::size_t start = 0;  // of the word being read
  auto word_ends_at = [&](std::size_t i) {
    acc.add_word(word_hash(s + start, i - start, end));
    in_word = false;
  };
  std::size_t i = 0;
  while (i < n) {
    // Sixteen bytes at a time up to the first byte that is not ASCII: the bits where words
    // start and where they end, taken a whole word at a time.
    if (n - i >= 16) {
      const Bytes16 x = load16(s + i);
      const unsigned high = lane_bits(x);
      const unsigned ascii = high == 0 ? 16 : static_cast<unsigned>(std::countr_zero(high));
      const unsigned limit = (1u << ascii) - 1;
      const unsigned word = ascii_word_bits(x) & limit;
      const unsigned after_word = (word << 1) | (in_word ? 1u : 0u);  // bit k: byte k - 1 is in a word
      unsigned starts = word & ~after_word & limit;
      unsigned ends = ~word & after_word & limit;
      if (in_word && ends != 0) {  // the word that ran into this block
        word_ends_at(i + static_cast<std::size_t>(std::countr_zero(ends)));
        ends &= ends - 1;
      }
      for (; ends != 0; starts &= starts - 1, ends &= ends - 1) {  // each end has its start before it
        const std::size_t from = i + static_cast<std::size_t>(std::countr_zero(starts));
        const std::size_t to = i + static_cast<std::size_t>(std::countr_zero(ends));
        acc.add_word(word_hash(s + from, to - from, end));
      }
      if (starts != 0) {  // a word that runs on past this block
        start = i + static_cast<std::size_t>(std::countr_zero(starts));
        in_word = true;
      }
      i += ascii;
      if (ascii == 16) continue;
    }
    if (const auto b = static_cast<unsigned char>(s[i]); b < 0x80) {
      if (kAsciiWord[b] != 0) {
        if (!in_word) start = i;
        in_word = true;
      } else if (in_word) {
        word_ends_at(i);
      }
      ++i;
      continue;
    }
    std::size_t len = 1;
    const CharKind kind = kind_of(decode(text, i, &len));
    if (kind != CharKind::word && in_word) word_ends_at(i);
    if (kind == CharKind::single) {
      acc.add_word(word_hash(s + i, len, end));
    } else if (kind == CharKind::word && !in_word) {
      start = i;
      in_word = true;
    }
    i += len;
  }
  if (in_word) word_ends_at(n);
  return acc.finish();
}

std::string simhash_hex(std::uint64_t h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = kDigits[h & 15];
  return out;
}

int simhash_distance(std::uint64_t a, std::uint64_t b) noexcept { return std::popcount(a ^ b); }

}  // namespace meadow::extract
