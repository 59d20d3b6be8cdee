#include "common/html_dom.h"

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstring>
#include <mutex>
#include <vector>

#include "common/bytes16.h"
#include "common/charset.h"
#include "common/extract_text.h"
#include "common/text.h"

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

// ---- Text runs read by libxml2 as stand-ins -------------------------------------------------
//
// libxml2 2.9.14 reads character data, and the content of <script> and <style>, one character
// at a time: about 75 instructions a byte, most of the parse on a page of prose or of inline
// scripts. So parse_html gives libxml2 a copy of the page in which each long run of such
// content is replaced by a stand-in (U+E000, the run's number in decimal, then U+E001 for
// text, U+E002 for script or U+E003 for style content), and then puts the runs back into the
// tree. The tree is the one libxml2 builds from the page itself, because:
// - a run holds only bytes that libxml2 copies as they are: well-formed UTF-8 of characters
//   XML allows, no control character but tab and line feed, no '<', and in text no '>' or '&'
//   either;
// - a text run starts after a space, tab, line feed, '>' or ';', so whatever libxml2 was
//   reading before it (a tag's name, an entity's name) has ended there whatever follows; a
//   script run starts beyond the "</" and name that libxml2 reads at each '<' to see whether
//   the script ends there, and none is made in a script whose content starts with '<', which
//   libxml2 first reads as a tag that may close the script;
// - a text run starts and ends with a character that is not white space, so the same bytes
//   decide whether libxml2 sees white space or text (text where none is allowed opens a <p>);
// - a stand-in holds no character that ends any of libxml2's states: no quote, white space,
//   '<', '>', '&', '-', '?' or '/';
// - the page itself has none of U+E000 to U+E003;
// - the last 512 bytes of the page, and the text that runs into them, are left alone, the
//   copy is over 1,024 bytes long, and no name of 64 bytes or more (of an entity, a processing
//   instruction or a DOCTYPE) comes near the end of the page or of the copy. Within 500 bytes
//   of the end libxml2 drops all but the last 80 bytes it has read, and within 250 it may move
//   its buffer, which depends on the length of the whole input; either can cut a long name.
// Where the scan below takes markup for content (a quoted '>' it missed, a comment it misread,
// a <script/> that has no content), libxml2 reads the stand-in as part of that markup, drops
// it, or files it under another kind of node. Then the stand-ins found are not 0, 1, 2 ... in
// document order, each in its own kind of node (text, or the content of a <script> or of a
// <style>), and the page is parsed again as it is.

constexpr std::size_t kMinRunBytes = 32;
constexpr std::ptrdiff_t kTailBytes = 512;
constexpr std::size_t kMinCopyBytes = 1024;
constexpr std::string_view kRunOpen = "\xEE\x80\x80";        // U+E000
constexpr std::string_view kTextRunClose = "\xEE\x80\x81";   // U+E001
constexpr std::string_view kScriptRunClose = "\xEE\x80\x82";  // U+E002
constexpr std::string_view kStyleRunClose = "\xEE\x80\x83";   // U+E003

struct StandIns {
  std::string page;                    // what libxml2 reads
  std::vector<std::string_view> runs;  // the content behind stand-in k, in the caller's buffer
};

bool plain_ascii(char c, bool raw) noexcept {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80 || (u < 0x20 && c != '\t' && c != '\n') || c == '<') return false;
  return raw || (c != '>' && c != '&');
}

// How many bytes from p are plain ASCII: printable, tab or line feed, but not '<' (nor, unless
// `raw`, '>' or '&').
std::size_t plain_ascii_length(const char* p, const char* end, bool raw) noexcept {
  const char* const start = p;
  for (; end - p >= 16; p += 16) {
    const Bytes16 v = load16(p);
    Bytes16 stop = lanes_equal(v, '<') | (lanes_in(v, 0, 0x1F) & ~(lanes_equal(v, '\t') | lanes_equal(v, '\n')));
    if (!raw) stop |= lanes_equal(v, '>') | lanes_equal(v, '&');
    const unsigned bits = lane_bits(stop) | lane_bits(v);  // lane_bits(v): the bytes that are not ASCII
    if (bits != 0) return static_cast<std::size_t>(p - start) + static_cast<unsigned>(__builtin_ctz(bits));
  }
  while (p < end && plain_ascii(*p, raw)) ++p;
  return static_cast<std::size_t>(p - start);
}

