// A page's language from its text, for pages that do not say it (no <html lang>, no
// Content-Language): Google's Compact Language Detector 2 (Debian's libcld2), which tells
// 80-odd languages apart from character n-grams and says when its answer is reliable.
#pragma once

#include <string>
#include <string_view>

namespace meadow::extract {

inline constexpr std::size_t kMinDetectBytes = 40;             // shorter text is not guessed at
inline constexpr std::size_t kMaxDetectBytes = 16 * 1024;      // the text's first bytes suffice

// The BCP 47 tag of the text's language ("de", "ja", "zh-Hant"), or "" when the text is too
// short, the detector is not sure, or it finds no language. Invalid UTF-8 is read up to its
// first bad byte.
std::string detect_language(std::string_view text);

}  // namespace meadow::extract
