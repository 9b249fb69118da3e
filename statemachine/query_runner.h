// The read-only query path, shared by the applying connection
// (SqlStateMachine::query) and reader connections (sql_reader.h): one
// client statement, prepared in query mode (the authorizer refuses writes
// and everything the determinism rules refuse), its rows bounded.
//
// The caller seeds the connection's ExecutionContext first (begin_entry or
// begin_read): "now", randomness, the step budget and any deadline.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "statemachine/batch_response.h"
#include "statemachine/value.h"

namespace reef::statemachine {

class Database;

struct QueryResult {
  std::vector<Column> columns;
  std::vector<Row> rows;
};

// Runs one read-only statement. INVALID_ARGUMENT for bad SQL or parameters,
// PERMISSION_DENIED for statements that would write or are refused,
// RESOURCE_EXHAUSTED past `max_rows`, the step budget or the deadline,
// INTERNAL when the replica failed.
absl::StatusOr<QueryResult> run_query(Database& db, size_t max_rows, std::string_view sql,
                                      const std::vector<Param>& params);

// The same for an encoded QueryRequest (query_codec.h): the encoded
// QueryResponse carries the result or the client's error. A request that
// is a CommandBatch (a strong read: the driver runs it once its barrier is
// applied) is answered by answer_read_batch() instead. Fails only when the
// replica itself failed.
absl::StatusOr<std::string> answer_query(Database& db, size_t max_rows, std::string_view request);

// Runs every statement of an encoded CommandBatch as a query, in the one
// read transaction the caller holds, and answers an encoded BatchResponse
// shaped like apply()'s: a result per statement, or the first failing
// statement ("statement N: ...") and why. Statements that would write are
// refused: a batch of reads changes nothing.
absl::StatusOr<std::string> answer_read_batch(Database& db, size_t max_rows, std::string_view request);

}  // namespace reef::statemachine
