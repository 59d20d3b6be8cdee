// What an element's attributes say about its part in the page: class and id names that page
// authors and CMS themes use for navigation, sharing, cookie banners, comments, related links
// and the like; ARIA roles; schema.org itemprops; and whether it is hidden.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>

struct _xmlNode;

namespace meadow::extract {

enum Hint : std::uint16_t {
  kHintHidden = 1 << 0,        // hidden attribute, inline display:none / visibility:hidden, aria-hidden
  kHintBoiler = 1 << 1,        // navigation, menus, footers, share bars, cookie banners, ads, widgets
  kHintComment = 1 << 2,       // comments, replies and customer reviews: content on a forum, furniture
                               // under an article or a product
  kHintRelated = 1 << 3,       // related, recommended or popular links and teasers
  kHintContent = 1 << 4,       // article body, post content, entry, description
  kHintMain = 1 << 5,          // role=main
  kHintChromeRole = 1 << 6,    // role=navigation, banner, contentinfo, complementary, search, menu...
  kHintCard = 1 << 7,          // product tiles, teasers and cards (items of a grid, not prose)
  kHintPanel = 1 << 8,         // accordion, collapsible, tab or FAQ panel: content shown on a click,
                               // so never hidden (element_hints leaves kHintHidden off)
  kHintConsent = 1 << 9,       // cookie consent and privacy dialogs: furniture however long
  kHintProduct = 1 << 10,      // a microdata item typed schema.org Product
  kHintDescription = 1 << 11,  // "description", "desc", itemprop=description: a product's description
  kHintContentInfo = 1 << 12,  // role=contentinfo: the page's footer (with kHintChromeRole)
  kHintListingText = 1 << 13,  // a category's or collection's own text: "category-description",
                               // "collection-intro", "plp-seo-copy", "seo-text"
};

// Remembers the hints of the class and id values already read: a page repeats a few class
// lists on thousands of elements. The values are viewed, not copied, so a cache must not
// outlive the document whose attributes it has read.
class NameHintCache {
 public:
  std::uint16_t hints(std::string_view value);

 private:
  std::unordered_map<std::string_view, std::uint16_t> known_;
};

// The hints of one element, from its attributes alone (never its children). With a cache,
// class and id values are read once per document.
std::uint16_t element_hints(const _xmlNode* element, NameHintCache* cache = nullptr);

// True when a heading's text (whitespace collapsed) introduces other products or pages rather
// than a part of this one: "You may also like", "Customers also bought", "Similar items",
// "Recently viewed"... (English only).
bool names_recommendations(std::string_view heading) noexcept;

// True when the space-separated token list `list` holds `token` (ASCII case-insensitively).
bool has_token(std::string_view list, std::string_view token) noexcept;

}  // namespace meadow::extract
