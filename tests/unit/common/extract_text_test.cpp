// Text assembly: whitespace inside a text run collapses to single spaces wherever it falls.
#include "common/extract_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace meadow::extract {
namespace {

// The words of s, split at ASCII whitespace and no-break spaces, joined by single spaces.
std::string collapsed(const std::string& s) {
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out += ' ';
    out += word;
    word.clear();
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      flush();
    } else if (c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {
      flush();
      ++i;
    } else {
      word += c;
    }
  }
  flush();
  return out;
}

TEST(ExtractTextBuilder, WhitespaceCollapsesWhereverItFalls) {
  std::string base;
  for (int i = 0; base.size() < 90; ++i) base += (i % 3 == 0 ? "alpha " : i % 3 == 1 ? "be " : "ÇaÂ ");
  const std::vector<std::string> gaps = {"  ", "\t", "\n", " \n ", "\xC2\xA0", " \xC2\xA0", "\r\n", "\f", "\v", "   \t  "};
  for (const std::string& gap : gaps) {
    for (std::size_t at = 0; at <= base.size(); ++at) {
      const std::string s = base.substr(0, at) + gap + base.substr(at);
      TextBuilder b;
      b.add(s);
      EXPECT_EQ(b.take(), collapsed(s)) << "gap " << testing::PrintToString(gap) << " at " << at;
    }
  }
}

TEST(ExtractTextBuilder, ControlBytesAndLoneLeadBytesAreText) {
  // 0x01 and a 0xC2 that starts some other character do not separate words.
  const std::string s = std::string(20, 'a') + "\x01" + std::string(20, 'b') + " \xC2\xA9 " + std::string(20, 'c');
  TextBuilder b;
  b.add(s);
  EXPECT_EQ(b.take(), s);
}

}  // namespace
}  // namespace meadow::extract
