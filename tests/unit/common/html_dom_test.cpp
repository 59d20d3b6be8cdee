// parse_html hands libxml2 stand-ins for long runs of text and script content and puts the runs
// back afterwards. Whatever the markup, the tree must be the one libxml2 builds from the page as
// it is: compared node by node on the demo site, on real pages and on generated markup made of
// the pieces that could trip the scan.
#include "common/html_dom.h"

#include <gtest/gtest.h>
#include <libxml/tree.h>
#include <zlib.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/charset.h"

namespace meadow::extract {
namespace {

namespace fs = std::filesystem;

// Every node in document order, with its depth, type, name, content and attributes.
std::string dump(const HtmlDoc& doc) {
  std::string out;
  const xmlNode* root = reinterpret_cast<const xmlNode*>(doc.get());
  for (const xmlNode* n = root->children; n != nullptr; n = next_in_tree(n, root)) {
    int depth = 0;
    for (const xmlNode* p = n->parent; p != nullptr && p != root; p = p->parent) ++depth;
    out += std::to_string(depth) + " " + std::to_string(n->type) + " ";
    if (n->name != nullptr) out += reinterpret_cast<const char*>(n->name);
    if (n->content != nullptr) out += " [" + std::string(reinterpret_cast<const char*>(n->content)) + "]";
    if (n->type == XML_ELEMENT_NODE) {
      for (const xmlAttr* a = n->properties; a != nullptr; a = a->next) {
        out += std::string(" @") + reinterpret_cast<const char*>(a->name) + "=";
        for (const xmlNode* c = a->children; c != nullptr; c = c->next)
          if (c->content != nullptr) out += reinterpret_cast<const char*>(c->content);
      }
    }
    out += '\n';
  }
  return out;
}

// Bytes a person can read in a failure message.
std::string visible(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u == '\n' || (u >= 0x20 && u < 0x7F)) {
      out += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", u);
      out += hex;
    }
  }
  return out;
}

// The tree parse_html builds with stand-ins, compared with the one libxml2 builds by itself.
ParseStats expect_same_tree(std::string_view html, const std::string& what) {
  ParseStats stats;
  const HtmlDoc fast = parse_html(html, TextRuns::stand_ins, &stats);
  const HtmlDoc plain = parse_html(html, TextRuns::as_is);
  EXPECT_TRUE(fast != nullptr && plain != nullptr);
  if (fast == nullptr || plain == nullptr) return stats;
  const std::string a = dump(fast);
  const std::string b = dump(plain);
  EXPECT_EQ(a, b) << what << " (" << stats.stand_ins << " stand-ins"
                  << (stats.parsed_again ? ", parsed again" : "") << ")\n"
                  << (html.size() < 4000 ? visible(html) : std::string());
  return stats;
}

// Markup without long runs, to end a page with: stand-ins leave the last 512 bytes alone.
std::string markup_tail(int rows = 40) {
  std::string tail;
  for (int i = 0; i < rows; ++i) tail += "<div class=\"row\"><span>" + std::to_string(i % 10) + "</span></div>";
  return tail;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string read_gzip(const fs::path& p) {
  std::string out;
  gzFile f = gzopen(p.c_str(), "rb");
  if (f == nullptr) return out;
  char buf[65536];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

TEST(HtmlDomStandIns, DemoSitePagesGiveTheSameTree) {
  const fs::path root = fs::path(MEADOW_SOURCE_DIR) / "tests/demo_site/pages";
  int pages = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().extension() != ".html") continue;
    const charset::Decoded d = charset::decode(read_file(e.path()), "text/html");
    const ParseStats stats = expect_same_tree(d.text, e.path().string());
    EXPECT_FALSE(stats.parsed_again) << e.path();
    ++pages;
  }
  EXPECT_GE(pages, 10);
}

