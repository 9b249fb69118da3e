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

namespace {

ErrorCode error_code_of(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kPermissionDenied: return ErrorCode::kRefused;
    case absl::StatusCode::kResourceExhausted: return ErrorCode::kResourceLimit;
    default: return ErrorCode::kSqlError;
  }
}

}  // namespace

absl::StatusOr<std::string> answer_read_batch(Database& db, size_t max_rows, std::string_view request) {
  BatchResponse response;
  absl::StatusOr<CommandBatch> batch = decode_command_batch(absl::string_view(request.data(), request.size()));
  if (!batch.ok() || batch->node_address.has_value()) {
    response.status = ApplyStatus::kInvalidBatch;
    response.error_code = ErrorCode::kInvalidBatch;
    response.message = batch.ok() ? "an address record is not a read" : std::string(batch.status().message());
    return encode_batch_response(response);
  }
  response.id = batch->id;
  for (size_t i = 0; i < batch->statements.size(); ++i) {
    const Statement& statement = batch->statements[i];
    absl::StatusOr<QueryResult> result = run_query(db, max_rows, statement.sql, statement.params);
    if (!result.ok()) {
      if (result.status().code() == absl::StatusCode::kInternal) return result.status();
      response.status = ApplyStatus::kStatementFailed;
      response.results.clear();
      response.failed_statement = static_cast<int32_t>(i);
      response.error_code = error_code_of(result.status());
      response.message = absl::StrCat("statement ", i, ": ", result.status().message());
      return encode_batch_response(response);
    }
    StatementResult& out = response.results.emplace_back();
    out.columns = std::move(result->columns);
    out.rows = std::move(result->rows);
  }
  return encode_batch_response(response);
}

absl::StatusOr<std::string> answer_query(Database& db, size_t max_rows, std::string_view request) {
  if (has_command_batch_identifier(absl::string_view(request.data(), request.size()))) {
    return answer_read_batch(db, max_rows, request);
  }
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
  if (result.status().code() == absl::StatusCode::kInternal) return result.status();
  response.error_code = error_code_of(result.status());
  response.message = std::string(result.status().message());
  return encode_query_response(response);
}

}  // namespace reef::statemachine
