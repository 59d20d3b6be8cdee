// Counters and latency histograms for /metrics in the Prometheus text format. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace meadow::coordinator {

class Metrics {
 public:
  // One finished HTTP request: counted by route and status, timed by route.
  void observe_request(const std::string& route, int status, double seconds);
  void add(const std::string& counter, std::int64_t n = 1);

  // Gauges are read when rendered: name -> (help, callback returning label set -> value).
  using GaugeFn = std::function<std::map<std::string, double>()>;
  void gauge(const std::string& name, const std::string& help, GaugeFn fn);

  std::string render();

 private:
  static constexpr std::array<double, 12> kBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,   0.25,   0.5,   1.0,  2.5,   10.0};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};
    std::uint64_t total = 0;
    double sum = 0;
  };
  struct Gauge {
    std::string help;
    GaugeFn fn;
  };
  std::mutex mu_;  // guards every map below
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, std::int64_t> counters_;
  std::map<std::string, Gauge> gauges_;
};

}  // namespace meadow::coordinator
