// SimRun: one complete simulation — a SimCluster of real nodes with SQL state
// machines, the workload, the fault schedule, a final heal, and every
// checker — turned into a RunReport. The same RunConfig always gives the
// same report and the same trace hash.
//
// Checkers (each violation names what was seen):
//  - Raft safety (RaftSafetyChecker): election safety, vote safety, log
//    matching, leader completeness, state machine safety per applied entry,
//    commit monotonic, each core's own invariants; sampled every few
//    milliseconds of simulated time, applies and votes observed as they
//    happen.
//  - Commit quorum (CommitQuorumChecker): every entry a leader commits is
//    durable on a quorum of the configuration in force (both halves when
//    joint), judged after the loop turn in which the leader decided it.
//  - Replica agreement: equal state_hash() at equal applied index (sampled
//    every kHashEvery entries) and, at the end, on every node.
//  - Durability and linearizability: the history of writes, CAS and
//    linearizable/strong reads, plus a final read of every key, checked by
//    Wing–Gong search per key (sim/linearizability_checker.h); "unknown"
//    when the search budget runs out is reported, not hidden.
//  - Weak and none reads: each returned a value some write wrote (or the
//    key was absent), written before the read completed.
//  - Liveness: after the heal, every operation finishes, the cluster
//    settles on a configuration (committed, not joint) and every member of
//    it converges within heal_timeout_ms; a node that cannot recover is a
//    violation. Nodes outside that configuration (removed ones) are shut
//    down before the final checks, which read the members.
//  - Always-on assertions: in reef-sim a failed REEF_ASSERT ends the run as
//    a violation.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/run_config.h"

namespace reef::sim {

struct RunReport {
  uint64_t seed = 0;
  uint64_t trace_hash = 0;
  size_t nodes = 0;
  double sim_seconds = 0;
  double wall_seconds = 0;        // the whole run, checks included
  double check_wall_seconds = 0;  // of which the history checks at the end
  uint64_t events = 0;
  uint64_t ops_ok = 0;
  uint64_t ops_failed = 0;
  uint64_t ops_unknown = 0;
  uint64_t leader_changes = 0;
  std::map<std::string, uint64_t> faults;  // injected, by kind
  std::vector<std::string> membership;     // the membership changes, one line each, with outcomes
  std::vector<std::string> checks;         // names of the checks that ran
  std::vector<std::string> violations;     // first one first
  std::string config;                      // RunConfig::describe()
  std::vector<std::string> bugs;
  bool bugs_switched_off = false;  // a control run (--bug-settings)

  bool ok() const { return violations.empty(); }
  // One line of JSON (the last line reef-sim run prints).
  std::string to_json() const;
};

struct RunHooks {
  // Called every `progress_every_us` of simulated time.
  std::function<void(const RunReport& so_far, uint64_t now_us)> progress;
  uint64_t progress_every_us = 1'000'000;
  // Every scheduler event, for --trace.
  std::function<void(uint64_t time_us, std::string_view label)> trace;
};

RunReport run_simulation(const RunConfig& config, const RunHooks& hooks = {});

}  // namespace reef::sim
