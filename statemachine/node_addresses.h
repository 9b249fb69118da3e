// Where each cluster member listens, kept in the replicated state so that
// every node learns a joining member's addresses at the same log index and
// a snapshot carries them (as rqlite's metadata commands do):
//
//   reef_internal.reef_nodes(node_id INTEGER PRIMARY KEY,  -- u64 stored bit-cast
//                            raft_address TEXT NOT NULL,   -- host:port peers dial
//                            http_address TEXT NOT NULL,   -- host:port clients use
//                            wants_voter INTEGER NOT NULL, -- promote once caught up
//                            removed INTEGER NOT NULL)     -- id retired, never added again
//
// A CommandBatch with a node_address (command_batch.h) writes one row, in
// the batch's transaction; the server proposes it before asking for the
// membership change that adds the node, so the leader knows where to send
// the node's first entries. The table is created by the first such batch,
// not with the schema: a state that never saw one (the simulator's, an old
// snapshot's) stays byte-for-byte what it was, and so does its state hash.
//
// The Raft core knows nothing of addresses; the server reads this table
// after apply (SqlStateMachine::node_addresses()) and updates its transport
// and its HTTP redirects from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "statemachine/command_batch.h"
#include "statemachine/sql_database.h"

namespace reef::statemachine {

// Inside a batch transaction: inserts or replaces `address`'s row.
absl::Status record_node_address(Database& db, const NodeAddress& address);

// Every row, ascending node id; empty when no address was ever recorded.
absl::StatusOr<std::vector<NodeAddress>> list_node_addresses(Database& db);

}  // namespace reef::statemachine
