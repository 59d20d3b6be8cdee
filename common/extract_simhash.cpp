#include <array>
#include <bit>

#include "common/extract.h"

namespace meadow::extract {
namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

std::uint64_t fnv1a(std::uint64_t h, unsigned char byte) { return (h ^ byte) * kFnvPrime; }

// FNV-1a spreads its entropy unevenly over the high bits; the MurmurHash3 finaliser evens them
// out, which simhash needs because it votes on every bit separately.
std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
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

// Votes each feature hash into 64 bit counters.
class Accumulator {
 public:
  void add_word(std::uint64_t word_hash) {
    window_[0] = window_[1];
    window_[1] = window_[2];
    window_[2] = word_hash;
    if (++words_ >= 3) vote(shingle(3));
  }
  std::uint64_t finish() {
    // Texts of one or two words have no full shingle; they vote with what they have.
    if (words_ > 0 && words_ < 3) vote(shingle(words_));
    flush();
    std::uint64_t h = 0;
    for (int bit = 0; bit < 64; ++bit)
      if (2 * ones_[bit] > votes_) h |= std::uint64_t{1} << bit;
    return h;
  }

 private:
  // Order matters ("a b c" is not "c b a"): each position gets its own rotation and odd
  // multiplier before the finaliser mixes them; a few multiplies instead of hashing 24 bytes.
  std::uint64_t shingle(std::size_t n) const {
    constexpr std::uint64_t kMul[3] = {0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL, 0x165667b19e3779f9ULL};
    std::uint64_t h = n;
    for (std::size_t w = 3 - n; w < 3; ++w) h ^= std::rotl(window_[w], static_cast<int>(21 * w)) * kMul[w];
    return mix(h);
  }
  // Counts the ones of each bit eight at a time: every byte of the hash is spread by a table
  // into eight one-byte counters packed in a word, added in one instruction, and the packed
  // counters are emptied into the real ones before any can overflow (255 votes).
  void vote(std::uint64_t h) {
    static const std::array<std::uint64_t, 256> kSpread = [] {
      std::array<std::uint64_t, 256> t{};
      for (unsigned b = 0; b < 256; ++b)
        for (unsigned i = 0; i < 8; ++i)
          if ((b >> i) & 1) t[b] |= std::uint64_t{1} << (8 * i);
      return t;
    }();
    for (int k = 0; k < 8; ++k) packed_[k] += kSpread[(h >> (8 * k)) & 0xff];
    ++votes_;
    if (++in_packed_ == 255) flush();
  }
  void flush() {
    for (int k = 0; k < 8; ++k) {
      for (int i = 0; i < 8; ++i) ones_[8 * k + i] += static_cast<std::int64_t>((packed_[k] >> (8 * i)) & 0xff);
      packed_[k] = 0;
    }
    in_packed_ = 0;
  }

  std::array<std::uint64_t, 3> window_{};
  std::size_t words_ = 0;
  std::array<std::uint64_t, 8> packed_{};
  int in_packed_ = 0;
  std::int64_t votes_ = 0;
  std::array<std::int64_t, 64> ones_{};
};

}  // namespace

std::uint64_t simhash(std::string_view text) {
  Accumulator acc;
  std::uint64_t word = kFnvOffset;
  bool in_word = false;
  std::size_t i = 0;
  while (i < text.size()) {
    // ASCII, most of most texts, without decoding.
    if (const auto b = static_cast<unsigned char>(text[i]); b < 0x80) {
      if (const unsigned char w = kAsciiWord[b]; w != 0) {
        word = fnv1a(word, w);
        in_word = true;
      } else if (in_word) {
        acc.add_word(word);
        word = kFnvOffset;
        in_word = false;
      }
      ++i;
      continue;
    }
    std::size_t len = 1;
    const char32_t c = decode(text, i, &len);
    const CharKind kind = kind_of(c);
    if (kind != CharKind::word && in_word) {
      acc.add_word(word);
      word = kFnvOffset;
      in_word = false;
    }
    if (kind == CharKind::single) {
      std::uint64_t h = kFnvOffset;
      for (std::size_t k = 0; k < len; ++k) h = fnv1a(h, static_cast<unsigned char>(text[i + k]));
      acc.add_word(h);
    } else if (kind == CharKind::word) {
      // Past the ASCII path every byte is 0x80 or above: nothing to lower-case.
      for (std::size_t k = 0; k < len; ++k) word = fnv1a(word, static_cast<unsigned char>(text[i + k]));
      in_word = true;
    }
    i += len;
  }
  if (in_word) acc.add_word(word);
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
