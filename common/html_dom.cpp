#include "common/html_dom.h"

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <climits>
#include <cstring>
#include <mutex>

#include "common/extract_text.h"

namespace meadow::extract {
namespace {

// No HTML_PARSE_NOBLANKS: it drops whitespace-only text nodes, and with them the space in
// "<b>a</b> <i>b</i>" and the blank lines of a <pre>. XML_PARSE_HUGE because without it
// libxml2 stops the whole parse at nesting depth 256, losing the rest of the page; the input
// size cap bounds the tree instead, and libxml2 builds and frees deep trees without recursion.
constexpr int kParseOptions = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                              HTML_PARSE_COMPACT | HTML_PARSE_NODEFDTD | XML_PARSE_HUGE;

void discard_error(void*, const char*, ...) {}

bool skipped_inside_text(const xmlNode* n) {
  if (n->type != XML_ELEMENT_NODE || n->name == nullptr) return false;
  auto name = reinterpret_cast<const char*>(n->name);
  return std::strcmp(name, "script") == 0 || std::strcmp(name, "style") == 0 || std::strcmp(name, "template") == 0 ||
         std::strcmp(name, "noscript") == 0;
}

// Elements that a browser renders apart from their neighbours: their text must not run into
// the text before them.
bool breaks_words(const xmlNode* n) {
  static constexpr const char* kBlocks[] = {
      "address", "article", "aside",  "blockquote", "br",     "dd",     "div",  "dl",   "dt",
      "figcaption", "figure", "footer", "form",     "h1",     "h2",     "h3",   "h4",   "h5",
      "h6",      "header",  "hr",     "li",         "main",   "nav",    "ol",   "option", "p",
      "pre",     "section", "table",  "td",         "th",     "tr",     "ul"};
  if (n->type != XML_ELEMENT_NODE || n->name == nullptr) return false;
  for (const char* b : kBlocks) {
    if (std::strcmp(reinterpret_cast<const char*>(n->name), b) == 0) return true;
  }
  return false;
}

}  // namespace

// xmlInitParser must run once before threads parse concurrently. libxml2 keeps its generic
// error callback per thread, so each thread that parses silences its own.
void prepare_libxml() noexcept {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
  thread_local bool silenced = false;
  if (!silenced) {
    xmlSetGenericErrorFunc(nullptr, discard_error);
    silenced = true;
  }
}

void HtmlDocFree::operator()(_xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }

HtmlDoc parse_html(std::string_view utf8) {
  prepare_libxml();
  // libxml2 takes an int length; larger input is cut (at a character boundary) rather than
  // refused, as callers cap it.
  const std::size_t size = utf8_prefix_length(utf8, INT_MAX);
  htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
  if (ctxt == nullptr) return nullptr;
  // An empty buffer gives no document at all; one space gives an empty one.
  const char* data = size == 0 ? " " : utf8.data();
  int len = size == 0 ? 1 : static_cast<int>(size);
  xmlDoc* doc = htmlCtxtReadMemory(ctxt, data, len, nullptr, "UTF-8", kParseOptions);
  htmlFreeParserCtxt(ctxt);
  if (doc == nullptr) doc = htmlNewDocNoDtD(nullptr, nullptr);
  return HtmlDoc(doc);
}

const _xmlNode* next_in_tree(const _xmlNode* node, const _xmlNode* root, bool skip_children) noexcept {
  if (node == nullptr) return nullptr;
  // Attribute and entity children are not part of the walk; element, text and the like are.
  if (!skip_children && node->children != nullptr && node->type != XML_ENTITY_REF_NODE &&
      node->type != XML_ATTRIBUTE_NODE) {
    return node->children;
  }
  while (node != nullptr && node != root) {
    if (node->next != nullptr) return node->next;
    node = node->parent;
  }
  return nullptr;
}

const _xmlNode* root_element(const _xmlDoc* doc) noexcept {
  return doc == nullptr ? nullptr : xmlDocGetRootElement(doc);
}

std::string node_text(const _xmlNode* node, std::size_t max_bytes) {
  if (node == nullptr) return {};
  TextBuilder b(max_bytes, true);
  if (node->type == XML_ATTRIBUTE_NODE) {
    for (const xmlNode* c = node->children; c != nullptr && !b.full(); c = c->next) {
      if (c->content != nullptr) b.add(reinterpret_cast<const char*>(c->content));
    }
    return b.take();
  }
  if (node->type != XML_ELEMENT_NODE && node->type != XML_DOCUMENT_NODE && node->type != XML_HTML_DOCUMENT_NODE) {
    if (node->content != nullptr) b.add(reinterpret_cast<const char*>(node->content));
    return b.take();
  }
  const bool raw_element = skipped_inside_text(node);  // a selected <script> gives its own text
  const xmlNode* n = node->children;
  while (n != nullptr && !b.full()) {
    bool enter = n->children != nullptr && n->type == XML_ELEMENT_NODE && (raw_element || !skipped_inside_text(n));
    if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content != nullptr) {
      b.add(reinterpret_cast<const char*>(n->content));
    } else if (breaks_words(n)) {
      b.request_space();  // "<td>a</td><td>b</td>" reads "a b", "<b>a</b>b" still "ab"
    }
    if (enter) {
      n = n->children;
      continue;
    }
    // Leaving elements: a block's end separates its text from what follows, as its start does.
    while (n != node) {
      if (breaks_words(n)) b.request_space();
      if (n->next != nullptr) {
        n = n->next;
        break;
      }
      n = n->parent;
    }
    if (n == node) break;
  }
  return b.take();
}

std::string attribute(const _xmlNode* element, const char* name) {
  if (element == nullptr || element->type != XML_ELEMENT_NODE) return {};
  for (const xmlAttr* a = element->properties; a != nullptr; a = a->next) {
    if (a->name != nullptr && std::strcmp(reinterpret_cast<const char*>(a->name), name) == 0) {
      std::string value;
      for (const xmlNode* c = a->children; c != nullptr; c = c->next) {
        if (c->content != nullptr) value += reinterpret_cast<const char*>(c->content);
      }
      return value;
    }
  }
  return {};
}

std::string_view tag_name(const _xmlNode* node) noexcept {
  if (node == nullptr || node->type != XML_ELEMENT_NODE || node->name == nullptr) return {};
  return reinterpret_cast<const char*>(node->name);
}

bool is_element(const _xmlNode* node) noexcept { return node != nullptr && node->type == XML_ELEMENT_NODE; }

}  // namespace meadow::extract
