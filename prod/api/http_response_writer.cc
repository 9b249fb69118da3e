#include "prod/api/http_response_writer.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string_view>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "prod/api/http_value_json.h"
#include "raft/core/assert.h"
#include "raft/driver/node_freshness.h"
#include "statemachine/batch_response.h"
#include "statemachine/query_codec.h"

namespace reef::prod::http {
namespace {

using statemachine::ApplyStatus;
using statemachine::BatchResponse;
using statemachine::Column;
using statemachine::Row;

std::string dump(const Json& json, bool pretty) {
  return json.dump(pretty ? 4 : -1, ' ', false, Json::error_handler_t::replace);
}

HttpResponse json_response(int status, const Json& body, bool pretty) {
  HttpResponse response;
  response.status = status;
  response.body = dump(body, pretty);
  return response;
}

Json error_entry(const ApiError& error) {
  Json entry = Json::object();
  entry["error"] = error.message;
  entry["code"] = error_code_name(error.code);
  return entry;
}

// The state machine prefixes a failure with "statement <i>: "; the entry
// already says which statement it is.
std::string without_statement_prefix(const std::string& message, int32_t index) {
  const std::string prefix = absl::StrCat("statement ", index, ": ");
  return absl::StartsWith(message, prefix) ? message.substr(prefix.size()) : message;
}

bool is_request_level(ApiErrorCode code) {
  return code == ApiErrorCode::kNotLeader || code == ApiErrorCode::kUnavailable ||
         code == ApiErrorCode::kTimeout || code == ApiErrorCode::kStaleRead;
}

std::string leader_base(std::string address) {
  while (!address.empty() && address.back() == '/') address.pop_back();
  if (!absl::StrContains(address, "://")) address = absl::StrCat("http://", address);
  return address;
}

class ResultsBuilder {
 public:
  explicit ResultsBuilder(const ApiRequest& request) : request_(request), options_(request.options) {}

  void add(const Operation& operation, const OperationOutcome& outcome) {
    if (operation.kind == OperationKind::kRefused) return add_refused(operation);
    if (!outcome.status.ok())
      return add_for_each(operation, error_entry(error_from_node_status(outcome.status)));
    if (operation.kind == OperationKind::kRead) return add_query(operation, outcome);
    add_batch(operation, outcome);
  }

  Json finish(double elapsed_seconds) && {
    Json body = Json::object();
    body["results"] = std::move(results_);
    if (options_.timings && elapsed_seconds > 0) body["time"] = elapsed_seconds;
    if (raft_index_ > 0) body["raft_index"] = raft_index_;
    if (duplicate_) body["duplicate"] = true;
    return body;
  }

  const std::optional<ApiError>& stale() const { return stale_; }

 private:
  void add_for_each(const Operation& operation, const Json& entry) {
    for (size_t i = 0; i < operation.statement_count; ++i) results_.push_back(entry);
  }

  // Entries of an atomic batch that failed at `offset`: the ones before are
  // rolled back, the failed one says why (SQLite's message, as rqlite gives
  // it); nothing after it ran. A client reads the first error, so each
  // rolled-back entry names the failed statement (counted from 1 in the
  // request, as a person counts) and repeats why it failed. `cause` is that
  // why, when the batch failed as a whole rather than at one statement.
  void add_failed_batch(const Operation& operation, size_t offset, const ApiError& error,
                        std::string_view cause = {}) {
    const std::string why =
        cause.empty() ? absl::StrCat("statement ", operation.first_statement + offset + 1, " of ",
                                     request_.statement_count, " failed: ", error.message)
                      : std::string(cause);
    for (size_t i = 0; i < offset; ++i) {
      results_.push_back(error_entry(ApiError{ApiErrorCode::kRolledBack, absl::StrCat("rolled back: ", why)}));
    }
    results_.push_back(error_entry(error));
  }

  void add_refused(const Operation& operation) {
    add_failed_batch(operation, operation.refused_offset, operation.refusal);
  }

