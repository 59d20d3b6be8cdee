#include "client/core/fetcher.h"

#include <algorithm>

#include "common/text.h"

namespace meadow::client {

std::string media_type_of(std::string_view content_type) {
  return text::ascii_lower(text::trim(content_type.substr(0, content_type.find(';'))));
}

bool Fetcher::accepted_type(std::string_view media_type) {
  return media_type.empty() || media_type == "text/html" || media_type == "application/xhtml+xml" ||
         media_type == "text/plain";
}

// One fetch in progress: a page (with robots checks) or a robots.txt (without).
struct Fetcher::Job {
  FetchResult result;
  Done done;
  bool robots_file = false;
  bool capture = false;
  std::function<void(RobotsFetch)> robots_done;
};

Fetcher::Fetcher(HttpLoop& loop, const Clock& clock, FetchSettings settings)
    : loop_(loop), clock_(clock), settings_(std::move(settings)),
      politeness_(settings_.host_interval_ms, settings_.max_crawl_delay_ms),
      robots_(
          settings_.robots_agent,
          [this](const std::string& u, std::function<void(RobotsFetch)> done) { fetch_robots(u, std::move(done)); },
          [] { return HttpLoop::steady_ms(); }) {}

Fetcher::~Fetcher() = default;

void Fetcher::fetch(const std::string& url, Done done, bool capture) {
  auto job = std::make_shared<Job>();
  job->capture = capture;
  job->result.url = url;
  job->result.started_ms = clock_.now_ms();
  job->done = std::move(done);
  ++in_flight_;
  hop(job, url);
}

void Fetcher::fetch_robots(const std::string& robots_url, std::function<void(RobotsFetch)> done) {
  auto job = std::make_shared<Job>();
  job->robots_file = true;
  job->result.url = robots_url;
  job->result.started_ms = clock_.now_ms();
  job->robots_done = std::move(done);
  hop(job, robots_url);
}

namespace {

void refuse(FetchResult& r, protocol::Outcome outcome, std::string code, std::string reason) {
  r.outcome = outcome;
  r.reason_code = std::move(code);
  r.reason = std::move(reason);
}

}  // namespace

void Fetcher::hop(std::shared_ptr<Job> job, std::string url) {
  FetchResult& r = job->result;
  r.final_url = url;
  r.http_status = 0;  // a redirect's status is in `redirects`; this hop has none until it answers
  auto parsed = url::parse(url);
  if (!parsed.ok()) {
    refuse(r, protocol::Outcome::skipped, "bad-url", parsed.error().message);
    return finish(job);
  }
  if (auto st = check_url(*parsed, settings_.guard); !st.ok()) {
    refuse(r, protocol::Outcome::skipped, st.error().code, st.error().message);
    return finish(job);
  }
  if (job->robots_file) return request(job, std::move(parsed).value());
  url::Url u = std::move(parsed).value();
  robots_.check(u, [this, job, u](RobotsVerdict v) mutable {
    if (!v.allowed) {
      refuse(job->result, protocol::Outcome::skipped, v.code.empty() ? "robots-disallowed" : v.code, v.reason);
      return finish(job);
    }
    const std::int64_t wait = politeness_.reserve(u.host, HttpLoop::steady_ms(), v.crawl_delay_ms);
    if (wait <= 0) return request(job, std::move(u));
    loop_.after(wait, [this, job, u = std::move(u)]() mutable { request(job, std::move(u)); });
  });
}

void Fetcher::request(std::shared_ptr<Job> job, url::Url u) {
  HttpRequest req;
  req.url = u.normalized;
  req.user_agent = settings_.user_agent;
  req.guard = settings_.guard;
  req.resolve = settings_.resolve;
  req.decode_content = true;
  req.capture = job->capture;
  req.timeout_ms = settings_.timeout_ms;
  req.connect_timeout_ms = settings_.connect_timeout_ms;
  req.low_speed_bytes = settings_.low_speed_bytes;
  req.low_speed_ms = settings_.low_speed_ms;
  req.max_recv_bytes_per_s = settings_.max_recv_bytes_per_s;
  req.max_body_bytes = job->robots_file ? robots::kMaxBytes : settings_.max_body_bytes;
  req.headers.emplace_back("Accept", job->robots_file ? "text/plain, */*;q=0.5"
                                                      : "text/html, application/xhtml+xml, text/plain;q=0.9");
  if (!job->robots_file) {
    // Only a final answer with an unwanted type is cut short; redirects pass.
    req.on_headers = [](const HttpResponse& resp) {
      if (resp.status >= 300 && resp.status < 400) return true;
      return accepted_type(media_type_of(resp.header("content-type")));
    };
  }
  loop_.start(std::move(req), [this, job, u = std::move(u)](HttpResponse resp) {
    FetchResult& r = job->result;
    r.wire_bytes += resp.wire_bytes;
    if (job->robots_file && robots_observer_) {
      robots_observer_({u.normalized, resp.status, resp.wire_bytes, resp.error ? resp.error->message : ""});
    }
    r.http_status = resp.status;
    const std::string location = resp.header("location");
    const bool redirect = resp.status >= 300 && resp.status < 400 && resp.status != 304 && !location.empty();
    if (redirect && !resp.error) {
      if (static_cast<int>(r.redirects.size()) >= settings_.max_redirects) {
        refuse(r, protocol::Outcome::skipped, "too-many-redirects",
               "more than " + std::to_string(settings_.max_redirects) + " redirects");
        return finish(job);
      }
      r.redirects.push_back({u.normalized, resp.status});
      auto next = url::resolve(u, location);
      if (!next.ok()) {
        r.final_url = location;
        refuse(r, protocol::Outcome::skipped, "bad-redirect", "the redirect to " + location + " is not a URL a node follows: " +
                                                                  next.error().message);
        return finish(job);
      }
      return hop(job, next->normalized);
    }
    r.content_type_header = resp.header("content-type");
    r.content_type = media_type_of(r.content_type_header);
    r.content_language = resp.header("content-language");
    r.body = std::move(resp.body);
    r.truncated = resp.truncated;
    if (job->capture && !resp.status_line.empty())
      r.capture = FetchResult::Capture{std::move(resp.request_head), std::move(resp.status_line),
                                       std::move(resp.raw_headers), resp.primary_ip};
    if (resp.error) {
      const Error& e = *resp.error;
      const bool partial = e.code == "timeout" && resp.status >= 200 && resp.status < 300 && !r.body.empty();
      if (partial) {
        r.truncated = true;  // the time cap cut a page that had begun: keep what came
      } else {
        const bool permanent = e.kind == ErrorKind::forbidden;
        refuse(r, permanent ? protocol::Outcome::skipped : protocol::Outcome::failed, e.code, e.message);
        return finish(job);
      }
    }
    if (job->robots_file) return finish(job);
    if (resp.stopped) {
      refuse(r, protocol::Outcome::skipped, "content-type",
             "the page is " + (r.content_type.empty() ? std::string("of no type") : r.content_type) +
                 "; nodes download only HTML, XHTML and plain text");
      r.body.clear();
      return finish(job);
    }
    if (r.http_status < 200 || r.http_status >= 300) {
      // Gone or forbidden pages are final; server trouble and rate limits are worth a retry.
      const bool retry = r.http_status >= 500 || r.http_status == 408 || r.http_status == 429 || r.http_status < 200;
      refuse(r, retry ? protocol::Outcome::failed : protocol::Outcome::skipped, "http-" + std::to_string(r.http_status),
             "the server answered HTTP " + std::to_string(r.http_status));
    }
    finish(job);
  });
}

void Fetcher::finish(std::shared_ptr<Job> job) {
  job->result.finished_ms = clock_.now_ms();
  if (job->robots_file) {
    RobotsFetch f;
    f.status = job->result.reason_code.empty() || job->result.reason_code.starts_with("http-") ? job->result.http_status : 0;
    f.body = std::move(job->result.body);
    f.error = job->result.reason;
    f.error_code = job->result.reason_code;
    if (job->robots_done) job->robots_done(std::move(f));
    return;
  }
  --in_flight_;
  if (job->done) job->done(std::move(job->result));
}

}  // namespace meadow::client
