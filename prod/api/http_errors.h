// Errors of the HTTP API: one machine-readable code per way a request can
// fail, the HTTP status each code is answered with, and the snake_case name
// that appears as "code" next to every "error" message in a response body.
//
// Two kinds of failure exist, as in rqlite:
//  - request errors stop the whole request before (or instead of) running it
//    and are answered with a 4xx/5xx status and {"error": ..., "code": ...};
//  - statement errors (SQL errors, constraint violations, refused
//    statements) are per statement: the response is 200 and the statement's
//    entry in "results" carries "error" and "code".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "raft/core/assert.h"
#include "statemachine/batch_response.h"

namespace reef::prod::http {

enum class ApiErrorCode {
  // Request errors.
  kMalformedJson,     // 400: the body is not JSON
  kBadRequest,        // 400: JSON of the wrong shape, too deep, too many statements
  kBadParameter,      // 400: a URL query parameter is malformed or conflicts
  kNoStatements,      // 400: nothing to run
  kNotFound,          // 404: no such endpoint
  kMethodNotAllowed,  // 405
  kBodyTooLarge,      // 413: above HttpApiLimits::max_body_bytes
  kStaleSequence,     // 409: an exactly-once sequence older than the client's last
  kNotLeader,         // 503: this node cannot serve it; the leader is known
  kNoLeader,          // 503: no leader is known
  kStaleRead,         // 503: a level-none read's `freshness` bound is not met on this node
  kUnavailable,       // 503: the node is stopping, failed, or overloaded
  kTimeout,           // 504: no answer before the deadline; outcome unknown
  kInternal,          // 500: a bug or a corrupt answer
  // Statement errors.
  kSqlError,          // SQLite rejected the statement (syntax, no such table, ...)
  kConstraint,        // a constraint failed
  kRefused,           // the statement cannot run on a replicated database
  kInvalidParameter,  // parameters do not match the statement
  kResourceLimit,     // a size or step budget was exceeded
  kNotARead,          // a statement sent to /db/query would write
  kRolledBack,        // the statement was undone because another one in its transaction failed
};

struct ApiError {
  ApiErrorCode code = ApiErrorCode::kInternal;
  std::string message;
  std::string allow;  // kMethodNotAllowed: the methods the endpoint takes ("GET, POST")
};

// A value or the ApiError that prevented it: what the parsing steps return,
// so the error code survives to the response (absl::Status has no room for
// "malformed JSON" versus "wrong shape").
template <typename T>
class ApiResult {
 public:
  ApiResult(T value) : value_(std::move(value)) {}         // NOLINT: implicit, like StatusOr
  ApiResult(ApiError error) : error_(std::move(error)) {}  // NOLINT
  bool ok() const { return value_.has_value(); }
  const ApiError& error() const {
    REEF_ASSERT(!ok(), "error() of a successful ApiResult");
    return error_;
  }
  T& operator*() {
    REEF_ASSERT(ok(), "value of a failed ApiResult: ", error_.message);
    return *value_;
  }
  const T& operator*() const {
    REEF_ASSERT(ok(), "value of a failed ApiResult: ", error_.message);
    return *value_;
  }
  T* operator->() { return &**this; }
  const T* operator->() const { return &**this; }

 private:
  std::optional<T> value_;
  ApiError error_;
};

int http_status(ApiErrorCode code);
std::string_view error_code_name(ApiErrorCode code);

// The API code for a statement failure the state machine reported.
ApiErrorCode api_error_code(statemachine::ErrorCode code);

}  // namespace reef::prod::http
