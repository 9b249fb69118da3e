// What a client asks a node (raft/driver/node.h) and what it gets back. Their own
// header so that the node's request table (raft/driver/request_table.h) can hold
// them without seeing the node.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "raft/driver/node_freshness.h"
#include "raft/ports/node_message.h"
#include "raft/core/types.h"

namespace reef::raft {

struct ClientRequest {
  RequestKind kind = RequestKind::kWrite;
  // Writes: the bytes proposed; reads: the query the state machine answers.
  std::string payload;
  // Serve only once this node applied at least this index (0: no minimum).
  Index min_applied;
  uint64_t deadline_ms = 0;
  // kReadNone only (ignored otherwise, as rqlite ignores it): refuse with
  // stale_read_error() unless this node is that fresh when it gets the read.
  std::optional<FreshnessBound> freshness;
  // kMembershipChange only: the steps, applied together (raft/core/membership_change.h).
  std::vector<MembershipChange> membership;
};

struct ClientResponse {
  absl::Status status;
  std::string response;
  std::optional<NodeId> leader_hint;  // with "not leader" errors
  Index applied;                      // the serving node's applied index
};

using ResponseCallback = absl::AnyInvocable<void(ClientResponse)>;

}  // namespace reef::raft
