#include "common/selector.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/html_dom.h"
#include "common/json.h"

namespace meadow::extract {
namespace {

using Values = std::vector<std::string>;

Values run(const Result<Selector>& s, std::string_view html) {
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  if (!s.ok()) return {};
  auto doc = parse_html(html);
  auto v = evaluate(*s, doc.get());
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
  return v.ok() ? *v : Values{};
}
Values css(std::string_view html, std::string_view selector) { return run(compile_css(selector), html); }
Values xpath(std::string_view html, std::string_view expr) { return run(compile_xpath(expr), html); }

std::string css_error(std::string_view selector) {
  auto s = compile_css(selector);
  if (s.ok()) return "(compiled)";
  EXPECT_EQ(s.error().code, "bad-selector");
  EXPECT_EQ(s.error().kind, ErrorKind::invalid);
  return s.error().message;
}

std::string xpath_error(std::string_view expr) {
  auto s = compile_xpath(expr);
  if (s.ok()) return "(compiled)";
  EXPECT_EQ(s.error().code, "bad-selector");
  return s.error().message;
}

constexpr std::string_view kShop = R"(<html><body>
  <div id="main" class="product featured">
    <h1 class="title">Blue  kettle</h1>
    <span class="price" data-currency="EUR">19.90</span>
    <span class="price old">24.00</span>
    <ul class="specs">
      <li>one</li><li>two</li><li class="x">three</li><li>four</li><li>five</li>
    </ul>
    <a href="/a" rel="next nofollow" lang="en-GB">A link</a>
    <a href="https://example.com/b.pdf" title="Big Title">B</a>
    <p>First <b>bold</b> para</p>
    <p>Second</p>
  </div>
  <div class="product"><span class="price">5</span></div>
</body></html>)";

TEST(SelectorCss, TypeIdClassAndUniversal) {
  EXPECT_EQ(css(kShop, "h1"), Values{"Blue kettle"});
  EXPECT_EQ(css(kShop, "#main > h1"), Values{"Blue kettle"});
  EXPECT_EQ(css(kShop, ".price"), (Values{"19.90", "24.00", "5"}));
  EXPECT_EQ(css(kShop, "div.product.featured .price.old"), Values{"24.00"});
  EXPECT_EQ(css(kShop, "#main *.title"), Values{"Blue kettle"});
  EXPECT_EQ(css(kShop, "H1"), Values{"Blue kettle"});  // type names are case-insensitive in HTML
  EXPECT_TRUE(css(kShop, "#MAIN").empty());           // ids are not
}

TEST(SelectorCss, AttributeOperators) {
  EXPECT_EQ(css(kShop, "[data-currency]"), Values{"19.90"});
  EXPECT_EQ(css(kShop, "span[data-currency=EUR]"), Values{"19.90"});
  EXPECT_EQ(css(kShop, "span[data-currency=\"eur\" i]"), Values{"19.90"});
  EXPECT_TRUE(css(kShop, "span[data-currency='eur']").empty());
  EXPECT_EQ(css(kShop, "a[rel~=nofollow]"), Values{"A link"});
  EXPECT_EQ(css(kShop, "a[lang|=en]"), Values{"A link"});
  EXPECT_EQ(css(kShop, "a[href^='https:']"), Values{"B"});
  EXPECT_EQ(css(kShop, "a[href$=\".pdf\"]"), Values{"B"});
  EXPECT_EQ(css(kShop, "a[title*=ig]"), Values{"B"});
  EXPECT_TRUE(css(kShop, "a[href^='']").empty());  // an empty prefix matches nothing, as in browsers
  EXPECT_EQ(css(kShop, "[ DATA-CURRENCY ]"), Values{"19.90"});
}

TEST(SelectorCss, Combinators) {
  EXPECT_EQ(css(kShop, "div li.x"), Values{"three"});
  EXPECT_EQ(css(kShop, "ul > li.x + li"), Values{"four"});
  EXPECT_EQ(css(kShop, "li.x ~ li"), (Values{"four", "five"}));
  EXPECT_EQ(css(kShop, "h1 ~ span"), (Values{"19.90", "24.00"}));
  EXPECT_EQ(css(kShop, "h1 + span"), Values{"19.90"});
  EXPECT_TRUE(css(kShop, "body > span").empty());
  EXPECT_EQ(css(kShop, "body>div>span.price"), (Values{"19.90", "24.00", "5"}));
}

TEST(SelectorCss, ListsYieldInDocumentOrderOncePerElement) {
  EXPECT_EQ(css(kShop, "p, h1"), (Values{"Blue kettle", "First bold para", "Second"}));
  EXPECT_EQ(css(kShop, ".price, span"), (Values{"19.90", "24.00", "5"}));
}

TEST(SelectorCss, StructuralPseudoClasses) {
  EXPECT_EQ(css(kShop, "li:first-child"), Values{"one"});
  EXPECT_EQ(css(kShop, "li:last-child"), Values{"five"});
  EXPECT_EQ(css(kShop, "li:nth-child(2)"), Values{"two"});
  EXPECT_EQ(css(kShop, "li:nth-child(odd)"), (Values{"one", "three", "five"}));
  EXPECT_EQ(css(kShop, "li:nth-child(even)"), (Values{"two", "four"}));
  EXPECT_EQ(css(kShop, "li:nth-child(2n+3)"), (Values{"three", "five"}));
  EXPECT_EQ(css(kShop, "li:nth-child( -n + 2 )"), (Values{"one", "two"}));
  EXPECT_EQ(css(kShop, "li:nth-child(n)").size(), 5u);
  EXPECT_TRUE(css(kShop, "li:nth-child(0)").empty());
  EXPECT_EQ(css(kShop, "li:not(.x):not(:first-child)"), (Values{"two", "four", "five"}));
  EXPECT_EQ(css(kShop, "span:not([data-currency])"), (Values{"24.00", "5"}));
}

TEST(SelectorCss, PseudoElementsPickTextOrAttribute) {
  EXPECT_EQ(css(kShop, "a::attr(href)"), (Values{"/a", "https://example.com/b.pdf"}));
  EXPECT_EQ(css(kShop, "a::attr(HREF)"), (Values{"/a", "https://example.com/b.pdf"}));
  EXPECT_EQ(css(kShop, "span::attr(data-currency)"), Values{"EUR"});  // spans without it yield nothing
  EXPECT_EQ(css(kShop, "p::text"), (Values{"First para", "Second"}));
  EXPECT_EQ(css(kShop, "p"), (Values{"First bold para", "Second"}));
  EXPECT_EQ(css(kShop, "h1::text, a::attr(href)"), (Values{"Blue kettle", "/a", "https://example.com/b.pdf"}));
}

TEST(SelectorCss, TextSkipsScriptsButKeepsBlocksApart) {
  auto v = css("<div id=d><p>a</p><p>b</p><script>var x;</script><span>c</span>d</div>", "#d");
  EXPECT_EQ(v, Values{"a b cd"});
  EXPECT_EQ(css("<script type='application/ld+json'>{\"a\":1}</script>", "script"), Values{"{\"a\":1}"});
}

TEST(SelectorCss, EscapesAndStrings) {
  EXPECT_EQ(css("<p class='a:b'>x</p>", ".a\\:b"), Values{"x"});
  EXPECT_EQ(css("<p id='1st'>x</p>", "#\\31 st"), Values{"x"});
  EXPECT_EQ(css("<p title='say \"hi\"'>x</p>", "p[title='say \"hi\"']"), Values{"x"});
  EXPECT_EQ(css("<p class='café'>x</p>", ".café"), Values{"x"});
}

TEST(SelectorCss, BadSelectorsAreRefusedWithWhereAndWhat) {
  EXPECT_EQ(css_error(""), "css: empty selector at column 1");
  EXPECT_EQ(css_error("div]"), "css: unexpected ']' at column 4");
  EXPECT_EQ(css_error("a[href"), "css: missing ']' at column 7");
  EXPECT_EQ(css_error("a[href=]"), "css: expected a value or a quoted string, found ']' at column 8");
  EXPECT_EQ(css_error("a[href='x]"), "css: unterminated string at column 8");
  EXPECT_EQ(css_error("a:hover"), "css: unsupported pseudo-class ':hover' (supported: :first-child, :last-child, "
                                  ":nth-child(an+b), :not(...)) at column 2");
  EXPECT_EQ(css_error("li:nth-child(x)"), "css: bad :nth-child argument (expected an+b, odd or even) at column 14");
  EXPECT_EQ(css_error("a:not(b c)"), "css: :not takes one compound selector, without combinators or lists at column 9");
  EXPECT_EQ(css_error("a:not(:not(b))"), "css: :not cannot be nested at column 7");
  EXPECT_EQ(css_error("a,"), "css: expected a selector after ',' at column 3");
  EXPECT_EQ(css_error(",a"), "css: expected a selector, found ',' at column 1");
  EXPECT_EQ(css_error("a >"), "css: expected a selector after '>' at column 4");
  EXPECT_EQ(css_error("> a"), "css: expected a selector, found '>' at column 1");
  EXPECT_EQ(css_error("a > > b"), "css: expected a selector, found '>' at column 5");
  EXPECT_EQ(css_error("a::before"), "css: unsupported pseudo-element '::before' (only ::text and ::attr(name)) at column 2");
  EXPECT_EQ(css_error("a::text b"), "css: a pseudo-element must end the selector at column 9");
  EXPECT_EQ(css_error("a::attr"), "css: ::attr needs an attribute name in parentheses, as in ::attr(href) at column 8");
  EXPECT_EQ(css_error("svg|a"), "css: namespaces are not supported at column 4");
  EXPECT_EQ(css_error("é]"), "css: unexpected ']' at column 2");
  EXPECT_EQ(css_error("a:has(b)").substr(0, 39), "css: unsupported pseudo-class ':has()' ");
  EXPECT_EQ(css_error(std::string(2000, 'a')), "css: selector longer than 1024 bytes");
  std::string many;
  for (int i = 0; i < 65; ++i) many += i ? ", a" : "a";
  EXPECT_EQ(css_error(many).substr(0, 23), "css: too many parts: at");
}

TEST(SelectorXPath, NodesAttributesAndScalars) {
  EXPECT_EQ(xpath(kShop, "//h1"), Values{"Blue kettle"});
  EXPECT_EQ(xpath(kShop, "//span[@class='price']/@data-currency"), Values{"EUR"});
  EXPECT_EQ(xpath(kShop, "//a/@href"), (Values{"/a", "https://example.com/b.pdf"}));
  EXPECT_EQ(xpath(kShop, "//li[3]/text()"), Values{"three"});
  EXPECT_EQ(xpath(kShop, "count(//li)"), Values{"5"});
  EXPECT_EQ(xpath(kShop, "count(//li) > 3"), Values{"true"});
  EXPECT_EQ(xpath(kShop, "normalize-space(//h1)"), Values{"Blue kettle"});
  EXPECT_TRUE(xpath(kShop, "body/div/h1").empty());  // relative paths start at the document node
  EXPECT_EQ(xpath(kShop, "html/body/div/h1"), Values{"Blue kettle"});
  EXPECT_TRUE(xpath(kShop, "//table").empty());
  EXPECT_TRUE(xpath(kShop, "string(//table)").empty());  // empty values are dropped
}

TEST(SelectorXPath, BadExpressionsAreRefused) {
  EXPECT_EQ(xpath_error("//div["), "xpath: invalid expression at column 7");
  EXPECT_EQ(xpath_error("//div[@a='x]"), "xpath: unterminated string at column 13");
  EXPECT_EQ(xpath_error("//"), "xpath: invalid expression at column 3");
  EXPECT_EQ(xpath_error("$price"), "xpath: variables are not supported at column 7");
  EXPECT_EQ(xpath_error("//a[frob(@x)]"), "xpath: unknown function 'frob()' at column 5");
  EXPECT_EQ(xpath_error("ex:f()"), "xpath: unknown function 'ex:f()' at column 1");
  EXPECT_EQ(xpath_error("  "), "xpath: empty expression");
  EXPECT_EQ(xpath_error(std::string(1025, '/')), "xpath: expression longer than 1024 bytes");
  // Axes, node tests and operators that look like calls are fine.
  EXPECT_EQ(xpath_error("//li[position() mod 2 = 0]/following-sibling::node()/self::text()"), "(compiled)");
  EXPECT_EQ(xpath_error("//li[last()] | //a[contains(@href, 'pdf')]"), "(compiled)");
  EXPECT_EQ(xpath_error("4 div (2)"), "(compiled)");
}

TEST(SelectorXPath, ExpensiveExpressionsStop) {
  std::string html = "<body>";
  for (int i = 0; i < 2000; ++i) html += "<p>x</p>";
  auto s = compile_xpath("count(//p[count(//p[count(//p) > 0]) > 0])");
  ASSERT_TRUE(s.ok());
  auto doc = parse_html(html);
  auto v = evaluate(*s, doc.get());
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, "selector-too-expensive");
}

