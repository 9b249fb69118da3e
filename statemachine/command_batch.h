// CommandBatch: one client command as it travels through the Raft log — the
// command id (client id + sequence) for exactly-once sessions, the proposing
// leader's timestamp (the only clock the state machine ever reads), and the
// statements applied atomically. Encoded as FlatBuffers (command_batch.fbs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "statemachine/value.h"

namespace reef::statemachine {

struct CommandId {
  uint64_t client_id = 0;  // 0: no session (no exactly-once tracking)
  uint64_t sequence = 0;
  friend bool operator==(const CommandId&, const CommandId&) = default;
};

// Where a cluster member listens (statemachine/node_addresses.h).
struct NodeAddress {
  uint64_t node_id = 0;
  std::string raft_address;  // host:port
  std::string http_address;  // host:port
  // The operator wants it a voter: the leader promotes it once it caught up.
  bool wants_voter = false;
  // Removed from the cluster (or being removed): the id is not reused.
  bool removed = false;
  friend bool operator==(const NodeAddress&, const NodeAddress&) = default;
};

struct CommandBatch {
  CommandId id;
  int64_t leader_timestamp_ms = 0;
  std::vector<Statement> statements;
  // Set: the batch records this member's addresses instead of running SQL
  // (it then has no statements).
  std::optional<NodeAddress> node_address;
  friend bool operator==(const CommandBatch&, const CommandBatch&) = default;
};

std::string encode_command_batch(const CommandBatch& batch);
// Verifies the buffer before reading it. INVALID_ARGUMENT, saying what is
// wrong, for anything that is not a well-formed batch.
absl::StatusOr<CommandBatch> decode_command_batch(absl::string_view bytes);
// True when `bytes` carry a CommandBatch's file identifier ("RCMB"): how a
// read request tells a batch of reads (a strong read) from a QueryRequest,
// whose schema has no identifier.
bool has_command_batch_identifier(absl::string_view bytes);

}  // namespace reef::statemachine
