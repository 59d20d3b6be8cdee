#include "common/extract_meta.h"

#include <gtest/gtest.h>

#include <string>

#include "common/html_dom.h"
#include "common/json.h"

namespace meadow::extract {
namespace {

Metadata read(std::string_view html, std::string_view url = {}) {
  auto doc = parse_html(html);
  return read_metadata(doc.get(), url);
}

std::string ld(std::string_view json) { return "<script type=\"application/ld+json\">" + std::string(json) + "</script>"; }

TEST(NormaliseDate, IsoForms) {
  EXPECT_EQ(normalise_date("2025-09-04"), "2025-09-04");
  EXPECT_EQ(normalise_date(" 2025-9-4 "), "2025-09-04");
  EXPECT_EQ(normalise_date("2025-09-04T10:30:00Z"), "2025-09-04T10:30:00Z");
  EXPECT_EQ(normalise_date("2025-09-04T10:30:00.123+02:00"), "2025-09-04T10:30:00+02:00");
  EXPECT_EQ(normalise_date("2025-09-04T10:30:00-0500"), "2025-09-04T10:30:00-05:00");
  EXPECT_EQ(normalise_date("2025-09-04T10:30:00+00:00"), "2025-09-04T10:30:00Z");
  EXPECT_EQ(normalise_date("2025-09-04 10:30"), "2025-09-04T10:30:00");
  EXPECT_EQ(normalise_date("2025-09-04 10:30 UTC"), "2025-09-04T10:30:00Z");
  EXPECT_EQ(normalise_date("2025/09/04"), "2025-09-04");
  EXPECT_EQ(normalise_date("2025.09.04"), "2025-09-04");
  EXPECT_EQ(normalise_date("20250904"), "2025-09-04");
  EXPECT_EQ(normalise_date("2025-09-04T25:00"), "2025-09-04");  // a bad time keeps the date
}

TEST(NormaliseDate, WrittenForms) {
  EXPECT_EQ(normalise_date("September 4, 2025"), "2025-09-04");
  EXPECT_EQ(normalise_date("Sep. 4th 2025"), "2025-09-04");
  EXPECT_EQ(normalise_date("4 September 2025"), "2025-09-04");
  EXPECT_EQ(normalise_date("Thu, 04 Sep 2025 10:30:00 GMT"), "2025-09-04T10:30:00Z");
  EXPECT_EQ(normalise_date("Posted on Sept 4, 2025"), "2025-09-04");
  EXPECT_EQ(normalise_date("13/09/2025"), "2025-09-13");
  EXPECT_EQ(normalise_date("09/13/2025"), "2025-09-13");
  EXPECT_EQ(normalise_date("04/04/2025"), "2025-04-04");
}

TEST(NormaliseDate, GarbageAndOutOfRangeAreRefused) {
  for (std::string_view bad : {"", "yesterday", "2025-13-01", "2025-02-30", "2023-02-29", "1850-01-01", "2150-01-01",
                               "2025-09-041", "04/09/2025", "12345", "2025", "September 2025", "32 May 2025",
                               "0000-00-00", "2025-00-10", "99999999999999999999-01-01"}) {
    EXPECT_EQ(normalise_date(bad), "") << bad;
  }
  EXPECT_EQ(normalise_date("2024-02-29"), "2024-02-29");
}

TEST(Metadata, JsonLdBlocksParsedAndReserialised) {
  auto m = read("<html><head>" + ld(R"({"@context":"https://schema.org", "@type":"Article",
      "headline":"H"})") + ld("{not json") + ld(R"("just a string")") +
                ld("<!-- {\"@type\":\"WebPage\",\"name\":\"line\nbreak\"} -->") + ld("[{\"a\":1},{\"b\":[]}]") +
                "</head></html>");
  ASSERT_EQ(m.json_ld.size(), 3u);
  EXPECT_EQ(to_json(m.json_ld[0]), R"({"@context":"https://schema.org","@type":"Article","headline":"H"})");
  EXPECT_EQ(to_json(m.json_ld[1]), R"({"@type":"WebPage","name":"line break"})");
  EXPECT_EQ(to_json(m.json_ld[2]), R"([{"a":1},{"b":[]}])");
}

TEST(Metadata, HostileJsonLdIsDroppedNotFatal) {
  std::string deep(100000, '[');
  std::string wide = "[" ;
  for (int i = 0; i < 30000; ++i) wide += "1,";
  wide += "1]";
  std::string huge = "{\"a\":\"" + std::string(kMaxJsonLdBytes, 'x') + "\"}";
  std::string page = ld(deep) + ld(huge) + ld(wide) + ld("{\"author\":\"\xff\xfe\"}");
  for (int i = 0; i < 40; ++i) page += ld("{\"i\":" + std::to_string(i) + "}");
  auto m = read(page);
  // The deep and the invalid blocks count against the cap and are dropped; the oversized one is not read.
  ASSERT_EQ(m.json_ld.size(), kMaxJsonLdBlocks - 2);
  EXPECT_TRUE(m.json_ld[0].is_array());
  EXPECT_EQ(to_json(m.json_ld[1]), "{\"i\":0}");  // the invalid UTF-8 block is dropped
}

TEST(Metadata, AuthorAndDatesFromJsonLd) {
  auto m = read(ld(R"({"@type":"NewsArticle","author":{"@type":"Person","name":"By Ada Lovelace"},
      "datePublished":"2024-03-05T08:00:00+01:00","dateModified":"2024-03-06",
      "comment":[{"@type":"Comment","author":"Troll","datePublished":"2024-03-07"}],
      "publisher":{"@type":"Organization","name":"The Engine"}})"));
  EXPECT_EQ(m.author, "Ada Lovelace");
  EXPECT_EQ(m.published, "2024-03-05T08:00:00+01:00");
  EXPECT_EQ(m.modified, "2024-03-06");
  EXPECT_EQ(m.site_name, "The Engine");
}

TEST(Metadata, JsonLdGraphAuthorByIdAndArrays) {
  auto m = read(ld(R"({"@context":"https://schema.org","@graph":[
      {"@type":"WebSite","@id":"https://x.test/#website","name":"X Test"},
      {"@type":"WebPage","@id":"https://x.test/p","datePublished":"2020-01-01"},
      {"@type":["Article","BlogPosting"],"author":[{"@id":"https://x.test/#/person/1"},"Grace Hopper",
        {"name":"Ada &amp; Co"}],"datePublished":"2021-06-07"},
      {"@type":"Person","@id":"https://x.test/#/person/1","name":"Alan Turing"}]})"));
  EXPECT_EQ(m.author, "Alan Turing, Grace Hopper, Ada & Co");
  EXPECT_EQ(m.published, "2021-06-07");  // the article outranks the web page
  EXPECT_EQ(m.site_name, "X Test");
}

TEST(Metadata, OrganisationAuthorGivesWayToAPerson) {
  auto m = read("<meta name=author content='Jane Doe'>" +
                ld(R"({"@type":"Article","author":{"@type":"Organization","name":"Big Corp"}})"));
  EXPECT_EQ(m.author, "Jane Doe");
  m = read(ld(R"({"@type":"Article","author":{"@type":"Organization","name":"Big Corp"}})"));
  EXPECT_EQ(m.author, "Big Corp");
}

TEST(Metadata, AuthorPrecedenceInHtml) {
  std::string byline = "<div class='post-byline'>By Carol Byline | March 3, 2023</div>";
  std::string itemprop = "<span itemprop='author' itemscope><span itemprop='name'>Ivan Item</span></span>";
  std::string rel = "<a rel='author' href='/u/r'>Rita Rel</a>";
  std::string og = "<meta property='article:author' content='https://facebook.com/someone'>";
  std::string meta = "<meta name='author' content='Mona Meta'>";
  EXPECT_EQ(read(meta + og + rel + itemprop + byline).author, "Mona Meta");
  EXPECT_EQ(read(og + rel + itemprop + byline).author, "Rita Rel");  // article:author is a URL here
  EXPECT_EQ(read(itemprop + byline).author, "Ivan Item");
  EXPECT_EQ(read(byline).author, "Carol Byline");
  EXPECT_EQ(read("<p class='comment-author'>Troll Person</p>").author, "");
  EXPECT_EQ(read("<meta name='twitter:label1' content='Written by'><meta name='twitter:data1' content='Tess Card'>").author,
            "Tess Card");
  EXPECT_EQ(read("<div><p>Written by</p><p>Lea Label</p></div>").author, "Lea Label");
  EXPECT_EQ(read("<meta name=author content='https://example.com/me'><meta name=author content='x@y.z'>").author, "");
}

TEST(Metadata, DatePrecedenceInHtml) {
  std::string meta = "<meta property='article:published_time' content='2022-02-02T02:02:02Z'>";
  std::string dc = "<meta name='DC.date.issued' content='2021-01-01'>";
  std::string itemprop = "<span itemprop='datePublished' content='2020-05-05'>May 5</span>";
  std::string article_time = "<article><time datetime='2019-04-04'>April 4</time></article>";
  std::string stray_time = "<aside><time datetime='2018-03-03'>x</time></aside>";
  EXPECT_EQ(read(stray_time + meta + dc + itemprop + article_time).published, "2022-02-02T02:02:02Z");
  EXPECT_EQ(read(stray_time + dc + itemprop + article_time).published, "2021-01-01");
  EXPECT_EQ(read(stray_time + itemprop + article_time).published, "2020-05-05");
  EXPECT_EQ(read(stray_time + article_time).published, "2019-04-04");
  EXPECT_EQ(read(stray_time).published, "");
  EXPECT_EQ(read(stray_time, "https://blog.test/2017/06/30/title/").published, "2017-06-30");
  EXPECT_EQ(read("<meta name=date content='not a date'><meta name=pubdate content='2016-07-08'>").published,
            "2016-07-08");
  EXPECT_EQ(read("<meta name=date content='2016-02-31'>").published, "");
  EXPECT_EQ(read("<meta property='article:modified_time' content='2023-01-02'>").modified, "2023-01-02");
}

TEST(Metadata, OpenGraphInDocumentOrder) {
  auto m = read(R"(<head><meta property="og:title" content="  A
      title "><meta property="og:image" content="https://x.test/1.png"><meta name="twitter:card" content="summary">
      <meta property="og:image" content="https://x.test/2.png"><meta property="article:tag" content="cats">
      <meta property="og:site_name" content="X Site"><meta property="fb:app_id" content="1">
      <meta property="og:empty" content=""><meta name="description" content="not og"></head>)");
  ASSERT_EQ(m.opengraph.size(), 6u);
  EXPECT_EQ(m.opengraph[0], (std::pair<std::string, std::string>{"og:title", "A title"}));
  EXPECT_EQ(m.opengraph[2].first, "twitter:card");
  EXPECT_EQ(m.site_name, "X Site");
  EXPECT_EQ(to_json(opengraph_json(m.opengraph)),
            R"({"title":"A title","image":["https://x.test/1.png","https://x.test/2.png"],"twitter:card":"summary",)"
            R"("article:tag":"cats","site_name":"X Site"})");
}

TEST(Metadata, OpenGraphIsCapped) {
  std::string page;
  for (int i = 0; i < 300; ++i) page += "<meta property='og:x" + std::to_string(i) + "' content='" + std::string(5000, 'v') + "'>";
  auto m = read(page);
  ASSERT_EQ(m.opengraph.size(), kMaxOpenGraph);
  EXPECT_LE(m.opengraph[0].second.size(), kMaxOpenGraphValueBytes);
}

TEST(Metadata, DeepDocumentIsReadWithoutRecursion) {
  constexpr int kDepth = 100000;
  std::string html = "<html><head><meta name=author content='Deep Author'></head><body>";
  for (int i = 0; i < kDepth; ++i) html += "<div class='author'>";
  html += "<article><time datetime='2020-02-02'>x</time></article>";
  for (int i = 0; i < kDepth; ++i) html += "</div>";
  html += ld(R"({"@type":"Article","datePublished":"2021-03-03"})") + "</body></html>";
  auto m = read(html);
  EXPECT_EQ(m.author, "Deep Author");
  EXPECT_EQ(m.published, "2021-03-03");
  ASSERT_EQ(m.json_ld.size(), 1u);
}

TEST(Metadata, EmptyAndNullDocuments) {
  EXPECT_EQ(read_metadata(nullptr).author, "");
  auto m = read("");
  EXPECT_TRUE(m.json_ld.empty());
  EXPECT_TRUE(m.opengraph.empty());
  m = read("\x01\xff\xfe<meta name=author content='Bin Ary'>");
  EXPECT_EQ(m.author, "Bin Ary");
}

}  // namespace
}  // namespace meadow::extract