TEST(Selector, CapsOnValuesAndSizes) {
  std::string html = "<body>";
  for (int i = 0; i < 300; ++i) html += "<i>" + std::to_string(i) + "</i>";
  html += "<p>" + std::string(100000, 'a') + "\xC3\xA9" + std::string(100000, 'b') + "</p></body>";
  auto many = css(html, "i");
  ASSERT_EQ(many.size(), kMaxFieldValues);
  EXPECT_EQ(many.front(), "0");
  EXPECT_EQ(xpath(html, "//i").size(), kMaxFieldValues);
  auto big = css(html, "p");
  ASSERT_EQ(big.size(), 1u);
  EXPECT_LE(big[0].size(), kMaxFieldValueBytes);
  EXPECT_GT(big[0].size(), kMaxFieldValueBytes - 4);
}

TEST(Selector, DeepDocumentsNeitherOverflowNorCrawl) {
  constexpr int kDepth = 100000;
  std::string html;
  html.reserve(kDepth * 12);
  for (int i = 0; i < kDepth; ++i) html += "<div>";
  html += "<span class=leaf>deep</span>";
  for (int i = 0; i < kDepth; ++i) html += "</div>";
  auto doc = parse_html(html);
  for (auto sel : {"div span.leaf", "div > span", "span div", "div:not(.x) div span", "section span",
                   "div:last-child > span:first-child"}) {
    auto s = compile_css(sel);
    ASSERT_TRUE(s.ok()) << sel;
    auto v = evaluate(*s, doc.get());
    ASSERT_TRUE(v.ok());
    bool should_match = std::string_view(sel).find("section") == std::string_view::npos &&
                        std::string_view(sel) != "span div";
    EXPECT_EQ(v->size(), should_match ? 1u : 0u) << sel;
  }
  auto all = css(html, "div");
  EXPECT_EQ(all.size(), kMaxFieldValues);
  EXPECT_EQ(all.front(), "deep");
  EXPECT_EQ(xpath(html, "//span[@class='leaf']"), Values{"deep"});
}

