// ASCII text helpers: whitespace as HTML and HTTP define it.
#include "common/text.h"

#include <gtest/gtest.h>

#include <string>

namespace meadow::text {
namespace {

std::size_t spaces_one_by_one(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += is_space(c) ? 1 : 0;
  return n;
}

TEST(TextCountSpaces, CountsTheFiveWhitespaceBytesOnly) {
  EXPECT_EQ(count_spaces(""), 0u);
  EXPECT_EQ(count_spaces(" \t\n\r\f"), 5u);
  // Vertical tab, NUL, other control bytes, a no-break space and high bytes are not HTML
  // whitespace.
  const std::string others("\v\x01\x08\x0E\x1F\x7F\xC2\xA0\xFF\x80", 10);
  EXPECT_EQ(count_spaces(others), 0u);
  EXPECT_EQ(count_spaces(std::string(40, '\v')), 0u);
  EXPECT_EQ(count_spaces(std::string(40, '\0')), 0u);
}

TEST(TextCountSpaces, LongTextsCountAsByteByByte) {
  // Every byte value at every position, over lengths that end inside and on the edge of a
  // sixteen-byte block, and past the 255 blocks a one-byte lane counter can hold.
  std::string all;
  for (int i = 0; i < 256 * 20; ++i) all += static_cast<char>((i * 7 + i / 256) & 0xFF);
  for (std::size_t len : {15u, 16u, 17u, 31u, 33u, 255u * 16u, 255u * 16u + 1u, 5000u, 5120u}) {
    const std::string_view s(all.data(), len);
    EXPECT_EQ(count_spaces(s), spaces_one_by_one(s)) << len;
  }
  const std::string blanks(255 * 16 * 3 + 5, ' ');
  EXPECT_EQ(count_spaces(blanks), blanks.size());
}

TEST(TextContainsCi, MatchesAsciiLettersInEitherCase) {
  EXPECT_TRUE(contains_ci("post-ByLine-wrap", "byline"));
  EXPECT_TRUE(contains_ci("AUTHOR", "author"));
  EXPECT_TRUE(contains_ci("entry-date", "Entry-Date"));
  EXPECT_TRUE(contains_ci("date", "date"));
  EXPECT_FALSE(contains_ci("dat", "date")) << "a needle longer than the text";
  EXPECT_FALSE(contains_ci("by-line", "byline"));
  EXPECT_FALSE(contains_ci("anything", "")) << "an empty needle occurs nowhere";
  EXPECT_FALSE(contains_ci("\xC3\x89T\xC3\x89", "\xC3\xA9t\xC3\xA9")) << "only ASCII letters fold";
}

}  // namespace
}  // namespace meadow::text
