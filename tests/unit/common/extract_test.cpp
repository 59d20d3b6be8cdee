#include "common/extract.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/charset.h"
#include "common/extract_links.h"

namespace meadow::extract {
namespace {

constexpr std::string_view kPageUrl = "https://www.example.com/blog/post.html";

Page run(std::string_view html, std::string_view url = kPageUrl, std::string_view content_type = "text/html",
         std::string_view content_language = "") {
  auto r = extract(Input{html, url, content_type, content_language});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : Page{};
}

std::string links_of(const Page& p) {
  std::string out;
  for (const Link& l : p.links) out += l.url + " [" + l.text + "]" + (l.internal ? " internal" : "") + "\n";
  return out;
}

TEST(ExtractTitle, FallbackTable) {
  const std::pair<const char*, const char*> table[] = {
      {"<title>  Hello\n   World </title><h1>Heading</h1>", "Hello World"},
      {"<head><meta property=og:title content='From OG'></head><h1>Heading</h1>", "From OG"},
      {"<head><meta name=og:title content='Named OG'></head>", "Named OG"},
      {"<title> </title><body><header><h1> The <em>first</em> one </h1></header><h1>second</h1>", "The first one"},
      {"<h1><img src=logo.png></h1><h1>Real heading</h1>", "Real heading"},
      {"<p>no title at all</p>", ""},
      {"<title>Caf&eacute; &amp; bar</title>", "Café & bar"},
      {"<svg><title>icon</title></svg><title>Page</title>", "Page"},
  };
  for (const auto& [html, title] : table) EXPECT_EQ(run(html).title, title) << html;
}

TEST(ExtractMeta, DescriptionAndOgFallback) {
  EXPECT_EQ(run("<meta name=Description content='  A page\tabout   things '>").description, "A page about things");
  EXPECT_EQ(run("<meta property='og:description' content='og text'>").description, "og text");
  EXPECT_EQ(run("<meta property='og:description' content='og'><meta name=description content='plain'>").description,
            "plain");
  EXPECT_EQ(run("<meta name=description>").description, "");
}

TEST(ExtractMeta, CanonicalResolvedAgainstThePage) {
  const std::pair<const char*, const char*> table[] = {
      {"<link rel=canonical href='/blog/post'>", "https://www.example.com/blog/post"},
      {"<link rel='Canonical' href='other.html?b=1#frag'>", "https://www.example.com/blog/other.html?b=1"},
      {"<link rel='alternate canonical' href='//example.com/x'>", "https://example.com/x"},
      {"<link rel=canonical href='https://Example.COM:443/A/../b'>", "https://example.com/b"},
      {"<link rel=canonical href='javascript:alert(1)'>", ""},
      {"<link rel=canonical href=''>", ""},
      {"<link rel=stylesheet href='/s.css'>", ""},
      {"<base href='https://cdn.example.net/dir/'><link rel=canonical href='page'>",
       "https://cdn.example.net/dir/page"},
  };
  for (const auto& [html, canonical] : table) EXPECT_EQ(run(html).canonical_url, canonical) << html;
}

TEST(ExtractLang, FromHtmlThenHeader) {
  struct Case {
    const char* html;
    const char* header;
    const char* lang;
  };
  const Case cases[] = {
      {"<html lang=en><p>x", "", "en"},
      {"<html lang='en-us'><p>x", "fr", "en-US"},
      {"<html lang='zh_hant_tw'><p>x", "", "zh-Hant-TW"},
      {"<html lang='de-x-Private'><p>x", "", "de-x-private"},
      {"<html><p>x", "de-DE, en-CA", "de-DE"},
      {"<p>x", " fr ", "fr"},
      {"<html lang=''><p>x", "es", "es"},
      {"<html lang='not a tag'><p>x", "", ""},
      {"<html lang='en--us'><p>x", "", ""},
      {"<html lang='toolongtag'><p>x", "", ""},
      {"<html lang='12'><p>x", "it", "it"},
      {"<p>x", "", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(run(c.html, kPageUrl, "text/html", c.header).lang, c.lang) << c.html;
}

TEST(ExtractLang, DetectedFromTheTextWhenThePageDoesNotSay) {
  struct Case {
    const char* text;
    const char* lang;
  };
  const Case cases[] = {
      {"Die Wiese wird erst spät im Juli gemäht, damit die Blumen ihre Samen verstreuen können und die "
       "Insekten bis in den Herbst Nahrung finden.",
       "de"},
      {"La prairie est fauchée tard en juillet, pour que les fleurs laissent tomber leurs graines et que les "
       "insectes trouvent à manger jusqu'à l'automne.",
       "fr"},
      {"草地は七月の終わりに刈り取られ、花は種を落とし、虫たちは秋まで食べ物を見つけることができます。", "ja"},
      {"這片草地在七月底才割草，讓花朵結出種子，昆蟲一直到秋天都能找到食物。我們的志工每年都來幫忙。", "zh-Hant"},
      {"The meadow is cut late in July so that the flowers drop their seed and insects find food into autumn.", "en"},
      {"Too short.", ""},
      {"1234 5678 9012 3456 7890 1234 5678 9012 3456 7890 1234 5678", ""},
  };
  for (const auto& c : cases) {
    const std::string html = std::string("<html><body><main><p>") + c.text + "</p></main></body></html>";
    EXPECT_EQ(run(html, kPageUrl, "text/html").lang, c.lang) << c.text;
  }
  // What the page says wins over what the text looks like.
  const std::string german = "<html lang=en><body><p>Die Wiese wird erst spät im Juli gemäht, damit die Blumen "
                             "ihre Samen verstreuen können.</p></body></html>";
  EXPECT_EQ(run(german, kPageUrl, "text/html").lang, "en");
  EXPECT_EQ(run("<body><p>Die Wiese wird erst spät im Juli gemäht, damit die Blumen ihre Samen verstreuen.</p>",
                kPageUrl, "text/html", "it")
                .lang,
            "it");
}

TEST(ExtractText, ChromeAndScriptsRemovedParagraphsKept) {
  const Page p = run(R"html(<!doctype html>
<html><head><title>T</title><style>p { color: red }</style><script>var x = "<p>no</p>";</script></head>
<body>
  <header><a href="/">Home</a> site header</header>
  <nav><ul><li><a href="/a">Menu A</a></li><li>Menu B</li></ul></nav>
  <main>
    <h1>The  heading</h1>
    <p>First   paragraph
       continues <b>here</b>.</p>
    <p>Second paragraph with <a href="/x">a link</a>.</p>
    <noscript>Enable JavaScript</noscript>
    <template><p>template text</p></template>
    <svg><text>svg text</text></svg>
    <div hidden>hidden text</div>
    <div style="display: none">invisible</div>
    <form><label>Name</label><input name=n><button>Send</button></form>
    <aside>Related stuff</aside>
  </main>
  <footer>Copyright</footer>
  <script>document.write("later")</script>
</body></html>)html");
  EXPECT_EQ(p.text, "The heading\n\nFirst paragraph continues here.\n\nSecond paragraph with a link.");
}

TEST(ExtractText, SmallFormsAreChromeButAPageWrappingFormIsNot) {
  EXPECT_EQ(run("<p>Article text.</p><form action=/search><label>Search the site</label><input name=q>"
                "<p>Type a few words</p></form>")
                .text,
            "Article text.");
  std::string page = "<form id=aspnetForm method=post><div class=content><h2>Heading</h2>";
  for (int i = 0; i < 12; ++i) page += "<p>A paragraph of the article, long enough to count as content.</p>";
  page += "</div><input type=hidden name=__VIEWSTATE value=x></form>";
  const Page p = run(page);
  EXPECT_TRUE(p.text.starts_with("Heading\n\nA paragraph of the article")) << p.text;
  // Nested forms are measured once, at the outermost one; inner ones are chrome.
  std::string nested = "<p>start</p>";
  for (int i = 0; i < 20000; ++i) nested += "<form><span>f</span>";
  EXPECT_EQ(run(nested).text, "start");
}

TEST(ExtractText, BlocksEndLines) {
  const std::pair<const char*, const char*> table[] = {
      {"<div>one</div><div>two</div>", "one\ntwo"},
      {"line one<br>line two<br><br>line three", "line one\nline two\nline three"},
      {"<ul><li>a</li><li>b</li></ul><p>after</p>", "a\nb\n\nafter"},
      {"<table><tr><td>1</td><td>2</td></tr><tr><th>3</th><td>4</td></tr></table>", "1 2\n3 4"},
      {"<p>a</p>\n\n\n<p>b</p><div><div><p>c</p></div></div>", "a\n\nb\n\nc"},
      {"<span>in</span><span>line</span> <em>words</em>", "inline words"},
      {"<blockquote>quoted</blockquote>text", "quoted\n\ntext"},
      {"<section>s1</section><article>a1</article>", "s1\na1"},
      {"<p>non&nbsp;breaking&#160;&#160;space</p>", "non breaking space"},
      {"<p>  </p><p>\n</p>", ""},
  };
  for (const auto& [html, text] : table) EXPECT_EQ(run(html).text, text) << html;
}

TEST(ExtractText, PreKeepsWhitespace) {
  const Page p = run("<p>Code:</p><pre>\nint main() {\n    return  0;\n}\n</pre><p>After   it</p>");
  EXPECT_EQ(p.text, "Code:\n\nint main() {\n    return  0;\n}\n\nAfter it");
  EXPECT_EQ(run("<pre>a\r\nb\rc</pre>").text, "a\nb\nc");
  EXPECT_EQ(run("<pre><b>x</b>  <i>y</i></pre>").text, "x  y");
}

TEST(ExtractLinks, ResolvedNormalisedDeduplicated) {
  const Page p = run(R"html(<body>
    <a href="/about">About   us</a>
    <a href="other.html#top">Other</a>
    <a href="HTTPS://WWW.EXAMPLE.COM:443/about">About again</a>
    <a href="https://blog.example.com/x">Sub domain</a>
    <a href="http://elsewhere.org/p?q=1">External</a>
    <a href="other.html"></a>
    <a href="/img"><img src="i.png" alt="  Picture  alt "></a>
    <a href="/empty"></a>
    <a href="/empty">Filled later</a>
    <a href="../up/ sp ace/ü">Odd href</a>
    <a href="#section">Fragment</a>
    <a href="">Self</a>
    <a href="javascript:void(0)">JS</a>
    <a href="mailto:someone@example.com">Mail</a>
    <a href="ftp://example.com/file">FTP</a>
    <a href="tel:+123">Tel</a>
    <a>No href</a>
  </body>)html");
  EXPECT_EQ(links_of(p),
            "https://www.example.com/about [About us] internal\n"
            "https://www.example.com/blog/other.html [Other] internal\n"
            "https://blog.example.com/x [Sub domain] internal\n"
            "http://elsewhere.org/p?q=1 [External]\n"
            "https://www.example.com/img [Picture alt] internal\n"
            "https://www.example.com/empty [Filled later] internal\n"
            "https://www.example.com/up/%20sp%20ace/%C3%BC [Odd href] internal\n");
}

TEST(ExtractLinks, HrefsReadAsBrowsersDo) {
  const auto base = url::parse("https://example.com/dir/page?x=1").value();
  const std::pair<const char*, const char*> table[] = {
      {"  /a b\t\n", "https://example.com/a%20b"},
      {"/caf\xC3\xA9", "https://example.com/caf%C3%A9"},
      {"\\\\other.example\\p\\q?r=\\", "https://other.example/p/q?r=%5C"},
      {"/list?ids[]=1&ids[]=2", "https://example.com/list?ids%5B%5D=1&ids%5B%5D=2"},
      {"/100%/x%zz", "https://example.com/100%25/x%25zz"},
      {"/a\"b<c>|{}", "https://example.com/a%22b%3Cc%3E%7C%7B%7D"},
      {"?y=2", "https://example.com/dir/page?y=2"},
      {"../up", "https://example.com/up"},
      {"http://[2001:db8::1]/v6", "http://[2001:db8::1]/v6"},
      {"//example.org", "https://example.org/"},
      {"x#a#b", "https://example.com/dir/x"},
      {"javascript:alert(1)", ""},
      {"mailto:a@example.com", ""},
      {"data:text/html,hi", ""},
      {"http://user:pw@example.com/", ""},
  };
  for (const auto& [href, expected] : table) {
    const auto u = resolve_href(&base, href);
    EXPECT_EQ(u ? u->normalized : "", expected) << href;
  }
}

TEST(ExtractLinks, LinksInChromeAreKept) {
  const Page p =
      run("<nav><a href='/menu'>Menu</a></nav><p>Body <a href='/in'>in</a></p><footer><a "
          "href='/legal'>Legal</a></footer>");
  ASSERT_EQ(p.links.size(), 3u);
  EXPECT_EQ(p.links[0].url, "https://www.example.com/menu");
  EXPECT_EQ(p.links[2].url, "https://www.example.com/legal");
  EXPECT_EQ(p.text, "Body in");
}

TEST(ExtractLinks, BaseHref) {
  const Page p =
      run("<head><base href='https://static.example.org/root/'></head><a href='page'>P</a><a "
          "href='/abs'>A</a><base href='https://ignored.example/'>");
  EXPECT_EQ(links_of(p),
            "https://static.example.org/root/page [P]\n"
            "https://static.example.org/abs [A]\n");
  // A relative base resolves against the page URL.
  const Page rel = run("<base href='/sub/'><a href='x'>X</a>");
  EXPECT_EQ(links_of(rel), "https://www.example.com/sub/x [X] internal\n");
  // An unusable base is ignored.
  const Page bad = run("<base href='javascript:x'><a href='x'>X</a>");
  EXPECT_EQ(links_of(bad), "https://www.example.com/blog/x [X] internal\n");
}

TEST(ExtractLinks, WithoutAPageUrlOnlyAbsoluteLinksSurvive) {
  const Page p = run("<a href='/rel'>r</a><a href='https://example.com/abs'>a</a>", "");
  EXPECT_EQ(links_of(p), "https://example.com/abs [a]\n");
}

TEST(ExtractLinks, AtMostTheLimit) {
  std::string html;
  for (std::size_t i = 0; i < kMaxLinks + 500; ++i) html += "<a href='/p" + std::to_string(i) + "'>l</a>";
  const Page p = run(html);
  ASSERT_EQ(p.links.size(), kMaxLinks);
  EXPECT_EQ(p.links.back().url, "https://www.example.com/p" + std::to_string(kMaxLinks - 1));
}

TEST(ExtractCharset, Windows1252FromHeader) {
  const Page p =
      run("<title>Caf\xE9</title><p>\x93Quoted\x94 \x96 dash</p>", kPageUrl, "text/html; charset=windows-1252");
  EXPECT_EQ(p.charset, "windows-1252");
  EXPECT_EQ(p.title, "Café");
  EXPECT_EQ(p.text, "“Quoted” – dash");
}

TEST(ExtractCharset, ShiftJisViaMeta) {
  const Page p =
      run("<html><head><meta charset=\"shift_jis\"><title>\x93\xFA\x96\x7B</title></head>"
          "<body><p>\x93\xFA\x96\x7B\x8C\xEA</p></body></html>",
          kPageUrl, "text/html");
  EXPECT_EQ(p.charset, "shift_jis");
  EXPECT_EQ(p.title, "日本");
  EXPECT_EQ(p.text, "日本語");
}

TEST(ExtractCharset, LyingHeaderLosesToBom) {
  const Page p = run("\xEF\xBB\xBF<p>na\xC3\xAFve \xE2\x80\x94 ok</p>", kPageUrl, "text/html; charset=iso-8859-1");
  EXPECT_EQ(p.charset, "utf-8");
  EXPECT_EQ(p.text, "naïve — ok");
}

TEST(ExtractCharset, InvalidUtf8BecomesReplacementCharacter) {
  const Page p = run("<p>bad \xFF\xFE byte</p>", kPageUrl, "text/html; charset=utf-8");
  EXPECT_EQ(p.charset, "utf-8");
  EXPECT_EQ(p.text, "bad \uFFFD\uFFFD byte");
}

TEST(ExtractCharset, GuessesWithoutDeclarations) {
  EXPECT_EQ(run("<p>caf\xC3\xA9</p>", kPageUrl, "").charset, "utf-8");
  const Page p = run("<p>caf\xE9</p>", kPageUrl, "");
  EXPECT_EQ(p.charset, "windows-1252");
  EXPECT_EQ(p.text, "café");
}

TEST(ExtractHostile, EmptyInput) {
  const Page p = run("");
  EXPECT_EQ(p.text, "");
  EXPECT_EQ(p.title, "");
  EXPECT_TRUE(p.links.empty());
  EXPECT_EQ(p.charset, "utf-8");
  EXPECT_EQ(run("   \n ").text, "");
}

TEST(ExtractHostile, BinaryGarbage) {
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (int round = 0; round < 20; ++round) {
    std::string body;
    for (int i = 0; i < 20000; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      body += static_cast<char>(x & 0xFF);
      if (i % 97 == 0) body += '\0';
      if (i % 211 == 0) body += "<a href=";
    }
    const Page p = run(body);
    EXPECT_TRUE(charset::is_valid_utf8(p.text));
    EXPECT_TRUE(charset::is_valid_utf8(p.title));
    for (const Link& l : p.links) EXPECT_TRUE(l.url.starts_with("http"));
  }
}

TEST(ExtractHostile, BrokenMarkup) {
  const std::pair<const char*, const char*> table[] = {
      {"<p>unclosed <b>bold <i>italic", "unclosed bold italic"},
      {"<div><p>one<div>two</p></span></div>three", "one\n\ntwo\nthree"},
      {"<title>no end<p>text", ""},
      {"<a href='/x'>open link <p>para", "open link\n\npara"},
      {"<p>a < b and c > d</p>", "a < b and c > d"},
      {"<<<>>>&&&;;", nullptr},
      {"<p attr=\"unterminated>text</p>", nullptr},
      {"<!-- unclosed comment <p>hidden", nullptr},
      {"<script>never closed <p>text", ""},
  };
  for (const auto& [html, text] : table) {
    // libxml2 reports every one of these; none of it may reach stderr.
    testing::internal::CaptureStderr();
    const Page p = run(html);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "") << html;
    if (text != nullptr) {
      EXPECT_EQ(p.text, text) << html;
    }
    EXPECT_TRUE(charset::is_valid_utf8(p.text)) << html;
  }
}

TEST(ExtractHostile, DeeplyNestedDivs) {
  std::string html = "<html><head><title>Deep</title></head><body>";
  for (int i = 0; i < 100000; ++i) html += "<div>";
  html += "<p>deep text <a href='/deep'>deep link</a></p>";
  for (int i = 0; i < 100000; ++i) html += "</div>";
  html += "<p>after</p></body></html>";
  const Page p = run(html);
  EXPECT_EQ(p.title, "Deep");
  EXPECT_NE(p.text.find("deep text deep link"), std::string::npos) << p.text.substr(0, 200);
  ASSERT_EQ(p.links.size(), 1u);
  EXPECT_EQ(p.links[0].text, "deep link");

  std::string unclosed;
  for (int i = 0; i < 100000; ++i) unclosed += "<div><span>";
  unclosed += "bottom";
  EXPECT_NE(run(unclosed).text.find("bottom"), std::string::npos);
}

TEST(ExtractThreads, ConcurrentCallsAgree) {
  std::string html = "<html lang=en><title>T</title><body>";
  for (int i = 0; i < 200; ++i)
    html += "<p>Paragraph " + std::to_string(i) + " <a href='/p" + std::to_string(i) + "'>link</a></p>";
  const Page expected = run(html);
  std::vector<std::string> texts(4);
  std::vector<std::size_t> link_counts(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < texts.size(); ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        auto r = extract(Input{html, kPageUrl, "text/html; charset=utf-8", ""});
        texts[t] = r.ok() ? r->text : "error";
        link_counts[t] = r.ok() ? r->links.size() : 0;
      }
    });
  for (auto& th : threads) th.join();
  for (std::size_t t = 0; t < texts.size(); ++t) {
    EXPECT_EQ(texts[t], expected.text);
    EXPECT_EQ(link_counts[t], 200u);
  }
}

TEST(ExtractLimits, RefusesBodiesOverTheLimit) {
  const std::string body(1000, 'x');
  auto r = extract(Input{body, kPageUrl, "", ""}, 999);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::too_large);
  EXPECT_EQ(r.error().code, "body-too-large");
  EXPECT_TRUE(extract(Input{body, kPageUrl, "", ""}, 1000).ok());
}

