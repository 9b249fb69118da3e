// The deliberate bugs reef-sim can inject (--bug NAME), one per layer that
// Raft's safety rests on. Each sets its switch (raft/core/injected_bugs.h,
// SqlStateMachineOptions::injected_bug_trust_leader_clock and
// injected_bug_applied_index_own_transaction, or
// SimFaults::lie_about_file_sync) and also turns on the faults that expose
// it, so that a swarm finds a violation within 200 seeds (CI checks that).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "sim/run_config.h"

namespace reef::sim {

struct BugInfo {
  const char* name;
  const char* description;
};

const std::vector<BugInfo>& all_bugs();
// Applies every name in config.bugs; INVALID_ARGUMENT naming an unknown one.
absl::Status apply_bugs(RunConfig& config);
// The disk-level bug lives in SimFaults, set per node by the run.
bool lies_about_fsync(const RunConfig& config);

}  // namespace reef::sim
