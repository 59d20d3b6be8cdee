#include "common/extract_hints.h"

#include <libxml/tree.h>

#include <algorithm>
#include <array>

#include "common/text.h"

namespace meadow::extract {
namespace {

using text::ascii_lower;
using text::iequals;

std::string_view as_view(const xmlChar* s) {
  return s == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(s));
}

std::string_view attr_value(const xmlAttr* a) {
  const xmlNode* c = a->children;
  if (c == nullptr || c->next != nullptr || c->type != XML_TEXT_NODE) return {};
  return as_view(c->content);
}

// How a name part is matched against a token of a class or id: a token is a run of letters
// and digits, lower-cased ("site-nav__item" gives "site", "nav", "item").
// `whole` matches the class name with its punctuation dropped ("site-header" gives
// "siteheader"), never one of its parts: "entry-header" or "card-header" head a part of the
// content, while "header" and "site-header" are the page's.
enum class Match : std::uint8_t { exact, prefix, contains, whole };

struct Pattern {
  std::string_view text;
  Match match;
  std::uint16_t hint;
};

// Names in this table are the vocabulary of page furniture across CMS themes and front-end
// frameworks. Prefix and exact matches guard the short ones ("nav" must not hit "canvas",
// "ad" must not hit "header"); long, unambiguous ones match anywhere in a token.
constexpr std::array kPatterns = {
    Pattern{"nav", Match::prefix, kHintBoiler},
    Pattern{"navbar", Match::contains, kHintBoiler},
    Pattern{"navigation", Match::contains, kHintBoiler},
    Pattern{"menu", Match::contains, kHintBoiler},
    Pattern{"footer", Match::contains, kHintBoiler},
    Pattern{"header", Match::whole, kHintBoiler},
    Pattern{"siteheader", Match::whole, kHintBoiler},
    Pattern{"pageheader", Match::whole, kHintBoiler},
    Pattern{"globalheader", Match::whole, kHintBoiler},
    Pattern{"masthead", Match::contains, kHintBoiler},
    Pattern{"topbar", Match::contains, kHintBoiler},
    Pattern{"sidebar", Match::contains, kHintBoiler},
    Pattern{"breadcrumb", Match::contains, kHintBoiler},
    Pattern{"cookie", Match::contains, kHintBoiler},
    Pattern{"consent", Match::contains, kHintBoiler | kHintConsent},
    Pattern{"gdpr", Match::contains, kHintBoiler | kHintConsent},
    Pattern{"share", Match::prefix, kHintBoiler},
    Pattern{"sharing", Match::contains, kHintBoiler},
    Pattern{"social", Match::contains, kHintBoiler},
    Pattern{"newsletter", Match::contains, kHintBoiler},
    Pattern{"subscribe", Match::contains, kHintBoiler},
    Pattern{"signup", Match::contains, kHintBoiler},
    Pattern{"banner", Match::contains, kHintBoiler},
    Pattern{"popup", Match::contains, kHintBoiler},
    Pattern{"modal", Match::prefix, kHintBoiler},
    Pattern{"advert", Match::contains, kHintBoiler},
    Pattern{"ad", Match::exact, kHintBoiler},
    Pattern{"ads", Match::exact, kHintBoiler},
    Pattern{"adsense", Match::contains, kHintBoiler},
    Pattern{"sponsor", Match::contains, kHintBoiler},
    Pattern{"pagination", Match::contains, kHintBoiler},
    Pattern{"pager", Match::exact, kHintBoiler},
    Pattern{"toolbar", Match::contains, kHintBoiler},
    Pattern{"login", Match::prefix, kHintBoiler},
    Pattern{"sronly", Match::exact, kHintBoiler},
    Pattern{"visuallyhidden", Match::contains, kHintBoiler},
    Pattern{"comment", Match::contains, kHintComment},
    Pattern{"disqus", Match::contains, kHintComment},
    Pattern{"respond", Match::exact, kHintComment},
    Pattern{"reviews", Match::contains, kHintComment},
    Pattern{"related", Match::contains, kHintRelated},
    Pattern{"recommend", Match::prefix, kHintRelated},
    Pattern{"trending", Match::contains, kHintRelated},
    Pattern{"popular", Match::prefix, kHintRelated},
    Pattern{"content", Match::contains, kHintContent},
    Pattern{"article", Match::prefix, kHintContent},
    Pattern{"entry", Match::prefix, kHintContent},
    Pattern{"story", Match::prefix, kHintContent},
    Pattern{"prose", Match::exact, kHintContent},
    Pattern{"markdown", Match::contains, kHintContent},
    Pattern{"postbody", Match::contains, kHintContent},
    Pattern{"main", Match::exact, kHintContent},
    Pattern{"accordion", Match::contains, kHintPanel},
    Pattern{"collapse", Match::prefix, kHintPanel},
    Pattern{"collapsible", Match::contains, kHintPanel},
    Pattern{"tabpanel", Match::contains, kHintPanel},
    Pattern{"panel", Match::exact, kHintPanel},
    Pattern{"faq", Match::prefix, kHintPanel},
    Pattern{"description", Match::exact, kHintDescription},
    Pattern{"desc", Match::exact, kHintDescription},
    Pattern{"productdescription", Match::whole, kHintDescription},
    Pattern{"card", Match::prefix, kHintCard},
    Pattern{"tile", Match::prefix, kHintCard},
};

// The letters and digits a string holds, one bit each: a pattern can only match a token that
// holds all of its characters, which one AND tells for most pairs before any search.
constexpr std::uint64_t char_bit(char c) {
  return c >= 'a' && c <= 'z'   ? std::uint64_t{1} << (c - 'a')
         : c >= '0' && c <= '9' ? std::uint64_t{1} << (26 + c - '0')
                                : 0;
}

constexpr std::uint64_t char_set(std::string_view s) {
  std::uint64_t set = 0;
  for (const char c : s) set |= char_bit(c);
  return set;
}

constexpr auto kPatternChars = [] {
  std::array<std::uint64_t, kPatterns.size()> sets{};
  for (std::size_t i = 0; i < kPatterns.size(); ++i) sets[i] = char_set(kPatterns[i].text);
  return sets;
}();

bool matches(std::string_view token, const Pattern& p) {
  switch (p.match) {
    case Match::exact:
    case Match::whole:
      return token == p.text;
    case Match::prefix:
      return token.starts_with(p.text);
    case Match::contains:
      return token.find(p.text) != std::string_view::npos;
  }
  return false;
}

// First parts of class names that describe the element's layout rather than name it.
bool is_modifier(std::string_view part) {
  for (const std::string_view m : {"no", "has", "hide", "with", "without", "show"})
    if (part == m) return true;
  return false;
}

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A word looked for inside class names, with its char_set().
struct Needle {
  std::string_view text;
  std::uint64_t chars;
  // Implicit, so that the tables below read as lists of words.
  constexpr Needle(const char* t) : text(t), chars(char_set(t)) {}
};

// Whether `s`, whose characters are `s_chars`, holds one of `needles`.
template <std::size_t N>
bool contains_any(std::string_view s, std::uint64_t s_chars, const std::array<Needle, N>& needles) {
  return std::any_of(needles.begin(), needles.end(), [&](const Needle& n) {
    return (n.chars & ~s_chars) == 0 && s.find(n.text) != std::string_view::npos;
  });
}

constexpr std::array<Needle, 9> kNotListingText = {"cookie", "consent", "review", "disclaimer", "nav",
                                                   "modal",  "popup",   "banner", "footer"};
constexpr std::array<Needle, 7> kListingNames = {"categor",  "collection", "plp",        "catalog",
                                                 "taxonomy", "termdesc",   "archivedesc"};
constexpr std::array<Needle, 5> kListingParts = {"desc", "seo", "intro", "text", "copy"};
constexpr std::array<Needle, 7> kSeoParts = {"text", "copy", "content", "block", "module", "data", "container"};
constexpr std::array<Needle, 2> kPromoBars = {"promobar", "announcementbar"};

// A class name (punctuation dropped, lower case; its characters `chars`) for the text a shop or
// a CMS writes about a category as a whole: its description, introduction or the copy written
// for search engines. `seo_part`: one of the name's parts starts with "seo".
bool names_listing_text(std::string_view whole, std::uint64_t chars, bool seo_part) {
  if (contains_any(whole, chars, kNotListingText)) return false;
  if (contains_any(whole, chars, kListingNames) && contains_any(whole, chars, kListingParts)) return true;
  return seo_part && contains_any(whole, chars, kSeoParts);
}

// Hints from a class or id value. "sr-only" and "visually-hidden" are joined first so that a
// framework's screen-reader-only text (usually "skip to content" or icon labels) is caught.
std::uint16_t name_hints(std::string_view value) {
  std::uint16_t hints = 0;
  std::array<char, 64> token{};
  std::size_t i = 0;
  while (i < value.size()) {
    // One whitespace-separated class name, with its punctuation dropped, is one token; its
    // parts between punctuation are tokens too.
    while (i < value.size() && text::is_space(value[i])) ++i;
    std::size_t joined = 0;
    std::size_t part = 0;
    std::uint16_t token_hints = 0;
    bool modifier = false;
    bool seo_part = false;
    std::uint64_t part_chars = 0;
    std::uint64_t whole_chars = 0;
    auto flush_part = [&] {
      if (part == 0) return;
      const std::string_view t(token.data() + joined - part, part);
      if (joined == part) modifier = is_modifier(t);
      if (t.starts_with("seo")) seo_part = true;
      for (std::size_t k = 0; k < kPatterns.size(); ++k)
        if ((kPatternChars[k] & ~part_chars) == 0 && kPatterns[k].match != Match::whole && matches(t, kPatterns[k]))
          token_hints |= kPatterns[k].hint;
      part = 0;
      part_chars = 0;
    };
    while (i < value.size() && !text::is_space(value[i])) {
      const char c = ascii_lower(value[i++]);
      if (is_alnum(c) && joined < token.size()) {
        token[joined++] = c;
        ++part;
        part_chars |= char_bit(c);
        whole_chars |= char_bit(c);
      } else {
        flush_part();
      }
    }
    flush_part();
    if (joined > 0) {
      const std::string_view whole(token.data(), joined);
      for (std::size_t k = 0; k < kPatterns.size(); ++k)
        if ((kPatternChars[k] & ~whole_chars) == 0 && kPatterns[k].match == Match::whole &&
            matches(whole, kPatterns[k]))
          token_hints |= kPatterns[k].hint;
      if (names_listing_text(whole, whole_chars, seo_part)) token_hints |= kHintListingText;
      // The strip over a shop's pages that promises free shipping or a sale.
      if (contains_any(whole, whole_chars, kPromoBars)) token_hints |= kHintBoiler;
      // "has-sidebar", "no-header", "hide-ads": a layout switch about something else.
      if (!modifier) hints |= token_hints;
      // Text only screen readers get is hidden from sight.
      if (whole == "sronly" || whole == "visuallyhidden" || whole == "screenreadertext")
        hints |= kHintBoiler | kHintHidden;
      // "skip-link", "skip-to-content": the link (element_hints hides it), or its target.
      if (whole.starts_with("skip") &&
          (whole.ends_with("link") || whole.ends_with("content") || whole.ends_with("main") || whole.ends_with("nav")))
        hints |= kHintBoiler;
    }
  }
  return hints;
}

bool style_hides(std::string_view style) {
  std::array<char, 256> compact{};
  std::size_t n = 0;
  for (const char c : style) {
    if (text::is_space(c)) continue;
    if (n == compact.size()) break;
    compact[n++] = ascii_lower(c);
  }
  const std::string_view s(compact.data(), n);
  return s.find("display:none") != std::string_view::npos || s.find("visibility:hidden") != std::string_view::npos;
}

std::uint16_t role_hints(std::string_view role) {
  std::uint16_t hints = 0;
  for (const std::string_view chrome : {"navigation", "banner", "contentinfo", "complementary", "search", "menu",
                                        "menubar", "toolbar", "dialog", "alertdialog"})
    if (has_token(role, chrome)) hints |= kHintChromeRole;
  if (has_token(role, "main")) hints |= kHintMain;
  if (has_token(role, "contentinfo")) hints |= kHintContentInfo;
  if (has_token(role, "article")) hints |= kHintContent;
  if (has_token(role, "tabpanel")) hints |= kHintPanel;
  return hints;
}

// Phrases of headings over recommendations, lower case.
constexpr std::array<std::string_view, 19> kRecommendationHeadings = {
    "you may also like",    "you might also like",  "you may also be interested",
    "related products",     "related items",        "customers also",
    "customers who bought", "customers who viewed", "frequently bought together",
    "recently viewed",      "similar items",        "similar products",
    "people also bought",   "people who viewed",    "recommended for you",
    "more to explore",      "complete the look",    "shop the look",
    "pairs well with",
};

}  // namespace

