// What a core asks its driver to do. Steps accumulate into one Output until
// the driver takes it; a driver takes it once per loop turn and handles the
// fields in this order:
//
//  1. `snapshot`: restore the state machine from the snapshot the leader sent
//     and make it durable (it replaces the whole log).
//  2. `hard_state` and `entries`: make durable, in one write. `entries` is
//     contiguous; every stored entry at or after entries.front().index is
//     replaced. These may happen in parallel with 3. A hard state whose
//     term and vote did not change (only commit moved) is handed out at
//     most once per commit_persist_interval_ticks (raft/core/config.h).
//  3. `messages`: send now, even before step 2 finishes. A leader's appends
//     are here: replication overlaps the leader's own disk write (thesis
//     §10.2.1); the core counts itself toward commit only after Persisted.
//  4. `messages_after_persist`: send only after steps 1 and 2 are durable.
//     Vote grants and append acknowledgements are here because they promise
//     state that must survive a crash (thesis §3.8).
//  5. `committed_entries`: apply in order. They are always already durable
//     locally and always follow `snapshot`, if any.
//  6. `reads`, `proposals`, `transfers`: answer the callers.
//
// After step 2 completes, the driver steps Persisted{last index, its term}.
#pragma once

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "raft/core/log_entry.h"
#include "raft/core/message.h"
#include "raft/core/state.h"
#include "raft/core/types.h"

namespace reef::raft {

struct ProposalResult {
  ProposalId id;
  absl::Status status;  // OK, or why the proposal was refused
  std::optional<NodeId> leader_hint;  // set on "not leader" when a leader is known
  // On OK: where the payloads went. They are committed only if an entry with
  // this term later appears at these indexes in committed_entries.
  Term term;
  Index first_index;
  Index last_index;
};

struct ReadResult {
  ReadId id;
  absl::Status status;
  std::optional<NodeId> leader_hint;
  Index read_index;  // on OK: serve the read once applied >= read_index
};

struct TransferResult {
  NodeId target;
  // OK once the target was told to campaign; DEADLINE_EXCEEDED when the
  // transfer was aborted after an election timeout; other errors when
  // refused.
  absl::Status status;
};

// Volatile state the driver may want to observe (e.g. to redirect clients).
struct SoftState {
  Role role;
  std::optional<NodeId> leader;
  Term term;

  friend bool operator==(const SoftState&, const SoftState&) = default;
};

struct Output {
  std::optional<SnapshotMeta> snapshot;
  std::optional<HardState> hard_state;
  std::vector<LogEntry> entries;
  std::vector<Message> messages;
  std::vector<Message> messages_after_persist;
  std::vector<LogEntry> committed_entries;
  std::vector<ReadResult> reads;
  std::vector<ProposalResult> proposals;
  std::vector<TransferResult> transfers;
  std::optional<SoftState> soft_state;

  bool empty() const {
    return !snapshot && !hard_state && entries.empty() && messages.empty() &&
           messages_after_persist.empty() && committed_entries.empty() && reads.empty() &&
           proposals.empty() && transfers.empty() && !soft_state;
  }
};

}  // namespace reef::raft
