// The generated and misbehaving routes: /slow, /redirect/..., /status/N, /pages/N.html,
// plus the small HTML pages that error and redirect replies carry.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reply.h"

namespace meadow::demo_site {

// Query parameters, percent-decoded, in the order sent.
using Query = std::vector<std::pair<std::string, std::string>>;

std::string html_escape(std::string_view text);
// A reply with a small complete HTML page; `body_html` is inserted as is.
Reply html_reply(int status, std::string_view title, std::string_view body_html);

// /slow[?start=S][&seconds=T]: after S seconds (0..600, default 0) the headers and the top
// of the page, then one paragraph a second for T seconds (1..120, default 120), then the
// end of the page. No Content-Length.
Reply slow_route(const Query& query);

// /redirect/chain/N, /redirect/loop, /redirect/to?url=U[&status=3xx], /redirect/to-loopback,
// /redirect/to-private, /redirect/to-file, /redirect/to-ftp; nullopt for any other path.
std::optional<Reply> redirect_route(std::string_view path, const Query& query);

// /status/N for N in 200..599; nullopt otherwise.
std::optional<Reply> status_route(std::string_view path);

// /pages/N.html for N in 0..999999; nullopt otherwise.
std::optional<Reply> generated_page_route(std::string_view path);

}  // namespace meadow::demo_site