bool names_recommendations(std::string_view heading) noexcept {
  std::array<char, 96> lower{};
  const std::size_t n = std::min(heading.size(), lower.size());
  for (std::size_t i = 0; i < n; ++i) lower[i] = ascii_lower(heading[i]);
  const std::string_view text(lower.data(), n);
  for (const std::string_view phrase : kRecommendationHeadings)
    if (text.find(phrase) != std::string_view::npos) return true;
  return false;
}

bool has_token(std::string_view list, std::string_view token) noexcept {
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && text::is_space(list[i])) ++i;
    std::size_t j = i;
    while (j < list.size() && !text::is_space(list[j])) ++j;
    if (j > i && iequals(list.substr(i, j - i), token)) return true;
    i = j;
  }
  return false;
}

std::uint16_t NameHintCache::hints(std::string_view value) {
  const auto [it, added] = known_.try_emplace(value, 0);
  if (added) it->second = name_hints(value);
  return it->second;
}

std::uint16_t element_hints(const xmlNode* element, NameHintCache* cache) {
  std::uint16_t hints = 0;
  for (const xmlAttr* a = element->properties; a != nullptr; a = a->next) {
    const std::string_view name = as_view(a->name);
    if (name == "class" || name == "id") {
      const std::string_view value = attr_value(a);
      // An id is rarely repeated: caching it would only grow the table.
      hints |= cache != nullptr && name == "class" ? cache->hints(value) : name_hints(value);
    } else if (name == "hidden") {
      hints |= kHintHidden;
    } else if (name == "style") {
      if (style_hides(attr_value(a))) hints |= kHintHidden;
    } else if (name == "aria-hidden") {
      if (iequals(attr_value(a), "true")) hints |= kHintHidden;
    } else if (name == "role") {
      hints |= role_hints(attr_value(a));
    } else if (name == "itemtype") {
      const std::string_view v = attr_value(a);
      if (v.ends_with("/Product") || v.ends_with("/ProductGroup")) hints |= kHintProduct;
    } else if (name == "itemprop") {
      const std::string_view v = attr_value(a);
      if (has_token(v, "articleBody") || has_token(v, "reviewBody") || has_token(v, "text") ||
          has_token(v, "description"))
        hints |= kHintContent;
      if (has_token(v, "description")) hints |= kHintDescription;
    }
  }
  if (hints & kHintPanel) hints &= ~kHintHidden;
  // A link named like furniture that jumps within the page is a skip link, shown only on
  // keyboard focus.
  if ((hints & kHintBoiler) && element->name != nullptr && as_view(element->name) == "a") {
    const xmlAttr* href = xmlHasProp(element, reinterpret_cast<const xmlChar*>("href"));
    if (href != nullptr && attr_value(href).starts_with('#')) hints |= kHintHidden;
  }
  return hints;
}

}  // namespace meadow::extract
