// Generated content: /pages/N.html (about 22 KB of article HTML, the same bytes for the
// same N), the /huge body, and --write-pages, which saves the generated pages as files so
// another server (nginx in the benchmarks) can serve the very same bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "reply.h"

namespace meadow::demo_site {

inline constexpr std::uint64_t kLastGeneratedPage = 999'999;

// The page /pages/<n>.html, n <= kLastGeneratedPage.
std::string generated_page(std::uint64_t n);

// A valid HTML page of exactly `bytes` bytes (at least 64 KiB), produced in 64 KiB pieces.
std::unique_ptr<BodySource> make_huge_body(std::uint64_t bytes);

// Writes <dir>/pages/0.html .. <count-1>.html and copies `robots_file` to <dir>/robots.txt.
Status write_generated_pages(const std::filesystem::path& dir, std::uint64_t count,
                             const std::filesystem::path& robots_file);

}  // namespace meadow::demo_site
