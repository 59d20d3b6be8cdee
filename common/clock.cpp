#include "common/clock.h"

#include <chrono>

namespace meadow {

std::int64_t SystemClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t ManualClock::now_ms() const { return now_.load(); }
void ManualClock::set_ms(std::int64_t ms) { now_.store(ms); }
void ManualClock::advance_ms(std::int64_t delta) { now_.fetch_add(delta); }

Clock& system_clock() {
  static SystemClock clock;
  return clock;
}

}  // namespace meadow
