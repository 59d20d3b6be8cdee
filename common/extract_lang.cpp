#include "common/extract_lang.h"

#include <algorithm>
#include <cstdio>  // compact_lang_det.h uses FILE without including it

#include <cld2/public/compact_lang_det.h>

namespace meadow::extract {

std::string detect_language(std::string_view text) {
  if (text.size() < kMinDetectBytes) return {};
  std::size_t n = std::min(text.size(), kMaxDetectBytes);
  while (n > 0 && n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // whole characters
  bool reliable = false;
  int valid_prefix = 0;
  const CLD2::Language lang =
      CLD2::DetectLanguageCheckUTF8(text.data(), static_cast<int>(n), /*is_plain_text=*/true, &reliable, &valid_prefix);
  if (!reliable || lang == CLD2::UNKNOWN_LANGUAGE || lang == CLD2::TG_UNKNOWN_LANGUAGE) return {};
  const char* code = CLD2::LanguageCode(lang);
  return code != nullptr ? std::string(code) : std::string();
}

}  // namespace meadow::extract
