// Tools that work on files, with no node or coordinator: extract and robots.
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "client/core/record.h"
#include "client/node/common.h"
#include "common/extract.h"
#include "common/json.h"
#include "common/robots.h"
#include "common/selector.h"
#include "common/url.h"

namespace meadow::node {
namespace {

// The whole of FILE, or standard input for "-", refused past `max` bytes.
Result<std::string> read_input(const std::string& path, std::size_t max) {
  std::string data;
  std::istream* in = &std::cin;
  std::ifstream file;
  if (path != "-") {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return make_error(ErrorKind::invalid, "unreadable", path + " is a folder; give a file");
    }
    file.open(path, std::ios::binary);
    if (!file) return make_error(ErrorKind::io, "unreadable", "cannot read " + path);
    in = &file;
  }
  char buf[65536];
  while (*in) {
    in->read(buf, sizeof buf);
    if (in->bad()) return make_error(ErrorKind::io, "unreadable", "reading " + path + " failed");
    data.append(buf, static_cast<std::size_t>(in->gcount()));
    if (data.size() > max) {
      return make_error(ErrorKind::too_large, "too-large",
                        (path == "-" ? std::string("standard input") : path) + " is larger than " + std::to_string(max) + " bytes");
    }
  }
  return data;
}

}  // namespace

int cmd_extract(const std::vector<std::string>& argv) {
  static const char* help =
      "usage: meadow-node extract [--url URL] [--content-type TYPE] [--field NAME=KIND:EXPR]... [FILE | -]\n\n"
      "Prints the record for one saved HTML page as JSON: title, text, links, lang, description,\n"
      "canonical_url, author, published, modified, site_name, jsonld, opengraph, charset, hashes and\n"
      "simhash. Reads standard input when FILE is - or absent.\n"
      "  --url URL            where the page came from: resolves relative links (default http://localhost/)\n"
      "  --content-type TYPE  the Content-Type it was served with, e.g. 'text/html; charset=windows-1252'\n"
      "  --field NAME=KIND:EXPR  a job field to fill, KIND css or xpath, e.g. price=css:span.price\n"
      "                       or sizes=xpath://select[@name='size']/option; repeatable\n";
  Args args(argv, {"--url", "--content-type", "--field"}, {"--help"});
  int code = 0;
  if (handle_help_or_error(args, help, code)) return code;
  if (args.positional().size() > 1) return fail("extract", "give one FILE (or - for standard input)");
  const std::string path = args.positional().empty() ? "-" : args.positional()[0];
  const std::string page_url = args.get("--url", "http://localhost/");
  auto u = url::parse(page_url);
  if (!u.ok()) return fail("extract", "--url: " + u.error().message);
  auto body = read_input(path, 64u << 20);
  if (!body.ok()) return fail("extract", body.error().message);
  auto fields = extract::parse_field_options(args.all("--field"));
  if (!fields.ok()) return fail("extract", fields.error().message);
  const std::string content_type = args.get("--content-type");
  auto page = extract::extract({*body, u->normalized, content_type, "", &*fields});
  if (!page.ok()) return fail("extract", page.error().message);
  for (const std::string& problem : page->field_problems) std::fprintf(stderr, "meadow-node extract: field %s\n", problem.c_str());
  boost::json::object r;
  r["url"] = u->normalized;
  if (!page->charset.empty()) r["charset"] = page->charset;
  r["content_length"] = static_cast<std::int64_t>(body->size());
  client::add_page_fields(r, *page, *body);
  std::printf("%s\n", meadow::to_json(r).c_str());
  return kExitOk;
}

int cmd_robots(const std::vector<std::string>& argv) {
  static const char* help =
      "usage: meadow-node robots --agent TOKEN --url URL FILE\n\n"
      "Checks URL against the robots.txt in FILE (- for standard input) for the crawler TOKEN,\n"
      "as RFC 9309 says, and prints the verdict and the rule that decided it.\n"
      "exit 0: allowed, 1: disallowed, 2: error\n";
  Args args(argv, {"--agent", "--url"}, {"--help"});
  int code = 0;
  if (handle_help_or_error(args, help, code)) return code;
  if (!args.has("--agent") || !args.has("--url") || args.positional().size() != 1) {
    std::fputs(help, stderr);
    return kExitError;
  }
  auto u = url::parse(args.get("--url"));
  if (!u.ok()) return fail("robots", "--url: " + u.error().message);
  auto text = read_input(args.positional()[0], 16u << 20);
  if (!text.ok()) return fail("robots", text.error().message);
  const robots::RobotsTxt rules = robots::RobotsTxt::parse(*text);
  const robots::Verdict v = rules.check(args.get("--agent"), u->path_and_query);
  std::printf("%s\n", v.allowed ? "allowed" : "disallowed");
  if (v.rule) {
    std::printf("rule: %s: %s (line %d)\n", v.rule->allow ? "Allow" : "Disallow", v.rule->pattern.c_str(), v.rule->line);
  } else {
    std::printf("rule: none matched (allowed by default)\n");
  }
  std::printf("group: %s\n", v.group.empty() ? "none applies" : v.group.c_str());
  if (auto d = rules.crawl_delay(args.get("--agent"))) std::printf("crawl-delay: %g s\n", *d);
  return v.allowed ? kExitOk : kExitNo;
}

}  // namespace meadow::node
