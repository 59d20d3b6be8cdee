// Slow page, redirects, status codes and generated pages.
#include "dynamic_routes.h"

#include <array>
#include <charconv>
#include <cstdint>

#include "generated_pages.h"

namespace meadow::demo_site {

namespace {

// A decimal number with no sign, spaces or leading zeros (except "0"), at most `max`.
std::optional<std::uint64_t> parse_number(std::string_view text, std::uint64_t max) {
  if (text.empty() || text.size() > 12 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

const std::string* find_param(const Query& query, std::string_view name) {
  for (const auto& [key, value] : query) {
    if (key == name) return &value;
  }
  return nullptr;
}

// Reads an optional numeric parameter; false (with `bad` set) when present but invalid.
bool number_param(const Query& query, std::string_view name, std::uint64_t max, std::uint64_t& value,
                  std::optional<Reply>& bad) {
  const std::string* text = find_param(query, name);
  if (text == nullptr) return true;
  auto parsed = parse_number(*text, max);
  if (!parsed) {
    bad = html_reply(400, "Bad request",
                     "<p>The parameter <code>" + html_escape(name) + "</code> must be a whole number from 0 to " +
                         std::to_string(max) + ".</p>");
    return false;
  }
  value = *parsed;
  return true;
}

Reply redirect(int status, const std::string& location) {
  Reply reply = html_reply(
      status, "Moved",
      "<p>This page has moved to <a href=\"" + html_escape(location) + "\">" + html_escape(location) + "</a>.</p>");
  reply.headers.emplace_back("Location", location);
  return reply;
}

// The body of /slow: the top of the page, a paragraph a second, then the end.
class SlowBody final : public BodySource {
 public:
  explicit SlowBody(std::uint64_t seconds) : seconds_(seconds) {}
  std::optional<std::uint64_t> length() const override { return std::nullopt; }

  bool next(std::string& piece, std::int64_t& wait_ms) override {
    if (step_ > seconds_ + 1) return false;
    if (step_ == 0) {
      piece =
          "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>A slow page</title>\n"
          "</head>\n<body>\n<h1>A slow page</h1>\n<p>This page arrives one line a second.</p>\n";
      wait_ms = 0;
    } else if (step_ <= seconds_) {
      piece = "<p>Line " + std::to_string(step_) + " of " + std::to_string(seconds_) + ".</p>\n";
      wait_ms = 1000;
    } else {
      piece = "<p>That was the last line.</p>\n</body>\n</html>\n";
      wait_ms = 0;
    }
    ++step_;
    return true;
  }

 private:
  std::uint64_t seconds_;
  std::uint64_t step_ = 0;
};

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Reply html_reply(int status, std::string_view title, std::string_view body_html) {
  Reply reply;
  reply.status = status;
  const std::string t = html_escape(title);
  reply.body = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + t +
               "</title>\n</head>\n<body>\n<h1>" + t + "</h1>\n" + std::string(body_html) +
               "\n<p><a href=\"/\">Back to the Fieldnotes home page</a></p>\n</body>\n</html>\n";
  return reply;
}

Reply slow_route(const Query& query) {
  std::uint64_t start = 0;
  std::uint64_t seconds = 120;
  std::optional<Reply> bad;
  if (!number_param(query, "start", 600, start, bad) || !number_param(query, "seconds", 120, seconds, bad))
    return std::move(*bad);
  if (seconds == 0) seconds = 1;
  Reply reply;
  reply.delay_ms = static_cast<std::int64_t>(start) * 1000;
  reply.headers.emplace_back("Cache-Control", "no-store");
  reply.stream = std::make_unique<SlowBody>(seconds);
  return reply;
}

std::optional<Reply> redirect_route(std::string_view path, const Query& query) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kFixed = {{
      {"/redirect/loop", "/redirect/loop"},
      {"/redirect/to-loopback", "http://127.0.0.1/"},
      {"/redirect/to-private", "http://10.0.0.1/"},
      {"/redirect/to-file", "file:///etc/passwd"},
      {"/redirect/to-ftp", "ftp://127.0.0.1/"},
  }};
  for (const auto& [from, to] : kFixed) {
    if (path == from) return redirect(302, std::string(to));
  }

  constexpr std::string_view kChain = "/redirect/chain/";
  if (path.starts_with(kChain)) {
    auto n = parse_number(path.substr(kChain.size()), 50);
    if (!n) return std::nullopt;
    if (*n == 0) {
      return html_reply(200, "End of the redirect chain",
                        "<p>You followed every redirect of the chain and arrived here.</p>");
    }
    return redirect(302, std::string(kChain) + std::to_string(*n - 1));
  }

  if (path == "/redirect/to") {
    const std::string* url = find_param(query, "url");
    if (url == nullptr || url->empty() || url->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return html_reply(400, "Bad request",
                        "<p>Pass the destination as <code>?url=</code> followed by a percent-encoded URL.</p>");
    }
    std::uint64_t status = 302;
    std::optional<Reply> bad;
    if (!number_param(query, "status", 308, status, bad)) return std::move(*bad);
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
      return html_reply(400, "Bad request", "<p><code>status</code> must be 301, 302, 303, 307 or 308.</p>");
    }
    return redirect(static_cast<int>(status), *url);
  }
  return std::nullopt;
}

std::optional<Reply> status_route(std::string_view path) {
  constexpr std::string_view kPrefix = "/status/";
  if (!path.starts_with(kPrefix)) return std::nullopt;
  auto n = parse_number(path.substr(kPrefix.size()), 599);
  if (!n || *n < 200) return std::nullopt;
  const std::string code = std::to_string(*n);
  return html_reply(static_cast<int>(*n), "Status " + code, "<p>This page answers with status " + code + ".</p>");
}

std::optional<Reply> generated_page_route(std::string_view path) {
  constexpr std::string_view kPrefix = "/pages/";
  constexpr std::string_view kSuffix = ".html";
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix) || path.size() <= kPrefix.size() + kSuffix.size())
    return std::nullopt;
  auto n = parse_number(path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size()), kLastGeneratedPage);
  if (!n) return std::nullopt;
  Reply reply;
  reply.body = generated_page(*n);
  return reply;
}

}  // namespace meadow::demo_site
