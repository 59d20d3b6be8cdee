// The demo site's routes: a plain function from Request to Reply, no sockets. Static pages
// come from the root folder; the dynamic routes misbehave on purpose (slow, huge,
// redirects to places a node must refuse, gzip bombs, arbitrary status codes) so the tests
// can show a node copes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "reply.h"
#include "static_files.h"

namespace meadow::demo_site {

enum class RobotsMode {
  normal,       // serve <root>/robots.txt
  not_found,    // /robots.txt answers 404 ("404" and "none" on the command line)
  unavailable,  // /robots.txt answers 503
};

struct SiteConfig {
  std::filesystem::path root;  // the hand-written pages
  RobotsMode robots = RobotsMode::normal;
  std::uint64_t huge_bytes = 64ull * 1024 * 1024;    // size of /huge
  std::uint64_t bomb_bytes = 1024ull * 1024 * 1024;  // inflated size of /gzip-bomb
};

// Thread-safe after creation: handle() reads only constant state.
class Router {
 public:
  // Builds the gzip bomb once (a few milliseconds).
  static Result<std::unique_ptr<Router>> create(SiteConfig config);

  Reply handle(const Request& request) const;

 private:
  Router(SiteConfig config, std::shared_ptr<const std::string> bomb);

  Reply robots() const;
  Reply static_page(const std::vector<std::string>& segments, const std::string& path) const;
  Reply gzip_article() const;
  Reply gzip_bomb() const;
  Reply not_found() const;

  SiteConfig config_;
  StaticFiles files_;
  std::shared_ptr<const std::string> bomb_;
};

}  // namespace meadow::demo_site
