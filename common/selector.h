// Job-defined fields: a job names fields by CSS selector or XPath ({"name": "price", "kind":
// "css", "expr": "span.price"}, see schemas/field-selector.schema.json). The coordinator
// compiles each selector when a job is created, to refuse bad ones with a message saying what
// is wrong and where; the node compiles them again and evaluates them on every page it leases
// for that job.
//
// CSS: the subset of Selectors Level 3 that scraping needs, compiled and matched here:
//   type, *, #id, .class,
//   [attr] [attr=v] [attr~=v] [attr|=v] [attr^=v] [attr$=v] [attr*=v], v an identifier or a
//   quoted string, with an optional " i" flag for ASCII case-insensitive comparison,
//   combinators: descendant (space), child '>', adjacent '+', general sibling '~',
//   selector lists ',',
//   :first-child, :last-child, :nth-child(an+b | odd | even), :not(compound) (not nested),
//   a trailing pseudo-element (Scrapy's convention) choosing what a match yields:
//     none          the element's text (see node_text in common/html_dom.h)
//     ::text        the element's own text: its text children only, not its descendants'
//     ::attr(name)  the value of attribute `name`; elements without it yield nothing
// Type and attribute names are ASCII case-insensitive (HTML); ids, classes and attribute
// values compare exactly. Anything else (other pseudo-classes, namespaces, :has, relative
// selectors) is refused. An element matched by several selectors of a list yields once, as
// the first of them says.
//
// XPath: XPath 1.0 as libxml2 implements it, on the HTML tree (lower-case names, no
// namespaces). A node-set yields one value per node: an element its text, an attribute its
// value, a text or comment node its content; a string, number or boolean result yields one
// value ("3", "0.5", "true").
//
// Values are whitespace-collapsed and trimmed; empty values are dropped. Matching never
// recurses over the tree, so 100,000 levels of nesting are fine.
//
// A Selector is an immutable value: copies are cheap and may be used from several threads.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.h"
#include "common/result.h"

struct _xmlDoc;

namespace meadow::extract {

namespace css {
struct Program;
}

inline constexpr std::size_t kMaxSelectorBytes = 1024;         // as field-selector.schema.json
inline constexpr std::size_t kMaxFieldValues = 100;            // values kept per field, first ones
inline constexpr std::size_t kMaxFieldValueBytes = 64 * 1024;  // per value, cut at a character boundary
// XPath evaluation stops (and the field yields an error) after this many libxml2 operations:
// about a second of work, far more than any sensible expression needs on a large page.
inline constexpr unsigned long kMaxXPathOperations = 20'000'000;

enum class SelectorKind : std::uint8_t { css, xpath };

class Selector {
 public:
  SelectorKind kind() const noexcept { return kind_; }
  const std::string& expr() const noexcept { return expr_; }

 private:
  friend Result<Selector> compile_css(std::string_view expr);
  friend Result<Selector> compile_xpath(std::string_view expr);
  friend Result<std::vector<std::string>> evaluate(const Selector& selector, const _xmlDoc* doc);

  SelectorKind kind_ = SelectorKind::css;
  std::string expr_;
  std::shared_ptr<const css::Program> css_;  // null for XPath
};

// Compile a selector without a document; cheap (microseconds). Errors are ErrorKind::invalid,
// code "bad-selector", messages like "css: unexpected ']' at column 7",
// "css: unsupported pseudo-class ':hover' (supported: ...) at column 2",
// "xpath: invalid expression at column 5", "xpath: expression longer than 1024 bytes".
Result<Selector> compile_css(std::string_view expr);
Result<Selector> compile_xpath(std::string_view expr);
// `kind` is "css" or "xpath", as in a job's field selector.
Result<Selector> compile_selector(std::string_view kind, std::string_view expr);

// The values of a selector on a page, in document order, at most kMaxFieldValues of at most
// kMaxFieldValueBytes each. An XPath expression that needs more than kMaxXPathOperations, or
// fails at run time (an unknown function, say), gives ErrorKind::too_large
// "selector-too-expensive" or ErrorKind::invalid "bad-selector" respectively.
Result<std::vector<std::string>> evaluate(const Selector& selector, const _xmlDoc* doc);

// Checks a job's field selectors, for the coordinator to call when a job is created. The error
// (code "bad-selector") names the field: "fields[2] (price): css: unexpected ']' at column 7".
Status check_field_selectors(const std::vector<protocol::FieldSelector>& fields);

// Fields given on a command line as "name=kind:expr" ("price=css:span.price",
// "title=xpath://h1"), checked as a job's are.
Result<std::vector<protocol::FieldSelector>> parse_field_options(const std::vector<std::string>& options);

// How a field shows in record.fields: one value as a string, several as an array of strings.
// A field with no value is left out of the record (the caller skips an empty `values`).
boost::json::value field_json(const std::vector<std::string>& values);

struct FieldValues {
  boost::json::object values;         // for record.fields: name -> field_json(values)
  std::vector<std::string> problems;  // one line per field that failed: "price: <message>"
};

// Evaluates every field on a page. Fields with no value are left out of `values`; so are
// fields whose selector does not compile or fails, which are also named in `problems` for the
// node's activity log.
FieldValues evaluate_fields(const std::vector<protocol::FieldSelector>& fields, const _xmlDoc* doc);

}  // namespace meadow::extract
