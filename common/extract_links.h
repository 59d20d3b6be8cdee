// Links and other URLs found in a page: hrefs read the way browsers read them, resolved against
// the document's base URL and normalised by common/url.h.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/extract.h"
#include "common/url.h"

namespace meadow::extract {

// An href as written in a page, made into the strict RFC 3986 form url::resolve accepts, as a
// browser's URL parser would: surrounding spaces and control characters dropped, tabs and
// newlines removed, '\' before the query read as '/', and bytes a URL cannot hold literally
// (spaces, non-ASCII, '"', '<', '|', a '%' without two hex digits, '[' ']' outside the host,
// a second '#') percent-encoded.
std::string escape_href(std::string_view href);

// `href` resolved against `base`, or parsed as an absolute URL when there is no base; nullopt
// when the result is not an http(s) URL url::parse accepts.
std::optional<url::Url> resolve_href(const url::Url* base, std::string_view href);

// One <a href> as found by the walk: the attribute value as written and its anchor text.
struct RawLink {
  std::string href;
  std::string text;
};

// Resolves `raw` in order against `base`, drops empty and fragment-only hrefs and anything that
// is not http(s), and keeps the first of each URL (taking the text of a later one when the
// first has none), up to `max_links`. `page_site` is the registrable domain of the page, which
// decides Link::internal; empty when the page URL is unknown (no link is internal then).
std::vector<Link> resolve_links(const std::vector<RawLink>& raw, const url::Url* base, std::string_view page_site,
                                std::size_t max_links);

}  // namespace meadow::extract
