// SimClock: one node's view of simulated time. Real clocks drift: each node's
// runs fast or slow by a fixed rate (parts per million) from its own offset,
// so "10 ms" on one node is not "10 ms" on another. Lease reads depend on a
// bound on exactly this (raft/core/config.h); the simulator can respect the bound
// or break it on purpose.
//
// The wall clock is the same crystal read as the time of day: it starts at
// the node's own Unix time (the run draws a date and skews each node by
// seconds) and runs at the node's drift, so leaders' timestamps disagree the
// way real hosts' do.
#pragma once

#include <cstdint>

#include "raft/ports/clock.h"
#include "sim/scheduler.h"

namespace reef::sim {

class SimClock final : public raft::Clock {
 public:
  // drift_ppm > 0 runs fast. |drift_ppm| < 1,000,000. The wall clock reads
  // wall_start_unix_ms plus this clock's local time.
  SimClock(const Scheduler& scheduler, int64_t drift_ppm, uint64_t offset_us, uint64_t wall_start_unix_ms);

  uint64_t now_ms() const override { return local_us(scheduler_.now_us()) / 1000; }
  uint64_t wall_now_ms() const override { return wall_start_unix_ms_ + now_ms(); }
  uint64_t local_us(uint64_t global_us) const;
  // Global microseconds it takes this clock to advance `local_us`.
  uint64_t global_duration_us(uint64_t local_us) const;
  int64_t drift_ppm() const { return drift_ppm_; }

 private:
  const Scheduler& scheduler_;
  int64_t drift_ppm_;
  uint64_t offset_us_;
  uint64_t wall_start_unix_ms_;
};

}  // namespace reef::sim
