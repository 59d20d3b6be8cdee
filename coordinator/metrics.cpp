#include "coordinator/metrics.h"

#include <cstdio>

namespace meadow::coordinator {

namespace {
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
}  // namespace

void Metrics::observe_request(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.total;
  h.sum += seconds;
}

void Metrics::add(const std::string& counter, std::int64_t n) {
  std::lock_guard lock(mu_);
  counters_[counter] += n;
}

void Metrics::gauge(const std::string& name, const std::string& help, GaugeFn fn) {
  std::lock_guard lock(mu_);
  gauges_[name] = Gauge{help, std::move(fn)};
}

std::string Metrics::render() {
  std::map<std::string, Gauge> gauges;
  std::string out;
  {
    std::lock_guard lock(mu_);
    gauges = gauges_;
    out += "# HELP meadow_http_requests_total HTTP requests answered, by route and status.\n";
    out += "# TYPE meadow_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      out += "meadow_http_requests_total{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) +
             "\"} " + std::to_string(n) + "\n";
    }
    out += "# HELP meadow_http_request_duration_seconds Time from request header to response written.\n";
    out += "# TYPE meadow_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency_) {
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        out += "meadow_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\"" + num(kBuckets[i]) +
               "\"} " + std::to_string(h.counts[i]) + "\n";
      }
      out += "meadow_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\"+Inf\"} " +
             std::to_string(h.total) + "\n";
      out += "meadow_http_request_duration_seconds_sum{route=\"" + route + "\"} " + num(h.sum) + "\n";
      out += "meadow_http_request_duration_seconds_count{route=\"" + route + "\"} " + std::to_string(h.total) + "\n";
    }
    for (const auto& [name, v] : counters_) {
      out += "# TYPE meadow_" + name + " counter\n";
      out += "meadow_" + name + " " + std::to_string(v) + "\n";
    }
  }
  // Gauges run outside the lock: they may query the store.
  for (const auto& [name, g] : gauges) {
    out += "# HELP meadow_" + name + " " + g.help + "\n";
    out += "# TYPE meadow_" + name + " gauge\n";
    for (const auto& [labels, v] : g.fn()) {
      out += "meadow_" + name + (labels.empty() ? "" : "{" + labels + "}") + " " + num(v) + "\n";
    }
  }
  return out;
}

}  // namespace meadow::coordinator