TEST(Selector, JobFieldsAreCheckedAndEvaluated) {
  std::vector<protocol::FieldSelector> fields = {
      {"price", "css", "span.price"}, {"title", "xpath", "//h1"}, {"missing", "css", "table"}};
  EXPECT_TRUE(check_field_selectors(fields).ok());
  auto doc = parse_html(kShop);
  FieldValues out = evaluate_fields(fields, doc.get());
  EXPECT_TRUE(out.problems.empty());
  EXPECT_EQ(to_json(out.values), R"({"price":["19.90","24.00","5"],"title":"Blue kettle"})");

  fields.push_back({"bad", "css", "a]"});
  auto st = check_field_selectors(fields);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "fields[3] (bad): css: unexpected ']' at column 2");
  EXPECT_FALSE(compile_selector("jq", ".a").ok());
  out = evaluate_fields(fields, doc.get());
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_FALSE(out.values.contains("bad"));
}

TEST(Selector, EmptyAndNullDocuments) {
  auto s = compile_css("p");
  ASSERT_TRUE(s.ok());
  auto v = evaluate(*s, nullptr);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->empty());
  EXPECT_TRUE(css("", "p").empty());
  EXPECT_TRUE(xpath("", "//p").empty());
  EXPECT_TRUE(css(std::string("\0\xff\xfe<p>x", 7), "p").size() <= 1);
}

}  // namespace
}  // namespace meadow::extract
