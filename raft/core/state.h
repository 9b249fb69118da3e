// The durable and volatile state records the core exchanges with its driver.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "raft/core/log_entry.h"
#include "raft/core/membership.h"
#include "raft/core/types.h"

namespace reef::raft {

// Must be durable before any message that depends on it is sent (thesis
// §3.8): a vote is remembered across crashes so no node votes twice in a
// term. `commit` is persisted only as a hint for faster restart; it is safe
// for it to lag.
struct HardState {
  Term term;
  std::optional<NodeId> vote;
  Index commit;

  friend bool operator==(const HardState&, const HardState&) = default;
};
// "{term 3, vote 2, commit 17}" (vote "none" when unset), for logs and tests.
std::string describe(const HardState& state);

// Describes a state-machine snapshot: it contains every entry up to and
// including `index`, whose term is `term`, and `configuration` was in effect
// at that point. The snapshot's bytes never enter the core; the driver keeps
// them and ships them alongside InstallSnapshot messages.
struct SnapshotMeta {
  Index index;
  Term term;
  Configuration configuration;

  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

// What a node recovered from disk at boot. A brand-new cluster member starts
// from `bootstrap`: an empty log whose "snapshot" at index 0 holds the
// initial configuration.
struct RecoveredState {
  HardState hard_state;
  SnapshotMeta snapshot;
  std::vector<LogEntry> entries;  // contiguous, starting at snapshot.index + 1
  // Highest index already reflected in the state machine; committed entries
  // after it are handed out again. Defaults to the snapshot index, because
  // ReefDB rebuilds its in-memory state machine from the snapshot at boot.
  std::optional<Index> applied;

  static RecoveredState bootstrap(Configuration configuration);
};

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
const char* role_name(Role role);

}  // namespace reef::raft
