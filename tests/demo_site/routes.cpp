// Dispatch of a request to its route, and the routes that serve files: static pages,
// robots.txt in its three modes, and the gzip-encoded article and bomb.
#include "routes.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "dynamic_routes.h"
#include "generated_pages.h"
#include "gzip.h"

namespace meadow::demo_site {

Result<std::unique_ptr<Router>> Router::create(SiteConfig config) {
  MEADOW_ASSIGN(std::string bomb, make_gzip_bomb(config.bomb_bytes));
  auto shared = std::make_shared<const std::string>(std::move(bomb));
  return std::unique_ptr<Router>(new Router(std::move(config), std::move(shared)));
}

Router::Router(SiteConfig config, std::shared_ptr<const std::string> bomb)
    : config_(std::move(config)), files_(config_.root), bomb_(std::move(bomb)) {}

Reply Router::handle(const Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    Reply reply = html_reply(405, "Method not allowed", "<p>This site answers GET and HEAD only.</p>");
    reply.headers.emplace_back("Allow", "GET, HEAD");
    return reply;
  }
  auto parsed = boost::urls::parse_origin_form(request.target);
  if (!parsed) {
    return html_reply(400, "Bad request", "<p>The request target is not a valid path and query.</p>");
  }
  const boost::urls::url_view url = *parsed;
  const std::string path = url.path();
  Query query;
  for (auto param : url.params()) query.emplace_back(param.key, param.has_value ? param.value : std::string());

  if (path == "/robots.txt") return robots();
  if (path == "/slow") return slow_route(query);
  if (path == "/huge") {
    Reply reply;
    reply.stream = make_huge_body(config_.huge_bytes);
    return reply;
  }
  if (path == "/gzip/article.html") return gzip_article();
  if (path == "/gzip-bomb") return gzip_bomb();
  if (path.starts_with("/redirect/")) return redirect_route(path, query).value_or(not_found());
  if (path.starts_with("/status/")) return status_route(path).value_or(not_found());
  if (path.starts_with("/pages/")) return generated_page_route(path).value_or(not_found());

  std::vector<std::string> segments;
  for (auto segment : url.segments()) segments.push_back(segment);
  return static_page(segments, path);
}

Reply Router::static_page(const std::vector<std::string>& segments, const std::string& path) const {
  StaticLookup found = files_.lookup(segments);
  switch (found.kind) {
    case StaticLookup::Kind::file: {
      Reply reply;
      reply.content_type = std::move(found.content_type);
      reply.body = std::move(found.body);
      return reply;
    }
    case StaticLookup::Kind::forbidden:
      return html_reply(403, "Forbidden", "<p>That path is not part of this site.</p>");
    case StaticLookup::Kind::needs_slash: {
      Reply reply = html_reply(301, "Moved", "<p>This is a folder; its address ends with a slash.</p>");
      reply.headers.emplace_back("Location", path + "/");
      return reply;
    }
    case StaticLookup::Kind::missing:
      break;
  }
  return not_found();
}

Reply Router::robots() const {
  switch (config_.robots) {
    case RobotsMode::normal: {
      StaticLookup found = files_.lookup({"robots.txt"});
      if (found.kind != StaticLookup::Kind::file) return not_found();
      Reply reply;
      reply.content_type = "text/plain; charset=utf-8";
      reply.body = std::move(found.body);
      return reply;
    }
    case RobotsMode::not_found:
      return not_found();
    case RobotsMode::unavailable:
      return html_reply(503, "Service unavailable",
                        "<p>The rules for this site cannot be read right now; try again later.</p>");
  }
  return not_found();
}

Reply Router::gzip_article() const {
  StaticLookup found = files_.lookup({"articles", "1.html"});
  if (found.kind != StaticLookup::Kind::file) return not_found();
  auto compressed = gzip_compress(found.body);
  if (!compressed) return html_reply(500, "Internal error", "<p>The article could not be compressed.</p>");
  Reply reply;
  reply.content_type = std::move(found.content_type);
  reply.headers.emplace_back("Content-Encoding", "gzip");
  reply.headers.emplace_back("Vary", "Accept-Encoding");
  reply.body = std::move(compressed).value();
  return reply;
}

Reply Router::gzip_bomb() const {
  Reply reply;
  reply.content_type = "text/html; charset=utf-8";
  reply.headers.emplace_back("Content-Encoding", "gzip");
  reply.shared_body = bomb_;
  return reply;
}

Reply Router::not_found() const {
  return html_reply(404, "Page not found",
                    "<p>There is no page at this address. The <a href=\"/articles/\">articles</a> and the "
                    "<a href=\"/pages/0.html\">archive</a> are good places to start.</p>");
}

}  // namespace meadow::demo_site
