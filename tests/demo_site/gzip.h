// gzip helpers of the demo site, on zlib: compressing a page, and the gzip bomb (a small
// body that inflates to a very large one) that proves a fetcher caps bytes after decoding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace meadow::demo_site {

// `data` as one gzip member (RFC 1952), best compression.
Result<std::string> gzip_compress(std::string_view data);

// One gzip member that inflates to exactly `inflated_bytes` of valid HTML: a short head,
// then spaces, then the closing tags. For 1 GiB it is about 1 MB and takes milliseconds to
// build: a 1 MiB block of spaces is deflated once after a full flush and its bytes repeated.
// `inflated_bytes` must be at least 1 MiB.
Result<std::string> make_gzip_bomb(std::uint64_t inflated_bytes);

}  // namespace meadow::demo_site
