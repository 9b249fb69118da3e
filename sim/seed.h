// Named sub-streams of one simulation seed (DESIGN.md §6): every source of
// randomness in a run (network, each node's disk, each node's clock and
// election timer, the workload) draws from its own stream, derived from the
// run's seed and a stable name. Adding draws to one stream then never shifts
// another, so a change in, say, the workload does not reshuffle the faults.
#pragma once

#include <cstdint>
#include <string_view>

namespace reef::sim {

// Deterministic on every platform: FNV-1a of the name, mixed with the parent
// through splitmix64.
uint64_t derive_seed(uint64_t parent, std::string_view name);
uint64_t derive_seed(uint64_t parent, std::string_view name, uint64_t index);

}  // namespace reef::sim
