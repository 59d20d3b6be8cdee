// Main-content extraction on small pages written for the project: one page per kind of site
// furniture and per page type (article, forum thread, product, listing, documentation).
#include <gtest/gtest.h>

#include <cstdio>

#include <fstream>
#include <string>

#include "common/extract.h"
#include "common/extract_text.h"

namespace meadow::extract {
namespace {

Page run(std::string_view html) {
  auto r = extract(Input{html, "https://www.example.com/page", "text/html", ""});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : Page{};
}

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// A paragraph of prose long enough to look like content.
std::string prose(const std::string& topic) {
  return "The " + topic +
         " has been studied for many years by people who care about it, and every season brings new "
         "questions, new answers and a few surprises that nobody expected at the start.";
}

// `n` pieces of markup made by `item` from their number ("0", "1", ...), concatenated.
template <class Item>
std::string repeated(int n, Item item) {
  std::string out;
  for (int i = 0; i < n; ++i) out += item(std::to_string(i));
  return out;
}

// The furniture most sites wrap around their content.
const std::string kHeader =
    "<header class=site-header><a href=/>Example Site</a><nav><ul><li><a href=/a>Home</a></li>"
    "<li><a href=/b>About us</a></li><li><a href=/c>Contact</a></li></ul></nav></header>";
const std::string kFooter =
    "<footer><p>Copyright 2025 Example Site. All rights reserved.</p><a href=/privacy>Privacy policy</a></footer>";
const std::string kCookie =
    "<div id=cookie-banner><p>We use cookies to improve your experience. By continuing you accept our cookie "
    "policy.</p><button>Accept all</button></div>";

TEST(ExtractMain, FurnitureAroundAnArticleIsRemoved) {
  const std::string html = "<html><head><title>Rivers | Example Site</title></head><body>" + kHeader + kCookie +
                           "<div class=breadcrumbs><a href=/>Home</a> &gt; <a href=/n>Nature</a></div>"
                           "<main><article><h1>Rivers</h1><p>" +
                           prose("river") +
                           "</p><div class=share-bar><a href=/s1>Share on X</a>"
                           "<a href=/s2>Share on Facebook</a></div><h2>Sources</h2><p>" +
                           prose("source of a river") + "</p><p>" + prose("delta") +
                           "</p></article>"
                           "<section class=related-posts><h3>Related posts</h3><ul><li><a href=/r1>Lakes and "
                           "ponds</a></li><li><a href=/r2>Ocean currents</a></li></ul></section></main>"
                           "<aside class=sidebar><h3>Newsletter</h3><p>Sign up for our weekly letter.</p></aside>" +
                           kFooter + "</body></html>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "The river has been studied")) << p.text;
  EXPECT_TRUE(has(p.text, "The delta has been studied")) << p.text;
  for (const char* furniture : {"About us", "cookies", "Accept all", "Nature", "Share on", "Related posts",
                                "Lakes and ponds", "Newsletter", "Copyright", "Privacy policy"})
    EXPECT_FALSE(has(p.text, furniture)) << furniture << " in:\n" << p.text;
  EXPECT_EQ(p.title, "Rivers");
}

TEST(ExtractMain, HeadingsParagraphsListsAndTablesAreLaidOut) {
  const std::string html = "<body><article><h1>Guide</h1><p>" + prose("guide") +
                           "</p><h2>Steps</h2><ul><li>First step</li><li>Second step</li></ul>"
                           "<table><tr><th>Size</th><th>Weight</th></tr><tr><td>Large</td><td>2 kg</td></tr>"
                           "</table><p>Last words.</p></article></body>";
  const Page p = run(html);
  EXPECT_EQ(p.text, "Guide\n\n" + prose("guide") +
                        "\n\nSteps\n\nFirst step\nSecond step\n\nSize Weight\nLarge 2 kg\n\nLast words.");
}

TEST(ExtractMain, ForumThreadKeepsEveryPost) {
  std::string html = "<body>" + kHeader + "<div id=thread><h1>Which tent for winter?</h1>";
  const char* authors[] = {"alice", "bob", "carol", "dave"};
  for (int i = 0; i < 4; ++i)
    html += std::string("<div class=\"post comment\"><div class=author><a href=/u/") + authors[i] + ">" + authors[i] +
            "</a></div><div class=message><p>Post " + std::to_string(i) + ": " +
            prose("tent number " + std::to_string(i)) + "</p></div></div>";
  html += "</div><div class=pagination><a href=?p=2>2</a><a href=?p=3>3</a><a href=?p=2>Next</a></div>" + kFooter +
          "</body>";
  const Page p = run(html);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(has(p.text, "Post " + std::to_string(i) + ": ")) << p.text;
  EXPECT_FALSE(has(p.text, "Next")) << p.text;
  EXPECT_FALSE(has(p.text, "Contact")) << p.text;
}

TEST(ExtractMain, CommentsUnderAnArticleAreFurniture) {
  const std::string html = "<body><article><h1>Bridges</h1><p>" + prose("bridge") + "</p><p>" + prose("arch") +
                           "</p><p>" + prose("cable") + "</p></article>" +
                           "<section id=comments><h3>3 comments</h3><div class=comment><p>Nice read, "
                           "thanks!</p></div><div class=comment><p>Great pictures.</p></div></section>" +
                           kFooter + "</body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "The cable has been studied")) << p.text;
  EXPECT_FALSE(has(p.text, "Nice read")) << p.text;
}

TEST(ExtractMain, ProductPageKeepsDescriptionAndSpecs) {
  const std::string html =
      "<body>" + kHeader +
      "<div class=product><h1>Trail Pack 25</h1><div class=price>$99</div>"
      "<button>Add to cart</button>"
      "<div class=description><p>" +
      prose("trail pack") +
      "</p></div><h2>Specifications</h2><table class=specs><tr><th>Capacity</th><td>25 liters</td></tr>"
      "<tr><th>Weight</th><td>1.2 kg</td></tr><tr><th>Material</th><td>Recycled nylon</td></tr></table></div>"
      "<div class=recommendations><h3>You may also like</h3><ul><li><a href=/p/1>Trail Pack 30</a></li>"
      "<li><a href=/p/2>Day Pack 18</a></li></ul></div>" +
      kFooter + "</body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "The trail pack has been studied")) << p.text;
  EXPECT_TRUE(has(p.text, "Capacity 25 liters\nWeight 1.2 kg")) << p.text;
  EXPECT_FALSE(has(p.text, "Add to cart")) << p.text;
  EXPECT_FALSE(has(p.text, "Day Pack 18")) << p.text;
}

TEST(ExtractMain, CustomerReviewsUnderAProductAreLeftOut) {
  const std::string html =
      "<body>" + kHeader + "<main><h1>Camp Stove</h1><div class=description><p>" + prose("camp stove") + "</p><p>" +
      prose("burner") + "</p></div><div id=customer-reviews>" +
      repeated(3,
               [](const std::string& i) {
                 return "<div class=review><p>Review " + i + ": " + prose("stove I bought") + "</p></div>";
               }) +
      "</div></main>" + kFooter + "</body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "The burner has been studied")) << p.text;
  EXPECT_FALSE(has(p.text, "Review 1")) << p.text;
}

TEST(ExtractMain, HeadersOfArticlesInAListingAreKept) {
  // Only the page's own <header> is furniture; one inside an <article> holds that item's title.
  const std::string html = "<body>" + kHeader + "<main><h1>Topic: harbors</h1>" +
                           repeated(6,
                                    [](const std::string& i) {
                                      return "<article><header><a href=/n/" + i + ">Headline number " + i +
                                             " about the harbor</a></header><p>Teaser " + i +
                                             ": the boats came back early this year.</p></article>";
                                    }) +
                           "</main>" + kFooter + "</body>";
  const Page p = run(html);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(has(p.text, "Headline number " + std::to_string(i))) << p.text;
  EXPECT_FALSE(has(p.text, "About us")) << p.text;
  EXPECT_FALSE(has(p.text, "Copyright")) << p.text;
}

TEST(ExtractMain, ClassNamesOfContentPartsAreNotFurniture) {
  // "entry-header" heads the story, "hide-ads" switches ads off around the teasers: neither
  // names the element as furniture, unlike "site-header" and "ad".
  const std::string html =
      "<body><div class=site-header><a href=/>Example Site</a> Your daily harbor news</div>"
      "<main><article><div class=entry-header><h1>Harbor report</h1><p class=byline>By Ann "
      "Lee, harbor correspondent for many years</p></div><p>" +
      prose("harbor") + "</p><p>" + prose("pier") + "</p></article><div class=\"teasers hide-ads\">" +
      repeated(4,
               [](const std::string& i) {
                 return "<p>Teaser " + i + ": the boats came back early this year, and the nets were full.</p>";
               }) +
      "</div><div class=ad>Buy boats cheaply today at the boat outlet</div></main></body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "By Ann Lee")) << p.text;
  EXPECT_TRUE(has(p.text, "Teaser 3")) << p.text;
  EXPECT_FALSE(has(p.text, "daily harbor news")) << p.text;
  EXPECT_FALSE(has(p.text, "boat outlet")) << p.text;
}

TEST(ExtractMain, CollapsedPanelsAreContent) {
  // A FAQ whose answers are hidden until their question is clicked.
  const std::string html =
      "<body>" + kHeader + "<main><h1>Boat rental</h1><p>" + prose("boat rental") +
      "</p><h2>Questions</h2><div class=accordion>" +
      repeated(3,
               [](const std::string& i) {
                 return "<button>Question " + i + "</button><div class=accordion-panel hidden><p>Answer " + i +
                        ": bring a life jacket and a hat.</p></div>";
               }) +
      "</div><div hidden><p>Session expired, please sign in again.</p></div></main>" + kFooter + "</body>";
  const Page p = run(html);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(has(p.text, "Answer " + std::to_string(i))) << p.text;
  EXPECT_FALSE(has(p.text, "Session expired")) << p.text;
}

TEST(ExtractMain, ConsentDialogLongerThanTheArticleIsLeftOut) {
  const std::string html =
      "<body><div id=consent-manager><h2>Your privacy</h2>" +
      repeated(12,
               [](const std::string& i) {
                 return "<p>Purpose " + i +
                        ": we and our partners store and access information on your device to measure audiences "
                        "and personalise advertising.</p>";
               }) +
      "</div><article><h1>Tide tables</h1><p>" + prose("tide") + "</p><p>" + prose("moon") + "</p></article></body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "The moon has been studied")) << p.text;
  EXPECT_FALSE(has(p.text, "Purpose 3")) << p.text;
}

TEST(ExtractMain, ProductDrawnByScriptsIsReadFromItsJsonLd) {
  // The markup holds little more than the name; the description lives in the JSON-LD.
  const std::string html =
      "<head><script type=application/ld+json>{\"@context\":\"https://schema.org\",\"@graph\":[{\"@type\":"
      "\"WebSite\",\"description\":\"The outdoor shop\"},{\"@type\":[\"Product\"],\"name\":\"Dark Roast\","
      "\"description\":\"<h4>BOLD BEANS</h4><p>Roasted slowly in small batches &amp; packed the same day, this "
      "blend brings a smooth body and a long, sweet finish to every cup you brew at home.</p>\"}]}</script></head>"
      "<body>" +
      kHeader + "<main><h1>Dark Roast</h1><div class=price>$19</div></main>" + kFooter + "</body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "BOLD BEANS\n\nRoasted slowly in small batches & packed the same day")) << p.text;
  EXPECT_FALSE(has(p.text, "<p>")) << p.text;
  EXPECT_FALSE(has(p.text, "outdoor shop")) << p.text;
  // A short page text that lacks the description gets it after its own.
  const std::string lacking =
      "<head><script type=application/ld+json>{\"@type\":\"Product\",\"description\":\"Soft merino socks "
      "with a cushioned sole.\"}</script></head><body><main><h1>Quarter Socks</h1><p>Pick a size and a colour, "
      "then add the pack to your bag; orders over forty dollars ship free.</p></main></body>";
  EXPECT_TRUE(run(lacking).text.ends_with("ship free.\n\nSoft merino socks with a cushioned sole."))
      << run(lacking).text;
  // A page with a text of its own (over 1,000 bytes) keeps it as it is.
  const std::string shown =
      "<head><script type=application/ld+json>{\"@type\":\"Product\",\"description\":"
      "\"Short summary for search engines.\"}</script></head><body><main><h1>Trail Pack</h1><p>" +
      prose("trail pack") + "</p><p>" + prose("hip belt") + "</p>" +
      repeated(6, [](const std::string& i) { return "<p>" + prose("pocket number " + i) + "</p>"; }) + "</main></body>";
  EXPECT_FALSE(has(run(shown).text, "Short summary")) << run(shown).text;
}

TEST(ExtractMain, ProductPageNarrowsToItsDescription) {
  // A page about one product (its JSON-LD says so) whose main column also holds the buying
  // box, delivery terms and a size guide: the description block is the content.
  const std::string body =
      "<body>" + kHeader +
      "<main><div class=product-main><h1>Trail Pack 25</h1><div class=buy-box><p>Only 3 left in stock, order "
      "within 4 hours for delivery tomorrow to most addresses.</p><p>Free returns within 30 days, free shipping on "
      "orders over 50 dollars, pay in four interest-free installments.</p><p>Size guide: measure your torso "
      "from the base of your neck to your hip bones.</p></div><div class=product-description><p>" +
      prose("trail pack") + "</p><p>" + prose("hip belt") +
      "</p><ul><li>Capacity: 25 liters</li><li>Weight: "
      "1.2 kg</li></ul></div></div></main>" +
      kFooter + "</body>";
  const std::string product =
      "<head><script type=application/ld+json>{\"@type\": \"Product\", \"name\": \"Trail Pack 25\", "
      "\"offers\": {\"@type\": \"Offer\", \"price\": \"89.00\"}}</script></head>" +
      body;
  const Page p = run(product);
  EXPECT_TRUE(has(p.text, "The hip belt has been studied")) << p.text;
  EXPECT_TRUE(has(p.text, "Capacity: 25 liters")) << p.text;
  EXPECT_FALSE(has(p.text, "Free returns")) << p.text;
  EXPECT_FALSE(has(p.text, "Size guide")) << p.text;
  // Open Graph and microdata say it too.
  EXPECT_FALSE(has(run("<head><meta property=og:type content=product></head>" + body).text, "Free returns"));
  std::string microdata = body;
  microdata.replace(microdata.find("<main>"), 6, "<main itemscope itemtype=https://schema.org/Product>");
  EXPECT_FALSE(has(run(microdata).text, "Free returns"));
  // Without the page saying it is a product's, nothing is narrowed.
  EXPECT_TRUE(has(run(body).text, "Free returns")) << run(body).text;
  // A "Product" with nothing to sell is a category page asking search engines for stars.
  const std::string rated =
      "<head><script type=application/ld+json>{\"@type\": \"Product\", \"name\": \"Packs\", "
      "\"aggregateRating\": {\"ratingValue\": \"4.7\"}}</script></head>" +
      body;
  EXPECT_TRUE(has(run(rated).text, "Free returns")) << run(rated).text;
}

TEST(ExtractMain, TextRepeatedOnThePageIsKeptOnce) {
  // One copy of the story per layout; code repeats as written. Short lines (the heading) are
  // too common to judge.
  const std::string story = "<h2>Harbor news</h2><p>" + prose("harbor") + "</p><p>" + prose("pier") + "</p>";
  const std::string html = "<body><main><div class=desktop-layout>" + story + "</div><div class=mobile-layout>" +
                           story +
                           "</div><pre>print('a line of code that is long enough to count')\nprint('a line of code "
                           "that is long enough to count')</pre></main></body>";
  const Page p = run(html);
  EXPECT_EQ(
      p.text,
      "Harbor news\n\n" + prose("harbor") + "\n\n" + prose("pier") +
          "\n\nHarbor news\n\nprint('a line of code that is long enough to count')\nprint('a line of code that is "
          "long enough to count')");
}

TEST(ExtractText, DropRepeatedLines) {
  const std::string long_line = "a line that is long enough to be compared";
  EXPECT_EQ(drop_repeated_lines("Title\n\n" + long_line + "\n\nshort\n\n" + long_line + "\n\nshort\nend", {}, 20),
            "Title\n\n" + long_line + "\n\nshort\n\nshort\nend");
  // Lines inside a verbatim range are kept and not remembered.
  const std::string text = long_line + "\n" + long_line + "\n" + long_line;
  EXPECT_EQ(drop_repeated_lines(text, {{0, text.size()}}, 20), text);
  EXPECT_EQ(drop_repeated_lines(long_line + "\n\n" + long_line, {}, 20), long_line);
  EXPECT_EQ(drop_repeated_lines("", {}, 20), "");
}

// Lines are first told apart by their length and their first and last sixteen bytes. Many
// different lines that share all of those (a table of rows that differ in the middle) must
// still each be kept once, and a repeat of any of them dropped, however many there are.
TEST(ExtractText, DropRepeatedLinesThatShareTheirEnds) {
  std::string text, expected;
  for (int i = 0; i < 300; ++i) {
    char middle[8];
    std::snprintf(middle, sizeof middle, "%05d", i);
    const std::string line = std::string("Row of the table: ") + middle + std::string(" ...and the same end.");
    text += line + "\n";
    expected += line + "\n";
    if (i % 7 == 0) text += line + "\n";  // a repeat, dropped
  }
  expected.pop_back();
  text.pop_back();
  EXPECT_EQ(drop_repeated_lines(text, {}, 20), expected);
  // Only the middle byte differs between the first 300 distinct lines and their repeats.
  EXPECT_EQ(drop_repeated_lines(text + "\n" + text, {}, 20), expected);
}

TEST(ExtractMain, PageFooterLongerThanThePageIsLeftOut) {
  const std::string html =
      "<body><main><h1>Smart Watch</h1><p>" + prose("watch") + "</p><p>" + prose("strap") +
      "</p></main><footer role=contentinfo><div class=legal><ol>" +
      repeated(16,
               [](const std::string& i) {
                 return "<li>Note " + i +
                        ": battery life varies by use and settings; features may change, see the terms for "
                        "details.</li>";
               }) +
      "</ol></div></footer></body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "The strap has been studied")) << p.text;
  EXPECT_FALSE(has(p.text, "Note 3")) << p.text;
  // The page's own <footer> says the same without a role.
  std::string plain = html;
  plain.replace(plain.find("<footer role=contentinfo>"), 25, "<footer>");
  EXPECT_FALSE(has(run(plain).text, "Note 3")) << run(plain).text;
}

TEST(ExtractMain, TextShownOnlyToScreenReadersIsLeftOut) {
  const std::string html =
      "<body><a class=skip-link href=#skip-content>Skip to content</a><main id=skip-content>"
      "<h2 class=visually-hidden>Product gallery controls</h2><p>" +
      prose("lantern") + "</p><p>" + prose("wick") + "</p></main></body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "The wick has been studied")) << p.text;
  EXPECT_FALSE(has(p.text, "Skip to content")) << p.text;
  EXPECT_FALSE(has(p.text, "gallery controls")) << p.text;
  // However much of a short page it is.
  const std::string brief =
      "<body><main><p>A brass lantern with a glass chimney, sold singly.</p><div class=sr-only>Use the left and "
      "right arrow keys to move between the pictures of the gallery, and press enter to zoom.</div></main></body>";
  EXPECT_EQ(run(brief).text, "A brass lantern with a glass chimney, sold singly.");
}

TEST(ExtractMain, ContentInABlockNamedLikeFurnitureIsKeptWhole) {
  // A category page whose text is its "SEO footer copy", inside <main>, beside a sidebar as long:
  // neither holds half the page.
  const auto paragraphs = [](int n, const std::string& topic) {
    return repeated(n, [&](const std::string& i) { return "<p>" + prose(topic + " " + i) + "</p>"; });
  };
  const std::string html = "<body>" + kHeader + "<main><div class=seo-footer-copy><h2>Shop sneakers</h2><p>" +
                           prose("dress sneaker") + " " + prose("leather upper") + " " + prose("sole") + "</p>" +
                           paragraphs(10, "sneaker") + "</div></main><aside>" + paragraphs(13, "store") + "</aside>" +
                           kFooter + "</body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "Shop sneakers")) << p.text;
  EXPECT_TRUE(has(p.text, "The sneaker 0 has been studied")) << p.text;
  EXPECT_TRUE(has(p.text, "The sneaker 9 has been studied")) << p.text;
  EXPECT_FALSE(has(p.text, "The store 0")) << p.text;
}

TEST(ExtractMain, ProductPageDropsTheCarouselOfOtherProducts) {
  // The cards carry prices, ratings and blurbs, so they are not a block of links.
  const std::string card =
      "<div class=slide><a href=/p/N>Trail Pack N</a><p>4.5 stars, 120 ratings</p><p>A light pack for long days "
      "in the hills, with a rain cover.</p><p>$89.00</p></div>";
  std::string cards;
  for (const char* n : {"30", "40", "50", "60"}) {
    std::string c = card;
    for (std::size_t at = c.find('N'); at != std::string::npos; at = c.find('N', at + 1))
      if (c[at - 1] == ' ' || c[at - 1] == '/') c.replace(at, 1, n);
    cards += c;
  }
  const std::string html =
      "<head><script type=application/ld+json>{\"@type\":\"Product\",\"name\":\"Trail Pack 25\","
      "\"sku\":\"TP25\"}</script></head>"
      "<body>" +
      kHeader + "<main><h1>Trail Pack 25</h1><p>" + prose("trail pack") + "</p><p>" + prose("hip belt") + "</p><p>" +
      prose("frame sheet") +
      "</p><table><tr><th>Capacity</th><td>25 liters</td></tr><tr><th>Weight</th><td>1.2 kg</td></tr></table>"
      "<section class=carousel><h2>Customers also bought</h2><div class=track>" +
      cards + "</div></section></main>" + kFooter + "</body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "The hip belt has been studied")) << p.text;
  EXPECT_TRUE(has(p.text, "Capacity 25 liters")) << p.text;
  EXPECT_FALSE(has(p.text, "Trail Pack 40")) << p.text;
  EXPECT_FALSE(has(p.text, "Customers also bought")) << p.text;
}

TEST(ExtractMain, CategoryPageKeepsItsTextBesideTheGrid) {
  // A shop's category: a grid of product cards in <main>, and the category's buying guide
  // below it, outside <main>, named as the category's text.
  const std::string grid = "<main><h1>Gas grills</h1><div class=product-grid>" + repeated(8, [](const std::string& i) {
                             return "<div class=product-card><a href=/p/" + i + ">Grill model " + i +
                                    " with four burners</a> <span class=price>$" + i + "49.00</span></div>";
                           }) + "</div></main>";
  const std::string guide = "<h2>Choosing a gas grill</h2><p>" + prose("burner") + "</p><p>" + prose("grate") + "</p>";
  const Page named = run("<body>" + kHeader + grid + "<div class=category-description>" + guide + "</div>" +
                         kFooter + "</body>");
  EXPECT_TRUE(has(named.text, "Grill model 7 with four burners")) << named.text;
  EXPECT_TRUE(has(named.text, "Grill model 7 with four burners $749.00\n\nChoosing a gas grill\n\nThe burner"))
      << named.text;
  EXPECT_FALSE(has(named.text, "All rights reserved")) << named.text;
  // Named for search engines, before the grid: it comes first.
  const Page seo = run("<body>" + kHeader + "<section class=seo-text>" + guide + "</section>" + grid + kFooter +
                       "</body>");
  EXPECT_TRUE(has(seo.text, "The grate has been studied")) << seo.text;
  EXPECT_LT(seo.text.find("The grate"), seo.text.find("Grill model 0")) << seo.text;
  // An element named only "description" joins a grid of cards when it is long...
  const std::string long_guide = guide + "<p>" + prose("lid") + "</p>";
  EXPECT_TRUE(has(
      run("<body>" + kHeader + grid + "<div class=description>" + long_guide + "</div>" + kFooter + "</body>").text,
      "The lid has been studied"));
  EXPECT_FALSE(
      has(run("<body>" + kHeader + grid + "<div class=description>" + guide + "</div>" + kFooter + "</body>").text,
          "The grate has been studied"));
  // ... but not an article: there it is an author's note or a teaser of another page.
  const std::string article = "<body><main><article><h1>Grates</h1><p>" + prose("grate") + "</p><p>" +
                              prose("flame") + "</p></article></main><div class=description><p>" +
                              prose("author of this piece") + "</p><p>" + prose("author's other book") +
                              "</p></div></body>";
  EXPECT_FALSE(has(run(article).text, "author of this piece")) << run(article).text;
  // A text named like a category's inside a consent dialog is the dialog's.
  const Page consent = run("<body>" + grid + "<div id=onetrust-consent-sdk><div class=ot-category-desc><p>" +
                           prose("tracking cookie") + "</p><p>" + prose("analytics cookie") + "</p></div></div></body>");
  EXPECT_FALSE(has(consent.text, "tracking cookie")) << consent.text;
}

TEST(ExtractMain, PromotionStripIsLeftOut) {
  // A shop's strip of shipping offers, one per country, longer than the short grid it tops.
  const std::string html =
      "<body><div class=promo-bar>" + repeated(12, [](const std::string& i) {
        return "<span class=promo-bar__text><p>Free standard shipping on orders of " + i +
               "0 euros or more. For more information on shipping rates and timelines visit our international "
               "page.</p></span>";
      }) +
      "</div><main><h1>Skincare sets</h1><div class=grid>" + repeated(4, [](const std::string& i) {
        return "<div class=card><a href=/s/" + i + ">Skincare set " + i + "</a><p>Sale price: 4" + i +
               ",95 euros</p></div>";
      }) + "</div></main></body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "Skincare set 3")) << p.text;
  EXPECT_FALSE(has(p.text, "Free standard shipping")) << p.text;
}

TEST(ExtractMain, ListingKeepsItsItems) {
  std::string html = "<body>" + kHeader + "<main><h1>Latest news</h1><ul class=news>";
  for (int i = 0; i < 8; ++i)
    html +=
        "<li><a href=/n/" + std::to_string(i) + ">Headline number " + std::to_string(i) + " about the harbor</a></li>";
  html += "</ul></main>" + kFooter + "</body>";
  const Page p = run(html);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(has(p.text, "Headline number " + std::to_string(i))) << p.text;
  EXPECT_FALSE(has(p.text, "About us")) << p.text;
}

TEST(ExtractMain, DocumentationKeepsCodeBlocks) {
  const std::string html =
      "<body>" + kHeader +
      "<div class=docs-layout><nav class=toc><ul><li><a href=#a>Install</a></li><li><a href=#b>Use</a></li>"
      "</ul></nav><div class=markdown-body><h1>Install</h1><p>" +
      prose("installer") + "</p><pre><code>$ make install\n$ tool --version\n</code></pre><p>" + prose("version") +
      "</p></div></div>" + kFooter + "</body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "\n\n$ make install\n$ tool --version\n\nThe version")) << p.text;
  EXPECT_FALSE(has(p.text, "Use")) << p.text;
}

TEST(ExtractMain, ContentShownByScriptsIsRead) {
  // Streamed server rendering ships the page in a hidden element that a script reveals.
  const std::string html = "<body><div hidden id=S:0><article><p>" + prose("stream") + "</p><p>" + prose("chunk") +
                           "</p></article></div><div>Loading...</div></body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "The stream has been studied")) << p.text;
  // Where the visible page has content of its own, hidden parts stay out.
  const std::string tabs = "<body><article><p>" + prose("tab") + "</p><p>" + prose("panel") +
                           "</p><div style='display:none'>Hidden note</div></article></body>";
  EXPECT_FALSE(has(run(tabs).text, "Hidden note"));
}

TEST(ExtractMain, LayoutClassesNamingTheContentColumnDoNotHideIt) {
  const std::string html = "<body>" + kHeader +
                           "<div class=row><aside class=sidebar><ul><li><a href=/x>Topics</a></li></ul></aside>"
                           "<section class=\"col-9 sidebar-first-only\"><h1>Gardens</h1><p>" +
                           prose("garden") + "</p><p>" + prose("hedge") + "</p></section></div>" + kFooter + "</body>";
  const Page p = run(html);
  EXPECT_TRUE(has(p.text, "The hedge has been studied")) << p.text;
  EXPECT_FALSE(has(p.text, "Topics")) << p.text;
}

TEST(ExtractMain, TitleDropsTheSiteName) {
  EXPECT_EQ(run("<title>Winter tents - Outdoor Shop</title><h1>Winter tents</h1>").title, "Winter tents");
  EXPECT_EQ(run("<head><title>Outdoor Shop | Winter tents</title><meta property=og:site_name content='Outdoor "
                "Shop'></head>")
                .title,
            "Winter tents");
  EXPECT_EQ(run("<title>Winter tents</title><h1>Shop</h1>").title, "Winter tents");
}

// Peak resident memory of this process in KiB, after resetting the peak (Linux 4.0+); -1 when
// /proc cannot tell.
long reset_and_read_peak_kib(bool reset) {
  if (reset) std::ofstream("/proc/self/clear_refs") << "5";
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
  return -1;
}

TEST(ExtractMain, FiftyMegabytePageInBoundedMemory) {
  std::string html = "<html><head><title>Big</title></head><body><nav><a href=/>Home</a></nav><article>";
  const std::string para = "<p>" + prose("big page") + " <a href=/more>more</a></p>\n";
  while (html.size() < (50u << 20)) html += para;
  html += "</article></body></html>";
  const long before = reset_and_read_peak_kib(true);
  auto r = extract(Input{html, "https://www.example.com/big", "text/html", ""});
  const long peak = reset_and_read_peak_kib(false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->text.starts_with("The big page has been studied")) << r->text.substr(0, 200);
  EXPECT_FALSE(has(r->text, "Home"));
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer pads and quarantines every allocation, so the peak says nothing here.
  const bool measurable = false;
#else
  const bool measurable = true;
#endif
  if (measurable && before > 0 && peak > 0) {
    // The input, its decoded copy, libxml2's tree and the text: a small multiple of the page.
    const long used_mib = (peak - before) / 1024;
    EXPECT_LT(used_mib, 12 * 50) << "extracting a 50 MB page raised peak memory by " << used_mib << " MiB";
  }
}

}  // namespace
}  // namespace meadow::extract
