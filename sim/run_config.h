// RunConfig: everything one simulation run does, drawn from its seed.
//
// Swarm testing (Groce et al., "Swarm testing", ISSTA 2012): instead of one
// fixed fault mix, each seed draws its own cluster size, which fault classes
// are on and how hard, the workload mix and the timing settings, so that
// some runs are gentle enough to reach deep states and others are brutal.
// RunConfig::from_seed() is that draw; it is a pure function of the seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raft/driver/node.h"
#include "statemachine/sql_state_machine.h"
#include "sim/sim_network.h"
#include "sim/workload.h"

namespace reef::sim {

// Relative weights of the membership changes drawn
// (sim/membership_faults.h); 0 = never.
struct MembershipMix {
  uint32_t add_learner = 1;
  uint32_t add_voter = 1;
  uint32_t promote = 1;
  uint32_t demote = 1;
  uint32_t remove_voter = 1;
  uint32_t remove_learner = 1;
  uint32_t replace = 1;  // remove A, add a fresh D: one joint change
  uint32_t swap = 1;     // a learner and a voter trade roles: one joint change
  uint32_t grow = 1;     // two fresh voters at once (3 -> 5)
  uint32_t shrink = 1;   // two voters removed at once (5 -> 3)
};

struct FaultPlan {
  bool crashes = true;
  bool pauses = true;
  bool partitions = true;
  bool disk_errors = false;
  bool clock_drift = true;
  // Time between two fault actions, uniform in [min, max].
  uint64_t interval_min_ms = 300;
  uint64_t interval_max_ms = 2000;
  uint64_t downtime_max_ms = 3000;   // crashed or stopped node stays down
  uint64_t pause_max_ms = 1500;
  uint64_t partition_max_ms = 4000;
  uint32_t disk_error_per_million = 0;  // EIO per read/write/sync call
  int64_t drift_max_ppm = 0;            // each node's clock drift in [-max, max]
  // Each node's wall clock is off the run's date by up to this, either way.
  // Not drawn: every run has hosts whose clocks disagree by seconds.
  uint64_t wall_clock_skew_max_ms = 3000;
  bool interrupt_writes = true;         // crashes may tear a write in progress
  // Targeted crashes, per mille of the moments they aim at, each followed by
  // a quick restart: right after a node grants a vote, while a leader sends
  // new entries (durability ordering), and as a leader first announces a
  // commit index (followers left not knowing what it applied).
  uint32_t crash_after_vote_per_mille = 0;
  uint32_t crash_while_appending_per_mille = 0;
  uint32_t crash_after_commit_per_mille = 0;
  // Of the partitions, this per mille isolate the current leader.
  uint32_t isolate_leader_per_mille = 200;
  uint64_t targeted_downtime_max_ms = 60;
  // Membership changes (sim/membership_faults.h): one every [min, max] ms,
  // with at most this many nodes in existence at once.
  bool membership = false;
  uint64_t membership_interval_min_ms = 800;
  uint64_t membership_interval_max_ms = 3000;
  size_t membership_max_nodes = 7;
  MembershipMix membership_mix;

  void set_targeted_crashes(uint32_t per_mille) {
    crash_after_vote_per_mille = crash_while_appending_per_mille = crash_after_commit_per_mille = per_mille;
  }
  bool any_targeted_crashes() const {
    return crash_after_vote_per_mille + crash_while_appending_per_mille + crash_after_commit_per_mille > 0;
  }
};

struct RunConfig {
  uint64_t seed = 1;
  size_t nodes = 3;
  // Faults and load run this long; then everything heals and the run waits
  // up to heal_timeout_ms for every operation to finish and every node to
  // converge (the liveness bound).
  uint64_t duration_ms = 20'000;
  uint64_t heal_timeout_ms = 30'000;

  uint64_t tick_ms = 10;
  uint64_t tick_jitter_us = 500;
  raft::NodeConfig node;
  statemachine::SqlStateMachineOptions state_machine;
  uint64_t disk_latency_min_us = 100;
  uint64_t disk_latency_max_us = 3000;
  NetworkFaults network;
  FaultPlan faults;
  WorkloadOptions workload;
  // Names from sim/bugs.h; applied after the draw.
  std::vector<std::string> bugs;
  // Control run: the bugs' fault settings are applied, the bugs themselves
  // stay off. A control run that fails means the settings, not the bug,
  // produced the violation (reef-sim --bug-settings NAME).
  bool bugs_switched_off = false;

  // The swarm draw for `seed` (with `nodes` forced when non-zero).
  static RunConfig from_seed(uint64_t seed, size_t nodes = 0);
  // One line naming what was drawn, for reports.
  std::string describe() const;
};

}  // namespace reef::sim
