#include "common/extract_main.h"

#include <libxml/tree.h>

#include <boost/json/value.hpp>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/extract_hints.h"
#include "common/extract_meta.h"
#include "common/extract_tags.h"
#include "common/extract_text.h"
#include "common/html_dom.h"
#include "common/text.h"

namespace meadow::extract {
namespace {

constexpr std::uint32_t kNone = UINT32_MAX;

// A form or noscript holding this much text (not counting whitespace) wraps the page rather
// than asking for input or apologising for JavaScript: ASP.NET WebForms and forum engines put a
// form around everything, and script-rendered forums serve their posts inside <noscript>.
constexpr std::uint32_t kWrapperTextBytes = 500;
// A class or id name never prunes an element holding this share of the page's text: such an
// element is the page, whatever its theme calls it.
constexpr double kDominantShare = 0.5;
// Comments are furniture when the rest of the page has at least this much text per byte of
// comments (an article with its discussion below); otherwise they are the content (a forum).
constexpr double kCommentsOutweighed = 0.5;
// An anchor holding this much text is a card (a teaser, a service tile, a product with its
// description) rather than a navigation link: its text is not counted as link text.
constexpr std::uint32_t kCardLinkBytes = 120;
// This much text outside the comments is a text of its own (an article, a post): the
// comments under it are furniture however long they are.
constexpr std::uint64_t kProseBytes = 2000;
// A block of links: at least two anchors and this share of its text in them.
constexpr double kLinkDensity = 0.6;
// The walk down to the main subtree enters a child holding this share of the weighted text.
constexpr double kDescendShare = 0.7;
// Anchor text weighs this much against other text when the main subtree is chosen: listings
// are made of links, but so are menus.
constexpr double kLinkWeight = 0.3;
// Link blocks inside the main subtree are furniture unless they hold this share of its text
// (then the page is a directory, a link list or a listing, and its links are its content).
constexpr double kLinkBlocksShare = 0.5;
// Subtrees named like furniture (class or id) count this much when the main subtree is chosen;
// they are pruned only inside it, so a theme's "has-sidebar" on the content column costs
// nothing once the walk has gone through it.
constexpr double kNamedWeight = 0.2;
// ... and inside it they are kept when they hold this share of its text.
constexpr double kNamedKeepShare = 0.5;
// When less than this share of the page's text is visible, the page shows its content with
// scripts (streamed server rendering, splash screens): hidden elements are read too.
constexpr double kVisibleShare = 0.25;
// A main text shorter than this is checked against the page's JSON-LD product description.
constexpr std::size_t kShortTextBytes = 1000;
// On a product's page, its description becomes the main subtree when it holds this share of it.
constexpr double kDescriptionShare = 0.45;
// A line of the main text this long that repeats an earlier one is dropped (outside <pre>).
constexpr std::size_t kRepeatedLineBytes = 40;
// Headings longer than this are not read for a recommendation ("You may also like"); a heading
// opens a block when it is among the block's first kOpeningElements elements, after no text.
constexpr std::uint32_t kMaxHeadingBytes = 80;
constexpr std::uint32_t kOpeningElements = 32;
// Below this much non-link text a page is too small to judge: all its unpruned text is kept.
constexpr std::uint32_t kMinJudgedBytes = 250;
// A category's own text (kHintListingText) outside the main subtree joins it from this weight.
constexpr double kMinListingTextWeight = 150;
// A main subtree with this many cards (kHintCard) is a grid of items; an element named
// "description" outside it with this weight is the grid's description.
constexpr std::uint32_t kGridCards = 6;
constexpr double kMinGridDescriptionWeight = 400;

// Room reserved for the element table: a typical article page holds about a hundred elements.
constexpr std::size_t kTypicalElements = 128;

enum : std::uint8_t {
  kPruned = 1,       // left out, with everything below it
  kHasMain = 2,      // this element is, or holds, the page's <main>
  kCommentRoot = 4,  // outermost element of a comment section
  kLinkBlock = 8,    // outermost block made mostly of links
  kNamed = 16,       // named like furniture (class/id); pruned inside the main subtree
  kSectioned = 32,   // inside an article, section, aside, nav or main
};

struct Node {
  xmlNode* xml = nullptr;
  std::uint32_t parent = kNone;
  std::uint32_t end = 0;  // one past the last element of the subtree, in document order
  Role role = Role::plain;
  std::uint8_t state = 0;
  Break brk = Break::none;  // classify()'s, kept so that render need not look the tag up again
  std::uint16_t hints = 0;
  std::uint32_t own_text = 0;  // non-whitespace bytes of its own text children
  std::uint32_t own_link = 0;  // ... of them inside a link
  std::uint32_t text = 0;      // subtree totals, pruned parts left out
  std::uint32_t link = 0;
  double weight = 0;           // non-link text, plus anchor text and named subtrees discounted
  std::uint32_t anchors = 0;   // <a href> elements in the subtree
  std::uint32_t raw_text = 0;  // subtree text before anything is pruned
};

// A text node's content. build() keeps each length (plus one) in the node's _private, so
// that render() reads it rather than measuring every run of the main text again.
std::string_view measure_text(xmlNode* text) {
  if (text->content == nullptr) return {};
  const std::string_view s(reinterpret_cast<const char*>(text->content));
  text->_private = reinterpret_cast<void*>(static_cast<std::uintptr_t>(s.size()) + 1);
  return s;
}

std::string_view text_of(const xmlNode* text) {
  if (text->content == nullptr) return {};
  const auto* s = reinterpret_cast<const char*>(text->content);
  if (text->_private == nullptr) return s;
  return {s, static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(text->_private)) - 1};
}

std::string_view attribute_view(const xmlNode* element, const char* name) {
  const xmlAttr* a = xmlHasProp(element, reinterpret_cast<const xmlChar*>(name));
  if (a == nullptr || a->children == nullptr || a->children->type != XML_TEXT_NODE || a->children->content == nullptr)
    return {};
  return reinterpret_cast<const char*>(a->children->content);
}

bool named(const xmlNode* element, std::string_view name) {
  return element->name != nullptr && name == reinterpret_cast<const char*>(element->name);
}

// What the page's own markup says about it being one product's page, gathered while the table
// is built: JSON-LD entities typed Product or ProductGroup (and whether an ItemList says the
// page lists several), og:type, and microdata items typed Product.
struct ProductSigns {
  std::uint32_t json_ld_products = 0;
  bool json_ld_list = false;
  bool og_product = false;
  std::uint32_t microdata_products = 0;

