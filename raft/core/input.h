// Everything that can happen to a core. Core::step takes exactly one.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "raft/core/log_entry.h"
#include "raft/core/membership_change.h"
#include "raft/core/message.h"
#include "raft/core/types.h"

namespace reef::raft {

// One unit of logical time passed.
struct Tick {};

// Append client payloads (leader only). The result is reported in
// Output::proposals under `id`. With `type` kNoop the proposal is a barrier
// (one empty payload): an entry that changes no state, whose commit tells
// the proposer that everything committed before it arrived is applied once
// the barrier is (the driver's strong reads).
struct Propose {
  ProposalId id;
  std::vector<std::string> payloads;
  EntryType type = EntryType::kNormal;
};

// Ask for a linearizable read point (thesis §6.4). The result is reported in
// Output::reads under `id`; the caller may serve the read once its state
// machine has applied the returned index.
struct ReadIndex {
  ReadId id;
};

// Leader only: hand leadership to `target` (thesis §3.10). The result is
// reported in Output::transfers.
struct TransferLeadership {
  NodeId target;
};

// Leader only: change the membership (thesis §4.3, membership_change.h).
// Reported in Output::proposals under `id`: on OK, first_index ==
// last_index is the configuration entry. Refused while another change is in
// flight (the last configuration entry is uncommitted, or the configuration
// is joint), before the leader has committed an entry of its own term, and
// during a leadership transfer. When the change needs a joint phase the
// leader leaves it by itself once the joint entry commits.
struct ChangeMembership {
  ProposalId id;
  std::vector<MembershipChange> changes;
};

// Start an election now (pre-vote first when enabled).
struct Campaign {};

// The driver made the log durable up to (index, term): every entry up to
// `index` it was told to append, with `term` the term of entry `index`. A
// report whose (index, term) no longer matches the log (the suffix was
// replaced meanwhile) is ignored.
struct Persisted {
  Index index;
  Term term;
};

// Leader only: the driver finished (ok) or gave up (!ok) sending a snapshot
// to `peer`.
struct SnapshotStatus {
  NodeId peer;
  bool ok = false;
};

// The driver could not reach `peer`; optimistic replication to it stops
// until it answers again.
struct PeerUnreachable {
  NodeId peer;
};

// The driver holds a durable snapshot covering the log up to `index`
// (<= applied): drop the in-memory log prefix.
struct CompactTo {
  Index index;
};

using Input = std::variant<Tick, Message, Propose, ReadIndex, TransferLeadership, Campaign, Persisted,
                           SnapshotStatus, PeerUnreachable, CompactTo, ChangeMembership>;

}  // namespace reef::raft