// Deterministic pseudo-random prose, so the tests need no fixture files.
std::vector<std::string> words(std::uint32_t seed, int n) {
  static const char* const kVocabulary[] = {
      "river",  "stone",  "green",  "light",   "market",  "winter", "garden", "quiet",  "signal", "paper",
      "window", "orange", "travel", "silver",  "forest",  "engine", "harbor", "letter", "mirror", "castle",
      "planet", "bridge", "candle", "thunder", "meadow",  "pocket", "shadow", "valley", "rocket", "island",
      "copper", "breeze", "anchor", "velvet",  "lantern", "falcon", "marble", "spiral", "tundra", "violet"};
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    out.emplace_back(kVocabulary[(seed >> 16) % 40]);
  }
  return out;
}

std::string join(const std::vector<std::string>& w) {
  std::string out;
  for (const auto& s : w) out += (out.empty() ? "" : " ") + s;
  return out;
}

TEST(ExtractSimhash, IdenticalNearAndFar) {
  const auto base = words(1, 400);
  const std::string text = join(base);
  EXPECT_EQ(simhash(text), simhash(text));
  // Case and whitespace do not matter.
  std::string shouty = text;
  for (char& c : shouty) c = static_cast<char>(c == ' ' ? '\n' : c - 'a' + 'A');
  EXPECT_EQ(simhash(text), simhash("  " + shouty + "  "));

  auto near = base;
  near[100] = "different";
  near[250] = "changed";
  EXPECT_LE(simhash_distance(simhash(text), simhash(join(near))), 6);

  for (std::uint32_t seed = 2; seed < 12; ++seed)
    EXPECT_GE(simhash_distance(simhash(text), simhash(join(words(seed, 400)))), 16) << seed;
}

