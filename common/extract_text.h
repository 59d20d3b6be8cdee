// Text assembly for the page extractor: turns the text runs and block boundaries of a DOM walk
// into lines and paragraphs. Kept apart from the walk so a smarter content selector can feed
// the same builder with only the nodes it keeps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meadow::extract {

// What separates the text before a boundary from the text after it.
enum class Break : std::uint8_t { none = 0, line = 1, paragraph = 2 };

// Collects UTF-8 text. Outside preformatted runs, runs of ASCII whitespace and no-break spaces
// become one space, and no line starts or ends with a space. Breaks are applied lazily, only
// when more text follows, so the result never starts or ends with blank lines and never holds
// more than one blank line in a row (except inside preformatted text).
//
// A single-line builder (for titles and anchor texts) turns every break into a space.
// Text past `max_bytes` is dropped, cut at a character boundary.
class TextBuilder {
 public:
  explicit TextBuilder(std::size_t max_bytes = std::numeric_limits<std::size_t>::max(), bool single_line = false)
      : max_bytes_(max_bytes), single_line_(single_line) {}

  // Adds text whose whitespace collapses.
  void add(std::string_view utf8);
  // Adds text whose whitespace is kept (from <pre>); CR LF and lone CR become LF.
  void add_preformatted(std::string_view utf8);
  // Asks for at least this separation before the next text.
  void request_break(Break b) noexcept {
    if (b > pending_break_) pending_break_ = b;
  }
  // Asks for a space before the next text on the same line (between table cells, say).
  void request_space() noexcept { pending_space_ = true; }

  // Makes room for this many bytes of text (at most max_bytes) before any is added.
  void reserve(std::size_t bytes) { out_.reserve(bytes < max_bytes_ ? bytes : max_bytes_); }

  bool empty() const noexcept { return out_.empty(); }
  bool full() const noexcept { return full_; }
  const std::string& str() const noexcept { return out_; }
  // The text, with any trailing whitespace left by preformatted runs removed.
  std::string take();

 private:
  void separate();
  void append(std::string_view s);

  std::string out_;
  std::size_t max_bytes_;
  bool single_line_;
  bool full_ = false;
  bool pending_space_ = false;
  Break pending_break_ = Break::none;
};

// A byte range [first, second) of a text.
using TextRange = std::pair<std::size_t, std::size_t>;

// `text` without the lines of at least `min_bytes` that repeat an earlier line (a page that
// carries its article twice, one copy for each layout; a post quoted in every reply). Lines
// starting inside one of `verbatim` (sorted ranges of preformatted text, where code repeats
// for good reason) are always kept and never remembered. A dropped line takes its line
// break with it, and the blank lines around it fold into one.
std::string drop_repeated_lines(std::string text, const std::vector<TextRange>& verbatim, std::size_t min_bytes);

// `s` with whitespace collapsed and trimmed, at most `max_bytes` (cut at a character boundary).
std::string collapse_whitespace(std::string_view s, std::size_t max_bytes = std::numeric_limits<std::size_t>::max());

// The length of the longest prefix of `s` that has at most `max_bytes` bytes and does not end
// inside a UTF-8 sequence.
std::size_t utf8_prefix_length(std::string_view s, std::size_t max_bytes) noexcept;

}  // namespace meadow::extract
