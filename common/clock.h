// Wall-clock and monotonic time in the units the store uses.
#pragma once

#include <chrono>
#include <cstdint>

namespace memento {

// Milliseconds since the Unix epoch (creation and expiry times are stored this way).
inline int64_t NowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Monotonic microseconds, for measuring durations only.
inline int64_t MonotonicMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace memento