  bool one_product() const { return og_product || (json_ld_products > 0 && !json_ld_list) || microdata_products == 1; }

  void read_json_ld(const xmlNode* script) {
    if (!has_token(attribute_view(script, "type"), "application/ld+json")) return;
    for (const xmlNode* c = script->children; c != nullptr; c = c->next) {
      if (c->content == nullptr) continue;
      const std::string_view json(reinterpret_cast<const char*>(c->content));
      if (json.find("ItemList") != std::string_view::npos) json_ld_list = true;
      // A Product with nothing to sell (no offer, SKU, GTIN or MPN) is a category page asking
      // search engines for star ratings, not one product's page.
      if (json.find("\"offers\"") == std::string_view::npos && json.find("\"sku\"") == std::string_view::npos &&
          json.find("\"gtin") == std::string_view::npos && json.find("\"mpn\"") == std::string_view::npos)
        continue;
      for (std::size_t at = json.find("\"@type\""); at != std::string_view::npos; at = json.find("\"@type\"", at + 1)) {
        std::size_t v = at + 7;
        while (v < json.size() && (json[v] == ' ' || json[v] == ':' || json[v] == '[' || json[v] == '\n' ||
                                   json[v] == '\t' || json[v] == '\r'))
          ++v;
        const std::string_view type = json.substr(v, 14);
        if (type.starts_with("\"Product\"") || type.starts_with("\"ProductGroup\"")) ++json_ld_products;
      }
    }
  }

