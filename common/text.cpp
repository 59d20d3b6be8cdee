#include "common/text.h"

#include "common/bytes16.h"

namespace meadow::text {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

bool contains_ci(std::string_view hay, std::string_view needle) noexcept {
  if (needle.empty() || needle.size() > hay.size()) return false;
  // Class and id tokens are searched for a dozen words each: positions whose first byte does
  // not match are passed over without a call.
  const char first = ascii_lower(needle[0]);
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (ascii_lower(hay[i]) != first) continue;
    std::size_t k = 1;
    while (k < needle.size() && ascii_lower(hay[i + k]) == ascii_lower(needle[k])) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::size_t count_spaces(std::string_view s) noexcept {
  std::size_t count = 0;
  std::size_t i = 0;
  while (s.size() - i >= 16) {
    // One-byte counters in each lane, emptied before they can overflow.
    Bytes16 lanes{};
    for (int blocks = 0; blocks < 255 && s.size() - i >= 16; ++blocks, i += 16) {
      const Bytes16 v = load16(s.data() + i);
      // Tab, LF, FF and CR are 9, 10, 12 and 13; 11 (VT) is not HTML whitespace.
      lanes -= lanes_equal(v, ' ') | (lanes_in(v, '\t', 4) & ~lanes_equal(v, '\v'));
    }
    for (int k = 0; k < 16; ++k) count += lanes[k];
  }
  for (; i < s.size(); ++i) count += is_space(s[i]) ? 1 : 0;
  return count;
}

}  // namespace meadow::text
