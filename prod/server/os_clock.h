// OsClock: raft::Clock over the operating system's clocks. now_ms() is the
// monotonic clock (never jumps with wall-clock changes, so request deadlines
// and transfer pacing are immune to NTP steps); wall_now_ms() is the time of
// day (CLOCK_REALTIME), which the leader stamps on proposals.
#pragma once

#include <chrono>
#include <cstdint>

#include "raft/ports/clock.h"

namespace reef::prod {

class OsClock final : public raft::Clock {
 public:
  uint64_t now_ms() const override {
    const auto since = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(since).count());
  }
  // A clock set before 1970 reads as 1970: the state machine's "now" is
  // unsigned milliseconds and never goes back anyway.
  uint64_t wall_now_ms() const override {
    const auto since = std::chrono::system_clock::now().time_since_epoch();
    const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(since).count();
    return ms < 0 ? 0 : static_cast<uint64_t>(ms);
  }
};

}  // namespace reef::prod