  void read_head(const xmlNode* head) {
    for (const xmlNode* c = head->children; c != nullptr; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      if (named(c, "script")) {
        read_json_ld(c);
      } else if (named(c, "meta") && text::iequals(attribute_view(c, "property"), "og:type") &&
                 text::iequals(text::trim(attribute_view(c, "content")), "product")) {
        og_product = true;
      }
    }
  }
};

std::uint32_t index_of(const xmlNode* n) {
  return static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(n->_private)) - 1;
}

// The text of an element, whitespace collapsed, at most `max_bytes`.
std::string element_text(const xmlNode* element, std::size_t max_bytes = 2048) {
  TextBuilder b(max_bytes, true);
  const xmlNode* n = element->children;
  while (n != nullptr) {
    bool descend = false;
    if (n->type == XML_ELEMENT_NODE) {
      const Role r = classify(n->name).role;
      descend = r != Role::skip && n->children != nullptr;
    } else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
      b.add(reinterpret_cast<const char*>(n->content));
    }
    if (descend) {
      n = n->children;
      continue;
    }
    while (n != element && n->next == nullptr) n = n->parent;
    if (n == element) break;
    n = n->next;
  }
  return b.take();
}

class Finder {
 public:
  MainContent run(xmlNode* first);

 private:
  void build(xmlNode* first);
  void total();
  void prune_furniture();
  void prune_comments();
  void mark_recommendations();
  void mark_link_blocks();
  void drop_link_blocks(std::uint32_t root);
  std::uint32_t choose_root() const;
  std::uint32_t product_description(std::uint32_t root) const;
  std::string heading(std::uint32_t root) const;
  std::string render(std::uint32_t root) const;
  std::string with_listing_texts(std::uint32_t root, std::string text);

  bool dominant(std::uint32_t i) const {
    return (nodes_[i].state & kHasMain) != 0 ||
           static_cast<double>(nodes_[i].raw_text) >= kDominantShare * static_cast<double>(nodes_[0].raw_text);
  }
  double weight(std::uint32_t i) const { return nodes_[i].weight; }
  // The weight a subtree's children are measured against: for a subtree named like furniture,
  // its full weight, not the discounted one its parent saw.
  double inner_weight(std::uint32_t i) const {
    return (nodes_[i].state & kNamed) ? nodes_[i].weight / kNamedWeight : nodes_[i].weight;
  }

  std::vector<Node> nodes_;
  std::vector<std::uint32_t> h1s_;
  std::vector<std::uint32_t> headings_;  // h2-h6
  std::uint32_t main_ = kNone;
  ProductSigns product_;
  NameHintCache name_hints_;
};

