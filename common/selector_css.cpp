#include "common/selector_css.h"

#include <libxml/tree.h>

#include <cstdint>
#include <cstring>
#include <optional>

#include "common/text.h"

namespace meadow::extract::css {
namespace {

// ---------------------------------------------------------------------------------------
// Compiler: a hand-written scanner over the subset of Selectors Level 3 that selector.h
// documents. Every refusal names the column (in characters, from 1) where it was noticed.

bool is_name_start(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80; }
bool is_name_char(unsigned char c) { return is_name_start(c) || (c >= '0' && c <= '9') || c == '-'; }
bool is_hex(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

SimpleTest test_of(SimpleTest::Kind kind, std::string name = {}) {
  SimpleTest t;
  t.kind = kind;
  t.name = std::move(name);
  return t;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<Program> run() {
    Program prog;
    std::size_t compounds = 0;
    skip_ws();
    if (at_end()) return fail("empty selector");
    while (true) {
      auto complex = parse_complex();
      if (!complex) return std::move(complex).error();
      compounds += complex->compounds.size();
      if (compounds > kMaxCompounds) {
        return fail_plain("css: too many parts: at most " + std::to_string(kMaxCompounds) +
                          " compound selectors in one selector list");
      }
      prog.list.push_back(std::move(*complex));
      skip_ws();
      if (at_end()) break;
      if (peek() != ',') return unexpected();
      ++pos_;
      skip_ws();
      if (at_end()) return fail("expected a selector after ','");
    }
    return prog;
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  unsigned char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < s_.size() ? static_cast<unsigned char>(s_[pos_ + ahead]) : 0;
  }
  bool skip_ws() {
    std::size_t start = pos_;
    while (!at_end() && text::is_space(static_cast<char>(peek()))) ++pos_;
    return pos_ != start;
  }

  // Columns count characters, so a non-ASCII name before the error does not shift it.
  std::size_t column(std::size_t at) const {
    std::size_t col = 1;
    for (std::size_t i = 0; i < at && i < s_.size(); ++i) {
      if ((static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80) ++col;
    }
    return col;
  }
  Error fail_plain(std::string message) const {
    return make_error(ErrorKind::invalid, "bad-selector", std::move(message));
  }
  Error fail(std::string_view what, std::optional<std::size_t> at = std::nullopt) const {
    return fail_plain("css: " + std::string(what) + " at column " + std::to_string(column(at.value_or(pos_))));
  }
  Error unexpected() const {
    if (at_end()) return fail("unexpected end of selector");
    std::size_t len = 1;
    unsigned char c = peek();
    if (c >= 0xC0) len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    return fail("unexpected '" + std::string(s_.substr(pos_, len)) + "'");
  }

  bool starts_ident() const {
    unsigned char c = peek();
    if (c == '-') {
      unsigned char d = peek(1);
      return is_name_start(d) || d == '-' || (d == '\\' && pos_ + 2 < s_.size());
    }
    return is_name_start(c) || (c == '\\' && pos_ + 1 < s_.size());
  }

  // One escape after a backslash: up to six hex digits and an optional space, or any other
  // character as itself.
  Status read_escape(std::string& out) {
    ++pos_;  // the backslash
    if (at_end() || peek() == '\n' || peek() == '\r' || peek() == '\f') return fail("bad escape");
    if (is_hex(peek())) {
      std::uint32_t cp = 0;
      for (int i = 0; i < 6 && is_hex(peek()); ++i, ++pos_) {
        unsigned char c = peek();
        cp = cp * 16 + static_cast<std::uint32_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
      }
      append_utf8(out, cp);
      if (text::is_space(static_cast<char>(peek()))) ++pos_;
      return ok_status();
    }
    out += s_[pos_++];
    return ok_status();
  }

  Result<std::string> read_ident(std::string_view what) {
    if (!starts_ident()) {
      if (at_end()) return fail("expected " + std::string(what) + ", found the end");
      return unexpected_for(what);
    }
    std::string out;
    while (!at_end()) {
      unsigned char c = peek();
      if (c == '\\') {
        MEADOW_TRY(read_escape(out));
      } else if (is_name_char(c)) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        break;
      }
    }
    return out;
  }
  Error unexpected_for(std::string_view what) const {
    std::size_t len = 1;
    unsigned char c = peek();
    if (c >= 0xC0) len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    return fail("expected " + std::string(what) + ", found '" + std::string(s_.substr(pos_, len)) + "'");
  }

  Result<std::string> read_string() {
    char quote = static_cast<char>(peek());
    std::size_t start = pos_++;
    std::string out;
    while (true) {
      if (at_end()) return fail("unterminated string", start);
      char c = s_[pos_];
      if (c == quote) {
        ++pos_;
        return out;
      }
      if (c == '\n' || c == '\r' || c == '\f') return fail("line break inside a string");
      if (c == '\\') {
        if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n') {  // an escaped newline continues the string
          pos_ += 2;
          continue;
        }
        MEADOW_TRY(read_escape(out));
        continue;
      }
      out += c;
      ++pos_;
    }
  }

  Result<Complex> parse_complex() {
    Complex out;
    while (true) {
      auto compound = parse_compound(true);
      if (!compound) return std::move(compound).error();
      out.compounds.push_back(std::move(*compound));
      // A pseudo-element ends the selector.
      if (peek() == ':' && peek(1) == ':') {
        MEADOW_TRY(parse_pseudo_element(out));
        skip_ws();
        if (!at_end() && peek() != ',') return fail("a pseudo-element must end the selector");
        return out;
      }
      bool spaced = skip_ws();
      if (at_end() || peek() == ',') return out;
      Combinator comb = Combinator::descendant;
      unsigned char c = peek();
      if (c == '>' || c == '+' || c == '~') {
        comb = c == '>' ? Combinator::child : c == '+' ? Combinator::adjacent : Combinator::sibling;
        ++pos_;
        skip_ws();
        if (at_end()) return fail("expected a selector after '" + std::string(1, static_cast<char>(c)) + "'");
      } else if (!spaced) {
        return unexpected();
      }
      out.combinators.push_back(comb);
    }
  }

  Status parse_pseudo_element(Complex& out) {
    std::size_t start = pos_;
    pos_ += 2;
    auto name = read_ident("a pseudo-element name");
    if (!name) return std::move(name).error();
    std::string lower = text::ascii_lower(*name);
    if (lower == "text") {
      out.pick = Pick::own_text;
      return ok_status();
    }
    if (lower == "attr") {
      if (peek() != '(') return fail("::attr needs an attribute name in parentheses, as in ::attr(href)");
      ++pos_;
      skip_ws();
      auto attr = read_ident("an attribute name");
      if (!attr) return std::move(attr).error();
      skip_ws();
      if (peek() != ')') return at_end() ? fail("missing ')'") : unexpected();
      ++pos_;
      out.pick = Pick::attribute;
      out.pick_attribute = text::ascii_lower(*attr);
      return ok_status();
    }
    return fail("unsupported pseudo-element '::" + *name + "' (only ::text and ::attr(name))", start);
  }

  // A compound: [type|*] then any of #id .class [attr] :pseudo, at least one part.
  Result<Compound> parse_compound(bool allow_not) {
    Compound c;
    std::size_t start = pos_;
    if (peek() == '*') {
      ++pos_;
      if (peek() == '|') return fail("namespaces are not supported");
    } else if (starts_ident()) {
      auto type = read_ident("a type");
      if (!type) return std::move(type).error();
      if (peek() == '|' && peek(1) != '=') return fail("namespaces are not supported");
      c.type = text::ascii_lower(*type);
    }
    while (!at_end()) {
      unsigned char ch = peek();
      if (ch == '#') {
        ++pos_;
        auto id = read_ident("an id after '#'");
        if (!id) return std::move(id).error();
        c.tests.push_back(test_of(SimpleTest::Kind::id, std::move(*id)));
      } else if (ch == '.') {
        ++pos_;
        auto cls = read_ident("a class name after '.'");
        if (!cls) return std::move(cls).error();
        c.tests.push_back(test_of(SimpleTest::Kind::cls, std::move(*cls)));
      } else if (ch == '[') {
        auto attr = parse_attribute();
        if (!attr) return std::move(attr).error();
        c.tests.push_back(std::move(*attr));
      } else if (ch == ':' && peek(1) != ':') {
        MEADOW_TRY(parse_pseudo_class(c, allow_not));
      } else {
        break;
      }
    }
    if (pos_ == start) return unexpected_for("a selector");
    return c;
  }

  Result<SimpleTest> parse_attribute() {
    ++pos_;  // '['
    skip_ws();
    auto name = read_ident("an attribute name");
    if (!name) return std::move(name).error();
    SimpleTest t = test_of(SimpleTest::Kind::attr, text::ascii_lower(*name));
    skip_ws();
    if (peek() == '|' && peek(1) != '=') return fail("namespaces are not supported");
    if (peek() == ']') {
      ++pos_;
      return t;
    }
    unsigned char c = peek();
    if (c == '=') {
      t.op = AttrOp::equals;
      ++pos_;
    } else if ((c == '~' || c == '|' || c == '^' || c == '$' || c == '*') && peek(1) == '=') {
      t.op = c == '~' ? AttrOp::includes : c == '|' ? AttrOp::dash : c == '^' ? AttrOp::prefix :
             c == '$' ? AttrOp::suffix : AttrOp::substring;
      pos_ += 2;
    } else {
      return at_end() ? fail("missing ']'") : unexpected();
    }
    skip_ws();
    if (peek() == '"' || peek() == '\'') {
      auto v = read_string();
      if (!v) return std::move(v).error();
      t.value = std::move(*v);
    } else {
      auto v = read_ident("a value or a quoted string");
      if (!v) return std::move(v).error();
      t.value = std::move(*v);
    }
    skip_ws();
    if (peek() == 'i' || peek() == 'I' || peek() == 's' || peek() == 'S') {
      t.ignore_case = (peek() | 0x20) == 'i';
      ++pos_;
      skip_ws();
    }
    if (peek() != ']') return at_end() ? fail("missing ']'") : unexpected();
    ++pos_;
    return t;
  }

  Status parse_pseudo_class(Compound& c, bool allow_not) {
    std::size_t start = pos_;
    ++pos_;  // ':'
    auto name = read_ident("a pseudo-class name");
    if (!name) return std::move(name).error();
    std::string lower = text::ascii_lower(*name);
    bool call = peek() == '(';
    if (!call && lower == "first-child") {
      c.tests.push_back(test_of(SimpleTest::Kind::first_child));
      return ok_status();
    }
    if (!call && lower == "last-child") {
      c.tests.push_back(test_of(SimpleTest::Kind::last_child));
      return ok_status();
    }
    if (call && lower == "nth-child") {
      ++pos_;
      std::size_t arg_start = pos_;
      while (!at_end() && peek() != ')') ++pos_;
      if (at_end()) return fail("missing ')'");
      SimpleTest t = test_of(SimpleTest::Kind::nth_child);
      if (!parse_nth(s_.substr(arg_start, pos_ - arg_start), t.a, t.b)) {
        return fail("bad :nth-child argument (expected an+b, odd or even)", arg_start);
      }
      ++pos_;
      c.tests.push_back(std::move(t));
      return ok_status();
    }
    if (call && lower == "not") {
      if (!allow_not) return fail(":not cannot be nested", start);
      ++pos_;
      skip_ws();
      auto inner = parse_compound(false);
      if (!inner) return std::move(inner).error();
      skip_ws();
      if (peek() != ')') {
        return at_end() ? fail("missing ')'") :
                          fail(":not takes one compound selector, without combinators or lists");
      }
      ++pos_;
      c.negations.push_back(std::move(*inner));
      return ok_status();
    }
    return fail("unsupported pseudo-class ':" + *name + (call ? "()" : "") +
                    "' (supported: :first-child, :last-child, :nth-child(an+b), :not(...))",
                start);
  }

  // an+b, odd, even, with optional spaces around the sign of b. |a| and |b| stay below 10^6,
  // which no page's sibling count reaches anyway.
  static bool parse_nth(std::string_view arg, int& a, int& b) {
    std::string s;
    for (char ch : arg) {
      if (!text::is_space(ch)) s += text::ascii_lower(ch);
    }
    if (s == "odd") {
      a = 2, b = 1;
      return true;
    }
    if (s == "even") {
      a = 2, b = 0;
      return true;
    }
    auto read_int = [](std::string_view digits, int& out) {
      if (digits.empty() || digits.size() > 6) return false;
      out = 0;
      for (char ch : digits) {
        if (ch < '0' || ch > '9') return false;
        out = out * 10 + (ch - '0');
      }
      return true;
    };
    auto n = s.find('n');
    a = 0;
    b = 0;
    std::string_view rest = s;
    if (n != std::string::npos) {
      std::string_view head = std::string_view(s).substr(0, n);
      int sign = 1;
      if (!head.empty() && (head[0] == '+' || head[0] == '-')) {
        sign = head[0] == '-' ? -1 : 1;
        head.remove_prefix(1);
      }
      if (head.empty()) {
        a = sign;
      } else if (read_int(head, a)) {
        a *= sign;
      } else {
        return false;
      }
      rest = std::string_view(s).substr(n + 1);
      if (rest.empty()) return true;
      if (rest[0] != '+' && rest[0] != '-') return false;
    }
    int sign = 1;
    if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
      sign = rest[0] == '-' ? -1 : 1;
      rest.remove_prefix(1);
    }
    if (!read_int(rest, b)) return false;
    b *= sign;
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------
// Matcher.

// An attribute's value without copying when it is one text node, as libxml2 nearly always
// stores it; `scratch` holds the joined value otherwise.
std::optional<std::string_view> attr_value(const xmlNode* e, std::string_view name, std::string& scratch) {
  for (const xmlAttr* a = e->properties; a != nullptr; a = a->next) {
    if (a->name == nullptr || name != reinterpret_cast<const char*>(a->name)) continue;
    const xmlNode* c = a->children;
    if (c == nullptr) return std::string_view();
    if (c->next == nullptr) return std::string_view(c->content ? reinterpret_cast<const char*>(c->content) : "");
    scratch.clear();
    for (; c != nullptr; c = c->next) {
      if (c->content != nullptr) scratch += reinterpret_cast<const char*>(c->content);
    }
    return std::string_view(scratch);
  }
  return std::nullopt;
}

bool equal(std::string_view a, std::string_view b, bool icase) { return icase ? text::iequals(a, b) : a == b; }

bool has_word(std::string_view list, std::string_view word, bool icase) {
  if (word.empty()) return false;
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && text::is_space(list[i])) ++i;
    std::size_t j = i;
    while (j < list.size() && !text::is_space(list[j])) ++j;
    if (j > i && equal(list.substr(i, j - i), word, icase)) return true;
    i = j;
  }
  return false;
}

bool attr_matches(const SimpleTest& t, std::string_view v) {
  bool ic = t.ignore_case;
  std::string_view w = t.value;
  switch (t.op) {
    case AttrOp::exists: return true;
    case AttrOp::equals: return equal(v, w, ic);
    case AttrOp::includes: return has_word(v, w, ic);
    case AttrOp::dash: return equal(v, w, ic) || (v.size() > w.size() && v[w.size()] == '-' && equal(v.substr(0, w.size()), w, ic));
    case AttrOp::prefix: return !w.empty() && v.size() >= w.size() && equal(v.substr(0, w.size()), w, ic);
    case AttrOp::suffix: return !w.empty() && v.size() >= w.size() && equal(v.substr(v.size() - w.size()), w, ic);
    case AttrOp::substring:
      if (w.empty() || v.size() < w.size()) return false;
      if (!ic) return v.find(w) != std::string_view::npos;
      for (std::size_t i = 0; i + w.size() <= v.size(); ++i) {
        if (text::iequals(v.substr(i, w.size()), w)) return true;
      }
      return false;
  }
  return false;
}

// Where an element stands among its element siblings; whether it is last is looked up only
// when a selector asks.
struct Position {
  const xmlNode* element;
  long index;  // 1-based among element siblings
  bool is_last() const {
    for (const xmlNode* n = element->next; n != nullptr; n = n->next) {
      if (n->type == XML_ELEMENT_NODE) return false;
    }
    return true;
  }
};

bool compound_matches(const Compound& c, const Position& pos, std::string& scratch) {
  const xmlNode* e = pos.element;
  if (!c.type.empty() && (e->name == nullptr || c.type != reinterpret_cast<const char*>(e->name))) return false;
  for (const SimpleTest& t : c.tests) {
    switch (t.kind) {
      case SimpleTest::Kind::id: {
        auto v = attr_value(e, "id", scratch);
        if (!v || *v != t.name) return false;
        break;
      }
      case SimpleTest::Kind::cls: {
        auto v = attr_value(e, "class", scratch);
        if (!v || !has_word(*v, t.name, false)) return false;
        break;
      }
      case SimpleTest::Kind::attr: {
        auto v = attr_value(e, t.name, scratch);
        if (!v || !attr_matches(t, *v)) return false;
        break;
      }
      case SimpleTest::Kind::first_child:
        if (pos.index != 1) return false;
        break;
      case SimpleTest::Kind::last_child:
        if (!pos.is_last()) return false;
        break;
      case SimpleTest::Kind::nth_child: {
        long d = pos.index - t.b;
        if (t.a == 0 ? d != 0 : (d % t.a != 0 || d / t.a < 0)) return false;
        break;
      }
    }
  }
  for (const Compound& n : c.negations) {
    if (compound_matches(n, pos, scratch)) return false;
  }
  return true;
}

// Per element, bit k says "compound k matches here and the compounds before it in its
// selector match in the required relation". The bits of a parent, of all ancestors, of the
// previous sibling and of all previous siblings decide a child's bits, so one walk suffices.
struct Frame {
  const xmlNode* node;
  std::uint64_t self = 0;            // bits of this element
  std::uint64_t ancestors_self = 0;  // OR of bits of this element and its ancestors
  std::uint64_t last_child = 0;      // bits of the last child element seen so far
  std::uint64_t children_so_far = 0; // OR of bits of the child elements seen so far
  long child_count = 0;
};

struct Step {
  const Compound* compound;
  int prev = -1;  // bit of the compound before it, -1 for the first
  Combinator comb = Combinator::descendant;
  int complex = 0;
  bool last = false;
};

}  // namespace

