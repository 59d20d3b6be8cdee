#include "common/selector.h"

#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "common/extract_text.h"
#include "common/html_dom.h"
#include "common/selector_css.h"
#include "common/text.h"

namespace meadow::extract {
namespace {

Error bad_selector(std::string message) { return make_error(ErrorKind::invalid, "bad-selector", std::move(message)); }

std::size_t column_of(std::string_view s, std::size_t byte_offset) {
  std::size_t col = 1;
  for (std::size_t i = 0; i < byte_offset && i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++col;
  }
  return col;
}

// ---------------------------------------------------------------------------------------
// XPath through libxml2.

struct XPathContextFree {
  void operator()(xmlXPathContext* c) const { xmlXPathFreeContext(c); }
};
struct XPathCompFree {
  void operator()(xmlXPathCompExpr* c) const { xmlXPathFreeCompExpr(c); }
};
struct XPathObjectFree {
  void operator()(xmlXPathObject* o) const { xmlXPathFreeObject(o); }
};
using XPathContextPtr = std::unique_ptr<xmlXPathContext, XPathContextFree>;
using XPathCompPtr = std::unique_ptr<xmlXPathCompExpr, XPathCompFree>;
using XPathObjectPtr = std::unique_ptr<xmlXPathObject, XPathObjectFree>;

// What libxml2 reported last. Its structured callback keeps the message from reaching stderr.
struct XPathError {
  int code = 0;  // xmlXPathError, 0 when none
  int offset = -1;
};
void record_xpath_error(void* user, xmlError* err) {
  auto* out = static_cast<XPathError*>(user);
  if (err == nullptr || out->code != 0) return;
  out->code = err->code - XML_XPATH_EXPRESSION_OK;
  out->offset = err->int1;
}

const char* xpath_problem(int code) {
  switch (code) {
    case XPATH_NUMBER_ERROR: return "bad number";
    case XPATH_UNFINISHED_LITERAL_ERROR: return "unterminated string";
    case XPATH_START_LITERAL_ERROR: return "expected a string";
    case XPATH_VARIABLE_REF_ERROR:
    case XPATH_UNDEF_VARIABLE_ERROR:
    case XPATH_FORBID_VARIABLE_ERROR: return "variables are not supported";
    case XPATH_INVALID_PREDICATE_ERROR: return "invalid predicate";
    case XPATH_UNCLOSED_ERROR: return "missing closing bracket or parenthesis";
    case XPATH_UNKNOWN_FUNC_ERROR: return "unknown function";
    case XPATH_INVALID_OPERAND: return "invalid operand";
    case XPATH_INVALID_TYPE: return "wrong type of argument";
    case XPATH_INVALID_ARITY: return "wrong number of arguments";
    case XPATH_UNDEF_PREFIX_ERROR: return "namespace prefixes are not supported";
    case XPATH_ENCODING_ERROR: return "invalid UTF-8";
    case XPATH_INVALID_CHAR_ERROR: return "invalid character";
    case XPATH_OP_LIMIT_EXCEEDED: return "too expensive";
    case XPATH_RECURSION_LIMIT_EXCEEDED: return "nested too deeply";
    case XPATH_MEMORY_ERROR: return "out of memory";
    default: return "invalid expression";
  }
}

XPathContextPtr new_xpath_context(const _xmlDoc* doc, XPathError& err) {
  XPathContextPtr ctx(xmlXPathNewContext(const_cast<xmlDoc*>(doc)));
  if (!ctx) return ctx;
  ctx->error = record_xpath_error;
  ctx->userData = &err;
  ctx->flags = XML_XPATH_NOVAR;
  ctx->opLimit = kMaxXPathOperations;
  ctx->node = doc == nullptr ? nullptr : reinterpret_cast<xmlNode*>(const_cast<xmlDoc*>(doc));
  return ctx;
}

// The functions libxml2 offers without registration: XPath 1.0's core library. A call to any
// other name compiles but fails on every page, so it is refused when the job is created.
bool known_function(std::string_view name) {
  static constexpr std::array<std::string_view, 31> kNames = {
      "boolean",   "ceiling",       "comment",         "concat",          "contains",
      "count",     "false",         "floor",           "id",              "lang",
      "last",      "local-name",    "name",            "namespace-uri",   "node",
      "normalize-space", "not",     "number",          "position",        "processing-instruction",
      "round",     "starts-with",   "string",          "string-length",   "substring",
      "substring-after", "substring-before", "sum",    "text",            "translate",
      "true"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

bool xpath_name_start(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80; }
bool xpath_name_char(unsigned char c) { return xpath_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

Status check_xpath_functions(std::string_view expr) {
  std::size_t i = 0;
  while (i < expr.size()) {
    unsigned char c = static_cast<unsigned char>(expr[i]);
    if (c == '"' || c == '\'') {
      auto end = expr.find(static_cast<char>(c), i + 1);
      if (end == std::string_view::npos) return ok_status();  // libxml2 has refused it already
      i = end + 1;
      continue;
    }
    if (c >= '0' && c <= '9') {
      while (i < expr.size() && ((expr[i] >= '0' && expr[i] <= '9') || expr[i] == '.')) ++i;
      continue;
    }
    if (!xpath_name_start(c)) {
      ++i;
      continue;
    }
    std::size_t start = i;
    while (i < expr.size()) {
      auto d = static_cast<unsigned char>(expr[i]);
      // A ':' joins a prefix to a name ("ex:f"), but "::" ends an axis name.
      if (xpath_name_char(d) ||
          (d == ':' && i + 1 < expr.size() && expr[i + 1] != ':' && xpath_name_start(static_cast<unsigned char>(expr[i + 1])) &&
           (i == 0 || expr[i - 1] != ':'))) {
        ++i;
      } else {
        break;
      }
    }
    std::string_view name = expr.substr(start, i - start);
    std::size_t j = i;
    while (j < expr.size() && text::is_space(expr[j])) ++j;
    bool call = j < expr.size() && expr[j] == '(';
    bool op = name == "and" || name == "or" || name == "div" || name == "mod";
    if (call && !op && !known_function(name)) {
      return bad_selector("xpath: unknown function '" + std::string(name) + "()' at column " +
                          std::to_string(column_of(expr, start)));
    }
  }
  return ok_status();
}

void add_value(std::vector<std::string>& out, std::string value) {
  if (!value.empty() && out.size() < kMaxFieldValues) out.push_back(std::move(value));
}

std::string xpath_node_value(const xmlNode* node) {
  if (node->type == XML_NAMESPACE_DECL) {
    auto ns = reinterpret_cast<const xmlNs*>(node);
    return ns->href == nullptr ? std::string() :
                                 collapse_whitespace(reinterpret_cast<const char*>(ns->href), kMaxFieldValueBytes);
  }
  return node_text(node, kMaxFieldValueBytes);
}

Result<std::vector<std::string>> evaluate_xpath(const Selector& selector, const _xmlDoc* doc) {
  std::vector<std::string> out;
  if (doc == nullptr) return out;
  XPathError err;
  XPathContextPtr ctx = new_xpath_context(doc, err);
  if (!ctx) return make_error(ErrorKind::too_large, "extract-out-of-memory", "out of memory evaluating XPath");
  XPathCompPtr comp(xmlXPathCtxtCompile(ctx.get(), reinterpret_cast<const xmlChar*>(selector.expr().c_str())));
  XPathObjectPtr obj;
  if (comp) obj.reset(xmlXPathCompiledEval(comp.get(), ctx.get()));
  if (!obj) {
    if (err.code == XPATH_OP_LIMIT_EXCEEDED || err.code == XPATH_RECURSION_LIMIT_EXCEEDED) {
      return make_error(ErrorKind::too_large, "selector-too-expensive",
                        "xpath: the expression needs too much work on this page; make it more specific");
    }
    return bad_selector(std::string("xpath: ") + xpath_problem(err.code));
  }
  switch (obj->type) {
    case XPATH_NODESET:
      if (obj->nodesetval != nullptr) {
        for (int i = 0; i < obj->nodesetval->nodeNr && out.size() < kMaxFieldValues; ++i) {
          add_value(out, xpath_node_value(obj->nodesetval->nodeTab[i]));
        }
      }
      break;
    case XPATH_STRING:
      if (obj->stringval != nullptr) {
        add_value(out, collapse_whitespace(reinterpret_cast<const char*>(obj->stringval), kMaxFieldValueBytes));
      }
      break;
    case XPATH_NUMBER:
    case XPATH_BOOLEAN: {
      xmlChar* s = xmlXPathCastToString(obj.get());
      if (s != nullptr) {
        add_value(out, reinterpret_cast<const char*>(s));
        xmlFree(s);
      }
      break;
    }
    default:
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// CSS values.

std::string own_text(const xmlNode* e) {
  TextBuilder b(kMaxFieldValueBytes, true);
  for (const xmlNode* c = e->children; c != nullptr && !b.full(); c = c->next) {
    if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content != nullptr) {
      b.add(reinterpret_cast<const char*>(c->content));
      b.request_space();  // "a<br>b" reads "a b"
    }
  }
  return b.take();
}

std::vector<std::string> evaluate_css(const css::Program& program, const _xmlDoc* doc) {
  std::vector<std::string> out;
  css::select(program, doc, [&](const _xmlNode* e, std::size_t which) {
    const css::Complex& cx = program.list[which];
    switch (cx.pick) {
      case css::Pick::text: add_value(out, node_text(e, kMaxFieldValueBytes)); break;
      case css::Pick::own_text: add_value(out, own_text(e)); break;
      case css::Pick::attribute:
        add_value(out, collapse_whitespace(attribute(e, cx.pick_attribute.c_str()), kMaxFieldValueBytes));
        break;
    }
    return out.size() < kMaxFieldValues;
  });
  return out;
}

}  // namespace

Result<Selector> compile_css(std::string_view expr) {
  if (expr.size() > kMaxSelectorBytes) {
    return bad_selector("css: selector longer than " + std::to_string(kMaxSelectorBytes) + " bytes");
  }
  if (expr.find('\0') != std::string_view::npos) return bad_selector("css: NUL character in the selector");
  MEADOW_ASSIGN(css::Program program, css::compile(expr));
  Selector s;
  s.kind_ = SelectorKind::css;
  s.expr_ = std::string(expr);
  s.css_ = std::make_shared<const css::Program>(std::move(program));
  return s;
}

Result<Selector> compile_xpath(std::string_view expr) {
  if (expr.size() > kMaxSelectorBytes) {
    return bad_selector("xpath: expression longer than " + std::to_string(kMaxSelectorBytes) + " bytes");
  }
  if (expr.find('\0') != std::string_view::npos) return bad_selector("xpath: NUL character in the expression");
  if (text::trim(expr).empty()) return bad_selector("xpath: empty expression");
  std::string text(expr);
  XPathError err;
  XPathContextPtr ctx = new_xpath_context(nullptr, err);
  if (!ctx) return make_error(ErrorKind::too_large, "extract-out-of-memory", "out of memory compiling XPath");
  XPathCompPtr comp(xmlXPathCtxtCompile(ctx.get(), reinterpret_cast<const xmlChar*>(text.c_str())));
  if (!comp) {
    std::string msg = std::string("xpath: ") + xpath_problem(err.code);
    if (err.offset >= 0) msg += " at column " + std::to_string(column_of(text, static_cast<std::size_t>(err.offset)));
    return bad_selector(std::move(msg));
  }
  MEADOW_TRY(check_xpath_functions(text));
  Selector s;
  s.kind_ = SelectorKind::xpath;
  s.expr_ = std::move(text);
  return s;
}

Result<Selector> compile_selector(std::string_view kind, std::string_view expr) {
  if (kind == "css") return compile_css(expr);
  if (kind == "xpath") return compile_xpath(expr);
  return bad_selector("selector kind must be \"css\" or \"xpath\", not \"" + std::string(kind.substr(0, 16)) + "\"");
}

Result<std::vector<std::string>> evaluate(const Selector& selector, const _xmlDoc* doc) {
  if (selector.kind_ == SelectorKind::xpath) return evaluate_xpath(selector, doc);
  if (!selector.css_) return std::vector<std::string>{};
  return evaluate_css(*selector.css_, doc);
}

Status check_field_selectors(const std::vector<protocol::FieldSelector>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto s = compile_selector(fields[i].kind, fields[i].expr);
    if (!s) {
      return bad_selector("fields[" + std::to_string(i) + "] (" + fields[i].name + "): " + s.error().message);
    }
  }
  return ok_status();
}

Result<std::vector<protocol::FieldSelector>> parse_field_options(const std::vector<std::string>& options) {
  boost::json::array fields;
  for (const std::string& option : options) {
    const std::size_t eq = option.find('=');
    const std::size_t colon = eq == std::string::npos ? eq : option.find(':', eq);
    if (colon == std::string::npos)
      return make_error(ErrorKind::invalid, "bad-field", "--field '" + option + "' must look like name=css:span.price");
    fields.push_back(boost::json::object{{"name", option.substr(0, eq)},
                                         {"kind", option.substr(eq + 1, colon - eq - 1)},
                                         {"expr", option.substr(colon + 1)}});
  }
  MEADOW_ASSIGN(auto parsed, protocol::parse_field_selectors(fields));
  MEADOW_TRY(check_field_selectors(parsed));
  return parsed;
}

boost::json::value field_json(const std::vector<std::string>& values) {
  if (values.size() == 1) return boost::json::value(values.front());
  boost::json::array a;
  a.reserve(values.size());
  for (const auto& v : values) a.emplace_back(v);
  return a;
}

FieldValues evaluate_fields(const std::vector<protocol::FieldSelector>& fields, const _xmlDoc* doc) {
  FieldValues out;
  for (const auto& f : fields) {
    auto s = compile_selector(f.kind, f.expr);
    if (!s) {
      out.problems.push_back(f.name + ": " + s.error().message);
      continue;
    }
    auto values = evaluate(*s, doc);
    if (!values) {
      out.problems.push_back(f.name + ": " + values.error().message);
      continue;
    }
    if (!values->empty()) out.values[f.name] = field_json(*values);
  }
  return out;
}

}  // namespace meadow::extract