// One document-order pass recording every element whose text can be read, with its own text
// counted. Skipped elements (scripts, styles, the head) are not entered.
void Finder::build(xmlNode* first) {
  // Index 0 stands for the document itself, so that pages whose broken markup leaves several
  // top-level elements are still one tree.
  Node doc;
  doc.xml = first->parent;
  nodes_.reserve(kTypicalElements);
  nodes_.push_back(doc);
  std::vector<std::uint32_t> stack{0};
  stack.reserve(32);
  std::uint32_t in_anchor = 0;
  xmlNode* node = first;
  while (node != nullptr) {
    bool entered = false;
    if (node->type == XML_ELEMENT_NODE) {
      node->_private = nullptr;
      const Tag& tag = classify(node->name);
      if (tag.role == Role::head) {
        product_.read_head(node);
      } else if (tag.role == Role::skip) {
        if (named(node, "script")) product_.read_json_ld(node);
      } else if (tag.role != Role::title) {
        Node n;
        n.xml = node;
        n.parent = stack.empty() ? kNone : stack.back();
        n.role = tag.role;
        n.brk = tag.brk;
        n.hints = node->properties != nullptr ? element_hints(node, &name_hints_) : 0;
        if (n.hints & kHintProduct) ++product_.microdata_products;
        if (tag.role == Role::anchor && xmlHasProp(node, reinterpret_cast<const xmlChar*>("href")) != nullptr)
          n.anchors = 1;
        const auto index = static_cast<std::uint32_t>(nodes_.size());
        node->_private = reinterpret_cast<void*>(static_cast<std::uintptr_t>(index) + 1);
        nodes_.push_back(n);
        if (tag.role == Role::h1) h1s_.push_back(index);
        if (tag.role == Role::heading) headings_.push_back(index);
        if (node->children != nullptr) {
          stack.push_back(index);
          if (tag.role == Role::anchor) ++in_anchor;
          node = node->children;
          entered = true;
        } else {
          nodes_.back().end = index + 1;
        }
      }
    } else if ((node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) && !stack.empty()) {
      const std::string_view text = measure_text(node);
      const auto bytes = static_cast<std::uint32_t>(text.size() - text::count_spaces(text));
      Node& owner = nodes_[stack.back()];
      owner.own_text += bytes;
      if (in_anchor > 0) owner.own_link += bytes;
    }
    if (entered) continue;
    while (node->next == nullptr && stack.size() > 1) {
      Node& done = nodes_[stack.back()];
      stack.pop_back();
      done.end = static_cast<std::uint32_t>(nodes_.size());
      if (done.role == Role::anchor) --in_anchor;
      node = done.xml;
    }
    node = node->next;
  }
  nodes_[0].end = static_cast<std::uint32_t>(nodes_.size());
}

// Subtree totals, pruned elements left out. Children follow their parent in the table, so
// one backward sweep sums every subtree.
void Finder::total() {
  for (Node& n : nodes_) {
    n.text = (n.state & kPruned) ? 0 : n.own_text;
    n.link = (n.state & kPruned) ? 0 : n.own_link;
    n.weight = static_cast<double>(n.text - n.link) + kLinkWeight * static_cast<double>(n.link);
  }
  for (std::size_t i = nodes_.size(); i-- > 1;) {
    Node& n = nodes_[i];
    if (n.parent == kNone || (n.state & kPruned)) continue;
    if (n.role == Role::anchor && n.text >= kCardLinkBytes) {
      n.weight += (1 - kLinkWeight) * static_cast<double>(n.link);
      n.link = 0;
    }
    if (n.state & kNamed) n.weight *= kNamedWeight;
    nodes_[n.parent].text += n.text;
    nodes_[n.parent].link += n.link;
    nodes_[n.parent].weight += n.weight;
  }
}

