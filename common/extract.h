// Page extraction: from the raw bytes of an HTML response to the fields of a Meadow record
// (charset, title, description, canonical URL, language, main text, links), on libxml2's
// HTML parser.
//
// The text is the page's main content with the site's furniture left out (see Page::text and
// common/extract_main.h). extract() is thread-safe and keeps no state between calls. libxml2 is initialised once, on first use; its parse errors are never
// printed, and each thread that calls extract() gets a libxml2 generic error handler that
// discards (libxml2 keeps that handler per thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/extract_meta.h"
#include "common/protocol.h"
#include "common/result.h"

namespace meadow::extract {

inline constexpr const char* kExtractorName = "meadow-extract";
inline constexpr const char* kExtractorVersion = "0.4.1";

inline constexpr std::size_t kMaxLinks = 5000;
inline constexpr std::size_t kMaxAnchorTextBytes = 1024;  // per link, cut at a character boundary
inline constexpr std::size_t kMaxTitleBytes = 2048;       // title and description alike

struct Link {
  std::string url;        // absolute, normalised as url::parse does
  std::string text;       // anchor text, whitespace collapsed; an image's alt text when it has none
  bool internal = false;  // same registrable domain as the page URL
};

struct Input {
  std::string_view body;              // raw bytes after content decoding (gzip already undone)
  std::string_view url;               // final URL of the page: the base for relative links
                                      // unless the page has a <base href>
  std::string_view content_type;      // the whole Content-Type header value; may be empty
  std::string_view content_language;  // the Content-Language header; may be empty
  // The job's field selectors, evaluated on the same parse (see common/selector.h); may be
  // null or empty.
  const std::vector<protocol::FieldSelector>* fields = nullptr;
};

struct Page {
  // The encoding the body was decoded with: a lower-case WHATWG/IANA name ("utf-8",
  // "windows-1252", "shift_jis"); see common/charset.h for how it is chosen.
  std::string charset;
  // The page's own title, whitespace collapsed: <title>, unless it also carries the site's
  // name ("Winter tents | Outdoor Shop") and the main content's <h1> (else og:title) is the
  // part that names the page, or a part of it equals og:site_name; then that other part.
  // Without a <title>: og:title, else the main content's <h1>.
  std::string title;
  // <meta name=description>, else og:description; whitespace collapsed.
  std::string description;
  // <link rel=canonical href>, resolved against the document's base URL; empty when absent
  // or not an http(s) URL.
  std::string canonical_url;
  // BCP 47 tag from <html lang> (an '_' read as '-'), else the first tag of Content-Language,
  // else the language of the main text when a detector is sure of it (common/extract_lang.h),
  // else "". Always matches ^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$ or is empty; cased as BCP 47
  // recommends ("en-US", "zh-Hant-TW").
  std::string lang;
  // The main content, UTF-8: what a reader came for. Left out: script, style, template, svg,
  // math, iframe, object, canvas, audio, video, textarea, select, button and the <head>; page
  // furniture (nav, aside, dialog, the page's own header and footer, small forms and
  // noscripts, ARIA navigation, banner, contentinfo, complementary and search landmarks,
  // elements whose class or id name navigation, menus, share bars, cookie banners, consent
  // dialogs, newsletters, ads, related links and the like, comment sections and customer
  // reviews under an article or a product, blocks made mostly of links); elements hidden by
  // `hidden`, aria-hidden or an inline display:none / visibility:hidden (unless nearly the
  // whole page is hidden, as scripts that reveal streamed content leave it, or the element is
  // a collapsed accordion, tab or FAQ panel); and text outside the subtree that holds most of
  // the page's prose. A forum thread keeps its posts, a listing its items, a product page its
  // description and specifications; when a page shows less text than its JSON-LD Product
  // description holds, the text is that description, and a short text that lacks it gets it
  // appended. How it is chosen: common/extract_main.h.
  // Block elements (div, li, tr, section, article, br ...) end a line; paragraph-like ones
  // (p, h1-h6, pre, blockquote, ul, ol, table, hr ...) are set apart by one blank line, so
  // headings stand on their own lines; table cells are separated by a space. Inside <pre>
  // whitespace is kept; elsewhere it (no-break spaces included) collapses to one space and
  // lines carry no leading or trailing spaces; the text has no leading or trailing blank lines.
  // Outside <pre>, a line of 40 bytes or more that repeats an earlier line is left out.
  std::string text;
  // Every <a href> in document order, whatever part of the page it is in (navigation
  // included), deduplicated by URL (the first place wins; its text is filled from a later
  // one when empty). Only http(s) URLs: javascript:, mailto:, data: and the like, and
  // same-page fragment links ("#top"), are dropped. At most kMaxLinks.
  std::vector<Link> links;
  // Author, dates, site name, JSON-LD and Open Graph: see common/extract_meta.h.
  Metadata meta;
  // The values of Input::fields by field name (a string for one value, an array for several;
  // fields without a value left out), and one line per field whose selector failed on this
  // page ("price: selector-too-expensive ..."), for the node's activity log.
  boost::json::object fields;
  std::vector<std::string> field_problems;
};

// Extracts a page. Hostile input never fails it: an empty, binary or broken body gives a
// Page with whatever could be read. The errors are about size alone, both ErrorKind::too_large:
// a body larger than `max_input_bytes` ("body-too-large"), and running out of memory
// ("extract-out-of-memory").
Result<Page> extract(const Input& in, std::size_t max_input_bytes = 64u << 20);

// A 64-bit simhash of `text` for near-duplicate detection: features are shingles of three
// consecutive words (lower-cased ASCII; each CJK character counts as a word). A word hashes
// eight bytes per multiply, a shingle combines its three words by position and ends with the
// MurmurHash3 finaliser. Texts that differ in a few words differ in a few bits; unrelated
// texts differ in about 32. Empty text (no words) gives 0. Values are fixed per extractor
// version (0.4.1 changed the word hash).
std::uint64_t simhash(std::string_view text);

// `h` as 16 lower-case hex digits.
std::string simhash_hex(std::uint64_t h);

// The number of bits in which two simhashes differ.
int simhash_distance(std::uint64_t a, std::uint64_t b) noexcept;

}  // namespace meadow::extract
