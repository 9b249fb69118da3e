// Clock: the node driver's only notion of time.
//
// The core counts ticks; the driver needs wall-ish time only for client
// request deadlines and for pacing snapshot transfers. Production reads a
// monotonic OS clock; the simulator reads its scheduler's virtual time, each
// node through its own drift. raft/ never includes a clock header: this
// interface is the seam.
#pragma once

#include <cstdint>

namespace reef::raft {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since an arbitrary origin; never decreases.
  virtual uint64_t now_ms() const = 0;
};

}  // namespace reef::raft