void Finder::prune_furniture() {
  // Raw totals twice: with everything, and without hidden subtrees.
  for (Node& n : nodes_) n.raw_text = n.own_text;
  for (std::size_t i = nodes_.size(); i-- > 1;) {
    const Node& n = nodes_[i];
    nodes_[n.parent].raw_text += n.raw_text;
    nodes_[n.parent].anchors += n.anchors;
  }
  const std::uint32_t all_text = nodes_[0].raw_text;
  for (Node& n : nodes_) n.raw_text = n.own_text;
  for (std::size_t i = nodes_.size(); i-- > 1;) {
    const Node& n = nodes_[i];
    if (!(n.hints & kHintHidden)) nodes_[n.parent].raw_text += n.raw_text;
  }
  if (static_cast<double>(nodes_[0].raw_text) < kVisibleShare * static_cast<double>(all_text)) {
    for (Node& n : nodes_) n.hints &= ~kHintHidden;
    for (Node& n : nodes_) n.raw_text = n.own_text;
    for (std::size_t i = nodes_.size(); i-- > 1;) nodes_[nodes_[i].parent].raw_text += nodes_[i].raw_text;
  }
  for (std::uint32_t i = 0; i < nodes_.size(); ++i)
    if ((nodes_[i].role == Role::main || (nodes_[i].hints & kHintMain)) && !(nodes_[i].hints & kHintHidden)) {
      main_ = i;
      for (std::uint32_t a = i; a != kNone; a = nodes_[a].parent) nodes_[a].state |= kHasMain;
      break;
    }

  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    if (n.parent != kNone && (nodes_[n.parent].state & kPruned)) {
      n.state |= kPruned;
      continue;
    }
    if (i == 0 || n.role == Role::body || n.role == Role::html) continue;
    const Node& parent = nodes_[n.parent];
    if ((parent.state & kSectioned) || parent.role == Role::article || parent.role == Role::section ||
        parent.role == Role::main || parent.role == Role::chrome || (parent.hints & kHintMain))
      n.state |= kSectioned;
    bool furniture = false;
    const bool landmark = (n.hints & kHintMain) || n.role == Role::main;
    if ((n.hints & kHintHidden) || ((n.hints & kHintConsent) && !(n.state & kHasMain))) {
      furniture = true;
    } else if (n.role == Role::wrapper) {
      furniture = n.raw_text < kWrapperTextBytes;
    } else if (n.role == Role::button || n.role == Role::chrome || (n.hints & kHintChromeRole) ||
               (n.role == Role::banner && !(n.state & kSectioned))) {
      // The page's footer is furniture however much it holds (testimonials and legal notes
      // can outweigh a short page); other chrome holding most of the page is more likely a
      // header left open by broken markup.
      const bool page_footer =
          (n.hints & kHintContentInfo) || (n.role == Role::banner && !(n.state & kSectioned) && named(n.xml, "footer"));
      furniture = !landmark && (page_footer ? !(n.state & kHasMain) : !dominant(i));
    } else if ((n.hints & (kHintBoiler | kHintRelated)) && !dominant(i) && !landmark) {
      n.state |= kNamed;
    }
    if (furniture) {
      n.state |= kPruned;
    } else if ((n.hints & kHintComment) && !landmark) {
      const std::uint32_t p = n.parent;
      bool nested = false;
      for (std::uint32_t a = p; a != kNone && !nested; a = nodes_[a].parent) nested = (nodes_[a].state & kCommentRoot);
      if (!nested) n.state |= kCommentRoot;
    }
  }
}

// On one product's page, a block headed "You may also like", "Customers also bought" and the
// like shows other products: it is treated like a subtree named as furniture. The block is the
// heading's nearest ancestor holding more text than the heading, when the heading opens it.
void Finder::mark_recommendations() {
  if (!product_.one_product()) return;
  bool marked = false;
  for (const std::uint32_t h : headings_) {
    const Node& heading = nodes_[h];
    if ((heading.state & kPruned) || heading.raw_text > kMaxHeadingBytes) continue;
    if (!names_recommendations(element_text(heading.xml, kMaxHeadingBytes))) continue;
    std::uint32_t block = heading.parent;
    while (block != kNone && nodes_[block].raw_text <= heading.raw_text) block = nodes_[block].parent;
    if (block == kNone || block == 0 || (nodes_[block].state & kHasMain) || dominant(block)) continue;
    // The heading must open the block: no text comes before it (looked for among the block's
    // first elements only, so that a page of such headings costs linear time).
    if (h - block > kOpeningElements) continue;
    bool opens = true;
    for (std::uint32_t i = block; i < h && opens; ++i) opens = nodes_[i].own_text == 0;
    if (!opens) continue;
    nodes_[block].state |= kNamed;
    marked = true;
  }
  if (marked) total();
}