// The length of the UTF-8 character at p when it is well formed and XML allows it (not
// U+FFFE or U+FFFF); otherwise 0.
std::size_t plain_utf8_length(const char* at, const char* end) noexcept {
  const std::size_t n = charset::utf8_sequence_length(std::string_view(at, static_cast<std::size_t>(end - at)), 0);
  const bool nonchar = n == 3 && at[0] == '\xEF' && at[1] == '\xBF' && (at[2] == '\xBE' || at[2] == '\xBF');
  return nonchar ? 0 : n;
}

const char* find_byte(const char* p, const char* end, char c) noexcept {
  return p < end ? static_cast<const char*>(std::memchr(p, c, static_cast<std::size_t>(end - p))) : nullptr;
}

// The first of the stand-in characters U+E000 to `last` from p, or null. U+E000 opens a
// stand-in; the page itself may hold none of U+E000 to U+E003.
const char* find_stand_in_character(const char* p, const char* end, char last) noexcept {
  for (p = find_byte(p, end, kRunOpen[0]); p != nullptr; p = find_byte(p + 1, end, kRunOpen[0])) {
    if (end - p >= 3 && p[1] == kRunOpen[1] && static_cast<unsigned char>(p[2]) >= 0x80 &&
        static_cast<unsigned char>(p[2]) <= static_cast<unsigned char>(last))
      return p;
  }
  return nullptr;
}

bool name_byte(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_' || c == ':';
}

// Whether libxml2 may read a name of 64 bytes or more near the end of the page: after a '&'
// (an entity, in text or in an attribute), "<?" (a processing instruction) or "<!DOCTYPE".
bool long_name_near_end(const char* begin, const char* end) noexcept {
  constexpr std::ptrdiff_t kLong = 64;
  const char* from = end - std::min<std::ptrdiff_t>(end - begin, 1024);
  const char* back = from;
  while (back > begin && name_byte(back[-1])) --back;
  if (from - back >= kLong) return true;  // a long name may run into the end from before it
  auto long_name_at = [end](const char* name) {
    const char* q = name;
    while (q < end && name_byte(*q)) ++q;
    return q - name >= kLong;
  };
  for (const char* amp = find_byte(from, end, '&'); amp != nullptr; amp = find_byte(amp + 1, end, '&'))
    if (long_name_at(amp + 1)) return true;
  for (const char* lt = find_byte(from, end, '<'); lt != nullptr; lt = find_byte(lt + 1, end, '<')) {
    if (end - lt >= 2 && lt[1] == '?' && long_name_at(lt + 2)) return true;
    if (end - lt >= 9 && text::iequals(std::string_view(lt + 1, 8), "!DOCTYPE")) {
      const char* name = lt + 9;
      while (name < end && text::is_space(*name)) ++name;
      if (long_name_at(name)) return true;
    }
  }
  return false;
}

// After the end of a comment whose "<!--" ends at `from`, as libxml2 finds it: the first "-->"
// or "--!>" whose dashes start at `from` or later.
const char* skip_comment(const char* from, const char* end) noexcept {
  for (const char* gt = find_byte(from, end, '>'); gt != nullptr; gt = find_byte(gt + 1, end, '>')) {
    if (gt - from >= 2 && gt[-1] == '-' && gt[-2] == '-') return gt + 1;
    if (gt - from >= 3 && gt[-1] == '!' && gt[-2] == '-' && gt[-3] == '-') return gt + 1;
  }
  return end;
}

// Where the content of a <script> or <style> that starts at p ends: at the first "</" followed
// by the element's name in any case, as libxml2 reads it.
const char* raw_content_end(const char* p, const char* end, std::string_view name) noexcept {
  for (const char* lt = find_byte(p, end, '<'); lt != nullptr; lt = find_byte(lt + 1, end, '<')) {
    if (end - lt >= static_cast<std::ptrdiff_t>(name.size() + 2) && lt[1] == '/' &&
        text::iequals(std::string_view(lt + 2, name.size()), name))
      return lt;
  }
  return end;
}

class RunScanner {
 public:
  explicit RunScanner(std::string_view html) : begin_(html.data()), end_(html.data() + html.size()), copied_(begin_) {}

