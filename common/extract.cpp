#include "common/extract.h"

#include <libxml/tree.h>

#include <new>
#include <optional>
#include <unordered_map>

#include "common/charset.h"
#include "common/extract_hints.h"
#include "common/extract_lang.h"
#include "common/extract_links.h"
#include "common/extract_main.h"
#include "common/extract_tags.h"
#include "common/extract_text.h"
#include "common/html_dom.h"
#include "common/selector.h"
#include "common/text.h"

namespace meadow::extract {
namespace {

// Distinct hrefs remembered during the walk; resolution keeps at most kMaxLinks of them.
constexpr std::size_t kMaxRawLinks = 10 * kMaxLinks;

std::string_view as_view(const xmlChar* s) {
  return s == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(s));
}

using text::ascii_lower;
using text::iequals;

const xmlAttr* find_attr(const xmlNode* node, std::string_view name) {
  for (const xmlAttr* a = node->properties; a != nullptr; a = a->next)
    if (as_view(a->name) == name) return a;
  return nullptr;
}

// The value of an attribute. libxml2's HTML parser stores it as one text child; a bare
// attribute (<div hidden>) has none and reads as "".
std::string_view attr_value(const xmlAttr* a) {
  if (a == nullptr) return {};
  const xmlNode* c = a->children;
  if (c == nullptr || c->next != nullptr || c->type != XML_TEXT_NODE) return {};
  return as_view(c->content);
}

std::string_view attr(const xmlNode* node, std::string_view name) { return attr_value(find_attr(node, name)); }

// One pass over the tree collecting metadata and links (the main text has its own passes, in
// extract_main.cpp). Iterative, with an explicit stack of open elements, so markup nested a
// hundred thousand deep costs memory, not the call stack.
class Walker {
 public:
  void run(xmlNode* first);

  std::string title, og_title, site_name, h1, description, og_description;
  std::string html_lang;
  std::optional<std::string> canonical_href, base_href;
  std::vector<RawLink> links;

 private:
  enum : std::uint8_t { kAnchor = 1, kH1 = 2 };
  struct Frame {
    xmlNode* node = nullptr;
    std::uint8_t flags = 0;
    Break brk = Break::none;
  };
  struct OpenAnchor {
    std::size_t link;
    TextBuilder text{kMaxAnchorTextBytes, true};
    std::string alt;
  };

  bool enter(xmlNode* node, Frame& frame);
  void leave(const Frame& frame);
  void on_text(const xmlNode* node);
  void boundary(Break brk, bool space);
  void read_title(const xmlNode* node);
  void read_meta(const xmlNode* node);
  bool open_anchor(const xmlNode* node);
  void close_anchor();

  bool title_seen_ = false;
  bool html_seen_ = false;
  std::vector<OpenAnchor> anchors_;
  std::optional<TextBuilder> h1_capture_;
  // hrefs seen, viewing the document's attribute values: only used while run() walks it.
  std::unordered_map<std::string_view, std::size_t> link_index_;
};

void Walker::run(xmlNode* first) {
  std::vector<Frame> stack;
  stack.reserve(64);
  xmlNode* node = first;
  while (node != nullptr) {
    if (node->type == XML_ELEMENT_NODE) {
      Frame frame;
      if (enter(node, frame)) {
        if (node->children != nullptr) {
          stack.push_back(frame);
          node = node->children;
          continue;
        }
        leave(frame);
      }
    } else if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      on_text(node);
    }
    while (node->next == nullptr && !stack.empty()) {
      const Frame frame = stack.back();
      stack.pop_back();
      leave(frame);
      node = frame.node;
    }
    node = node->next;
  }
  while (!anchors_.empty()) close_anchor();
  if (h1_capture_) h1 = h1_capture_->take();
}

// A block or cell boundary separates the words of the running captures.
void Walker::boundary(Break brk, bool space) {
  if (brk == Break::none && !space) return;
  if (!anchors_.empty()) anchors_.back().text.request_space();
  if (h1_capture_) h1_capture_->request_space();
}

bool Walker::enter(xmlNode* node, Frame& frame) {
  const Tag& tag = classify(node->name);
  if (tag.role == Role::skip) return false;
  if (tag.role == Role::title) {
    read_title(node);
    return false;
  }
  frame.node = node;
  frame.brk = tag.brk;
  boundary(tag.brk, tag.role == Role::cell || tag.role == Role::br);
  switch (tag.role) {
    case Role::anchor:
      if (open_anchor(node)) frame.flags |= kAnchor;
      break;
    case Role::h1:
      if (h1.empty() && !h1_capture_) {
        h1_capture_.emplace(kMaxTitleBytes, true);
        frame.flags |= kH1;
      }
      break;
    case Role::meta:
      read_meta(node);
      break;
    case Role::link:
      if (!canonical_href) {
        const xmlAttr* href = find_attr(node, "href");
        if (href != nullptr && has_token(attr(node, "rel"), "canonical"))
          canonical_href = std::string(attr_value(href));
      }
      break;
    case Role::base:
      // The first <base> with an href sets the document's base URL (HTML "frozen base URL").
      if (!base_href)
        if (const xmlAttr* href = find_attr(node, "href")) base_href = std::string(attr_value(href));
      break;
    case Role::html:
      if (!html_seen_) {
        html_seen_ = true;
        html_lang = std::string(attr(node, "lang"));
      }
      break;
    case Role::img:
      if (!anchors_.empty() && anchors_.back().alt.empty()) anchors_.back().alt = std::string(attr(node, "alt"));
      break;
    default:
      break;
  }
  return true;
}

