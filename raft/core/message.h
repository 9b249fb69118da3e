// Messages exchanged between cores. Every message carries the sender's term;
// the body is one of the alternatives below. The transport's codec maps these
// one-to-one onto the wire schema.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "raft/core/log_entry.h"
#include "raft/core/state.h"
#include "raft/core/types.h"

namespace reef::raft {

// Leader → follower: entries after (prev_index, prev_term), thesis §3.5.
struct AppendEntries {
  Index prev_index;
  Term prev_term;
  std::vector<LogEntry> entries;
  Index commit;
};

// Follower → leader.
// Accepted: `index` is the last index now known to match the leader's log.
// Rejected: `index` is the prev_index that did not match; (hint_index,
// hint_term) is the follower's last entry at or before it whose term is at
// most the leader's prev_term, so the leader can skip a whole term of
// mismatching entries per round trip (thesis §5.3 optimisation).
struct AppendResponse {
  bool reject = false;
  Index index;
  Index hint_index;
  Term hint_term;
};

// Candidate → voter. `pre_vote` asks "would you vote for me at this term?"
// without anybody changing term (thesis §9.6). `transfer` marks an election
// started by a leadership transfer: voters skip the leader-stickiness check.
struct RequestVote {
  bool pre_vote = false;
  bool transfer = false;
  Index last_index;
  Term last_term;
};

struct VoteResponse {
  bool pre_vote = false;
  bool granted = false;
};

// Leader → follower, every heartbeat interval and for ReadIndex rounds.
// `commit` is min(follower's match, leader commit) so a follower never
// commits entries it might not have. `round` numbers the leader's heartbeat
// broadcasts; echoing it back confirms leadership as of that round.
struct Heartbeat {
  Index commit;
  uint64_t round = 0;
};

struct HeartbeatResponse {
  uint64_t round = 0;
};

// Leader → follower: replace your log with this snapshot. The driver sends
// the snapshot bytes with it; the core sees only the meta.
struct InstallSnapshot {
  SnapshotMeta meta;
};

// Leader → transfer target: campaign now (thesis §3.10).
struct TimeoutNow {};

// Follower → leader: please confirm a linearizable read point for `id`.
struct ReadIndexRequest {
  ReadId id;
};

// Leader → follower: the read point for `id` (valid only if ok).
struct ReadIndexResponse {
  ReadId id;
  bool ok = false;
  Index index;
};

using MessageBody = std::variant<AppendEntries, AppendResponse, RequestVote, VoteResponse, Heartbeat,
                                 HeartbeatResponse, InstallSnapshot, TimeoutNow, ReadIndexRequest,
                                 ReadIndexResponse>;

struct Message {
  NodeId from;
  NodeId to;
  Term term;
  MessageBody body;
};

// Short name of the body's type, for traces and errors.
const char* message_type_name(const MessageBody& body);
// Approximate encoded size, used for flow control budgets.
uint64_t message_size_bytes(const Message& m);

}  // namespace reef::raft