// Comment sections go when the rest of the page outweighs them.
void Finder::prune_comments() {
  total();
  // Measured in text outside links: menus and lists of other threads are not a text of their own.
  std::uint64_t comments = 0;
  for (const Node& n : nodes_)
    if ((n.state & kCommentRoot) && !(n.state & kPruned)) comments += n.text - n.link;
  if (comments == 0) return;
  const std::uint64_t rest = nodes_[0].text - nodes_[0].link - comments;
  if (static_cast<double>(rest) < kCommentsOutweighed * static_cast<double>(comments) && rest < kProseBytes) return;
  for (Node& n : nodes_)
    if ((n.state & kCommentRoot) || (n.parent != kNone && (nodes_[n.parent].state & kPruned))) n.state |= kPruned;
  total();
}

// Blocks of links (menus, tag clouds, lists of other stories): marked here, outermost first;
// pruned once the main subtree is known (see drop_link_blocks).
void Finder::mark_link_blocks() {
  for (std::uint32_t i = 1; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    const Node& parent = nodes_[n.parent];
    if (n.state & kPruned) continue;
    if (parent.state & (kPruned | kLinkBlock)) {
      n.state |= parent.state & (kPruned | kLinkBlock);
      continue;
    }
    if (n.anchors < 2 || n.text == 0 || n.role == Role::anchor || (n.state & kHasMain)) continue;
    if (static_cast<double>(n.link) >= kLinkDensity * static_cast<double>(n.text)) n.state |= kLinkBlock;
  }
}

// Inside `root`, the link blocks go unless they are the bulk of it, and subtrees named like
// furniture go unless they hold half of it.
void Finder::drop_link_blocks(std::uint32_t root) {
  std::uint64_t in_blocks = 0;
  for (std::uint32_t i = root + 1; i < nodes_[root].end; ++i)
    if (nodes_[i].state & kLinkBlock) {
      in_blocks += nodes_[i].text;
      i = nodes_[i].end - 1;
    }
  const bool drop_links = static_cast<double>(in_blocks) <= kLinkBlocksShare * static_cast<double>(nodes_[root].text);
  for (std::uint32_t i = root + 1; i < nodes_[root].end; ++i) {
    Node& n = nodes_[i];
    if ((drop_links && (n.state & kLinkBlock)) ||
        ((n.state & kNamed) && static_cast<double>(n.text) < kNamedKeepShare * static_cast<double>(nodes_[root].text)))
      n.state |= kPruned;
  }
}

std::uint32_t Finder::choose_root() const {
  std::uint32_t root = 0;
  if (weight(0) < kMinJudgedBytes) return 0;
  if (main_ != kNone && !(nodes_[main_].state & kPruned) && weight(main_) >= 0.25 * weight(0)) root = main_;
  for (;;) {
    const double total = inner_weight(root);
    std::uint32_t best = kNone;
    double best_weight = 0;
    for (std::uint32_t c = root + 1; c < nodes_[root].end; c = nodes_[c].end) {
      if (nodes_[c].state & kPruned) continue;
      if (weight(c) > best_weight) {
        best_weight = weight(c);
        best = c;
      }
    }
    if (best == kNone || best_weight < kDescendShare * total) break;
    root = best;
  }
  return root;
}

// On one product's page, the product's description (an element named "description", or
// itemprop=description) is its content when it holds kDescriptionShare of the chosen subtree:
// the rest of that subtree is the buying box, delivery terms and other products. The largest
// such element wins.
std::uint32_t Finder::product_description(std::uint32_t root) const {
  const double need = kDescriptionShare * inner_weight(root);
  std::uint32_t best = root;
  double best_weight = 0;
  for (std::uint32_t i = root + 1; i < nodes_[root].end; ++i) {
    const Node& n = nodes_[i];
    if ((n.state & kPruned) || weight(i) < need) {
      i = n.end - 1;
      continue;
    }
    if ((n.hints & kHintDescription) && weight(i) > best_weight) {
      best = i;
      best_weight = weight(i);
    }
  }
  return best;
}

