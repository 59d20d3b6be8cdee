// The structured part of a page record: author, publish and modify dates, site name, JSON-LD
// blocks and Open Graph (and Twitter card, article:, product: ...) properties, read from a
// page libxml2 has already parsed, so that one parse serves the text, the links, these and
// the job's selectors.
//
// Reading never recurses over the tree (a page may nest 100,000 levels deep) and every list and
// string has a cap, below; hostile input (broken or deeply nested JSON, invalid UTF-8, huge
// attribute values) gives less metadata, never a crash or unbounded memory.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct _xmlDoc;

namespace meadow::extract {

inline constexpr std::size_t kMaxJsonLdBlocks = 32;          // blocks kept, the first ones
inline constexpr std::size_t kMaxJsonLdBytes = 256 * 1024;   // a larger block is dropped unread
inline constexpr std::size_t kMaxJsonLdDepth = 64;           // a deeper block is dropped
inline constexpr std::size_t kMaxOpenGraph = 128;            // properties kept, the first ones
inline constexpr std::size_t kMaxOpenGraphValueBytes = 2048; // per value, cut at a character boundary
inline constexpr std::size_t kMaxAuthorBytes = 256;          // the joined author names
inline constexpr std::size_t kMaxSiteNameBytes = 256;

struct Metadata {
  // Who wrote the page, as the page names them: several authors joined by ", ". Empty when the
  // page does not say. Sources, most trusted first: JSON-LD (`author` of the page's main
  // entity: an Article, BlogPosting, NewsArticle, Recipe ... then a WebPage, then any other
  // top-level entity; a string, an object's `name`, a Person found by `@id` in the same
  // @graph, or an array of these), <meta name=author> (and dc.creator, citation_author ...),
  // <meta property=article:author> when it is a name rather than a URL, <a rel=author>,
  // itemprop=author (its itemprop=name, content attribute or text), and last an element whose
  // class or id says "byline" or "author". A leading "By " / "Written by" / "Author:" is
  // stripped; URLs, e-mail addresses and strings over 100 bytes are not names.
  std::string author;
  // When the page was first published: JSON-LD datePublished (or dateCreated) of the main
  // entity, article:published_time and the like, <meta name=date|pubdate|dc.date ...>,
  // itemprop=datePublished, the first <time datetime> inside <article> or <main> (or marked
  // pubdate / itemprop), and last a /YYYY/MM/DD/ path in `url`. Always normalised by
  // normalise_date(): "2025-09-04", "2025-09-04T10:30:00", "2025-09-04T10:30:00Z" or
  // "2025-09-04T10:30:00+02:00". Empty when no source holds a valid date.
  std::string published;
  // When the page was last changed: JSON-LD dateModified, article:modified_time,
  // og:updated_time, itemprop=dateModified; normalised the same way; may be empty.
  std::string modified;
  // The site's name: og:site_name, else the JSON-LD WebSite's or publisher's name, else
  // <meta name=application-name>; whitespace collapsed, at most kMaxSiteNameBytes.
  std::string site_name;
  // Each <script type="application/ld+json"> block that parses, in document order: an object
  // or an array (other JSON values are dropped). HTML comment and CDATA wrappers around the
  // JSON and raw control characters inside it (which browsers' JSON.parse would refuse but
  // pages commonly hold) are tolerated; anything else invalid drops the block.
  std::vector<boost::json::value> json_ld;
  // <meta property|name=...> whose name starts with og:, article:, book:, profile:, music:,
  // video:, product: or twitter:, in document order: (name lower-cased, content whitespace
  // collapsed), repeats kept (og:image may appear several times). Empty contents are dropped.
  std::vector<std::pair<std::string, std::string>> opengraph;
};

// Reads the metadata of a parsed page. `url` (the page's final URL) is only used as the last
// source of a publish date. A null document gives an empty Metadata.
Metadata read_metadata(const _xmlDoc* doc, std::string_view url = {});

// A date or date-time as the record shows it, or "" when `text` is not one. Reads ISO 8601 /
// RFC 3339 ("2025-09-04", "2025-09-04T10:30:00.5+0200", "2025-09-04 10:30 UTC"),
// YYYY/MM/DD and YYYY.MM.DD, YYYYMMDD, RFC 2822 ("Thu, 04 Sep 2025 10:30:00 GMT") and English
// written dates ("September 4, 2025", "4th Sep 2025", "Sep. 4 2025"); day-first or
// month-first numeric dates only when the order is unambiguous (13/09/2025). Fractions of a
// second are dropped; a written time without a zone stays without one. Years 1990 to 2099,
// real calendar days (2023-02-29 is refused).
std::string normalise_date(std::string_view text);

// record.opengraph: property name without the "og:" prefix (other prefixes kept, as in
// "article:published_time", "twitter:card") -> a string, or an array of strings in document
// order when the page repeats the property.
boost::json::object opengraph_json(const std::vector<std::pair<std::string, std::string>>& properties);

}  // namespace meadow::extract
