#include "common/extract_meta.h"

#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <optional>
#include <unordered_map>

#include "common/extract_text.h"
#include "common/html_dom.h"
#include "common/json.h"
#include "common/text.h"

namespace json = boost::json;

namespace meadow::extract {
namespace {

constexpr std::size_t kMaxMetaTags = 512;         // <meta> elements read
constexpr std::size_t kMaxCandidates = 8;         // per HTML source of an author or a date
constexpr std::size_t kMaxNameBytes = 100;        // longer is a sentence, not a name
constexpr std::size_t kMaxAncestorsChecked = 64;  // how far up a <time> looks for its <article>
constexpr std::size_t kMaxJsonLdNodes = 200'000;  // JSON values visited looking for the main entity
constexpr std::size_t kMaxAuthorNames = 10;

// ---------------------------------------------------------------------------------------
// What one walk over the page gathers.

struct Gathered {
  std::vector<std::pair<std::string, std::string>> metas;  // (name|property|itemprop lower-cased, content)
  std::vector<std::string> ld_blocks;
  std::vector<std::string> rel_author;       // <a rel=author> texts
  std::vector<std::string> itemprop_author;  // itemprop=author names
  std::vector<std::string> itemprop_published;
  std::vector<std::string> itemprop_modified;
  std::vector<std::string> marked_times;   // <time pubdate> or a class saying "publish"
  std::vector<std::string> article_times;  // <time datetime> inside <article> or <main>
  std::vector<std::string> bylines;        // texts of elements whose class or id says byline/author
  std::vector<std::string> date_lines;     // short texts of elements whose class says date/published
  std::vector<std::string> byline_parts;   // the first text runs inside those byline elements
  std::vector<std::string> labelled;       // "Written by X" leaves, and the leaf after a "Written by" leaf
};

void push_capped(std::vector<std::string>& v, std::string s) {
  if (!s.empty() && v.size() < kMaxCandidates) v.push_back(std::move(s));
}

// The attributes the walk looks at, read in one pass over an element's attribute list.
struct Attrs {
  const xmlAttr* cls = nullptr;
  const xmlAttr* id = nullptr;
  const xmlAttr* itemprop = nullptr;
  const xmlAttr* rel = nullptr;
  const xmlAttr* property = nullptr;
  const xmlAttr* name = nullptr;
  const xmlAttr* content = nullptr;
  const xmlAttr* datetime = nullptr;
  const xmlAttr* type = nullptr;
  bool pubdate = false;
};

Attrs read_attrs(const xmlNode* e) {
  Attrs a;
  // Dispatched on the first letter: every element's attributes pass through here.
  for (const xmlAttr* p = e->properties; p != nullptr; p = p->next) {
    if (p->name == nullptr) continue;
    auto n = reinterpret_cast<const char*>(p->name);
    switch (n[0]) {
      case 'c':
        if (std::strcmp(n, "class") == 0) a.cls = p;
        else if (std::strcmp(n, "content") == 0) a.content = p;
        break;
      case 'i':
        if (std::strcmp(n, "id") == 0) a.id = p;
        else if (std::strcmp(n, "itemprop") == 0) a.itemprop = p;
        break;
      case 'r':
        if (std::strcmp(n, "rel") == 0) a.rel = p;
        break;
      case 'p':
        if (std::strcmp(n, "property") == 0) a.property = p;
        else if (std::strcmp(n, "pubdate") == 0) a.pubdate = true;
        break;
      case 'n':
        if (std::strcmp(n, "name") == 0) a.name = p;
        break;
      case 'd':
        if (std::strcmp(n, "datetime") == 0) a.datetime = p;
        break;
      case 't':
        if (std::strcmp(n, "type") == 0) a.type = p;
        break;
      default:
        break;
    }
  }
  return a;
}

std::string value_of(const xmlAttr* a, std::size_t max_bytes = kMaxOpenGraphValueBytes) {
  if (a == nullptr) return {};
  std::string v;
  for (const xmlNode* c = a->children; c != nullptr && v.size() <= max_bytes; c = c->next) {
    if (c->content != nullptr) v += reinterpret_cast<const char*>(c->content);
  }
  return collapse_whitespace(v, max_bytes);
}

bool has_word(const xmlAttr* a, std::string_view word) {
  if (a == nullptr) return false;
  std::string v = value_of(a, 1024);
  std::size_t i = 0;
  while (i < v.size()) {
    std::size_t j = v.find(' ', i);
    if (j == std::string::npos) j = v.size();
    if (text::iequals(std::string_view(v).substr(i, j - i), word)) return true;
    i = j + 1;
  }
  return false;
}

// A class or id token that names a byline ("byline", "author-name", "c-byline__author") and not
// a picture, a biography or a comment's author.
bool byline_token(std::string_view t) {
  if (!text::contains_ci(t, "byline") && !text::contains_ci(t, "author")) return false;
  static constexpr std::array<std::string_view, 12> kNot = {"comment", "avatar", "bio",   "img",  "image", "photo",
                                                             "pic",     "desc",   "about", "box",  "follow", "social"};
  for (auto n : kNot) {
    if (text::contains_ci(t, n)) return false;
  }
  return true;
}

bool date_token(std::string_view t) {
  if (text::contains_ci(t, "update") || text::contains_ci(t, "modif")) return false;
  return text::contains_ci(t, "date") || text::contains_ci(t, "publish") || text::contains_ci(t, "posted");
}

// Whether `pred` holds for a whitespace-separated token of the attribute's value, as
// value_of(a, 512) reads it. A class or id is read in place, without copies, when it is one
// text of at most 512 printable ASCII bytes, spaces, tabs and line breaks, which value_of
// would only have collapsed.
template <class Pred>
bool any_token(const xmlAttr* a, Pred pred) {
  if (a == nullptr) return false;
  auto split = [&pred](std::string_view v, auto is_separator) {
    std::size_t i = 0;
    while (i < v.size()) {
      std::size_t j = i;
      while (j < v.size() && !is_separator(v[j])) ++j;
      if (j > i && pred(v.substr(i, j - i))) return true;
      i = j + 1;
    }
    return false;
  };
  const xmlNode* only = a->children;
  if (only != nullptr && only->next == nullptr && only->content != nullptr) {
    const std::string_view raw = reinterpret_cast<const char*>(only->content);
    const bool plain = raw.size() <= 512 && std::all_of(raw.begin(), raw.end(), [](char c) {
                         return (c >= 0x20 && c < 0x7F) || text::is_space(c);
                       });
    if (plain) return split(raw, [](char c) { return text::is_space(c); });
  }
  return split(value_of(a, 512), [](char c) { return c == ' '; });
}

// What an element's class says to the walk: a byline, or a publish date. Remembered per class
// value, viewed in the document (so a cache lives no longer than one walk): pages repeat a few
// class lists on thousands of elements.
struct ClassWords {
  bool byline = false;
  bool date = false;
};

class ClassWordCache {
 public:
  ClassWords words(const xmlAttr* cls) {
    if (cls == nullptr) return {};
    const xmlNode* only = cls->children;
    if (only == nullptr || only->next != nullptr || only->content == nullptr) return read(cls);
    const auto [it, added] = known_.try_emplace(reinterpret_cast<const char*>(only->content));
    if (added) it->second = read(cls);
    return it->second;
  }

