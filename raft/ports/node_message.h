// NodeMessage: everything one node driver sends another. Core messages are
// one kind; the rest is driver-level traffic the core never sees: snapshot
// bytes streamed in resumable chunks, and client requests a follower
// forwards to the leader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "absl/status/status.h"
#include "raft/core/membership_change.h"
#include "raft/core/message.h"
#include "raft/core/state.h"
#include "raft/core/types.h"

namespace reef::raft {

// Leader → follower: bytes [offset, offset + data.size()) of the snapshot
// described by `meta`, sent in the leader's `term`. The chunk with `last`
// set carries the final bytes; the follower then hands the core the
// InstallSnapshot message and, if the core accepts it, makes the snapshot
// durable and restores its state machine from it.
struct SnapshotChunk {
  Term term;
  SnapshotMeta meta;
  uint64_t offset = 0;
  uint64_t total_bytes = 0;
  std::string data;
  bool last = false;
};

// Follower → leader: the follower holds bytes [0, next_offset) of the
// snapshot at `snapshot_index` (ask for the rest from there), or, with
// `abort`, gave the transfer up (the leader reports the snapshot failed).
// `done` acknowledges the last chunk: the snapshot is installed.
struct SnapshotChunkAck {
  Term term;
  Index snapshot_index;
  uint64_t next_offset = 0;
  bool done = false;
  bool abort = false;
};

// What a client asked a node to do.
enum class RequestKind : uint8_t {
  kWrite = 0,        // propose `payload`, answer with the apply response
  kReadStrong = 1,   // a read served after a barrier entry through the log
  kReadLinearizable = 2,
  kReadWeak = 3,     // leader-local
  kReadNone = 4,     // any node, local state
  // Change the membership (leader, as a write); `membership` says how. The
  // response names the configuration the change produced.
  kMembershipChange = 5,
};
const char* request_kind_name(RequestKind kind);
bool is_read(RequestKind kind);
// Writes, membership changes, strong and weak reads: a follower forwards
// them (or refuses, naming the leader). Linearizable reads are confirmed
// through the leader by the core; level-none reads are served anywhere.
bool served_by_leader_only(RequestKind kind);

// Follower → leader: a client request this node cannot serve itself.
struct ForwardedRequest {
  uint64_t request_id = 0;  // unique per sending node
  RequestKind kind = RequestKind::kWrite;
  std::string payload;
  Index min_applied;  // reads: serve only once the leader applied this far
  std::vector<MembershipChange> membership;  // kMembershipChange only
};

// Leader → follower: the outcome of a ForwardedRequest.
struct ForwardedReply {
  uint64_t request_id = 0;
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string error;
  std::optional<NodeId> leader_hint;
  std::string response;
  Index applied;  // the leader's applied index when it answered
};

using NodeMessageBody = std::variant<Message, SnapshotChunk, SnapshotChunkAck, ForwardedRequest, ForwardedReply>;

struct NodeMessage {
  NodeId from;
  NodeId to;
  NodeMessageBody body;
};

const char* node_message_type_name(const NodeMessageBody& body);
// One line for traces and logs: type, endpoints, term and the fields that
// matter (indexes, commit, vote outcome, snapshot offsets, request ids).
std::string describe(const NodeMessage& message);

}  // namespace reef::raft
