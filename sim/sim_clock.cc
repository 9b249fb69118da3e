#include "sim/sim_clock.h"

#include "absl/numeric/int128.h"
#include "raft/core/assert.h"

namespace reef::sim {

namespace {
constexpr int64_t kMillion = 1000000;
}

SimClock::SimClock(const Scheduler& scheduler, int64_t drift_ppm, uint64_t offset_us, uint64_t wall_start_unix_ms)
    : scheduler_(scheduler), drift_ppm_(drift_ppm), offset_us_(offset_us), wall_start_unix_ms_(wall_start_unix_ms) {
  REEF_ASSERT(drift_ppm > -kMillion && drift_ppm < kMillion, "clock drift ", drift_ppm, " ppm out of range");
}

uint64_t SimClock::local_us(uint64_t global_us) const {
  // Integer arithmetic only: the same on every machine; 128 bits keep the
  // product exact for any simulated time.
  const absl::int128 scaled = absl::int128(global_us) * (kMillion + drift_ppm_) / kMillion;
  return offset_us_ + absl::Uint128Low64(absl::uint128(scaled));
}

uint64_t SimClock::global_duration_us(uint64_t local_us) const {
  const absl::int128 rate = kMillion + drift_ppm_;
  const absl::int128 scaled = (absl::int128(local_us) * kMillion + rate - 1) / rate;
  return absl::Uint128Low64(absl::uint128(scaled));
}

}  // namespace reef::sim
