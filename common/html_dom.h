// Small helpers over libxml2's HTML tree shared by the metadata reader and the selectors:
// one parse with the extractor's options, an iterative document-order walk, and an element's
// text. Nothing here recurses over the tree: a hostile page may nest 100,000 levels deep.
//
// libxml2's types are forward declared so that callers need not include its headers.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct _xmlDoc;
struct _xmlNode;

namespace meadow::extract {

struct HtmlDocFree {
  void operator()(_xmlDoc* doc) const noexcept;
};
// Owns a parsed document. A document may be read by several threads at once, never changed.
using HtmlDoc = std::unique_ptr<_xmlDoc, HtmlDocFree>;

// Initialises libxml2 once per process and silences its generic error messages on the calling
// thread (libxml2 keeps that handler per thread). Every entry point that parses calls it.
void prepare_libxml() noexcept;

// How parse_html has libxml2 read long runs of text and of script or style content. Both give
// the same tree: stand_ins hands libxml2 a short stand-in for each run and puts the run back
// afterwards, in about 60% of the time on a page of prose; as_is lets libxml2 read every byte.
enum class TextRuns { stand_ins, as_is };

// What a parse_html call did, for tests and benchmarks.
struct ParseStats {
  std::size_t stand_ins = 0;  // runs handed to libxml2 as stand-ins
  bool parsed_again = false;  // a stand-in did not come back where its run belonged, so the page
                              // was parsed again as it is
};

// Parses UTF-8 HTML with the options extract() uses (recovering from any markup, no network,
// no size-based depth limit) and libxml2's messages silenced on this thread. Never null for
// any input, an empty one included; null only when libxml2 runs out of memory.
HtmlDoc parse_html(std::string_view utf8, TextRuns runs = TextRuns::stand_ins, ParseStats* stats = nullptr);

// The node after `node` in document order within the subtree of `root` (children first, then
// siblings, then the next sibling of the nearest ancestor that has one), or null at the end.
// With `skip_children` the children of `node` are not entered.
const _xmlNode* next_in_tree(const _xmlNode* node, const _xmlNode* root, bool skip_children = false) noexcept;

// The root element (<html>), or null for an empty document.
const _xmlNode* root_element(const _xmlDoc* doc) noexcept;

// The text of an element: its descendant text (and CDATA) nodes in order, whitespace collapsed
// to single spaces and trimmed, at most `max_bytes` (cut at a character boundary). Text inside
// <script>, <style>, <template> and <noscript> below `node` is left out; a text or attribute
// node gives its own content. Reading stops once the cap is reached.
std::string node_text(const _xmlNode* node, std::size_t max_bytes);

// An attribute's value (as libxml2 decoded it), or empty when absent. HTML attribute names
// are lower case in libxml2's tree, so `name` must be too.
std::string attribute(const _xmlNode* element, const char* name);

// The lower-case tag name of an element, or empty for other nodes.
std::string_view tag_name(const _xmlNode* node) noexcept;

// True for element nodes.
bool is_element(const _xmlNode* node) noexcept;

}  // namespace meadow::extract
