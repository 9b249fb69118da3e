// Clock: the node driver's only notion of time.
//
// Two readings, for two different jobs:
//  - now_ms(): monotonic. The core counts ticks; the driver needs elapsed
//    time for client request deadlines, snapshot transfer pacing and
//    freshness. It must never go back, so it is not the time of day.
//  - wall_now_ms(): the time of day, as Unix milliseconds. The leader stamps
//    each proposal with it (statemachine's CURRENT_TIMESTAMP and friends).
//    It may differ between nodes by seconds, drift, and jump either way when
//    an operator or NTP steps it: whoever uses it must tolerate all of that
//    (the state machine never lets its "now" go back; statemachine/).
// Production reads the OS clocks; the simulator reads its scheduler's
// virtual time, each node through its own drift and, for the wall clock,
// its own skew. raft/ never includes a clock header: this interface is the
// seam.
#pragma once

#include <cstdint>

namespace reef::raft {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since an arbitrary origin; never decreases.
  virtual uint64_t now_ms() const = 0;
  // Milliseconds since 1970-01-01 UTC, as this node's clock reads it.
  virtual uint64_t wall_now_ms() const = 0;
};

}  // namespace reef::raft