  StandIns run() && {
    if (end_ - begin_ <= kTailBytes || find_stand_in_character(begin_, end_, kStyleRunClose[2]) != nullptr ||
        long_name_near_end(begin_, end_))
      return {};
    // Runs end before the last '<' ahead of the tail, so no text read from a stand-in reaches it.
    last_ = static_cast<const char*>(memrchr(begin_, '<', static_cast<std::size_t>(end_ - kTailBytes - begin_)));
    if (last_ == nullptr) return {};
    for (const char* p = begin_; p < last_;) {
      const char* lt = find_byte(p, end_, '<');
      content(p, lt != nullptr ? lt : end_);
      if (lt == nullptr) break;
      p = markup(lt);
    }
    if (out_.runs.empty()) return {};
    out_.page.append(copied_, end_);
    const char* copy = out_.page.data();
    if (out_.page.size() <= kMinCopyBytes || long_name_near_end(copy, copy + out_.page.size())) return {};
    return std::move(out_);
  }

 private:
  // After the markup that starts with the '<' at lt, as libxml2 reads it when the page is well
  // formed: after the '>' of a tag, comment or declaration, after the content of a <script> or
  // <style> (at its "</"), or just after a '<' that libxml2 reads as text.
  const char* markup(const char* lt) {
    const char* p = lt + 1;
    if (p == end_) return end_;
    if (end_ - p >= 3 && std::memcmp(p, "!--", 3) == 0) return skip_comment(p + 3, end_);
    if (*p == '!' || *p == '?' || *p == '/') {
      const char* gt = find_byte(p, end_, '>');
      return gt != nullptr ? gt + 1 : end_;
    }
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) return p;  // a '<' of text
    const char* name_end = p;
    while (name_end < end_ && !text::is_space(*name_end) && *name_end != '>' && *name_end != '/') ++name_end;
    const std::string_view name(p, static_cast<std::size_t>(name_end - p));
    const char* q = name_end;
    while (q < end_ && *q != '>') {
      if (*q++ != '=') continue;
      while (q < end_ && text::is_space(*q)) ++q;
      if (q < end_ && (*q == '"' || *q == '\'')) {
        const char* close = find_byte(q + 1, end_, *q);
        if (close == nullptr) return end_;
        q = close + 1;
      }
    }
    if (q == end_) return end_;
    // "/>" after the name, white space or a quoted value closes the element: no content.
    const bool closed = q[-1] == '/' && (q - 1 == name_end || text::is_space(q[-2]) || q[-2] == '"' || q[-2] == '\'');
    ++q;
    if (!closed && (text::iequals(name, "script") || text::iequals(name, "style"))) {
      const char* close = raw_content_end(q, end_, name);
      // Content that starts with '<' is first read as a tag, whose name may end the element
      // (a <noscript> closes a <script>) however long it is: no stand-ins there.
      if (q < end_ && *q != '<') content(q, close, name);
      return close;
    }
    return q;
  }

  // Character data from p to end, or the content of the <script> or <style> named `raw_name`:
  // each stretch of plain bytes may hold a run.
  void content(const char* p, const char* end, std::string_view raw_name = {}) {
    const bool raw = !raw_name.empty();
    while (p < end) {
      const char* stretch = p;
      for (;;) {
        p += plain_ascii_length(p, end, raw);
        if (p == end || static_cast<unsigned char>(*p) < 0x80) break;
        const std::size_t n = plain_utf8_length(p, end);
        if (n == 0) break;
        p += n;
      }
      if (raw)
        raw_run(stretch, p, raw_name);
      else
        text_run(stretch, p);
      if (p < end) ++p;  // a byte that is not plain
    }
  }

  void text_run(const char* from, const char* to) {
    auto starts = [this](const char* s) {
      if (s == begin_ || text::is_space(*s)) return false;
      const char before = s[-1];
      return before == '>' || before == ';' || text::is_space(before);
    };
    const char* s = from;
    while (s < to && !starts(s)) ++s;
    const char* e = to;
    while (e > s && text::is_space(e[-1])) --e;
    stand_in(s, e, kTextRunClose);
  }

  // In a script, libxml2 reads the element's name after each "</" to see whether the script
  // ends there: a run starts beyond the reach of the last '<'.
  void raw_run(const char* from, const char* to, std::string_view name) {
    const auto reach = static_cast<std::ptrdiff_t>(name.size() + 2);  // '<', '/' and the name
    const char* s = from;
    for (const char* c = from - 1; c >= begin_ && from - c < reach; --c) {
      if (*c == '<') {
        s = c + reach;
        break;
      }
    }
    stand_in(s, to, text::iequals(name, "script") ? kScriptRunClose : kStyleRunClose);
  }

  void stand_in(const char* s, const char* e, std::string_view close) {
    if (e - s < static_cast<std::ptrdiff_t>(kMinRunBytes) || e > last_) return;
    if (out_.page.empty()) out_.page.reserve(static_cast<std::size_t>(end_ - begin_) / 4);
    out_.page.append(copied_, s);
    out_.page += kRunOpen;
    char digits[24];
    const auto [digits_end, ec] = std::to_chars(digits, digits + sizeof digits, out_.runs.size());
    out_.page.append(digits, digits_end);
    out_.page += close;
    out_.runs.emplace_back(s, static_cast<std::size_t>(e - s));
    copied_ = e;
  }

  const char* const begin_;
  const char* const end_;
  const char* copied_;         // the page before this is in out_.page
  const char* last_ = nullptr;  // no run goes past this '<'
  StandIns out_;
};

