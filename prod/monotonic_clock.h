// MonotonicClock: raft::Clock over the OS monotonic clock (never jumps with
// wall-clock changes, so request deadlines and transfer pacing are immune to
// NTP steps).
#pragma once

#include <chrono>
#include <cstdint>

#include "raft/clock.h"

namespace reef::prod {

class MonotonicClock final : public raft::Clock {
 public:
  uint64_t now_ms() const override {
    const auto since = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(since).count());
  }
};

}  // namespace reef::prod
