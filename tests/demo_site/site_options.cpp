// Parsing and help for the demo site's flags.
#include "site_options.h"

#include <charconv>
#include <string_view>

#ifndef MEADOW_DEMO_PAGES
#define MEADOW_DEMO_PAGES "pages"
#endif

namespace meadow::demo_site {

namespace {

Error usage_error(const std::string& message) {
  return make_error(ErrorKind::invalid, "usage", message + "; see meadow-demo-site --help");
}

bool parse_number(std::string_view text, std::uint64_t min, std::uint64_t max, std::uint64_t& out) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) return false;
  out = value;
  return true;
}

}  // namespace

std::string site_usage() {
  return "usage: meadow-demo-site [--port N] [--root DIR] [--access-log FILE] [--robots MODE] [--huge-mib N]\n"
         "       meadow-demo-site --write-pages DIR COUNT [--root DIR]\n"
         "\n"
         "Serves Meadow's demo web site on http://127.0.0.1 for tests, demos and benchmarks, and prints\n"
         "'listening on http://127.0.0.1:PORT' once ready. Stops on SIGTERM or SIGINT.\n"
         "\n"
         "  --port N              port on 127.0.0.1 (default 8481; 0 picks a free port)\n"
         "  --root DIR            folder of the hand-written pages (default " MEADOW_DEMO_PAGES
         ")\n"
         "  --access-log FILE     append one JSON line per request to FILE\n"
         "  --robots MODE         normal: serve robots.txt (default); 404 or none: answer 404; 503: answer 503\n"
         "  --huge-mib N          size of /huge in MiB, 1..4096 (default 64)\n"
         "  --write-pages DIR COUNT\n"
         "                        write /pages/0.html .. COUNT-1 into DIR/pages/ and robots.txt into DIR, then exit\n"
         "  --help                show this text\n"
         "\n"
         "Dynamic routes: /slow[?start=S&seconds=T], /huge, /redirect/chain/N (0..50), /redirect/loop,\n"
         "/redirect/to?url=U[&status=3xx], /redirect/to-loopback, /redirect/to-private, /redirect/to-file,\n"
         "/redirect/to-ftp, /gzip/article.html, /gzip-bomb, /status/N (200..599), /pages/N.html (0..999999).\n";
}

Result<SiteOptions> parse_site_options(int argc, char** argv) {
  SiteOptions options;
  options.root = MEADOW_DEMO_PAGES;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    auto value = [&](std::string_view what) -> Result<std::string_view> {
      if (i + 1 >= argc) return usage_error(std::string(flag) + " needs " + std::string(what));
      return std::string_view(argv[++i]);
    };
    std::uint64_t number = 0;
    if (flag == "--help" || flag == "-h") {
      options.help = true;
    } else if (flag == "--port") {
      MEADOW_ASSIGN(auto text, value("a port number"));
      if (!parse_number(text, 0, 65535, number))
        return usage_error("--port must be 0..65535, not '" + std::string(text) + "'");
      options.port = static_cast<std::uint16_t>(number);
    } else if (flag == "--root") {
      MEADOW_ASSIGN(auto text, value("a folder"));
      options.root = text;
    } else if (flag == "--access-log") {
      MEADOW_ASSIGN(auto text, value("a file"));
      options.access_log = text;
    } else if (flag == "--robots") {
      MEADOW_ASSIGN(auto text, value("a mode"));
      if (text == "normal") {
        options.robots = RobotsMode::normal;
      } else if (text == "404" || text == "none") {
        options.robots = RobotsMode::not_found;
      } else if (text == "503") {
        options.robots = RobotsMode::unavailable;
      } else {
        return usage_error("--robots must be normal, 404, 503 or none, not '" + std::string(text) + "'");
      }
    } else if (flag == "--huge-mib") {
      MEADOW_ASSIGN(auto text, value("a size in MiB"));
      if (!parse_number(text, 1, 4096, number))
        return usage_error("--huge-mib must be 1..4096, not '" + std::string(text) + "'");
      options.huge_mib = number;
    } else if (flag == "--write-pages") {
      MEADOW_ASSIGN(auto dir, value("a folder and a count"));
      MEADOW_ASSIGN(auto count, value("a count after the folder"));
      if (!parse_number(count, 1, 1'000'000, number))
        return usage_error("--write-pages COUNT must be 1..1000000, not '" + std::string(count) + "'");
      options.write_pages_dir = std::string(dir);
      options.write_pages_count = number;
    } else {
      return usage_error("unknown argument '" + std::string(flag) + "'");
    }
  }
  return options;
}

}  // namespace meadow::demo_site
