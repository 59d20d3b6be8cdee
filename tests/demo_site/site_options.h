// The command line of meadow-demo-site: one struct with documented defaults, one parser
// that refuses a bad value with the flag and the reason, and the --help text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "routes.h"

namespace meadow::demo_site {

struct SiteOptions {
  std::uint16_t port = 8481;               // --port; 0 picks a free port
  std::string root;                        // --root; the compiled-in source pages folder by default
  std::string access_log;                  // --access-log; none by default
  RobotsMode robots = RobotsMode::normal;  // --robots normal|404|503|none
  std::uint64_t huge_mib = 64;             // --huge-mib, 1..4096
  // --write-pages DIR COUNT: write the generated pages and robots.txt, then exit.
  std::optional<std::string> write_pages_dir;
  std::uint64_t write_pages_count = 0;
  bool help = false;  // --help
};

Result<SiteOptions> parse_site_options(int argc, char** argv);

std::string site_usage();

}  // namespace meadow::demo_site