TEST(HtmlDomStandIns, RealPagesGiveTheSameTree) {
  const fs::path dir = fs::path(MEADOW_SOURCE_DIR) / "../shared/data/wcxb-dev/html";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no " << dir;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  int pages = 0, parsed_again = 0;
  std::size_t stand_ins = 0;
  for (std::size_t i = 0; i < files.size(); i += 6) {  // a sixth of the pages keeps the test short
    const charset::Decoded d = charset::decode(read_gzip(files[i]), "text/html");
    const ParseStats stats = expect_same_tree(d.text, files[i].string());
    stand_ins += stats.stand_ins;
    parsed_again += stats.parsed_again ? 1 : 0;
    ++pages;
  }
  EXPECT_GE(pages, 200);
  EXPECT_GT(stand_ins, static_cast<std::size_t>(pages) * 10) << "the scan found almost no runs";
  EXPECT_LE(parsed_again, pages / 100) << "pages parsed twice";
}

using Pick = std::function<std::size_t(std::size_t)>;

// Parses 20,000 documents from `generate`, each ended by at least 560 bytes of plain markup,
// both ways. With a long name in its last 500 bytes libxml2 itself may cut the name or not,
// depending on where the allocator put its buffer. Both paths must be taken: most documents
// use stand-ins, and some need a second parse.
void check_generated(unsigned seed, const std::function<std::string(Pick&, int)>& generate) {
  std::mt19937 rng(seed);
  Pick pick = [&rng](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  int used = 0, parsed_again = 0;
  constexpr int kDocs = 20000;
  for (int d = 0; d < kDocs; ++d) {
    const std::string html = generate(pick, d) + markup_tail(16 + static_cast<int>(pick(25)));
    const ParseStats stats = expect_same_tree(html, "generated document " + std::to_string(d));
    used += stats.stand_ins > 0 ? 1 : 0;
    parsed_again += stats.parsed_again ? 1 : 0;
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(used, kDocs / 2);
  EXPECT_GT(parsed_again, 0);
}

// Markup made of the pieces where the scan could take markup for text or text for markup,
// each next to long runs: entities cut short, quoted '>', comments closed every way, scripts
// that close themselves or never close, raw bytes libxml2 drops or rewrites, white space
// around libxml2's 1,000-byte chunks, names long enough to be cut when libxml2 drops what it
// has read near the end of a page, and the stand-in characters themselves.
TEST(HtmlDomStandIns, GeneratedMarkupGivesTheSameTree) {
  const std::vector<std::string> runs = {
      "The quick brown fox jumps over the lazy dog, again and again and again.",
      "\xC3\x9C" "berpr\xC3\xBC" "fung der Stra\xC3\x9F" "e \xE2\x80\x94 na\xC3\xAF" "ve caf\xC3\xA9 \xE2\x98\x95 \xF0\x9F\x98\x80 long enough",
      "averyveryveryverylongwordwithoutanyspacesatallinthewholething",
      " \n\t  white space before and after a sentence that is long enough \n  ",
      std::string(1003, ' ') + "after a thousand spaces comes a long enough line",
      "long enough line before a thousand spaces" + std::string(1001, ' '),
      std::string(998, 'a') + " " + std::string(5, 'b'),
      std::string(1000, 'c'),
      "x;y;z;semicolons;are;here;in;a;long;run;of;text;and;more",
      "quotes \" and ' and = and / and ? and - and -- in a long run of text",
      "var s = 'a > b && c < d'; if (x) { y(); } /* comment */ // end",
      "tab\tand\tcarriage\rreturn\r\nin a line that is long enough to count",
  };
  const std::vector<std::string> pieces = {
      "<p>", "</p>", "<div class=\"a>b\">", "<div title='x > y'>", "<a href=x/>", "<a href=\"/\">", "</a>",
      "<br/>", "<img alt=\"a > b\" />", "<b>", "</b>", "<td>", "<table>", "<tr>", "<li>", "<ul>", "<html>",
      "<head>", "<body>", "</body>", "<title>", "</title>", "</head>", "<meta charset=utf-8>", "<textarea>",
      "</textarea>", "<pre>", "</pre>", "<script>", "</script>", "<script/>", "<script src=x />",
      "<script src=x/>", "<style>", "</style>", "<SCRIPT type='t'>", "</SCRIPT >", "</scripty>",
      "</ script>", "<!--", "-->", "--!>", "<!-->", "<!--->", "<!-- c -->", "<!DOCTYPE html>",
      "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">", "<?xml x?>", "<![CDATA[x]]>", "<", ">",
      "<1", "</>", "< p>", "<_x>", "\"", "'", "=", ";", "&amp;", "&amp", "&", "& ", "&#65;", "&#x41",
      "&nbsp;", "&bogus;", "&lt;", std::string(1, '\0'), "\x01", "\x7F", "\r\n", "\r", "\xFF", "\xC3",
      "\xED\xA0\x80", "\xEF\xBF\xBE", "\xEE\x80\x85", " ", "\n", "\t", "-", "/", "?",
      "&" + std::string(150, 'n') + "\xC3\xA9;", "<?" + std::string(120, 'p') + "\xC3\xA9?>",
      "<!DOCTYPE " + std::string(120, 'd') + "\xC3\xA9>", markup_tail(), "<noscript>", "<script><noscript class=a>",
      "<style><p>", "<script class=x/>",
  };
  check_generated(20261122, [&](Pick& pick, int d) {
    std::string html;
    const std::size_t parts = 1 + pick(40);
    for (std::size_t k = 0; k < parts; ++k) html += pick(3) == 0 ? runs[pick(runs.size())] : pieces[pick(pieces.size())];
    if (d % 97 == 0) html += "\xEE\x80\x80" "0" "\xEE\x80\x81";  // the stand-in characters themselves
    return html;
  });
}

// Tag soup: words of several scripts with every kind of separator, raw bytes, tags with
// attributes quoted, unquoted, unclosed or self-closing, comments, scripts cut short, entities
// with long names.
TEST(HtmlDomStandIns, GeneratedTagSoupGivesTheSameTree) {
  const std::vector<std::string> words = {"alpha", "Beta", "gamma", "d\xC3\xA9j\xC3\xA0", "\xE4\xB8\xAD\xE6\x96\x87", "x",
                                          "12", "a-b", "c_d", "e.f", "g:h", "\xC2\xA0", "\xEF\xBB\xBF",
                                          "\xF0\x9F\x98\x80"};
  const std::vector<std::string> separators = {
      " ", "  ", "\n", "\t", "\r\n", "\r", ";", ",", ".", "!", "?", "/", "-", "--", "=", "'", "\"", ">", "&",
      "&amp;", "&amp", "&#10;", "&#x;", "&#", "&nbsp", "&;", "<", "</", "<!", "<?", std::string(1, '\0'), "\x01",
      "\x0b", "\x0c", "\x7f", "\xff", "\xc3", "\xe2\x82", "\xed\xb0\x80", "\xef\xbf\xbf"};
  const std::vector<std::string> tags = {"p",        "div",    "span",  "a",      "b",     "script",   "style",
                                         "SCRIPT",   "Style",  "title", "textarea", "pre", "li",       "ul",
                                         "td",       "tr",     "table", "head",   "body",  "html",     "br",
                                         "img",      "meta",   "noscript", "template", "iframe", "xmp", "plaintext",
                                         "svg",      "option", "select", "form",  "h1",    "scripty",  "styles"};
  check_generated(20261123, [&](Pick& pick, int) {
    auto text = [&](std::size_t n) {
      std::string t;
      for (std::size_t i = 0; i < n; ++i) t += words[pick(words.size())] + (pick(4) != 0 ? " " : separators[pick(separators.size())]);
      return t;
    };
    auto attributes = [&] {
      std::string a;
      for (std::size_t i = pick(4); i > 0; --i) {
        a += pick(5) != 0 ? " " : "\n";
        a += pick(6) != 0 ? "class" : pick(2) != 0 ? "data-x" : "\"q";
        switch (pick(7)) {
          case 0: break;
          case 1: a += "=" + text(1 + pick(3)); break;
          case 2: a += "=\"" + text(pick(6)) + "\""; break;
          case 3: a += "='" + text(pick(6)) + "'"; break;
          case 4: a += " = \"" + text(pick(3)) + "> <\""; break;
          case 5: a += "=\"" + text(pick(3)); break;  // never closed
          default: a += "=x/"; break;
        }
      }
      if (pick(8) == 0) a += "/";
      return a;
    };
    std::string html;
    for (std::size_t k = 1 + pick(60); k > 0; --k) {
      switch (pick(10)) {
        case 0: case 1: case 2: html += text(1 + pick(60)); break;
        case 3: html += "<" + tags[pick(tags.size())] + attributes() + ">"; break;
        case 4: html += "</" + tags[pick(tags.size())] + (pick(4) != 0 ? ">" : " x>"); break;
        case 5: html += pick(2) != 0 ? "<!--" + text(pick(5)) + (pick(3) != 0 ? "-->" : "--!>") : "<!-->"; break;
        case 6: html += separators[pick(separators.size())]; break;
        case 7: html += "<script>" + text(pick(30)) + (pick(3) != 0 ? "</script>" : "</scr"); break;
        case 8: html += std::string(pick(2) != 0 ? 1000 + pick(5) : 30 + pick(10), pick(2) != 0 ? ' ' : 'z'); break;
        default: html += "&" + std::string(pick(2) != 0 ? 3 : 70 + pick(60), 'n') + (pick(2) != 0 ? ";" : "\xC3\xA9"); break;
      }
    }
    return html;
  });
}

TEST(HtmlDomStandIns, PagesWithTheStandInCharactersKeepThem) {
  const std::string html =
      "<p>A long paragraph that would have been a run, before \xEE\x80\x80" "0" "\xEE\x80\x81 "
      "and after the private-use characters, which stay.</p>" + markup_tail();
  const ParseStats stats = expect_same_tree(html, "private use");
  EXPECT_EQ(stats.stand_ins, 0u);
  const HtmlDoc doc = parse_html(html);
  EXPECT_NE(node_text(root_element(doc.get()), 1000).find("before \xEE\x80\x80" "0" "\xEE\x80\x81 and after"),
            std::string::npos);
}

TEST(HtmlDomStandIns, TextAndScriptsComeBackWhole) {
  const std::string prose = "Every word of this paragraph comes back, in order, with its spacing.";
  const std::string script = "var s = 'a > b && c'; function f() { return s + \"</div>\"; }";
  const std::string html = "<html><body><p>" + prose + "</p><script>" + script + "</script>\n<p>" + prose +
                           " &amp; " + prose + "</p>" + markup_tail() + "</body></html>";
  ParseStats stats;
  const HtmlDoc doc = parse_html(html, TextRuns::stand_ins, &stats);
  EXPECT_EQ(stats.stand_ins, 4u);
  EXPECT_FALSE(stats.parsed_again);
  const xmlNode* root = reinterpret_cast<const xmlNode*>(doc.get());
  std::vector<std::string> texts;
  for (const xmlNode* n = root->children; n != nullptr; n = next_in_tree(n, root)) {
    if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content != nullptr)
      texts.emplace_back(reinterpret_cast<const char*>(n->content));
  }
  texts.resize(4);
  EXPECT_EQ(texts, (std::vector<std::string>{prose, script, "\n", prose + " & " + prose}));
}

TEST(HtmlDomStandIns, ScriptsThatStartWithATagAreLeftAlone) {
  // libxml2 reads the tag first, and a <noscript> closes the <script>; a stand-in cutting its
  // name short would keep the script open.
  const std::string html = "<body><script class=x/><noscript class=\"a\">content long enough to be a run, "
                           "and then some more of it</noscript><style><p>a style that is long enough to be a "
                           "run { color: red }</style><p>closing text</p>" +
                           markup_tail();
  const ParseStats stats = expect_same_tree(html, "script starting with a tag");
  EXPECT_FALSE(stats.parsed_again);
}

TEST(HtmlDomStandIns, MarkupTheScanMisreadsIsParsedAgain) {
  // libxml2 ends the tag's name at the control character and reads a script; the scan sees
  // an element named "script\x01" and text.
  const std::string html = "<p>Some text to begin with, long enough to become a run.</p><script\x01>"
                           "content the scan takes for text and libxml2 for a script</script>" +
                           markup_tail();
  const ParseStats stats = expect_same_tree(html, "misread");
  EXPECT_GT(stats.stand_ins, 0u);
  EXPECT_TRUE(stats.parsed_again);
}

}  // namespace
}  // namespace meadow::extract
