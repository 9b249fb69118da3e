#include "prod/http_api_request.h"

#include "raft/assert.h"
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

std::string operation_payload(const Operation& operation) {
  switch (operation.kind) {
    case OperationKind::kWrite:
    case OperationKind::kStrongRead: return statemachine::encode_command_batch(operation.batch);
    case OperationKind::kRead: return statemachine::encode_query_request(operation.query);
    case OperationKind::kRefused: break;
  }
  REEF_UNREACHABLE("payload of a refused operation");
}

}  // namespace reef::prod::http
