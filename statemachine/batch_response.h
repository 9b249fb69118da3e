// BatchResponse: what apply() returns for a normal entry, as FlatBuffers
// (batch_response.fbs). It is a pure function of the entries applied, so
// every replica returns the same bytes; the stored copy in the sessions table
// is what a retried command gets back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "statemachine/command_batch.h"
#include "statemachine/value.h"

namespace reef::statemachine {

enum class ApplyStatus : uint8_t { kOk = 0, kStatementFailed = 1, kStale = 2, kInvalidBatch = 3 };

enum class ErrorCode : uint8_t {
  kNone = 0,
  kSqlError = 1,
  kConstraint = 2,
  kRefused = 3,
  kInvalidParameter = 4,
  kResourceLimit = 5,
  kStale = 6,
  kInvalidBatch = 7,
};

const char* apply_status_name(ApplyStatus status);
const char* error_code_name(ErrorCode code);

struct Column {
  std::string name;
  std::string declared_type;  // empty for expressions
  friend bool operator==(const Column&, const Column&) = default;
};

using Row = std::vector<Value>;

struct StatementResult {
  int64_t rows_affected = 0;
  int64_t last_insert_id = 0;
  std::vector<Column> columns;  // only for statements that return rows
  std::vector<Row> rows;
  friend bool operator==(const StatementResult&, const StatementResult&) = default;
};

struct BatchResponse {
  ApplyStatus status = ApplyStatus::kOk;
  bool duplicate = false;
  CommandId id;
  std::vector<StatementResult> results;  // one per statement when kOk
  int32_t failed_statement = -1;         // index into the batch, or -1
  ErrorCode error_code = ErrorCode::kNone;
  int32_t sqlite_code = 0;
  std::string message;

  bool ok() const { return status == ApplyStatus::kOk; }
  friend bool operator==(const BatchResponse&, const BatchResponse&) = default;
};

std::string encode_batch_response(const BatchResponse& response);
absl::StatusOr<BatchResponse> decode_batch_response(absl::string_view bytes);

}  // namespace reef::statemachine
