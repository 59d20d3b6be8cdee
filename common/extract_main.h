// The main content of a parsed HTML page, as text: what a reader came for, with the site's
// furniture (navigation, headers, footers, cookie banners, share bars, related links, ads,
// comment forms) left out.
//
// How it decides, in linear passes over a compact table of the page's elements:
//  1. Prune furniture: chrome elements (nav, aside, dialog; header and footer unless inside an
//     article, section, aside, nav or main, where they belong to that part, as in HTML's
//     banner rule; small forms and noscripts), hidden ones (with screen-reader-only text and
//     skip links; but not collapsed accordion, tab and FAQ panels, whose text a click shows),
//     cookie consent dialogs, ARIA landmark roles
//     that are not content, and class/id names used for furniture ("site-header" and "ad",
//     not "entry-header" nor a layout switch like "hide-ads"). A name never prunes an element
//     that holds most of the page's text or the page's <main> (themes put "sidebar-left" on
//     the whole page), and neither does a chrome element or role, as broken markup can leave
//     a header open around the page; but the page's footer (a <footer> outside any article,
//     section, aside, nav or main, or role=contentinfo) is always furniture: its testimonials
//     and legal notes can outweigh a short page. Comment sections (customer reviews count as
//     comments) are pruned only when the rest of the page outweighs them or holds a long text
//     of its own (an article), both counted in text outside links: on a forum, where the
//     opening post is short, they are the content.
//     On one product's page, a block opened by a heading such as "Customers also bought",
//     "You may also like" or "Similar items" (English) is treated like a subtree named as
//     furniture: it shows other products.
//  2. Prune link lists: blocks whose text is mostly anchor text (menus, tag clouds, "more
//     stories"), unless that would leave almost nothing (a link directory is its links).
//  3. Pick the best subtree: walk down from <main> (or the document) while one child holds
//     most of the text, and stop where the text spreads over several children (the posts of a
//     thread, the paragraphs of a story, the sections of a product page). Anchor text counts
//     less (except anchors wrapping a whole card), and so do subtrees named like furniture;
//     those are pruned only inside the chosen subtree, so a layout class on the content
//     column is harmless.
//     On one product's page (JSON-LD Product or ProductGroup without an ItemList, og:type
//     product, or a single microdata Product), the subtree narrows to the product's
//     description (an element named "description", "desc" or itemprop=description) when it
//     holds 45% of the chosen subtree's weight: the rest is the buying box and delivery terms.
//  4. Render that subtree without the pruned parts: headings and paragraphs set apart by a
//     blank line, list items and table rows on their own lines, cells separated by a space,
//     <pre> kept verbatim. A line of 40 bytes or more that repeats an earlier one (outside
//     <pre>) is dropped: pages that carry their text once per layout, replies quoting a post.
// Pages too small to judge keep all their unpruned text. A text shorter than the page's JSON-LD
// Product (or ProductGroup) description is replaced by that description, its markup rendered
// the same way: shops that draw the product with scripts leave little else in the markup; a
// short text that does not hold the description gets it appended after a blank line. The
// JSON-LD is read (read_metadata) only for texts under 1,000 bytes.
#pragma once

#include <string>

#include "common/extract_meta.h"

struct _xmlNode;

namespace meadow::extract {

struct MainContent {
  std::string text;     // UTF-8; see Page::text for the layout rules
  std::string heading;  // the first <h1> inside or just before the main content, whitespace collapsed
};

// `first` is the document's first child (xmlDoc::children); null gives an empty result.
// `meta` is read_metadata() of the same document when the caller has it (its JSON-LD is all
// that is used); without it, a short text has the document's metadata read again.
// Never recurses over the tree, so any nesting depth is safe; uses the nodes' `_private`
// field as scratch space, so the document must not be shared with another thread meanwhile.
MainContent main_content(_xmlNode* first, const Metadata* meta = nullptr);

}  // namespace meadow::extract