std::string Finder::heading(std::uint32_t root) const {
  std::uint32_t before = kNone;
  for (const std::uint32_t h : h1s_) {
    if (nodes_[h].hints & kHintHidden) continue;
    if (h >= root && h < nodes_[root].end && !(nodes_[h].state & kPruned)) return element_text(nodes_[h].xml);
    if (h < root) before = h;
  }
  return before != kNone ? element_text(nodes_[before].xml) : std::string();
}

std::string Finder::render(std::uint32_t root) const {
  struct Frame {
    const xmlNode* node;
    Break brk;
    bool cell;
    bool pre;
  };
  const xmlNode* top = nodes_[root].xml;
  if (top == nullptr || top->children == nullptr) return {};
  TextBuilder out;
  // Room for the subtree's text with a space about every five bytes (prose), so that the text
  // is not copied as it grows.
  out.reserve(nodes_[root].text + nodes_[root].text / 4 + 64);
  const bool top_pre = top->type == XML_ELEMENT_NODE && classify(top->name).role == Role::pre;
  std::vector<Frame> stack{{top, Break::none, false, top_pre}};
  int pre = top_pre ? 1 : 0;
  std::vector<TextRange> verbatim;
  const xmlNode* node = top->children;
  while (node != nullptr) {
    if (node->type == XML_ELEMENT_NODE) {
      if (node->_private != nullptr && !(nodes_[index_of(node)].state & kPruned)) {
        const Node& tag = nodes_[index_of(node)];
        out.request_break(tag.brk);
        if (tag.role == Role::cell) out.request_space();
        if (tag.role == Role::br) {
          out.request_break(Break::line);
        } else if (node->children != nullptr) {
          if (tag.role == Role::pre) ++pre;
          stack.push_back({node, tag.brk, tag.role == Role::cell, tag.role == Role::pre});
          node = node->children;
          continue;
        }
      }
    } else if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      std::string_view s = text_of(node);
      if (pre > 0) {
        // HTML drops a newline that directly follows <pre>; libxml2 keeps it.
        if (node->prev == nullptr && stack.back().pre) {
          if (s.starts_with("\r\n"))
            s.remove_prefix(2);
          else if (s.starts_with('\n') || s.starts_with('\r'))
            s.remove_prefix(1);
        }
        const std::size_t from = out.str().size();
        out.add_preformatted(s);
        if (!verbatim.empty() && verbatim.back().second >= from)
          verbatim.back().second = out.str().size();
        else
          verbatim.emplace_back(from, out.str().size());
      } else {
        out.add(s);
      }
    }
    while (node->next == nullptr && stack.size() > 1) {
      const Frame f = stack.back();
      stack.pop_back();
      out.request_break(f.brk);
      if (f.cell) out.request_space();
      if (f.pre) --pre;
      node = f.node;
    }
    node = node->next;
  }
  std::string text = drop_repeated_lines(out.take(), verbatim, kRepeatedLineBytes);
  // The room reserved was a guess made before link blocks inside the subtree were pruned.
  if (text.capacity() > 2 * text.size() + 4096) text.shrink_to_fit();
  return text;
}

MainContent Finder::run(xmlNode* first) {
  build(first);
  if (nodes_.empty()) return {};
  prune_furniture();
  prune_comments();
  mark_recommendations();
  mark_link_blocks();
  std::uint32_t root = choose_root();
  if (product_.one_product()) root = product_description(root);
  drop_link_blocks(root);
  MainContent out;
  out.text = render(root);
  if (!product_.one_product()) out.text = with_listing_texts(root, std::move(out.text));
  out.heading = heading(root);
  return out;
}

