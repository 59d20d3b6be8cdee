// Time comes in through this interface so tests can run a day of leases in a millisecond.
#pragma once

#include <atomic>
#include <cstdint>

namespace meadow {

// Milliseconds since the Unix epoch, UTC. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ms() const = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override;
};

// A clock that moves only when told; for tests and simulations. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  std::int64_t now_ms() const override;
  void set_ms(std::int64_t ms);
  void advance_ms(std::int64_t delta);

 private:
  std::atomic<std::int64_t> now_;
};

// A process-wide wall clock for front ends' main(); libraries take a Clock& instead.
Clock& system_clock();

}  // namespace meadow
