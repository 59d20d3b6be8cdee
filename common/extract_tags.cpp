#include "common/extract_tags.h"

#include <array>
#include <string_view>

namespace meadow::extract {
namespace {

// The tags with a role, in an open-addressed table hashed on a name's length and its first and
// last bytes: classify runs for every element of every page, and a general string hash over
// each name cost more than the lookup it served.
class TagTable {
 public:
  // The role of `name`, added as a plain inline element when it is new.
  Tag& operator[](std::string_view name) noexcept {
    std::size_t i = slot(name);
    while (!slots_[i].name.empty() && slots_[i].name != name) i = (i + 1) % kSlots;
    slots_[i].name = name;
    return slots_[i].tag;
  }
  const Tag* find(std::string_view name) const noexcept {
    if (name.empty()) return nullptr;
    for (std::size_t i = slot(name); !slots_[i].name.empty(); i = (i + 1) % kSlots)
      if (same(slots_[i].name, name)) return &slots_[i].tag;
    return nullptr;
  }

 private:
  static constexpr std::size_t kSlots = 256;  // over four times the tags, so probes stay short
  // Tag names are a few bytes: compared in line rather than by a call to memcmp.
  static bool same(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i]) return false;
    return true;
  }
  static std::size_t slot(std::string_view name) noexcept {
    const auto first = static_cast<unsigned char>(name.front()), last = static_cast<unsigned char>(name.back());
    return (first * 7u + last * 31u + name.size() * 101u) % kSlots;
  }
  struct Slot {
    std::string_view name;
    Tag tag;
  };
  std::array<Slot, kSlots> slots_{};
};

}  // namespace

const Tag& classify(const unsigned char* name) noexcept {
  static const TagTable kTags = [] {
    TagTable t;
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
  // Measured in line too: a call to strlen cost more than the few bytes of a tag name.
  std::size_t size = 0;
  while (name[size] != 0) ++size;
  const Tag* tag = kTags.find(std::string_view(reinterpret_cast<const char*>(name), size));
  return tag != nullptr ? *tag : kPlain;
}

}  // namespace meadow::extract
