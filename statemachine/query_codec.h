// Bytes of the read-only query path: what a client (the HTTP layer) sends to
// raft::StateMachine::query and what it gets back.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "statemachine/batch_response.h"
#include "statemachine/value.h"

namespace reef::statemachine {

struct QueryResponse {
  ErrorCode error_code = ErrorCode::kNone;
  int32_t sqlite_code = 0;
  std::string message;
  std::vector<Column> columns;
  std::vector<Row> rows;

  bool ok() const { return error_code == ErrorCode::kNone; }
  friend bool operator==(const QueryResponse&, const QueryResponse&) = default;
};

std::string encode_query_request(const Statement& query);
absl::StatusOr<Statement> decode_query_request(absl::string_view bytes);
std::string encode_query_response(const QueryResponse& response);
absl::StatusOr<QueryResponse> decode_query_response(absl::string_view bytes);

}  // namespace reef::statemachine
