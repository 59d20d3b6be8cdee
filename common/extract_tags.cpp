#include "common/extract_tags.h"

#include <string_view>
#include <unordered_map>

namespace meadow::extract {

const Tag& classify(const unsigned char* name) noexcept {
  static const std::unordered_map<std::string_view, Tag> kTags = [] {
    std::unordered_map<std::string_view, Tag> t;
    for (const char* n : {"script", "style", "template", "svg", "math", "iframe", "object", "embed", "canvas", "audio",
                          "video", "textarea", "select", "noembed", "noframes", "datalist", "input"})
      t[n] = {Role::skip, Break::none};
    for (const char* n : {"nav", "aside", "dialog"}) t[n] = {Role::chrome, Break::line};
    for (const char* n : {"header", "footer"}) t[n] = {Role::banner, Break::line};
    t["form"] = {Role::wrapper, Break::line};
    t["noscript"] = {Role::wrapper, Break::line};
    t["head"] = {Role::head, Break::none};
    t["button"] = {Role::button, Break::none};
    for (const char* n : {"p", "blockquote", "hr", "figure", "address", "fieldset", "details"})
      t[n] = {Role::plain, Break::paragraph};
    for (const char* n : {"h2", "h3", "h4", "h5", "h6"}) t[n] = {Role::heading, Break::paragraph};
    for (const char* n : {"ul", "ol", "dl", "menu"}) t[n] = {Role::list, Break::paragraph};
    for (const char* n : {"li", "dt", "dd"}) t[n] = {Role::list_item, Break::line};
    for (const char* n : {"div", "tr", "figcaption", "caption", "summary", "legend", "option", "optgroup", "thead",
                          "tbody", "tfoot", "center", "hgroup", "search", "dir", "frameset"})
      t[n] = {Role::plain, Break::line};
    t["table"] = {Role::table, Break::paragraph};
    t["section"] = {Role::section, Break::line};
    t["main"] = {Role::main, Break::line};
    t["article"] = {Role::article, Break::line};
    t["body"] = {Role::body, Break::line};
    t["title"] = {Role::title, Break::none};
    t["pre"] = {Role::pre, Break::paragraph};
    t["listing"] = {Role::pre, Break::paragraph};
    t["h1"] = {Role::h1, Break::paragraph};
    t["td"] = {Role::cell, Break::none};
    t["th"] = {Role::cell, Break::none};
    t["br"] = {Role::br, Break::none};
    t["a"] = {Role::anchor, Break::none};
    t["meta"] = {Role::meta, Break::none};
    t["link"] = {Role::link, Break::none};
    t["base"] = {Role::base, Break::none};
    t["html"] = {Role::html, Break::line};
    t["img"] = {Role::img, Break::none};
    return t;
  }();
  static const Tag kPlain;
  if (name == nullptr) return kPlain;
  const auto it = kTags.find(reinterpret_cast<const char*>(name));
  return it == kTags.end() ? kPlain : it->second;
}

}  // namespace meadow::extract
