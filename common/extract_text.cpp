#include "common/extract_text.h"

#include <bit>
#include <cstring>

#include "common/bytes16.h"

namespace meadow::extract {
namespace {

// Bytes of whitespace at s[i]: ASCII whitespace, or U+00A0 (which pages use for layout far more
// than for meaning, and which would otherwise defeat near-duplicate comparison).
std::size_t space_length(std::string_view s, std::size_t i) noexcept {
  switch (s[i]) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\f':
    case '\v':
      return 1;
    case '\xC2':
      return i + 1 < s.size() && s[i + 1] == '\xA0' ? 2 : 0;
    default:
      return 0;
  }
}

// Past s[j], sixteen bytes at a time, up to the first byte that could end a run of
// single-spaced words: a whitespace byte other than a space, a 0xC2 (which may start a
// no-break space), or a space followed by any of those or by another space. Stops where the
// byte-wise scan must look closer; the bytes it skips are ones that scan would have passed over.
std::size_t skip_plain_words(std::string_view s, std::size_t j) noexcept {
  while (s.size() - j >= 17) {
    const Bytes16 here = load16(s.data() + j);
    const Bytes16 next = load16(s.data() + j + 1);
    const Bytes16 other_space = lanes_in(here, '\t', 4) | lanes_equal(here, 0xC2);  // tab, LF, VT, FF, CR
    const Bytes16 next_space = lanes_in(next, '\t', 4) | lanes_equal(next, ' ') | lanes_equal(next, 0xC2);
    if (const unsigned stops = lane_bits(other_space | (lanes_equal(here, ' ') & next_space)); stops != 0)
      return j + static_cast<std::size_t>(std::countr_zero(stops));
    j += 16;
  }
  return j;
}

constexpr std::uint64_t kHashMul = 0x9E3779B97F4A7C15ull;

std::uint64_t word_at(std::string_view s, std::size_t at) noexcept {
  std::uint64_t w;
  std::memcpy(&w, s.data() + at, sizeof w);
  return w;
}

std::uint64_t mix(std::uint64_t lane, std::uint64_t w) noexcept { return std::rotl((lane ^ w) * kHashMul, 29); }

std::uint64_t finish(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d) noexcept {
  std::uint64_t h = a ^ std::rotl(b, 16) ^ std::rotl(c, 32) ^ std::rotl(d, 48);
  h ^= h >> 32;
  h *= kHashMul;
  return h ^ (h >> 29);
}

// A hash of every byte of a line, eight bytes per multiply on four independent lanes.
std::uint64_t full_hash(std::string_view s) noexcept {
  std::uint64_t a = s.size(), b = 0x243F6A8885A308D3ull, c = 0x13198A2E03707344ull, d = 0xA4093822299F31D0ull;
  std::size_t i = 0;
  for (; s.size() - i >= 32; i += 32) {
    a = mix(a, word_at(s, i));
    b = mix(b, word_at(s, i + 8));
    c = mix(c, word_at(s, i + 16));
    d = mix(d, word_at(s, i + 24));
  }
  if (s.size() - i >= 16) {
    a = mix(a, word_at(s, i));
    b = mix(b, word_at(s, i + 8));
    i += 16;
  }
  if (s.size() - i >= 8) {
    c = mix(c, word_at(s, i));
    i += 8;
  }
  if (i < s.size()) {
    std::uint64_t tail = 0;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    d = mix(d, tail);
  }
  return finish(a, b, c, d);
}

// A hash of a line's length and its first and last sixteen bytes: lines of prose rarely share
// all of them, so most lines are told apart without reading them through.
std::uint64_t quick_hash(std::string_view s) noexcept {
  if (s.size() < 32) return full_hash(s);
  const std::size_t n = s.size();
  return finish(mix(n, word_at(s, 0)), mix(0x243F6A8885A308D3ull, word_at(s, 8)),
                mix(0x13198A2E03707344ull, word_at(s, n - 16)), mix(0xA4093822299F31D0ull, word_at(s, n - 8)));
}

// The lines drop_repeated_lines has seen: an open-addressed table of views into its input,
// kept at most half full. Lines are hashed by quick_hash until a lookup meets more than a few
// different lines with the same quick hash (lines built to share their ends); from then on,
// and for the lines already in, by full_hash, so that such a text costs linear time too.
class LineSet {
 public:
  // False when a line equal to `line` is already in the set; otherwise remembers it as the
  // bytes at `copy`, where the caller puts a copy of it before the next call.
  bool insert(std::string_view line, const char* copy) {
    if (2 * (size_ + 1) > slots_.size()) rehash(slots_.empty() ? kFirstSlots : 2 * slots_.size(), false);
    const std::uint64_t h = full_ ? full_hash(line) : quick_hash(line);
    std::size_t same_hash = 0;
    for (std::size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      Slot& slot = slots_[i];
      if (slot.line.data() == nullptr) {
        slot = {h, std::string_view(copy, line.size())};
        ++size_;
        return true;
      }
      if (slot.hash != h) continue;
      if (slot.line == line) return false;
      if (!full_ && ++same_hash > kMaxSameQuickHash) {
        full_ = true;
        rehash(slots_.size(), true);
        return insert(line, copy);
      }
    }
  }

