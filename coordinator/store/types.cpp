#include "coordinator/store/types.h"

#include <array>
#include <string_view>

namespace meadow::coordinator {

namespace {
constexpr std::array<const char*, 4> kJobStates{"active", "paused", "cancelled", "done"};
constexpr std::array<const char*, 2> kScopes{"listed", "site"};
constexpr std::array<const char*, 6> kTaskStates{"queued", "leased", "done", "skipped", "dead", "cancelled"};

template <class E, std::size_t N>
bool parse_enum(std::string_view s, const std::array<const char*, N>& names, E& out) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    if (s == names[i]) {
      out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}
}  // namespace

const char* to_string(JobState s) noexcept { return kJobStates.at(static_cast<std::size_t>(s)); }
const char* to_string(CrawlScope s) noexcept { return kScopes.at(static_cast<std::size_t>(s)); }
const char* to_string(TaskState s) noexcept { return kTaskStates.at(static_cast<std::size_t>(s)); }
bool parse_job_state(std::string_view s, JobState& out) noexcept { return parse_enum(s, kJobStates, out); }
bool parse_crawl_scope(std::string_view s, CrawlScope& out) noexcept { return parse_enum(s, kScopes, out); }

}  // namespace meadow::coordinator
