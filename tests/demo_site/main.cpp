// meadow-demo-site: parses the command line, then either writes the generated pages and
// exits, or serves the site until SIGTERM or SIGINT.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "access_log.h"
#include "generated_pages.h"
#include "routes.h"
#include "server.h"
#include "site_options.h"

namespace {

using namespace meadow::demo_site;

int fail(const std::string& message, int code) {
  std::cerr << "meadow-demo-site: " << message << "\n";
  return code;
}

int write_pages(const SiteOptions& options) {
  const std::filesystem::path robots = std::filesystem::path(options.root) / "robots.txt";
  auto status = write_generated_pages(*options.write_pages_dir, options.write_pages_count, robots);
  if (!status) return fail(status.error().message, 1);
  std::cout << "wrote " << options.write_pages_count << " pages to "
            << (std::filesystem::path(*options.write_pages_dir) / "pages").string() << "\n";
  return 0;
}

int serve(const SiteOptions& options) {
  // Block the stop signals in every thread; this one takes them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<AccessLog> access_log;
  if (!options.access_log.empty()) {
    auto opened = AccessLog::open(options.access_log);
    if (!opened) return fail(opened.error().message, 1);
    access_log = std::move(opened).value();
  }

  SiteConfig config;
  config.root = options.root;
  config.robots = options.robots;
  config.huge_bytes = options.huge_mib * 1024 * 1024;
  auto router = Router::create(config);
  if (!router) return fail(router.error().message, 1);

  ServerOptions server_options;
  server_options.port = options.port;
  const Router& routes = **router;
  auto server = Server::start(
      server_options, [&routes](const Request& request) { return routes.handle(request); }, access_log.get());
  if (!server) return fail(server.error().message, 1);

  std::printf("listening on http://127.0.0.1:%u\n", static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  (*server)->stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_site_options(argc, argv);
  if (!parsed) return fail(parsed.error().message, 2);
  const SiteOptions& options = *parsed;
  if (options.help) {
    std::cout << site_usage();
    return 0;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(options.root, ec)) {
    return fail("--root " + options.root + " is not a folder; pass the demo site's pages folder", 2);
  }
  if (options.write_pages_dir) return write_pages(options);
  return serve(options);
}