TEST(ExtractSimhash, ShortAndUnspacedTexts) {
  EXPECT_EQ(simhash(""), 0u);
  EXPECT_EQ(simhash(" ,.;! "), 0u);
  EXPECT_NE(simhash("one"), 0u);
  EXPECT_NE(simhash("one"), simhash("two"));
  EXPECT_NE(simhash("one two"), simhash("two one"));
  // Each CJK character is a word, so a one-character change moves few bits.
  const std::string a =
      "今日は天気が良いので公園を散歩しました。桜の花がとても綺麗に咲いていて、たくさんの人が写真を撮っていました。";
  const std::string b =
      "今日は天気が良いので公園を散歩しました。桜の花がとても綺麗に咲いていて、たくさんの人が写真を撮っていた。";
  EXPECT_LE(simhash_distance(simhash(a), simhash(b)), 10);
  EXPECT_NE(simhash(a), simhash("Lorem ipsum dolor sit amet"));
}

TEST(ExtractSimhash, WordsAreTheSameWhereverTheyFallInTheText) {
  // Long text is read sixteen bytes at a time up to the first non-ASCII byte and a byte at a
  // time after it; a word read either way, or across the switch, hashes the same.
  const std::string text =
      "Internationalization, in 2024: naïve café-goers read über-long words "
      "(supercalifragilisticexpialidocious, antidisestablishmentarianism) and short ones: a, b, c. " +
      join(words(7, 60)) + " 東京 ends";
  const std::uint64_t h = simhash(text);
  for (std::size_t pad = 1; pad <= 40; ++pad) {
    EXPECT_EQ(simhash(std::string(pad, ' ') + text), h) << pad;
    EXPECT_EQ(simhash(text + std::string(pad, '.')), h) << pad;
  }
  // A word ends where the text ends, read from a buffer with nothing after it.
  const std::string tail = "x " + std::string(30, 'y');
  const auto exact = std::make_unique<char[]>(tail.size());
  std::memcpy(exact.get(), tail.data(), tail.size());
  EXPECT_EQ(simhash(std::string_view(exact.get(), tail.size())), simhash(tail + " "));
}

