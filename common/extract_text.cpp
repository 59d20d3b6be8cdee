#include "common/extract_text.h"

#include <unordered_set>

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

// Past s[j], sixteen bytes at a time, while none of them could end a run of single-spaced
// words: a whitespace byte other than a space, a 0xC2 (which may start a no-break space), or
// a space followed by any of those or by another space. Stops where the byte-wise scan must
// look closer; the bytes it skips are ones that scan would have passed over.
std::size_t skip_plain_words(std::string_view s, std::size_t j) noexcept {
  while (s.size() - j >= 17) {
    const Bytes16 here = load16(s.data() + j);
    const Bytes16 next = load16(s.data() + j + 1);
    const Bytes16 other_space = lanes_in(here, '\t', 4) | lanes_equal(here, 0xC2);  // tab, LF, VT, FF, CR
    const Bytes16 next_space = lanes_in(next, '\t', 4) | lanes_equal(next, ' ') | lanes_equal(next, 0xC2);
    if (any_lane(other_space | (lanes_equal(here, ' ') & next_space))) break;
    j += 16;
  }
  return j;
}

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

std::string drop_repeated_lines(const std::string& text, const std::vector<TextRange>& verbatim,
                                std::size_t min_bytes) {
  std::string out;
  out.reserve(text.size());
  std::unordered_set<std::string_view> seen;
  auto range = verbatim.begin();
  bool dropped = false;  // a line was dropped since the last kept one
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + start, end - start);
    while (range != verbatim.end() && range->second <= start) ++range;
    const bool kept_verbatim = range != verbatim.end() && range->first <= start;
    bool keep = true;
    if (kept_verbatim) {
      // The line break that opens a preformatted run folds like any other after a dropped line.
      keep = !(line.empty() && dropped && out.ends_with("\n\n"));
      dropped = false;
    } else if (line.empty()) {
      // A blank line after a dropped one is kept only when the text before it did not already
      // end a paragraph.
      keep = !(dropped && (out.empty() || out.ends_with("\n\n")));
    } else if (line.size() >= min_bytes && !seen.insert(line).second) {
      keep = false;
      dropped = true;
    } else {
      dropped = false;
    }
    if (keep) {
      out.append(line);
      if (end < text.size()) out.push_back('\n');
    }
    start = end + 1;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  std::size_t lead = 0;
  while (lead < out.size() && out[lead] == '\n') ++lead;
  out.erase(0, lead);
  return out;
}

std::string collapse_whitespace(std::string_view s, std::size_t max_bytes) {
  TextBuilder b(max_bytes, true);
  b.add(s);
  return b.take();
}

}  // namespace meadow::extract
