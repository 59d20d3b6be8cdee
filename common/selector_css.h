// The CSS selector compiler and matcher behind common/selector.h. Internal to meadow_common:
// callers use compile_css() and evaluate() there.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct _xmlDoc;
struct _xmlNode;

namespace meadow::extract::css {

enum class AttrOp : std::uint8_t { exists, equals, includes, dash, prefix, suffix, substring };

struct SimpleTest {
  enum class Kind : std::uint8_t { id, cls, attr, first_child, last_child, nth_child };
  Kind kind = Kind::id;
  std::string name;   // id, class or attribute name (attribute names lower case)
  std::string value;  // attribute value to compare with
  AttrOp op = AttrOp::exists;
  bool ignore_case = false;  // [attr=v i]
  int a = 0;                 // :nth-child(an+b)
  int b = 0;
};

// A compound selector: an optional type and tests that all hold for one element.
struct Compound {
  std::string type;  // lower case; empty for '*' or no type
  std::vector<SimpleTest> tests;
  std::vector<Compound> negations;  // :not(...) arguments, each a compound without :not
};

enum class Combinator : std::uint8_t { descendant, child, adjacent, sibling };

// What a matched element yields.
enum class Pick : std::uint8_t { text, own_text, attribute };

// One selector of a list: compounds left to right, each after the first joined to the one
// before it by combinators[i - 1].
struct Complex {
  std::vector<Compound> compounds;
  std::vector<Combinator> combinators;
  Pick pick = Pick::text;
  std::string pick_attribute;  // for Pick::attribute, lower case
};

// At most this many compounds across a whole list: the matcher keeps one bit per compound.
inline constexpr std::size_t kMaxCompounds = 64;

struct Program {
  std::vector<Complex> list;
};

// Compiles a selector list. Errors are ErrorKind::invalid, code "bad-selector", with a message
// like "css: unexpected ']' at column 7".
Result<Program> compile(std::string_view text);

// Calls `emit(element, index into list)` for each element that matches, in document order,
// once per element (the first selector of the list that matches it), until `emit` returns
// false. Walks the tree once, without recursion, in time linear in the number of elements
// times the number of compounds.
void select(const Program& program, const _xmlDoc* doc,
            const std::function<bool(const _xmlNode*, std::size_t)>& emit);

}  // namespace meadow::extract::css