TEST(ExtractSimhash, EveryByteOfAWordCounts) {
  // Words that differ only past their eighth or sixteenth byte, or only in a non-ASCII letter.
  EXPECT_NE(simhash("internationalization"), simhash("internationalizatiom"));
  EXPECT_NE(simhash("abcdefgh1"), simhash("abcdefgh2"));
  EXPECT_NE(simhash("abcdefgh"), simhash("abcdefgh0"));
  EXPECT_NE(simhash("naïve"), simhash("naîve"));
  // A non-ASCII letter joins the word; punctuation splits it.
  EXPECT_NE(simhash("naïve one two"), simhash("na ve one two"));
  EXPECT_EQ(simhash("na—ve one two"), simhash("na ve one two"));
}

// Prose of 30 KB with accented and CJK words and words of 30 bytes or more mixed in, so that
// words and multi-byte characters fall across every kind of boundary a scan could have.
std::string long_mixed_text() {
  std::string out;
  int i = 0;
  for (const auto& w : words(3, 4000)) {
    ++i;
    out += i % 37 == 0 ? "Café " : i % 41 == 0 ? "東京" : i % 101 == 0 ? "Supercalifragilisticexpialidocious-" : "";
    out += w;
    out += i % 13 == 0 ? ". " : " ";
  }
  return out;
}