 private:
  static constexpr std::size_t kMaxSameQuickHash = 4;
  static constexpr std::size_t kFirstSlots = 128;  // an article's paragraphs without growing
  struct Slot {
    std::uint64_t hash = 0;
    std::string_view line;  // data() null: an empty slot (a line's view never has a null data())
  };
  // Moves the lines into a table of `slots`, hashing them again with full_hash when `full`.
  void rehash(std::size_t slots, bool full) {
    std::vector<Slot> old(slots);
    old.swap(slots_);
    for (Slot s : old) {
      if (s.line.data() == nullptr) continue;
      if (full) s.hash = full_hash(s.line);
      std::size_t i = s.hash & (slots_.size() - 1);
      while (slots_[i].line.data() != nullptr) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
  bool full_ = false;
};

}  // namespace

std::size_t utf8_prefix_length(std::string_view s, std::size_t max_bytes) noexcept {
  if (s.size() <= max_bytes) return s.size();
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

void TextBuilder::append(std::string_view s) {
  if (full_) return;
  if (s.size() > max_bytes_ - out_.size()) {
    out_.append(s.substr(0, utf8_prefix_length(s, max_bytes_ - out_.size())));
    full_ = true;
    return;
  }
  out_.append(s);
}

void TextBuilder::separate() {
  if (out_.empty()) {
    pending_space_ = false;
    pending_break_ = Break::none;
    return;
  }
  if (pending_break_ != Break::none && !single_line_) {
    const std::size_t want = pending_break_ == Break::paragraph ? 2 : 1;
    std::size_t have = 0;
    while (have < want && have < out_.size() && out_[out_.size() - 1 - have] == '\n') ++have;
    if (want > have) append(std::string_view("\n\n").substr(0, want - have));
  } else if (pending_break_ != Break::none || pending_space_) {
    if (out_.back() != ' ' && out_.back() != '\n') append(" ");
  }
  pending_space_ = false;
  pending_break_ = Break::none;
}

void TextBuilder::add(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && !full_) {
    if (const std::size_t w = space_length(s, i); w > 0) {
      pending_space_ = true;
      i += w;
      continue;
    }
    // The longest run of words already separated by single ASCII spaces goes in one append:
    // most text is written that way.
    std::size_t j = i + 1;
    for (;;) {
      j = skip_plain_words(s, j);
      while (j < s.size()) {
        const auto c = static_cast<unsigned char>(s[j]);
        if ((c <= ' ' || c == 0xC2) && space_length(s, j) > 0) break;
        ++j;
      }
      if (j + 1 < s.size() && s[j] == ' ' && space_length(s, j + 1) == 0) {
        j += 2;
        continue;
      }
      break;
    }
    separate();
    append(s.substr(i, j - i));
    i = j;
  }
}

void TextBuilder::add_preformatted(std::string_view s) {
  if (single_line_) {
    add(s);
    return;
  }
  std::string converted;
  if (s.find('\r') != std::string_view::npos) {
    converted.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\r') {
        converted += s[i];
      } else {
        converted += '\n';
        if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
      }
    }
    s = converted;
  }
  if (out_.empty())
    while (!s.empty() && s.front() == '\n') s.remove_prefix(1);
  if (s.empty() || full_) return;
  separate();
  append(s);
}

std::string TextBuilder::take() {
  while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\n' || out_.back() == '\t')) out_.pop_back();
  pending_space_ = false;
  pending_break_ = Break::none;
  full_ = false;
  return std::move(out_);
}

std::string drop_repeated_lines(std::string text, const std::vector<TextRange>& verbatim, std::size_t min_bytes) {
  // The kept lines move down in place: text[0, kept) is the result so far, and nothing moves
  // until a line is dropped.
  std::size_t kept = 0;
  auto kept_ends_paragraph = [&] { return kept >= 2 && text[kept - 1] == '\n' && text[kept - 2] == '\n'; };
  LineSet seen;
  auto range = verbatim.begin();
  bool dropped = false;  // a line was dropped since the last kept one
  std::size_t start = 0;
  const std::size_t size = text.size();
  while (start <= size) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = size;
    const std::string_view line(text.data() + start, end - start);
    while (range != verbatim.end() && range->second <= start) ++range;
    const bool kept_verbatim = range != verbatim.end() && range->first <= start;
    bool keep = true;
    if (kept_verbatim) {
      // The line break that opens a preformatted run folds like any other after a dropped line.
      keep = !(line.empty() && dropped && kept_ends_paragraph());
      dropped = false;
    } else if (line.empty()) {
      // A blank line after a dropped one is kept only when the text before it did not already
      // end a paragraph.
      keep = !(dropped && (kept == 0 || kept_ends_paragraph()));
    } else if (line.size() >= min_bytes && !seen.insert(line, text.data() + kept)) {
      keep = false;
      dropped = true;
    } else {
      dropped = false;
    }
    if (keep) {
      const std::size_t bytes = line.size() + (end < size ? 1 : 0);
      if (kept != start) std::memmove(text.data() + kept, text.data() + start, bytes);
      kept += bytes;
    }
    start = end + 1;
  }
  while (kept > 0 && text[kept - 1] == '\n') --kept;
  text.resize(kept);
  std::size_t lead = 0;
  while (lead < text.size() && text[lead] == '\n') ++lead;
  text.erase(0, lead);
  return text;
}

std::string collapse_whitespace(std::string_view s, std::size_t max_bytes) {
  TextBuilder b(max_bytes, true);
  b.add(s);
  return b.take();
}

}  // namespace meadow::extract