// A shop's category page shows its items in one block and writes about the category in
// another, often far below it (a buying guide after the grid, outside <main>): both are the
// page's content. Each outermost element named as such a text, outside `root`, is rendered and
// joined to `text` in document order.
std::string Finder::with_listing_texts(std::uint32_t root, std::string text) {
  // A main subtree of cards is a grid of items: then a long element named "description"
  // outside it describes them too.
  std::uint32_t cards = 0;
  for (std::uint32_t i = root + 1; i < nodes_[root].end && cards < kGridCards; ++i) {
    if (nodes_[i].state & kPruned) {
      i = nodes_[i].end - 1;
    } else if (nodes_[i].hints & kHintCard) {
      ++cards;
      i = nodes_[i].end - 1;
    }
  }
  const bool grid = cards >= kGridCards;
  std::string before;
  std::string after;
  for (std::uint32_t i = 1; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.state & kPruned) {
      i = n.end - 1;
      continue;
    }
    if (i >= root && i < nodes_[root].end) {  // inside the main subtree: already read
      i = nodes_[root].end - 1;
      continue;
    }
    const bool holds_root = i < root && n.end >= nodes_[root].end;
    const bool listing_text = (n.hints & kHintListingText) ||
                              (grid && (n.hints & kHintDescription) && weight(i) >= kMinGridDescriptionWeight);
    if (!listing_text || holds_root || weight(i) < kMinListingTextWeight) continue;
    drop_link_blocks(i);
    std::string part = render(i);
    std::string& side = i < root ? before : after;
    if (!part.empty()) side.append(side.empty() ? "" : "\n\n").append(part);
    i = n.end - 1;
  }
  if (before.empty() && after.empty()) return text;
  std::string out = std::move(before);
  for (std::string* part : {&text, &after})
    if (!part->empty()) out.append(out.empty() ? "" : "\n\n").append(*part);
  return out;
}

bool is_product_type(const boost::json::value& type) {
  auto product = [](const boost::json::value& v) {
    return v.is_string() && (v.get_string() == "Product" || v.get_string() == "ProductGroup");
  };
  if (type.is_array())
    for (const boost::json::value& t : type.get_array())
      if (product(t)) return true;
  return product(type);
}

// The longest `description` of a Product (or ProductGroup) anywhere in the page's JSON-LD
// blocks, as the page wrote it (it may hold markup and entities), or empty.
std::string_view product_description(const std::vector<boost::json::value>& blocks) {
  std::string_view best;
  std::vector<const boost::json::value*> stack;
  for (const boost::json::value& b : blocks) stack.push_back(&b);
  while (!stack.empty()) {
    const boost::json::value* v = stack.back();
    stack.pop_back();
    if (v->is_array()) {
      for (const boost::json::value& e : v->get_array()) stack.push_back(&e);
    } else if (v->is_object()) {
      const boost::json::object& o = v->get_object();
      const boost::json::value* type = o.if_contains("@type");
      const boost::json::value* description = o.if_contains("description");
      if (type != nullptr && description != nullptr && description->is_string() && is_product_type(*type) &&
          description->get_string().size() > best.size())
        best = description->get_string();
      for (const auto& member : o) stack.push_back(&member.value());
    }
  }
  return best;
}

}  // namespace

MainContent main_content(xmlNode* first, const Metadata* meta) {
  if (first == nullptr) return {};
  MainContent out = Finder().run(first);
  if (out.text.size() >= kShortTextBytes || first->doc == nullptr) return out;
  // A short text may be all the markup shows of a product whose page draws the rest with
  // scripts; the product's own JSON-LD description then says more than the page does.
  Metadata read;
  if (meta == nullptr) {
    read = read_metadata(first->doc);
    meta = &read;
  }
  const std::string_view description = product_description(meta->json_ld);
  if (description.empty()) return out;
  HtmlDoc doc = parse_html(description);
  if (!doc || doc->children == nullptr) return out;
  std::string text = Finder().run(doc->children).text;
  if (text.size() > out.text.size()) {
    out.text = std::move(text);
  } else if (!text.empty() &&
             out.text.find(std::string_view(text).substr(0, utf8_prefix_length(text, 60))) == std::string::npos) {
    out.text += "\n\n";
    out.text += text;
  }
  return out;
}

}  // namespace meadow::extract
