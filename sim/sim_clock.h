// SimClock: one node's view of simulated time. Real clocks drift: each node's
// runs fast or slow by a fixed rate (parts per million) from its own offset,
// so "10 ms" on one node is not "10 ms" on another. Lease reads depend on a
// bound on exactly this (raft/config.h); the simulator can respect the bound
// or break it on purpose.
#pragma once

#include <cstdint>

#include "raft/clock.h"
#include "sim/scheduler.h"

namespace reef::sim {

class SimClock final : public raft::Clock {
 public:
  // drift_ppm > 0 runs fast. |drift_ppm| < 1,000,000.
  SimClock(const Scheduler& scheduler, int64_t drift_ppm, uint64_t offset_us);

  uint64_t now_ms() const override { return local_us(scheduler_.now_us()) / 1000; }
  uint64_t local_us(uint64_t global_us) const;
  // Global microseconds it takes this clock to advance `local_us`.
  uint64_t global_duration_us(uint64_t local_us) const;
  int64_t drift_ppm() const { return drift_ppm_; }

 private:
  const Scheduler& scheduler_;
  int64_t drift_ppm_;
  uint64_t offset_us_;
};

}  // namespace reef::sim
