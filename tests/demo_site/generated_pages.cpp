// Layout of the generated archive pages, the /huge stream and --write-pages.
#include "generated_pages.h"

#include <array>
#include <cstdio>
#include <fstream>
#include <system_error>
#include <utility>

#include "prose.h"

namespace meadow::demo_site {

namespace {

constexpr std::size_t kPageTarget = 22 * 1000;

constexpr std::array<const char*, 12> kMonths = {"January", "February", "March",     "April",   "May",      "June",
                                                 "July",    "August",   "September", "October", "November", "December"};

// A date between 2019 and 2024 picked by `n`: ISO form for datetime="", and a readable form.
std::pair<std::string, std::string> page_date(std::uint64_t n) {
  // Days since 1970-01-01 to civil date (H. Hinnant's algorithm).
  std::int64_t z = 17'897 + static_cast<std::int64_t>(n % 2'000) + 719'468;  // from 2019-01-01
  const std::int64_t era = z / 146'097;
  const std::int64_t doe = z - era * 146'097;
  const std::int64_t yoe = (doe - doe / 1'460 + doe / 36'524 - doe / 146'096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char iso[16];
  std::snprintf(iso, sizeof iso, "%04d-%02d-%02d", static_cast<int>(year), static_cast<int>(month),
                static_cast<int>(day));
  return {iso, std::to_string(day) + " " + kMonths[static_cast<std::size_t>(month - 1)] + " " + std::to_string(year)};
}

std::string page_top(std::uint64_t n, const std::string& description, const std::string& author) {
  const std::string num = std::to_string(n);
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>Generated page " +
         num +
         " - Fieldnotes archive</title>\n"
         "<meta name=\"description\" content=\"" +
         description +
         "\">\n"
         "<meta name=\"author\" content=\"" +
         author +
         "\">\n"
         "<link rel=\"canonical\" href=\"/pages/" +
         num +
         ".html\">\n"
         "<link rel=\"stylesheet\" href=\"/static/site.css\">\n</head>\n<body>\n"
         "<div class=\"cookie-banner\" id=\"cookie-banner\"><p>We keep one cookie to remember that you closed "
         "this notice, and nothing else.</p><button type=\"button\">Close</button></div>\n"
         "<header class=\"site-header\"><a class=\"logo\" href=\"/\">Fieldnotes</a>\n"
         "<p class=\"tagline\">A community magazine about meadows, hedgerows and the people who keep them</p>"
         "</header>\n<nav class=\"main-nav\"><ul><li><a href=\"/\">Home</a></li>"
         "<li><a href=\"/articles/\">Articles</a></li><li><a href=\"/forum/thread-1.html\">Forum</a></li>"
         "<li><a href=\"/docs/install.html\">Survey app</a></li><li><a href=\"/pages/0.html\">Archive</a></li>"
         "</ul></nav>\n<nav class=\"breadcrumb\"><a href=\"/\">Home</a> &rsaquo; "
         "<a href=\"/pages/0.html\">Archive</a> &rsaquo; Page " +
         num +
         "</nav>\n<main>\n<article>\n"
         "<h1>Generated page " +
         num + "</h1>\n";
}

std::string page_bottom(std::uint64_t n) {
  std::string s =
      "</article>\n<aside class=\"share\"><span>Share this page:</span> "
      "<a href=\"https://social.example/share?u=/pages/" +
      std::to_string(n) +
      ".html\">Social</a> "
      "<a href=\"https://mail.example/compose?subject=Fieldnotes\">Email</a></aside>\n"
      "<section class=\"read-next\"><h2>Read next</h2>\n<ul>\n";
  for (std::uint64_t k = n + 1; k <= n + 3 && k <= kLastGeneratedPage; ++k) {
    const std::string num = std::to_string(k);
    s += "<li><a href=\"/pages/" + num + ".html\">Generated page " + num + "</a></li>\n";
  }
  s += "</ul></section>\n</main>\n<footer class=\"site-footer\"><p>Fieldnotes is written by volunteers. "
       "Articles may be shared with credit.</p><ul><li><a href=\"/\">Home</a></li>"
       "<li><a href=\"/private/press.html\">Press</a></li><li><a href=\"/text/notes.txt\">Editors' notes</a></li>"
       "</ul></footer>\n</body>\n</html>\n";
  return s;
}

// The /huge body: a head, one block of paragraphs repeated, spaces to reach the exact
// size, then the closing tags.
class HugeBody final : public BodySource {
 public:
  explicit HugeBody(std::uint64_t bytes) : total_(bytes) {
    head_ =
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>A huge page</title>\n"
        "</head>\n<body>\n<h1>A huge page</h1>\n";
    tail_ = "\n<p>The end of the huge page.</p>\n</body>\n</html>\n";
    ProseRandom random(0x4855474555ull);
    while (block_.size() < 64 * 1024) block_ += "<p>" + prose_paragraph(random) + "</p>\n";
    const std::uint64_t middle = total_ - head_.size() - tail_.size();
    blocks_left_ = middle / block_.size();
    padding_ = static_cast<std::size_t>(middle % block_.size());
  }

