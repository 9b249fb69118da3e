#include "prod/api/http_api_request.h"

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "statemachine/query_codec.h"

namespace reef::prod::http {

std::string_view endpoint_path(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kExecute: return "/db/execute";
    case Endpoint::kQuery: return "/db/query";
    case Endpoint::kRequest: return "/db/request";
  }
  return "/db/request";
}

bool needs_node(const Operation& operation) { return operation.kind != OperationKind::kRefused; }

raft::RequestKind request_kind(const ApiRequest& request, const Operation& operation) {
  switch (operation.kind) {
    case OperationKind::kWrite: return raft::RequestKind::kWrite;
    case OperationKind::kStrongRead: return raft::RequestKind::kReadStrong;
    case OperationKind::kRead: return http::request_kind(request.options.level);
    case OperationKind::kRefused: break;
  }
  REEF_UNREACHABLE("request_kind of a refused operation");
}

bool redirected_to_leader(const ApiRequest& request) {
  for (const Operation& operation : request.operations) {
    if (!needs_node(operation)) continue;
    if (request_kind(request, operation) != raft::RequestKind::kReadNone) return true;
  }
  return false;
}

std::string operation_payload(const Operation& operation) {
  switch (operation.kind) {
    case OperationKind::kWrite:
    case OperationKind::kStrongRead: return statemachine::encode_command_batch(operation.batch);
    case OperationKind::kRead: return statemachine::encode_query_request(operation.query);
    case OperationKind::kRefused: break;
  }
  REEF_UNREACHABLE("payload of a refused operation");
}

std::optional<ApiError> check_entry_sizes(const ApiRequest& request, const std::vector<std::string>& payloads,
                                          uint64_t max_entry_bytes) {
  REEF_ASSERT(payloads.size() == request.operations.size(), "check_entry_sizes: ", payloads.size(),
              " payloads for ", request.operations.size(), " operations");
  for (size_t i = 0; i < payloads.size(); ++i) {
    const Operation& operation = request.operations[i];
    if (!needs_node(operation) || payloads[i].size() + kLeaderTimestampBytes <= max_entry_bytes) continue;
    const std::string what =
        operation.statement_count == 1
            ? absl::StrCat("statement ", operation.first_statement)
            : absl::StrCat("the transaction (statements ", operation.first_statement, " to ",
                           operation.first_statement + operation.statement_count - 1, ")");
    return ApiError{
        ApiErrorCode::kBodyTooLarge,
        absl::StrCat(what, " encodes to ", payloads[i].size(), " bytes; a Raft log entry holds at most ",
                     max_entry_bytes, " (raft.max_entry_bytes, less ", kLeaderTimestampBytes,
                     " for the leader's timestamp): split it into smaller requests")};
  }
  return std::nullopt;
}

}  // namespace reef::prod::http
