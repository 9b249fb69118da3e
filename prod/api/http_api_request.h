// ApiRequest: an HTTP API request parsed and planned, ready for the server
// to run. The plan is a list of Operations in statement order; the server
// runs each one through the node (raft::Node::submit with
// request_kind(operation) and operation_payload(operation)) in order,
// collects one OperationOutcome per operation, and hands them to
// write_results() (http_response_writer.h).
//
// How statements become operations (docs/HTTP_API.md has the long form):
//  - ReefDB batches are always atomic. With `transaction`, the whole request
//    is one batch: all of it applies or none. Without it, rqlite runs every
//    statement on its own (a failing one does not undo the others), so each
//    statement is its own batch, proposed in order.
//  - Reads (/db/query, and reads in /db/request) at level none, weak or
//    linearizable are one query each, served from the state machine without
//    the log; at level strong they go through the log as batches.
//  - Statements the API refuses before any node sees them (a write sent to
//    /db/query, BEGIN/ATTACH/..., SQL that does not lex, two statements in
//    one string) are kRefused operations: their result entry is the error.
//    Inside a transaction one refusal fails the whole transaction.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "prod/api/http_errors.h"
#include "prod/api/http_query_options.h"
#include "raft/ports/node_message.h"
#include "statemachine/command_batch.h"
#include "statemachine/value.h"

namespace reef::prod::http {

enum class Endpoint { kExecute, kQuery, kRequest };

std::string_view endpoint_path(Endpoint endpoint);

enum class OperationKind {
  kWrite,       // `batch` through the log (raft::RequestKind::kWrite); answer: BatchResponse
  kStrongRead,  // `batch` of reads through the log (kReadStrong); answer: BatchResponse
  kRead,        // `query` at the request's level, no log; answer: QueryResponse
  kRefused,     // not sent: `refusal` is the answer
};

struct Operation {
  OperationKind kind = OperationKind::kWrite;
  // The request statements this operation covers (after "" statements were
  // dropped): [first_statement, first_statement + statement_count).
  size_t first_statement = 0;
  size_t statement_count = 0;
  statemachine::CommandBatch batch;  // kWrite, kStrongRead
  statemachine::Statement query;     // kRead
  ApiError refusal;                  // kRefused
  size_t refused_offset = 0;         // kRefused: which statement of the operation (0-based) was refused
};

struct ApiRequest {
  Endpoint endpoint = Endpoint::kExecute;
  RequestOptions options;
  size_t statement_count = 0;
  std::vector<Operation> operations;
};

// Whether the server must send the operation to the node (false: kRefused).
bool needs_node(const Operation& operation);
// The node request kind for the operation; needs_node(operation) must hold.
raft::RequestKind request_kind(const ApiRequest& request, const Operation& operation);
// Whether `redirect` sends the request to the leader when another node gets
// it. As in rqlite, only level-none reads are served wherever they arrive;
// writes and strong, weak and linearizable reads are redirected (a follower
// would otherwise forward them, or ask the leader for a read index).
bool redirected_to_leader(const ApiRequest& request);
// The bytes for raft::ClientRequest::payload: an encoded CommandBatch for
// batches, an encoded query request for kRead. needs_node() must hold.
std::string operation_payload(const Operation& operation);

// The leader proposes a batch re-encoded with its timestamp, an 8-byte
// field the client's encoding leaves out; with its vtable slot and
// alignment it adds less than this.
inline constexpr size_t kLeaderTimestampBytes = 32;

// Whether the request fits the log: each operation's payload
// (`payloads[i]` = operation_payload(operations[i]), "" for refused ones)
// must fit in one log entry of `max_entry_bytes` as the leader will propose
// it. Reads are held to the same bound (a follower forwards them whole).
// One kBodyTooLarge error naming the statements and sizes for the first
// that does not fit, so nothing of the request runs.
std::optional<ApiError> check_entry_sizes(const ApiRequest& request, const std::vector<std::string>& payloads,
                                          uint64_t max_entry_bytes);

// What the node answered for one operation.
struct OperationOutcome {
  // OK, or why the operation did not run (or may not have): the status of
  // raft::ClientResponse (FAILED_PRECONDITION "not leader", UNAVAILABLE,
  // DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INVALID_ARGUMENT from the state
  // machine's proposal checks).
  absl::Status status;
  std::string response;     // OK: encoded BatchResponse or QueryResponse (see OperationKind)
  uint64_t raft_index = 0;  // batches: the log index they were applied at; 0 when unknown
  double elapsed_seconds = 0;
};

}  // namespace reef::prod::http