Result<Program> compile(std::string_view text) { return Parser(text).run(); }

void select(const Program& program, const _xmlDoc* doc,
            const std::function<bool(const _xmlNode*, std::size_t)>& emit) {
  if (doc == nullptr) return;
  std::vector<Step> steps;
  for (std::size_t i = 0; i < program.list.size(); ++i) {
    const Complex& cx = program.list[i];
    for (std::size_t j = 0; j < cx.compounds.size(); ++j) {
      Step s{&cx.compounds[j]};
      if (j > 0) {
        s.prev = static_cast<int>(steps.size()) - 1;
        s.comb = cx.combinators[j - 1];
      }
      s.complex = static_cast<int>(i);
      s.last = j + 1 == cx.compounds.size();
      steps.push_back(s);
    }
  }
  if (steps.empty() || steps.size() > kMaxCompounds) return;

  std::string scratch;
  std::vector<Frame> stack;
  stack.push_back(Frame{reinterpret_cast<const xmlNode*>(doc)});
  const xmlNode* n = doc->children;
  while (true) {
    while (n != nullptr && n->type != XML_ELEMENT_NODE) n = n->next;
    if (n == nullptr) {
      if (stack.size() == 1) return;
      n = stack.back().node->next;
      stack.pop_back();
      continue;
    }
    Frame& parent = stack.back();
    Position pos{n, ++parent.child_count};
    std::uint64_t bits = 0;
    int emitted_complex = -1;
    for (std::size_t k = 0; k < steps.size(); ++k) {
      const Step& s = steps[k];
      if (s.prev >= 0) {
        std::uint64_t need = std::uint64_t{1} << s.prev;
        std::uint64_t have = s.comb == Combinator::descendant ? parent.ancestors_self :
                             s.comb == Combinator::child      ? parent.self :
                             s.comb == Combinator::adjacent   ? parent.last_child :
                                                                parent.children_so_far;
        if ((have & need) == 0) continue;
      }
      if (!compound_matches(*s.compound, pos, scratch)) continue;
      bits |= std::uint64_t{1} << k;
      if (s.last && emitted_complex < 0) emitted_complex = s.complex;
    }
    parent.last_child = bits;
    parent.children_so_far |= bits;
    std::uint64_t inherited = parent.ancestors_self | bits;
    if (emitted_complex >= 0 && !emit(n, static_cast<std::size_t>(emitted_complex))) return;
    stack.push_back(Frame{n, bits, inherited});
    n = n->children;
  }
}

}  // namespace meadow::extract::css
