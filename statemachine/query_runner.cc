#include "statemachine/query_runner.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "statemachine/query_codec.h"
#include "statemachine/sql_database.h"

namespace reef::statemachine {

absl::StatusOr<QueryResult> run_query(Database& db, size_t max_rows, std::string_view sql,
                                      const std::vector<Param>& params) {
  ModeScope scope(db.context(), AccessMode::kQuery);
  SqlFailure failure;
  sqlite3_stmt* stmt = db.user_statement(std::string(sql), &failure);
  if (stmt == nullptr) {
    return failure.code == ErrorCode::kRefused ? absl::PermissionDeniedError(failure.message)
                                               : absl::InvalidArgumentError(failure.message);
  }
  StatementResetter reset(stmt);
  if (!sqlite3_stmt_readonly(stmt)) {
    return absl::PermissionDeniedError("the query would write; send it as a command batch instead");
  }
  if (auto status = bind_params(stmt, params); !status.ok()) return status;
  QueryResult result;
  result.columns = statement_columns(stmt);
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (result.rows.size() >= max_rows) {
      return absl::ResourceExhaustedError(
          absl::StrCat("query returns more than ", max_rows, " rows; add a LIMIT or page with a WHERE clause"));
    }
    Row row;
    for (int c = 0; c < static_cast<int>(result.columns.size()); ++c) row.push_back(column_value(stmt, c));
    result.rows.push_back(std::move(row));
  }
  if (rc == SQLITE_DONE) return result;
  failure = db.failure_from(rc);
  switch (failure.code) {
    case ErrorCode::kResourceLimit: return absl::ResourceExhaustedError(failure.message);
    case ErrorCode::kRefused: return absl::PermissionDeniedError(failure.message);
    default:
      if (is_replica_failure(rc)) return absl::InternalError(failure.message);
      return absl::InvalidArgumentError(failure.message);
  }
}

absl::StatusOr<std::string> answer_query(Database& db, size_t max_rows, std::string_view request) {
  QueryResponse response;
  auto statement = decode_query_request(absl::string_view(request.data(), request.size()));
  if (!statement.ok()) {
    response.error_code = ErrorCode::kInvalidBatch;
    response.message = std::string(statement.status().message());
    return encode_query_response(response);
  }
  auto result = run_query(db, max_rows, statement->sql, statement->params);
  if (result.ok()) {
    response.columns = std::move(result->columns);
    response.rows = std::move(result->rows);
    return encode_query_response(response);
  }
  switch (result.status().code()) {
    case absl::StatusCode::kInternal: return result.status();
    case absl::StatusCode::kPermissionDenied: response.error_code = ErrorCode::kRefused; break;
    case absl::StatusCode::kResourceExhausted: response.error_code = ErrorCode::kResourceLimit; break;
    default: response.error_code = ErrorCode::kSqlError; break;
  }
  response.message = std::string(result.status().message());
  return encode_query_response(response);
}

}  // namespace reef::statemachine
