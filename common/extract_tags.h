// What each HTML element means to the extractor: whether its text is read at all, whether it
// is page chrome, and what separation it puts around its text. One table shared by the
// metadata walk (extract.cpp) and the main-content finder (extract_main.cpp).
#pragma once

#include <cstdint>

#include "common/extract_text.h"

namespace meadow::extract {

enum class Role : std::uint8_t {
  plain,
  skip,     // not rendered as text and holding nothing we read: not entered at all
  chrome,   // page furniture (nav, aside, dialog): its text is not content
  banner,   // header or footer: the page's furniture, unless inside an article, section, aside, nav
            // or main, where it is that part's own heading or byline (HTML's banner rule)
  wrapper,  // form or noscript: furniture when small, the page itself when it wraps a lot of text
  head,
  title,
  pre,
  cell,
  br,
  anchor,
  h1,
  heading,  // h2-h6
  meta,
  link,
  base,
  html,
  body,
  img,
  section,  // <section>
  main,     // <main>: the document says this is its main content
  article,  // <article>: a self-contained composition (a post, a story, a card)
  list,     // ul, ol, dl, menu
  list_item,
  table,
  button,
};

struct Tag {
  Role role = Role::plain;
  Break brk = Break::none;
};

// The meaning of an element named `name` (libxml2's lower-case tag name); an unknown or null
// name is a plain inline element.
const Tag& classify(const unsigned char* name) noexcept;

}  // namespace meadow::extract