TEST(ExtractSimhash, ValuesAreFixedForTheExtractorVersion) {
  // Records carry the simhash, and nodes running different builds compare them: for extractor
  // version 0.4.1 these are the values, whatever the CPU or the code path.
  const std::pair<std::string, const char*> table[] = {
      {"one", "2ba8fb11eb3d7097"},
      {"one two", "abe55fa82f995c4e"},
      {"The quick brown fox jumps over the lazy dog.", "d6f8d781c7716035"},
      {"Internationalization, in 2024: naïve café-goers read ÜBER-long words (supercalifragilisticexpialidocious).",
       "063fb634e1f92fe4"},
      {"今日は天気が良いので公園を散歩しました。", "75c164a6d966b178"},
      {"ภาษาไทยเขียนติดกันโดยไม่มีช่องว่าง", "0dc3daa383668550"},
      {std::string("ab\xC3 c\x80"
                   "d \xE4\xB8 e\xF0\x9F\x98 f\xC0\xA0g h\x10i\x7Fj \xE4\xB8\xAD"),
       "f2dff6ca7cdc6235"},  // invalid UTF-8 and control bytes
      {long_mixed_text(), "57919b7a3747fbf7"},
  };
  for (const auto& [text, hex] : table) EXPECT_EQ(simhash_hex(simhash(text)), hex) << text.substr(0, 40);
}

TEST(ExtractSimhash, LongTextsAreTheSameWhereverTheyStart) {
  // Shifted by up to 130 bytes, the long text's words and characters meet the scan's
  // boundaries at every offset.
  const std::string text = long_mixed_text();
  const std::uint64_t h = simhash(text);
  for (std::size_t pad = 1; pad <= 130; ++pad) EXPECT_EQ(simhash(std::string(pad, ' ') + text), h) << pad;
}

TEST(ExtractSimhash, HexIsSixteenLowerCaseDigits) {
  EXPECT_EQ(simhash_hex(0), "0000000000000000");
  EXPECT_EQ(simhash_hex(0xABCDEF0123456789ULL), "abcdef0123456789");
  EXPECT_EQ(simhash_hex(0x1F), "000000000000001f");
}

TEST(ExtractIdentity, NameAndVersion) {
  EXPECT_STREQ(kExtractorName, "meadow-extract");
  EXPECT_STREQ(kExtractorVersion, "0.4.1");
}

}  // namespace
}  // namespace meadow::extract