 private:
  static ClassWords read(const xmlAttr* cls) { return {any_token(cls, byline_token), any_token(cls, date_token)}; }

  std::unordered_map<std::string_view, ClassWords> known_;
};

bool inside_article(const xmlNode* e) {
  std::size_t steps = 0;
  for (const xmlNode* p = e->parent; p != nullptr && steps < kMaxAncestorsChecked; p = p->parent, ++steps) {
    auto name = tag_name(p);
    if (name == "article" || name == "main") return true;
  }
  return false;
}

// The name inside an itemprop=author element: its itemprop=name descendant, else its text.
std::string itemprop_author_name(const xmlNode* e) {
  std::size_t budget = 2000;
  for (const xmlNode* n = next_in_tree(e, e); n != nullptr && budget > 0; n = next_in_tree(n, e), --budget) {
    if (is_element(n) && has_word(read_attrs(n).itemprop, "name")) {
      Attrs a = read_attrs(n);
      return a.content != nullptr ? value_of(a.content, 512) : node_text(n, 512);
    }
  }
  return node_text(e, 512);
}

bool is_ld_json(const xmlAttr* type) {
  if (type == nullptr) return false;
  std::string v = text::ascii_lower(value_of(type, 128));
  return v.rfind("application/ld+json", 0) == 0;
}

std::string raw_text(const xmlNode* e, std::size_t max_bytes) {
  std::string out;
  for (const xmlNode* c = e->children; c != nullptr; c = c->next) {
    if (c->content == nullptr) continue;
    out += reinterpret_cast<const char*>(c->content);
    if (out.size() > max_bytes) return {};  // too large: dropped, not cut into invalid JSON
  }
  return out;
}

// The text of an element holding one text node and nothing else (a label, a name, a date),
// trimmed; "" when that is longer than `max_bytes`. Most such elements are paragraphs, so the
// length is only read as far as needed.
std::string_view short_leaf_text(const xmlNode* e, std::size_t max_bytes) {
  const xmlNode* c = e->children;
  if (c == nullptr || c->next != nullptr || c->type != XML_TEXT_NODE || c->content == nullptr) return {};
  const char* p = reinterpret_cast<const char*>(c->content);
  while (text::is_space(*p)) ++p;
  const std::size_t probe = max_bytes + 16;
  const std::size_t n = strnlen(p, probe);
  if (n == probe) {
    // Longer than max_bytes unless all that follows it is whitespace.
    for (std::size_t i = max_bytes; i < probe; ++i)
      if (!text::is_space(p[i])) return {};
    const std::string_view t = text::trim(p);
    return t.size() <= max_bytes ? t : std::string_view();
  }
  const std::string_view t = text::trim(std::string_view(p, n));
  return t.size() <= max_bytes ? t : std::string_view();
}

bool byline_label(std::string_view t) {
  for (std::string_view l : {"written by", "posted by", "words by", "author", "by", "by:", "author:", "written by:"}) {
    if (text::iequals(t, l)) return true;
  }
  return false;
}

void gather_labelled(const xmlNode* e, Gathered& g) {
  if (g.labelled.size() >= kMaxCandidates) return;
  const std::string_view t = short_leaf_text(e, 80);
  if (t.empty()) return;
  if (byline_label(t)) {
    const xmlNode* next = e->next;
    while (next != nullptr && next->type != XML_ELEMENT_NODE) next = next->next;
    if (next != nullptr) push_capped(g.labelled, node_text(next, 200));
    return;
  }
  std::string lower = text::ascii_lower(t.substr(0, 11));
  if (lower.rfind("written by ", 0) == 0 || lower.rfind("by ", 0) == 0) push_capped(g.labelled, std::string(t));
}

void gather_text_runs(const xmlNode* e, std::vector<std::string>& out) {
  std::size_t budget = 200;
  for (const xmlNode* n = next_in_tree(e, e); n != nullptr && budget > 0 && out.size() < 3 * kMaxCandidates;
       n = next_in_tree(n, e), --budget) {
    if (n->type == XML_TEXT_NODE && n->content != nullptr) {
      std::string t = collapse_whitespace(reinterpret_cast<const char*>(n->content), 200);
      if (!t.empty()) out.push_back(std::move(t));
    }
  }
}

bool skipped_element(std::string_view name) {
  return name == "style" || name == "template" || name == "svg" || name == "noscript" || name == "iframe";
}

Gathered gather(const xmlNode* root) {
  Gathered g;
  ClassWordCache class_words;
  for (const xmlNode* n = root; n != nullptr;) {
    if (!is_element(n)) {
      n = next_in_tree(n, root);
      continue;
    }
    std::string_view name = tag_name(n);
    Attrs a = read_attrs(n);
    if (name == "script") {
      if (is_ld_json(a.type) && g.ld_blocks.size() < kMaxJsonLdBlocks) {
        std::string block = raw_text(n, kMaxJsonLdBytes);
        if (!block.empty()) g.ld_blocks.push_back(std::move(block));
      }
      n = next_in_tree(n, root, true);
      continue;
    }
    if (skipped_element(name)) {
      n = next_in_tree(n, root, true);
      continue;
    }
    if (name == "meta") {
      if (a.content != nullptr && g.metas.size() < kMaxMetaTags) {
        std::string content = value_of(a.content);
        for (const xmlAttr* key : {a.property, a.name, a.itemprop}) {
          if (key == nullptr) continue;
          std::string k = text::ascii_lower(value_of(key, 128));
          if (!k.empty() && !content.empty()) g.metas.emplace_back(std::move(k), content);
        }
      }
    } else if (a.itemprop != nullptr) {
      std::string when = a.datetime != nullptr ? value_of(a.datetime, 128)
                         : a.content != nullptr ? value_of(a.content, 128)
                                                : std::string();
      if (has_word(a.itemprop, "author") || has_word(a.itemprop, "creator")) {
        push_capped(g.itemprop_author, a.content != nullptr ? value_of(a.content, 512) : itemprop_author_name(n));
      }
      if (has_word(a.itemprop, "datePublished") || has_word(a.itemprop, "dateCreated")) {
        push_capped(g.itemprop_published, when.empty() ? node_text(n, 128) : when);
      }
      if (has_word(a.itemprop, "dateModified")) push_capped(g.itemprop_modified, when.empty() ? node_text(n, 128) : when);
    }
    if (name == "a" && has_word(a.rel, "author")) push_capped(g.rel_author, node_text(n, 512));
    if (name == "time") {
      std::string when = a.datetime != nullptr ? value_of(a.datetime, 128) : node_text(n, 128);
      bool marked = a.pubdate || any_token(a.cls, [](std::string_view t) {
                      return text::contains_ci(t, "publish") || text::contains_ci(t, "entry-date");
                    });
      if (marked) push_capped(g.marked_times, when);
      if (a.datetime != nullptr && g.article_times.size() < kMaxCandidates && inside_article(n)) {
        push_capped(g.article_times, when);
      }
    }
    const ClassWords words = class_words.words(a.cls);
    if (g.bylines.size() < kMaxCandidates && (words.byline || any_token(a.id, byline_token))) {
      push_capped(g.bylines, node_text(n, 300));
      gather_text_runs(n, g.byline_parts);
    }
    gather_labelled(n, g);
    if (g.date_lines.size() < kMaxCandidates && name != "time" && words.date) {
      push_capped(g.date_lines, node_text(n, 120));
    }
    n = next_in_tree(n, root);
  }
  return g;
}

// ---------------------------------------------------------------------------------------
// Names.

bool starts_with_word(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && text::iequals(s.substr(0, prefix.size()), prefix);
}

bool is_month_or_digit(std::string_view s) {
  if (s.empty()) return false;
  if (s[0] >= '0' && s[0] <= '9') return true;
  std::size_t j = 0;
  while (j < s.size() && ((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z')) ++j;
  return !normalise_date(std::string(s.substr(0, j)) + " 1, 2000").empty();
}

// A person's (or organisation's) name as a byline or a meta tag writes it, or "" when the text
// is not a name.
// JSON-LD written by templates often carries HTML character references ("Maria &amp; Katerina").
std::string decode_references(std::string_view s) {
  if (s.find('&') == std::string_view::npos) return std::string(s);
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kRefs = {{
      {"&amp;", "&"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&#039;", "'"}, {"&apos;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}}};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool replaced = false;
    if (s[i] == '&') {
      for (const auto& [ref, ch] : kRefs) {
        if (s.substr(i, ref.size()) == ref) {
          out += ch;
          i += ref.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += s[i++];
  }
  return out;
}

std::string clean_name(std::string_view raw) {
  raw = raw.substr(0, 1024);
  std::string s = collapse_whitespace(raw.find('&') == std::string_view::npos ? raw : decode_references(raw), 400);
  std::string_view v = s;
  while (!v.empty() && (v.front() == ',' || v.front() == '|' || v.front() == ':' || v.front() == '-')) {
    v = text::trim(v.substr(1));
  }
  static constexpr std::array<std::string_view, 12> kPrefixes = {
      "written by", "posted by", "published by", "authored by", "words by", "story by",
      "text by",    "author:",   "authors:",     "by:",         "by ",      "author "};
  for (bool again = true; again;) {
    again = false;
    for (auto p : kPrefixes) {
      if (starts_with_word(v, p)) {
        v = text::trim(v.substr(p.size()));
        again = true;
      }
    }
  }
  // A byline often goes on with a date or a role: keep what comes before.
  static constexpr std::array<std::string_view, 9> kStops = {" | ", "|", " • ", "•", " · ", "·", " — ", " – ", " - "};
  for (auto stop : kStops) {
    auto at = v.find(stop);
    if (at != std::string_view::npos) v = v.substr(0, at);
  }
  static constexpr std::array<std::string_view, 5> kTails = {" on ", " published", " updated", " posted", " last "};
  std::string lower = text::ascii_lower(v);  // cut along with v
  for (auto tail : kTails) {
    for (std::size_t at = 0; (at = lower.find(tail, at)) != std::string::npos; ++at) {
      if (tail != " on " || is_month_or_digit(v.substr(at + tail.size()))) {
        v = v.substr(0, at);
        lower.resize(at);
        break;
      }
    }
  }
  while (!v.empty() && (text::is_space(v.back()) || v.back() == ',' || v.back() == ';' || v.back() == ':' ||
                        v.back() == '-' || v.back() == '|')) {
    v.remove_suffix(1);
  }
  v = text::trim(v);
  if (v.size() < 2 || v.size() > kMaxNameBytes) return {};
  if (v.find("://") != std::string_view::npos || starts_with_word(v, "www.") || v.find('@') != std::string_view::npos ||
      v.find('{') != std::string_view::npos || v.find('<') != std::string_view::npos ||
      v.find("\u00a9") != std::string_view::npos || v.find("(c)") != std::string_view::npos) {
    return {};
  }
  std::size_t digits = 0, letters = 0;
  for (char c : v) {
    if (c >= '0' && c <= '9') ++digits;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ++letters;
    if (static_cast<unsigned char>(c) >= 0x80) ++letters;
  }
  if (letters == 0 || digits * 3 > v.size()) return {};
  if (!normalise_date(v).empty()) return {};
  return std::string(v);
}

// For the weakest sources (any text near a byline): two to six words that start like a name.
std::string plausible_name(std::string_view raw) {
  std::string n = clean_name(raw);
  if (n.empty() || n.size() > 60) return {};
  std::size_t words = 1;
  for (char c : n) words += c == ' ' ? 1 : 0;
  auto first = static_cast<unsigned char>(n[0]);
  if (words < 2 || words > 6 || !((first >= 'A' && first <= 'Z') || first >= 0x80)) return {};
  return n;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  std::vector<std::string> seen;
  for (const auto& n : names) {
    bool dup = false;
    for (const auto& s : seen) dup = dup || text::iequals(s, n);
    if (dup || n.empty()) continue;
    seen.push_back(n);
    std::string next = out.empty() ? n : out + ", " + n;
    if (next.size() > kMaxAuthorBytes) break;
    out = std::move(next);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// JSON-LD.

std::optional<json::value> parse_ld_block(std::string_view raw) {
  std::string_view s = text::trim(raw);
  for (std::string_view open : {"<!--", "//<![CDATA[", "<![CDATA["}) {
    if (s.substr(0, open.size()) == open) s = text::trim(s.substr(open.size()));
  }
  for (std::string_view close : {"-->", "//]]>", "]]>"}) {
    if (s.size() >= close.size() && s.substr(s.size() - close.size()) == close) {
      s = text::trim(s.substr(0, s.size() - close.size()));
    }
  }
  if (s.empty()) return std::nullopt;
  // Raw line breaks and tabs inside strings are common in pages and harmless: read them as spaces.
  std::string text(s);
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  auto v = parse_json(text, kMaxJsonLdDepth);
  if (!v || !(v->is_object() || v->is_array())) return std::nullopt;
  return std::move(*v);
}

std::string_view type_name(std::string_view t) {
  // "https://schema.org/Article" and "schema:Article" name the same type as "Article".
  auto slash = t.find_last_of("/:#");
  return slash == std::string_view::npos ? t : t.substr(slash + 1);
}

bool article_type(std::string_view t) {
  static constexpr std::array<std::string_view, 16> kTypes = {
      "BlogPosting", "LiveBlogPosting", "SocialMediaPosting", "DiscussionForumPosting", "Recipe", "HowTo",
      "Report",      "Review",          "Question",           "CreativeWork",           "Thesis", "Course",
      "PodcastEpisode", "Guide",        "Product",            "Book"};
  if (t.size() >= 7 && t.substr(t.size() - 7) == "Article") return true;
  for (auto k : kTypes) {
    if (t == k) return true;
  }
  return false;
}

bool not_an_entity_of_the_page(std::string_view t) {
  return t == "Person" || t == "Organization" || t == "WebSite" || t == "ImageObject" || t == "Comment" ||
         t == "BreadcrumbList" || t == "ListItem" || t == "SiteNavigationElement" || t == "Answer" ||
         t.find("Organization") != std::string_view::npos;
}

// 0 for an article-like entity, 1 for a web page, 2 for another top-level entity, 3 otherwise.
int rank_of(const json::object& o, bool top_level) {
  const json::value* t = o.if_contains("@type");
  int best = top_level ? 2 : 3;
  auto consider = [&](const json::value& v) {
    if (!v.is_string()) return;
    std::string_view name = type_name(v.get_string());
    if (article_type(name)) best = 0;
    else if (name.size() >= 4 && name.substr(name.size() - 4) == "Page" && best > 1) best = 1;
    else if (not_an_entity_of_the_page(name) && best >= 2) best = 3;
  };
  if (t != nullptr && t->is_array()) {
    for (const auto& v : t->get_array()) consider(v);
  } else if (t != nullptr) {
    consider(*t);
  }
  return best;
}

bool has_type(const json::object& o, std::string_view want) {
  const json::value* t = o.if_contains("@type");
  if (t == nullptr) return false;
  if (t->is_string()) return type_name(t->get_string()) == want;
  if (t->is_array()) {
    for (const auto& v : t->get_array()) {
      if (v.is_string() && type_name(v.get_string()) == want) return true;
    }
  }
  return false;
}

// Keys whose objects describe other things than the page: comments, reviews and answers by
// other people, items of a list, things mentioned.
bool foreign_key(std::string_view k) {
  static constexpr std::array<std::string_view, 15> kKeys = {
      "comment", "comments", "review", "reviews", "suggestedAnswer", "acceptedAnswer", "itemListElement",
      "citation", "isPartOf", "about", "mentions", "subjectOf", "hasPart", "workExample", "video"};
  for (auto key : kKeys) {
    if (k == key) return true;
  }
  return false;
}

struct LdIndex {
  std::vector<std::pair<const json::object*, int>> entities;  // document order, with rank
  std::unordered_map<std::string, const json::object*> by_id;
};

LdIndex index_ld(const std::vector<json::value>& blocks) {
  LdIndex idx;
  struct Item {
    const json::value* v;
    int level;  // 0 for a block, 1 for its @graph or array members
  };
  std::vector<Item> stack;
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) stack.push_back({&*it, 0});
  std::size_t visited = 0;
  while (!stack.empty() && visited++ < kMaxJsonLdNodes) {
    Item item = stack.back();
    stack.pop_back();
    if (item.v->is_array()) {
      const auto& arr = item.v->get_array();
      for (auto it = arr.rbegin(); it != arr.rend(); ++it) {
        if (it->is_object() || it->is_array()) stack.push_back({&*it, item.level == 0 ? 0 : 2});
      }
      continue;
    }
    if (!item.v->is_object()) continue;
    const json::object& o = item.v->get_object();
    idx.entities.emplace_back(&o, rank_of(o, item.level <= 1));
    if (const json::value* id = o.if_contains("@id"); id != nullptr && id->is_string() && o.size() > 1) {
      idx.by_id.emplace(std::string(id->get_string()), &o);
    }
    // Children in reverse so that the stack yields them in document order.
    for (auto it = o.end(); it != o.begin();) {
      --it;
      if (!(it->value().is_object() || it->value().is_array()) || foreign_key(it->key())) continue;
      stack.push_back({&it->value(), it->key() == "@graph" ? 1 : 2});
    }
  }
  return idx;
}

const json::object* resolve(const json::value& v, const LdIndex& idx) {
  const json::object* o = v.if_object();
  std::string_view id;
  if (o != nullptr) {
    if (o->contains("name")) return o;
    if (const json::value* i = o->if_contains("@id"); i != nullptr && i->is_string()) id = i->get_string();
  } else if (v.is_string()) {
    id = v.get_string();
  }
  if (id.empty()) return nullptr;
  auto it = idx.by_id.find(std::string(id));
  return it == idx.by_id.end() ? nullptr : it->second;
}

std::string object_name(const json::object& o) {
  const json::value* n = o.if_contains("name");
  if (n != nullptr && n->is_string()) return clean_name(n->get_string());
  const json::value* given = o.if_contains("givenName");
  const json::value* family = o.if_contains("familyName");
  if (given != nullptr && given->is_string() && family != nullptr && family->is_string()) {
    return clean_name(std::string(given->get_string()) + " " + std::string(family->get_string()));
  }
  return {};
}

std::string name_of(const json::value& v, const LdIndex& idx) {
  if (const json::object* o = resolve(v, idx)) return object_name(*o);
  return v.is_string() ? clean_name(v.get_string()) : std::string();
}

bool organisation(const json::value& v, const LdIndex& idx) {
  const json::object* o = resolve(v, idx);
  if (o == nullptr) return false;
  const json::value* t = o->if_contains("@type");
  if (t == nullptr || !t->is_string()) return false;
  std::string_view name = type_name(t->get_string());
  return name.find("Organization") != std::string_view::npos || name == "Corporation" || name == "Brand";
}

// The author names of a JSON-LD `author` value; `org` says whether they are organisations.
std::string ld_author(const json::value& v, const LdIndex& idx, bool& org) {
  org = organisation(v.is_array() && !v.get_array().empty() ? v.get_array()[0] : v, idx);
  std::vector<std::string> names;
  if (v.is_array()) {
    for (const auto& item : v.get_array()) {
      if (names.size() >= kMaxAuthorNames) break;
      if (!item.is_array()) names.push_back(name_of(item, idx));
    }
  } else {
    names.push_back(name_of(v, idx));
  }
  return join_names(names);
}

std::string ld_date(const json::value& v) {
  if (v.is_string()) return normalise_date(v.get_string());
  if (v.is_array() && !v.get_array().empty() && v.get_array()[0].is_string()) {
    return normalise_date(v.get_array()[0].get_string());
  }
  return {};
}

// The first value, in rank order then document order, that `read` turns into a non-empty string.
template <class Read>
std::string from_entities(const LdIndex& idx, std::string_view key, Read read) {
  for (int rank = 0; rank <= 2; ++rank) {
    for (const auto& [o, r] : idx.entities) {
      if (r != rank) continue;
      const json::value* v = o->if_contains(key);
      if (v == nullptr) continue;
      std::string s = read(*v);
      if (!s.empty()) return s;
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------
// Meta tags.

bool opengraph_name(std::string_view k) {
  static constexpr std::array<std::string_view, 8> kPrefixes = {"og:",    "article:", "book:",    "profile:",
                                                                "music:", "video:",   "product:", "twitter:"};
  for (auto p : kPrefixes) {
    if (k.size() > p.size() && k.substr(0, p.size()) == p) return true;
  }
  return false;
}

const std::string* meta(const Gathered& g, std::string_view key) {
  for (const auto& [k, v] : g.metas) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string first_date(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    std::string d = normalise_date(c);
    if (!d.empty()) return d;
  }
  return {};
}

std::string first_name(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    std::string n = clean_name(c);
    if (!n.empty()) return n;
  }
  return {};
}

std::string meta_date(const Gathered& g, std::initializer_list<std::string_view> keys) {
  for (auto key : keys) {
    for (const auto& [k, v] : g.metas) {
      if (k != key) continue;
      std::string d = normalise_date(v);
      if (!d.empty()) return d;
    }
  }
  return {};
}

std::string meta_name(const Gathered& g, std::initializer_list<std::string_view> keys) {
  for (auto key : keys) {
    std::vector<std::string> names;
    for (const auto& [k, v] : g.metas) {
      if (k == key && names.size() < kMaxAuthorNames) names.push_back(clean_name(v));
    }
    std::string joined = join_names(names);
    if (!joined.empty()) return joined;
  }
  return {};
}

// /2025/09/04/ in a URL's path: WordPress and many news sites put the publish date there.
std::string url_date(std::string_view url) {
  auto scheme = url.find("://");
  auto path_at = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  if (path_at == std::string_view::npos) return {};
  std::string_view path = url.substr(path_at, url.find_first_of("?#", path_at) - path_at);
  for (std::size_t i = 0; i + 11 <= path.size(); ++i) {
    if (path[i] != '/') continue;
    std::string_view rest = path.substr(i + 1);
    auto slash1 = rest.find('/');
    if (slash1 != 4) continue;
    auto slash2 = rest.find('/', 5);
    if (slash2 == std::string_view::npos || slash2 < 6 || slash2 > 7) continue;
    auto end = rest.find('/', slash2 + 1);
    if (end == std::string_view::npos || end < slash2 + 2 || end > slash2 + 3) continue;
    std::string d = normalise_date(rest.substr(0, end));
    if (!d.empty()) return d;
  }
  return {};
}

// Authors from every source, most trusted first. An organisation, or the site's own name, is what
// templates fill in when the page names no person: a person from a later source wins over it.
std::string choose_author(const Gathered& g, const LdIndex& idx, const std::string& site_name) {
  std::vector<std::pair<std::string, bool>> found;  // (names, weak)
  auto add = [&](std::string names, bool org) {
    if (names.empty()) return;
    bool weak = org || text::iequals(names, site_name);
    found.emplace_back(std::move(names), weak);
  };
  for (std::string_view key : {"author", "creator"}) {
    bool org = false;
    std::string names = from_entities(idx, key, [&](const json::value& v) { return ld_author(v, idx, org); });
    add(std::move(names), org);
  }
  add(meta_name(g, {"author", "dc.creator", "dcterms.creator", "citation_author", "article:author", "sailthru.author",
                    "parsely-author", "byl"}),
      false);
  // Slack's and Yoast's "Written by" card: twitter:labelN / twitter:dataN.
  for (char i = '1'; i <= '4'; ++i) {
    const std::string* label = meta(g, std::string("twitter:label") + i);
    const std::string* data = meta(g, std::string("twitter:data") + i);
    if (label != nullptr && data != nullptr && (text::iequals(*label, "written by") || text::iequals(*label, "author"))) {
      add(clean_name(*data), false);
    }
  }
  add(first_name(g.rel_author), false);
  add(first_name(g.itemprop_author), false);
  add(first_name(g.bylines), false);
  for (const auto& part : g.byline_parts) add(plausible_name(part), false);
  for (const auto& l : g.labelled) add(plausible_name(l), false);
  for (const auto& [names, weak] : found) {
    if (!weak) return names;
  }
  return found.empty() ? std::string() : found.front().first;
}

}  // namespace

Metadata read_metadata(const _xmlDoc* doc, std::string_view url) {
  Metadata m;
  const xmlNode* root = root_element(doc);
  if (root == nullptr) return m;
  try {
    Gathered g = gather(root);
    for (const auto& block : g.ld_blocks) {
      if (auto v = parse_ld_block(block)) m.json_ld.push_back(std::move(*v));
    }
    for (const auto& [k, v] : g.metas) {
      if (m.opengraph.size() < kMaxOpenGraph && opengraph_name(k) && k.size() <= 64) m.opengraph.emplace_back(k, v);
    }
    LdIndex idx = index_ld(m.json_ld);

    if (const std::string* s = meta(g, "og:site_name")) m.site_name = collapse_whitespace(*s, kMaxSiteNameBytes);
    if (m.site_name.empty()) {
      for (const auto& [o, r] : idx.entities) {
        (void)r;
        const json::value* n = has_type(*o, "WebSite") ? o->if_contains("name") : nullptr;
        if (n != nullptr && n->is_string()) {
          m.site_name = collapse_whitespace(n->get_string(), kMaxSiteNameBytes);
          break;
        }
      }
    }
    if (m.site_name.empty()) {
      m.site_name = from_entities(idx, "publisher", [&](const json::value& v) {
        const json::object* o = resolve(v, idx);
        const json::value* n = o == nullptr ? nullptr : o->if_contains("name");
        return n != nullptr && n->is_string() ? collapse_whitespace(n->get_string(), kMaxSiteNameBytes) : std::string();
      });
    }
    if (m.site_name.empty()) {
      if (const std::string* s = meta(g, "application-name")) m.site_name = collapse_whitespace(*s, kMaxSiteNameBytes);
    }
    m.author = choose_author(g, idx, m.site_name);

    m.published = from_entities(idx, "datePublished", ld_date);
    if (m.published.empty()) m.published = from_entities(idx, "dateCreated", ld_date);
    if (m.published.empty()) {
      m.published = meta_date(g, {"article:published_time", "og:published_time", "article:published",
                                  "datepublished", "date", "pubdate", "publishdate", "publish-date", "publish_date",
                                  "published_time", "publication_date", "sailthru.date", "parsely-pub-date",
                                  "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date", "dc.date.created",
                                  "dcterms.created", "citation_publication_date", "citation_date", "release_date"});
    }
    if (m.published.empty()) m.published = first_date(g.itemprop_published);
    if (m.published.empty()) m.published = first_date(g.marked_times);
    if (m.published.empty()) m.published = first_date(g.article_times);
    if (m.published.empty()) m.published = first_date(g.date_lines);
    if (m.published.empty()) m.published = url_date(url);

    m.modified = from_entities(idx, "dateModified", ld_date);
    if (m.modified.empty()) {
      m.modified = meta_date(g, {"article:modified_time", "og:updated_time", "datemodified", "last-modified",
                                 "dcterms.modified", "dc.date.modified"});
    }
    if (m.modified.empty()) m.modified = first_date(g.itemprop_modified);

  } catch (const std::exception&) {
    // Out of memory (or a length error) on a hostile page: give what was read so far.
  }
  return m;
}

json::object opengraph_json(const std::vector<std::pair<std::string, std::string>>& properties) {
  json::object out;
  for (const auto& [k, v] : properties) {
    std::string_view key = k;
    if (key.substr(0, 3) == "og:") key.remove_prefix(3);
    if (key.empty()) continue;
    json::value* have = out.if_contains(key);
    if (have == nullptr) {
      out[key] = v;
    } else if (have->is_array()) {
      have->get_array().emplace_back(v);
    } else {
      json::array a;
      a.emplace_back(std::move(*have));
      a.emplace_back(v);
      *have = std::move(a);
    }
  }
  return out;
}

}  // namespace meadow::extract
