#include "prod/api/http_request_planner.h"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "statemachine/sql_syntax_check.h"
#include "statemachine/statement_classifier.h"

namespace reef::prod::http {
namespace {

using statemachine::Statement;
using statemachine::StatementKind;

// rqlite's message for a write sent to /db/query.
constexpr std::string_view kNotARead = "attempt to change database via query operation";

// A statement is either a read, a write, or refused with a reason.
struct Classified {
  bool read = false;
  std::optional<ApiError> refusal;
};

// The lexical classifier calls anything it cannot make sense of a write, so
// its verdict alone would report a typo as "not a read" or "2 statements".
// Before such a verdict becomes the client's error, SQLite's parser judges
// the text: a syntax error is reported as SQLite words it.
Classified refuse(const Statement& statement, ApiError error) {
  if (std::optional<std::string> syntax = statemachine::sqlite_syntax_error(statement.sql)) {
    return {false, ApiError{ApiErrorCode::kSqlError, *std::move(syntax)}};
  }
  return {false, std::move(error)};
}

Classified classify(const Statement& statement, Endpoint endpoint) {
  auto statements = statemachine::classify_statements(statement.sql);
  if (!statements.ok())
    return refuse(statement, ApiError{ApiErrorCode::kSqlError, std::string(statements.status().message())});
  if (statements->size() != 1) {
    return refuse(statement,
                  ApiError{ApiErrorCode::kRefused,
                           absl::StrCat("the SQL holds ", statements->size(),
                                        " statements; send each one as its own entry of the JSON array")});
  }
  if (auto allowed = statemachine::check_allowed(*statements); !allowed.ok()) {
    return refuse(statement, ApiError{ApiErrorCode::kRefused, std::string(allowed.message())});
  }
  const bool read = (*statements)[0].kind == StatementKind::kRead;
  if (endpoint == Endpoint::kQuery && !read)
    return refuse(statement, ApiError{ApiErrorCode::kNotARead, std::string(kNotARead)});
  return {read, std::nullopt};
}

Operation refused(size_t first, size_t count, size_t offset, ApiError error) {
  Operation operation;
  operation.kind = OperationKind::kRefused;
  operation.first_statement = first;
  operation.statement_count = count;
  operation.refusal = std::move(error);
  operation.refused_offset = offset;
  return operation;
}

Operation batch_of(OperationKind kind, size_t first, std::vector<Statement> statements) {
  Operation operation;
  operation.kind = kind;
  operation.first_statement = first;
  operation.statement_count = statements.size();
  operation.batch.statements = std::move(statements);
  return operation;
}

Operation single(const Endpoint endpoint, const RequestOptions& options, size_t index, Statement statement,
                 const Classified& classified) {
  if (classified.refusal) return refused(index, 1, 0, *classified.refusal);
  const bool strong = options.level == ReadLevel::kStrong;
  if (!classified.read || endpoint == Endpoint::kExecute) {
    return batch_of(OperationKind::kWrite, index, {std::move(statement)});
  }
  if (strong) return batch_of(OperationKind::kStrongRead, index, {std::move(statement)});
  Operation operation;
  operation.kind = OperationKind::kRead;
  operation.first_statement = index;
  operation.statement_count = 1;
  operation.query = std::move(statement);
  return operation;
}

// The whole request as one atomic batch (or one refusal).
Operation transaction(std::vector<Statement> statements, const std::vector<Classified>& classified) {
  bool all_reads = true;
  for (size_t i = 0; i < classified.size(); ++i) {
    if (classified[i].refusal) return refused(0, statements.size(), i, *classified[i].refusal);
    all_reads = all_reads && classified[i].read;
  }
  return batch_of(all_reads ? OperationKind::kStrongRead : OperationKind::kWrite, 0, std::move(statements));
}

std::vector<Operation> operations_for(Endpoint endpoint, const RequestOptions& options,
                                      std::vector<Statement> statements) {
  std::vector<Classified> classified;
  classified.reserve(statements.size());
  for (const Statement& statement : statements) classified.push_back(classify(statement, endpoint));
  // Reads served off the log cannot share a transaction: each is its own query.
  const bool reads_off_log = endpoint == Endpoint::kQuery && options.level != ReadLevel::kStrong;
  std::vector<Operation> operations;
  if (options.transaction && !reads_off_log && !statements.empty()) {
    operations.push_back(transaction(std::move(statements), classified));
    return operations;
  }
  operations.reserve(statements.size());
  for (size_t i = 0; i < statements.size(); ++i) {
    operations.push_back(single(endpoint, options, i, std::move(statements[i]), classified[i]));
  }
  return operations;
}

}  // namespace

ApiResult<ApiRequest> plan_request(Endpoint endpoint, RequestOptions options,
                                   std::vector<statemachine::Statement> statements) {
  ApiRequest request;
  request.endpoint = endpoint;
  request.statement_count = statements.size();
  request.operations = operations_for(endpoint, options, std::move(statements));
  request.options = std::move(options);
  if (request.options.command_id.client_id == 0) return request;
  Operation* session_batch = nullptr;
  for (Operation& operation : request.operations) {
    if (operation.kind != OperationKind::kWrite && operation.kind != OperationKind::kStrongRead) continue;
    if (session_batch != nullptr) {
      return ApiError{ApiErrorCode::kBadParameter,
                      "client_id/seq make the request one exactly-once command, but its statements run as "
                      "separate batches; add 'transaction' or send one statement per request"};
    }
    session_batch = &operation;
  }
  if (session_batch != nullptr) session_batch->batch.id = request.options.command_id;
  return request;
}

}  // namespace reef::prod::http
