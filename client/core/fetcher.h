// Fetches one task URL the way DESIGN.md's "what a node will never do" allows: every hop
// (the first request and each redirect) is checked for scheme, port and address, asked of
// robots.txt, and paced per host; the resolved address is checked again at connect time
// (HttpLoop). Bodies are capped after decoding, slow or silent servers time out, and only
// HTML, XHTML and plain text are downloaded.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/core/address_guard.h"
#include "client/core/http_loop.h"
#include "client/core/politeness.h"
#include "client/core/robots_cache.h"
#include "common/clock.h"
#include "common/protocol.h"

namespace meadow::client {

struct FetchSettings {
  std::string user_agent;                // the whole User-Agent header
  std::string robots_agent = "meadow";   // the product token robots.txt groups are matched with
  std::size_t max_body_bytes = 4u << 20; // after content decoding; more is cut and flagged
  std::int64_t timeout_ms = 30'000;      // one hop, whole transfer
  std::int64_t connect_timeout_ms = 10'000;
  std::int64_t low_speed_bytes = 256;    // slower than this ...
  std::int64_t low_speed_ms = 15'000;    // ... for this long ends the transfer
  int max_redirects = 5;
  std::int64_t max_recv_bytes_per_s = 0; // per transfer; 0: unlimited
  std::int64_t host_interval_ms = 1'000; // the node's own minimum between requests to one host
  std::int64_t max_crawl_delay_ms = 30'000;
  GuardPolicy guard;
  std::vector<std::string> resolve;      // CURLOPT_RESOLVE entries; tests map names to addresses
};

struct RedirectHop {
  std::string url;  // the URL that answered with a redirect
  int status = 0;
};

struct FetchResult {
  std::string url;                    // as asked
  std::string final_url;              // the URL that answered (or was refused) last
  std::vector<RedirectHop> redirects; // each redirect followed, in order
  int http_status = 0;
  std::string content_type;           // media type, lower-case, no parameters
  std::string content_type_header;    // as sent, with parameters (charset)
  std::string content_language;
  std::string body;                   // after content decoding
  bool truncated = false;             // cut at the byte cap, or at the time cap after a 2xx began
  std::int64_t wire_bytes = 0;        // every hop of this fetch, not robots.txt
  std::int64_t started_ms = 0;        // Clock time
  std::int64_t finished_ms = 0;
  protocol::Outcome outcome = protocol::Outcome::ok;
  std::string reason_code;            // when not ok: "robots-disallowed", "content-type", "address-forbidden",
                                      // "port-forbidden", "scheme-forbidden", "bad-url", "too-many-redirects",
                                      // "http-404", "timeout", "dns", "connect", "tls", "transport" ...
  std::string reason;                 // the same for a person
  // When the fetch was asked to capture (a job that wants WARC captures): the final request
  // and response as they crossed the network, less the body (see HttpResponse).
  struct Capture {
    std::string request_head;
    std::string status_line;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string ip_address;
  };
  std::optional<Capture> capture;
};

// Every request the fetcher makes (robots.txt included), for the contribution log.
struct FetchEvent {
  std::string url;
  int http_status = 0;
  std::int64_t wire_bytes = 0;
  std::string error;  // empty when a response arrived
};

class Fetcher {
 public:
  using Done = std::function<void(FetchResult)>;

  Fetcher(HttpLoop& loop, const Clock& clock, FetchSettings settings);
  ~Fetcher();

  // Loop thread only. `done` runs on the loop thread. With `capture`, the result carries the
  // final request and response heads (FetchResult::capture).
  void fetch(const std::string& url, Done done, bool capture = false);

  // Called for every robots.txt request, when it ends (pages come back through Done).
  void set_robots_observer(std::function<void(const FetchEvent&)> fn) { robots_observer_ = std::move(fn); }

  const FetchSettings& settings() const { return settings_; }
  std::size_t in_flight() const { return in_flight_; }

  // True for the media types a node downloads: text/html, application/xhtml+xml, text/plain.
  static bool accepted_type(std::string_view media_type);

 private:
  struct Job;
  void hop(std::shared_ptr<Job> job, std::string url);
  void request(std::shared_ptr<Job> job, url::Url u);
  void finish(std::shared_ptr<Job> job);
  void fetch_robots(const std::string& robots_url, std::function<void(RobotsFetch)> done);

  HttpLoop& loop_;
  const Clock& clock_;
  FetchSettings settings_;
  HostPoliteness politeness_;
  RobotsCache robots_;
  std::function<void(const FetchEvent&)> robots_observer_;
  std::size_t in_flight_ = 0;
};

// The media type of a Content-Type value: "text/html; charset=x" -> "text/html".
std::string media_type_of(std::string_view content_type);

}  // namespace meadow::client