void Walker::leave(const Frame& frame) {
  if (frame.flags & kAnchor) close_anchor();
  if (frame.flags & kH1) {
    h1 = h1_capture_->take();
    h1_capture_.reset();
  }
  boundary(frame.brk, false);
}

void Walker::on_text(const xmlNode* node) {
  if (anchors_.empty() && !h1_capture_) return;  // read only inside an anchor or the first <h1>
  const std::string_view s = as_view(node->content);
  if (s.empty()) return;
  if (!anchors_.empty()) anchors_.back().text.add(s);
  if (h1_capture_) h1_capture_->add(s);
}

void Walker::read_title(const xmlNode* node) {
  if (title_seen_) return;
  title_seen_ = true;
  TextBuilder b(kMaxTitleBytes, true);
  for (const xmlNode* c = node->children; c != nullptr; c = c->next)
    if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) b.add(as_view(c->content));
  title = b.take();
}

void Walker::read_meta(const xmlNode* node) {
  const xmlAttr* content = find_attr(node, "content");
  if (content == nullptr) return;
  // Open Graph tags are meant to use property=, but name= is common in the wild.
  for (const std::string_view key : {attr(node, "name"), attr(node, "property")}) {
    if (key.empty()) continue;
    std::string* target = nullptr;
    if (iequals(key, "description"))
      target = &description;
    else if (iequals(key, "og:title"))
      target = &og_title;
    else if (iequals(key, "og:description"))
      target = &og_description;
    else if (iequals(key, "og:site_name") || iequals(key, "application-name"))
      target = &site_name;
    if (target != nullptr && target->empty()) *target = collapse_whitespace(attr_value(content), kMaxTitleBytes);
  }
}

bool Walker::open_anchor(const xmlNode* node) {
  const xmlAttr* href = find_attr(node, "href");
  if (href == nullptr) return false;
  const std::string_view value = attr_value(href);
  std::size_t index = 0;
  if (const auto it = link_index_.find(value); it != link_index_.end()) {
    index = it->second;
  } else {
    if (links.size() >= kMaxRawLinks) return false;
    index = links.size();
    link_index_.emplace(value, index);
    links.push_back(RawLink{std::string(value), {}});
  }
  anchors_.push_back(OpenAnchor{index, TextBuilder(kMaxAnchorTextBytes, true), {}});
  return true;
}

void Walker::close_anchor() {
  OpenAnchor a = std::move(anchors_.back());
  anchors_.pop_back();
  RawLink& link = links[a.link];
  if (!link.text.empty()) return;
  link.text = a.text.take();
  if (link.text.empty()) link.text = collapse_whitespace(a.alt, kMaxAnchorTextBytes);
}

// --- language tags ---------------------------------------------------------------------------

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || (c >= '0' && c <= '9'); }

// A BCP 47 tag in its conventional case ("en-US", "zh-Hant-TW", "x-private" lower), or "" when
// `tag` does not have the shape ^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$ ('_' is read as '-').
std::string normalize_lang(std::string_view tag) {
  while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t' || tag.front() == '\n' || tag.front() == '\r'))
    tag.remove_prefix(1);
  while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t' || tag.back() == '\n' || tag.back() == '\r'))
    tag.remove_suffix(1);
  if (tag.empty() || tag.size() > 64) return {};
  std::string out;
  std::size_t start = 0;
  bool after_singleton = false;
  for (std::size_t part = 0; start <= tag.size(); ++part) {
    std::size_t end = start;
    while (end < tag.size() && tag[end] != '-' && tag[end] != '_') ++end;
    const std::string_view sub = tag.substr(start, end - start);
    if (sub.empty() || sub.size() > 8) return {};
    for (const char c : sub)
      if (part == 0 ? !is_alpha(c) : !is_alnum(c)) return {};
    if (part > 0) out += '-';
    const bool region = part > 0 && !after_singleton && sub.size() == 2 && is_alpha(sub[0]) && is_alpha(sub[1]);
    const bool script = part > 0 && !after_singleton && sub.size() == 4 && is_alpha(sub[0]);
    for (std::size_t i = 0; i < sub.size(); ++i) {
      const char c = ascii_lower(sub[i]);
      out += (region || (script && i == 0)) && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    }
    if (sub.size() == 1) after_singleton = true;
    if (end == tag.size()) break;
    start = end + 1;
  }
  return out;
}