  std::optional<std::uint64_t> length() const override { return total_; }

  bool next(std::string& piece, std::int64_t& wait_ms) override {
    wait_ms = 0;
    if (!head_sent_) {
      head_sent_ = true;
      piece = head_;
    } else if (blocks_left_ > 0) {
      --blocks_left_;
      piece = block_;
    } else if (!tail_sent_) {
      tail_sent_ = true;
      piece.assign(padding_, ' ');
      piece += tail_;
    } else {
      return false;
    }
    return true;
  }

 private:
  std::uint64_t total_;
  std::string head_, tail_, block_;
  std::uint64_t blocks_left_ = 0;
  std::size_t padding_ = 0;
  bool head_sent_ = false;
  bool tail_sent_ = false;
};

}  // namespace

std::string generated_page(std::uint64_t n) {
  ProseRandom random(n * 7919 + 17);
  const std::string author = prose_name(random);
  const std::string lead = prose_paragraph(random);
  const std::string description = lead.substr(0, lead.find('.') + 1);
  const auto [iso, readable] = page_date(n);

  std::string page = page_top(n, description, author);
  page += "<p class=\"byline\">By <span class=\"author\">" + author + "</span> &middot; <time datetime=\"" + iso +
          "\">" + readable + "</time></p>\n<p class=\"lead\">" + lead + "</p>\n";
  const std::string bottom = page_bottom(n);
  std::size_t in_section = 0;
  while (page.size() + bottom.size() < kPageTarget) {
    if (in_section == 0) {
      page += "<h2>" + prose_heading(random) + "</h2>\n";
      in_section = 3 + random.below(4);
    }
    page += "<p>" + prose_paragraph(random) + "</p>\n";
    --in_section;
  }
  return page + bottom;
}

std::unique_ptr<BodySource> make_huge_body(std::uint64_t bytes) {
  return std::make_unique<HugeBody>(bytes < 64 * 1024 ? 64 * 1024 : bytes);
}

Status write_generated_pages(const std::filesystem::path& dir, std::uint64_t count,
                             const std::filesystem::path& robots_file) {
  std::error_code ec;
  std::filesystem::create_directories(dir / "pages", ec);
  if (ec)
    return make_error(ErrorKind::io, "write-pages", "cannot create " + (dir / "pages").string() + ": " + ec.message());
  for (std::uint64_t n = 0; n < count; ++n) {
    const auto path = dir / "pages" / (std::to_string(n) + ".html");
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << generated_page(n);
    if (!out.flush()) return make_error(ErrorKind::io, "write-pages", "cannot write " + path.string());
  }
  std::filesystem::copy_file(robots_file, dir / "robots.txt", std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) {
    return make_error(
        ErrorKind::io, "write-pages",
        "cannot copy " + robots_file.string() + " to " + (dir / "robots.txt").string() + ": " + ec.message());
  }
  return ok_status();
}

}  // namespace meadow::demo_site
