// ASCII text helpers that protocols and file formats need regardless of locale: HTTP header
// names, charset labels, media types, config values and HTML attribute names are all
// case-insensitive in ASCII only.
#pragma once

#include <string>
#include <string_view>

namespace meadow::text {

constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
std::string ascii_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b) noexcept;
// Whether `needle` occurs in `hay`, ASCII letters matching in either case. An empty needle
// occurs nowhere.
bool contains_ci(std::string_view hay, std::string_view needle) noexcept;

// Space, tab, LF, CR and FF: the whitespace of HTTP header lines, HTML and config lines.
constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
std::string_view trim(std::string_view s) noexcept;
// How many bytes of s are is_space(), sixteen at a time.
std::size_t count_spaces(std::string_view s) noexcept;

}  // namespace meadow::text