  void add_batch(const Operation& operation, const OperationOutcome& outcome) {
    auto decoded = statemachine::decode_batch_response(outcome.response);
    if (!decoded.ok()) {
      return add_for_each(
          operation,
          error_entry(ApiError{ApiErrorCode::kInternal,
                               absl::StrCat("undecodable batch response: ", decoded.status().message())}));
    }
    raft_index_ = std::max(raft_index_, outcome.raft_index);
    duplicate_ = duplicate_ || decoded->duplicate;
    switch (decoded->status) {
      case ApplyStatus::kOk: return add_batch_results(operation, *decoded, outcome.elapsed_seconds);
      case ApplyStatus::kStatementFailed: return add_statement_failure(operation, *decoded);
      case ApplyStatus::kStale:
        stale_ = ApiError{ApiErrorCode::kStaleSequence, decoded->message};
        return add_for_each(operation, error_entry(*stale_));
      case ApplyStatus::kInvalidBatch:
        return add_for_each(operation, error_entry(ApiError{ApiErrorCode::kInternal, decoded->message}));
    }
  }

  void add_batch_results(const Operation& operation, const BatchResponse& response, double seconds) {
    if (response.results.size() != operation.statement_count) {
      return add_for_each(
          operation,
          error_entry(ApiError{ApiErrorCode::kInternal,
                               absl::StrCat("batch answered ", response.results.size(), " results for ",
                                            operation.statement_count, " statements")}));
    }
    for (const statemachine::StatementResult& result : response.results) {
      if (!result.columns.empty()) {
        add_rows(result.columns, result.rows, seconds);
      } else {
        add_write(result, seconds);
      }
    }
  }

  void add_statement_failure(const Operation& operation, const BatchResponse& response) {
    // -1: the batch failed as a whole (a deferred constraint at commit).
    const size_t last = operation.statement_count - 1;
    const size_t offset =
        response.failed_statement < 0 ? last : std::min(static_cast<size_t>(response.failed_statement), last);
    const ApiError error{api_error_code(response.error_code),
                         without_statement_prefix(response.message, response.failed_statement)};
    add_failed_batch(operation, offset, error,
                     response.failed_statement < 0 ? absl::StrCat("the transaction failed ", error.message) : "");
  }

  void add_query(const Operation& operation, const OperationOutcome& outcome) {
    auto decoded = statemachine::decode_query_response(outcome.response);
    if (!decoded.ok()) {
      return add_for_each(
          operation,
          error_entry(ApiError{ApiErrorCode::kInternal,
                               absl::StrCat("undecodable query response: ", decoded.status().message())}));
    }
    if (!decoded->ok()) {
      return results_.push_back(error_entry(ApiError{api_error_code(decoded->error_code), decoded->message}));
    }
    add_rows(decoded->columns, decoded->rows, outcome.elapsed_seconds);
  }

  void add_time(Json* entry, double seconds) const {
    if (options_.timings && seconds > 0) (*entry)["time"] = seconds;
  }

  void add_write(const statemachine::StatementResult& result, double seconds) {
    Json entry = Json::object();
    if (result.last_insert_id != 0) entry["last_insert_id"] = result.last_insert_id;
    if (result.rows_affected != 0) entry["rows_affected"] = result.rows_affected;
    add_time(&entry, seconds);
    if (options_.associative && request_.endpoint == Endpoint::kRequest) entry["rows"] = nullptr;
    results_.push_back(std::move(entry));
  }

  void add_rows(const std::vector<Column>& columns, const std::vector<Row>& rows, double seconds) {
    Json entry = options_.associative ? associative_rows(columns, rows) : tabular_rows(columns, rows);
    add_time(&entry, seconds);
    results_.push_back(std::move(entry));
  }

  Json tabular_rows(const std::vector<Column>& columns, const std::vector<Row>& rows) const {
    Json entry = Json::object();
    if (!columns.empty()) {
      Json names = Json::array();
      for (const Column& column : columns) names.push_back(column.name);
      entry["columns"] = std::move(names);
      entry["types"] = column_types(columns, rows);
    }
    if (!rows.empty()) {
      Json values = Json::array();
      for (const Row& row : rows) values.push_back(row_array(columns, row));
      entry["values"] = std::move(values);
    }
    return entry;
  }

  Json row_array(const std::vector<Column>& columns, const Row& row) const {
    Json cells = Json::array();
    for (size_t i = 0; i < row.size(); ++i) {
      cells.push_back(i < columns.size() ? cell_json(columns[i], row[i], options_.blob_array)
                                         : value_json(row[i], options_.blob_array));
    }
    return cells;
  }