// The first language of a Content-Language value ("de-DE, en" gives "de-DE").
std::string_view first_language(std::string_view header) {
  const std::size_t cut = header.find_first_of(",;");
  return cut == std::string_view::npos ? header : header.substr(0, cut);
}

// Separators between a page's own title and the site's name in <title>.
constexpr std::string_view kTitleSeparators[] = {" | ", " - ", " – ", " — ", " :: ", " · ", " • ", " » ", " ~ ", ": "};

// The page's own title. <title> often carries the site's name too ("Men's Sneakers |
// Allbirds"); when the main heading or og:title is the part of it that names the page, that
// part is the title. Otherwise a <title> part equal to og:site_name is dropped.
std::string page_title(std::string& title, std::string& og_title, const std::string& site_name, std::string& heading) {
  if (title.empty()) return !og_title.empty() ? std::move(og_title) : std::move(heading);
  for (std::string* better : {&heading, &og_title})
    if (better->size() >= 4 && better->size() < title.size() && text::contains_ci(title, *better)) return std::move(*better);
  if (!site_name.empty() && !iequals(title, site_name)) {
    for (const std::string_view sep : kTitleSeparators) {
      const std::size_t at = title.rfind(sep);
      if (at != std::string::npos && at > 0 && iequals(text::trim(std::string_view(title).substr(at + sep.size())), site_name))
        return title.substr(0, at);
      const std::size_t first = title.find(sep);
      if (first != std::string::npos && iequals(text::trim(std::string_view(title).substr(0, first)), site_name))
        return title.substr(first + sep.size());
    }
  }
  return std::move(title);
}

Page build_page(const Input& in) {
  Page page;
  charset::Decoded decoded = charset::decode(in.body, in.content_type);
  page.charset = std::move(decoded.charset);

  Walker walker;
  if (!decoded.text.empty()) {
    HtmlDoc doc = parse_html(decoded.text);
    // A document outlives its parser context (htmlReadMemory frees its own before returning),
    // and the tree holds copies of the text, so both input buffers can go before the walk.
    std::string().swap(decoded.text);
    if (doc) {
      walker.run(doc->children);
      page.meta = read_metadata(doc.get(), in.url);
      if (in.fields != nullptr && !in.fields->empty()) {
        FieldValues values = evaluate_fields(*in.fields, doc.get());
        page.fields = std::move(values.values);
        page.field_problems = std::move(values.problems);
      }
      MainContent main = main_content(doc->children, &page.meta);
      page.text = std::move(main.text);
      if (!main.heading.empty()) walker.h1 = std::move(main.heading);
    }
  }

  page.title = page_title(walker.title, walker.og_title, walker.site_name, walker.h1);
  page.description = !walker.description.empty() ? std::move(walker.description) : std::move(walker.og_description);
  page.lang = normalize_lang(walker.html_lang);
  if (page.lang.empty()) page.lang = normalize_lang(first_language(in.content_language));
  if (page.lang.empty()) page.lang = normalize_lang(detect_language(page.text));

  std::optional<url::Url> page_url = resolve_href(nullptr, in.url);
  std::optional<url::Url> base = page_url;
  if (walker.base_href)
    if (auto b = resolve_href(page_url ? &*page_url : nullptr, *walker.base_href)) base = std::move(b);
  const url::Url* base_ptr = base ? &*base : nullptr;
  if (walker.canonical_href && !walker.canonical_href->empty())
    if (auto c = resolve_href(base_ptr, *walker.canonical_href)) page.canonical_url = std::move(c->normalized);
  page.links = resolve_links(walker.links, base_ptr, page_url ? std::string_view(page_url->site) : std::string_view(),
                             kMaxLinks);
  return page;
}

}  // namespace

Result<Page> extract(const Input& in, std::size_t max_input_bytes) {
  if (in.body.size() > max_input_bytes)
    return make_error(ErrorKind::too_large, "body-too-large",
                      "the page body is " + std::to_string(in.body.size()) + " bytes, over the extractor's limit of " +
                          std::to_string(max_input_bytes) + " bytes; lower the fetch size cap or raise the limit");
  try {
    return build_page(in);
  } catch (const std::bad_alloc&) {
    return make_error(
        ErrorKind::too_large, "extract-out-of-memory",
        "extracting the " + std::to_string(in.body.size()) + "-byte page ran out of memory; lower the fetch size cap");
  } catch (const std::exception& e) {
    return make_error(ErrorKind::internal, "extract-internal", std::string("page extraction failed: ") + e.what());
  }
}

}  // namespace meadow::extract