// How a stand-in in node n must end: the kind of content libxml2 filed it under.
std::string_view run_close_for(const xmlNode* n) noexcept {
  if (n->type == XML_TEXT_NODE) return kTextRunClose;
  const std::string_view parent = n->parent != nullptr ? tag_name(n->parent) : std::string_view();
  if (parent == "script") return kScriptRunClose;
  if (parent == "style") return kStyleRunClose;
  return {};
}

// Puts the runs back into doc in place of their stand-ins. False unless the stand-ins found are
// exactly 0, 1, 2 ... runs.size() - 1 in document order, each in the kind of content its run
// came from.
bool restore_runs(xmlDoc* doc, const std::vector<std::string_view>& runs) {
  std::size_t next = 0;
  std::string content;
  for (xmlNode* n = doc->children; n != nullptr; n = const_cast<xmlNode*>(next_in_tree(n, nullptr))) {
    if ((n->type != XML_TEXT_NODE && n->type != XML_CDATA_SECTION_NODE) || n->content == nullptr) continue;
    const std::string_view close = run_close_for(n);
    const auto* c = reinterpret_cast<const char*>(n->content);
    const char* const end = c + std::strlen(c);
    const char* open = find_stand_in_character(c, end, kRunOpen[2]);
    if (open == nullptr) continue;
    content.clear();
    for (; open != nullptr; open = find_stand_in_character(c, end, kRunOpen[2])) {
      content.append(c, open);
      const char* digits = open + kRunOpen.size();
      std::size_t k = 0;
      const auto [digits_end, ec] = std::from_chars(digits, end, k);
      if (ec != std::errc() || k != next || close.empty() || end - digits_end < static_cast<std::ptrdiff_t>(close.size()) ||
          std::string_view(digits_end, close.size()) != close)
        return false;
      content += runs[next++];
      c = digits_end + close.size();
    }
    content.append(c, end);
    xmlNodeSetContentLen(n, reinterpret_cast<const xmlChar*>(content.data()), static_cast<int>(content.size()));
  }
  return next == runs.size();
}

HtmlDoc read_html(std::string_view utf8) {
  htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
  if (ctxt == nullptr) return nullptr;
  // An empty buffer gives no document at all; one space gives an empty one.
  const char* data = utf8.empty() ? " " : utf8.data();
  const int len = utf8.empty() ? 1 : static_cast<int>(utf8.size());
  xmlDoc* doc = htmlCtxtReadMemory(ctxt, data, len, nullptr, "UTF-8", kParseOptions);
  htmlFreeParserCtxt(ctxt);
  if (doc == nullptr) doc = htmlNewDocNoDtD(nullptr, nullptr);
  return HtmlDoc(doc);
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

HtmlDoc parse_html(std::string_view utf8, TextRuns runs, ParseStats* stats) {
  prepare_libxml();
  // libxml2 takes an int length; larger input is cut (at a character boundary) rather than
  // refused, as callers cap it.
  const std::string_view page = utf8.substr(0, utf8_prefix_length(utf8, INT_MAX));
  if (runs == TextRuns::stand_ins) {
    StandIns s = RunScanner(page).run();
    if (stats != nullptr) stats->stand_ins = s.runs.size();
    if (!s.runs.empty()) {
      HtmlDoc doc = read_html(s.page);
      if (doc != nullptr && restore_runs(doc.get(), s.runs)) return doc;
      if (stats != nullptr) stats->parsed_again = true;
    }
  }
  return read_html(page);
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