  // Go writes maps with sorted keys, and a repeated column name keeps its
  // last value; so do we.
  Json associative_rows(const std::vector<Column>& columns, const std::vector<Row>& rows) const {
    std::vector<size_t> order(columns.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return columns[a].name < columns[b].name; });
    const std::vector<std::string> types = column_types(columns, rows);
    Json entry = Json::object();
    if (!columns.empty()) {
      Json type_map = Json::object();
      for (size_t i : order) type_map[columns[i].name] = types[i];
      entry["types"] = std::move(type_map);
    }
    Json objects = Json::array();
    for (const Row& row : rows) {
      Json object = Json::object();
      for (size_t i : order) {
        if (i < row.size()) object[columns[i].name] = cell_json(columns[i], row[i], options_.blob_array);
      }
      objects.push_back(std::move(object));
    }
    entry["rows"] = std::move(objects);
    return entry;
  }

  const ApiRequest& request_;
  const RequestOptions& options_;
  Json results_ = Json::array();
  uint64_t raft_index_ = 0;
  bool duplicate_ = false;
  std::optional<ApiError> stale_;
};

// The request-level error when nothing reached the node successfully.
std::optional<ApiError> request_failure(const ApiRequest& request,
                                        const std::vector<OperationOutcome>& outcomes) {
  std::optional<ApiError> first_failure;
  for (size_t i = 0; i < request.operations.size(); ++i) {
    if (!needs_node(request.operations[i])) continue;
    if (outcomes[i].status.ok()) return std::nullopt;
    if (!first_failure) first_failure = error_from_node_status(outcomes[i].status);
  }
  if (first_failure && is_request_level(first_failure->code)) return first_failure;
  return std::nullopt;
}

}  // namespace

HttpResponse write_error(const ApiError& error, bool pretty) {
  HttpResponse response = json_response(http_status(error.code), error_entry(error), pretty);
  if (error.code == ApiErrorCode::kMethodNotAllowed && !error.allow.empty()) {
    response.headers.emplace_back("Allow", error.allow);
  }
  return response;
}

HttpResponse write_not_leader(const RequestOptions& options, const ResponseContext& context) {
  if (!context.leader_http_address || context.leader_http_address->empty()) {
    return write_error(
        ApiError{ApiErrorCode::kNoLeader, "leader not found: the cluster has no leader right now"},
        options.pretty);
  }
  const std::string leader = leader_base(*context.leader_http_address);
  Json body =
      error_entry(ApiError{ApiErrorCode::kNotLeader, absl::StrCat("not leader; the leader is at ", leader)});
  body["leader"] = leader;
  if (!options.redirect) return json_response(http_status(ApiErrorCode::kNotLeader), body, options.pretty);
  HttpResponse response = json_response(301, body, options.pretty);
  response.headers.emplace_back("Location", absl::StrCat(leader, context.target));
  return response;
}

ApiError error_from_node_status(const absl::Status& status) {
  std::string message(status.message());
  // Before the code: a stale read is FAILED_PRECONDITION, as "not leader" is.
  if (raft::is_stale_read(status)) return ApiError{ApiErrorCode::kStaleRead, std::move(message)};
  switch (status.code()) {
    case absl::StatusCode::kFailedPrecondition: return ApiError{ApiErrorCode::kNotLeader, std::move(message)};
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
      return ApiError{ApiErrorCode::kUnavailable, std::move(message)};
    case absl::StatusCode::kDeadlineExceeded:
      return ApiError{ApiErrorCode::kTimeout, absl::StrCat(message, " (the outcome is unknown)")};
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied: return ApiError{ApiErrorCode::kRefused, std::move(message)};
    default: return ApiError{ApiErrorCode::kInternal, std::move(message)};
  }
}

HttpResponse write_results(const ApiRequest& request, const std::vector<OperationOutcome>& outcomes,
                           const ResponseContext& context) {
  REEF_ASSERT(outcomes.size() == request.operations.size(), "write_results: ", outcomes.size(),
              " outcomes for ", request.operations.size(), " operations");
  if (auto failure = request_failure(request, outcomes)) {
    if (failure->code == ApiErrorCode::kNotLeader) return write_not_leader(request.options, context);
    return write_error(*failure, request.options.pretty);
  }
  ResultsBuilder builder(request);
  for (size_t i = 0; i < request.operations.size(); ++i) builder.add(request.operations[i], outcomes[i]);
  if (builder.stale()) return write_error(*builder.stale(), request.options.pretty);
  return json_response(200, std::move(builder).finish(context.elapsed_seconds), request.options.pretty);
}

}  // namespace reef::prod::http
