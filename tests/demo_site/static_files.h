// The hand-written pages: maps a decoded URL path to a file under the root folder, never
// outside it, with a content type by extension (and a few per-file overrides for the
// charset test pages).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace meadow::demo_site {

struct StaticLookup {
  enum class Kind {
    file,         // `body` and `content_type` are set
    missing,      // no such file
    forbidden,    // a segment tried to climb out of the root, or named a hidden file
    needs_slash,  // a folder named without its trailing slash; redirect to add it
  };
  Kind kind = Kind::missing;
  std::string body;
  std::string content_type;
};

// Thread-safe: reads the file system on every lookup and keeps no state besides the root.
class StaticFiles {
 public:
  // `root` should exist; a root that does not makes every lookup `missing`.
  explicit StaticFiles(const std::filesystem::path& root);

  const std::filesystem::path& root() const noexcept { return root_; }

  // `segments` are the percent-decoded path segments ("/articles/1.html" gives "articles",
  // "1.html"); a path ending in '/' ends with an empty segment and serves index.html.
  StaticLookup lookup(const std::vector<std::string>& segments) const;

  // Content-Type for a path relative to the root ("charsets/lying.html").
  static std::string content_type_for(const std::string& relative_path);

 private:
  std::filesystem::path root_;  // canonical
};

}  // namespace meadow::demo_site
