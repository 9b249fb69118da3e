#include "prod/api/http_errors.h"

namespace reef::prod::http {

int http_status(ApiErrorCode code) {
  switch (code) {
    case ApiErrorCode::kMalformedJson:
    case ApiErrorCode::kBadRequest:
    case ApiErrorCode::kBadParameter:
    case ApiErrorCode::kNoStatements: return 400;
    case ApiErrorCode::kNotFound: return 404;
    case ApiErrorCode::kMethodNotAllowed: return 405;
    case ApiErrorCode::kStaleSequence: return 409;
    case ApiErrorCode::kBodyTooLarge: return 413;
    case ApiErrorCode::kNotLeader:
    case ApiErrorCode::kNoLeader:
    case ApiErrorCode::kStaleRead:
    case ApiErrorCode::kUnavailable: return 503;
    case ApiErrorCode::kTimeout: return 504;
    case ApiErrorCode::kInternal: return 500;
    // Statement errors travel inside a 200 response; answered on their own
    // (the server has nothing else to say) they are the client's fault.
    case ApiErrorCode::kSqlError:
    case ApiErrorCode::kConstraint:
    case ApiErrorCode::kRefused:
    case ApiErrorCode::kInvalidParameter:
    case ApiErrorCode::kResourceLimit:
    case ApiErrorCode::kNotARead:
    case ApiErrorCode::kRolledBack: return 400;
  }
  return 500;
}

std::string_view error_code_name(ApiErrorCode code) {
  switch (code) {
    case ApiErrorCode::kMalformedJson: return "malformed_json";
    case ApiErrorCode::kBadRequest: return "bad_request";
    case ApiErrorCode::kBadParameter: return "bad_parameter";
    case ApiErrorCode::kNoStatements: return "no_statements";
    case ApiErrorCode::kNotFound: return "not_found";
    case ApiErrorCode::kMethodNotAllowed: return "method_not_allowed";
    case ApiErrorCode::kBodyTooLarge: return "body_too_large";
    case ApiErrorCode::kStaleSequence: return "stale_sequence";
    case ApiErrorCode::kNotLeader: return "not_leader";
    case ApiErrorCode::kNoLeader: return "no_leader";
    case ApiErrorCode::kStaleRead: return "stale_read";
    case ApiErrorCode::kUnavailable: return "unavailable";
    case ApiErrorCode::kTimeout: return "timeout";
    case ApiErrorCode::kInternal: return "internal";
    case ApiErrorCode::kSqlError: return "sql_error";
    case ApiErrorCode::kConstraint: return "constraint";
    case ApiErrorCode::kRefused: return "refused";
    case ApiErrorCode::kInvalidParameter: return "invalid_parameter";
    case ApiErrorCode::kResourceLimit: return "resource_limit";
    case ApiErrorCode::kNotARead: return "not_a_read";
    case ApiErrorCode::kRolledBack: return "rolled_back";
  }
  return "internal";
}

ApiErrorCode api_error_code(statemachine::ErrorCode code) {
  using statemachine::ErrorCode;
  switch (code) {
    case ErrorCode::kSqlError: return ApiErrorCode::kSqlError;
    case ErrorCode::kConstraint: return ApiErrorCode::kConstraint;
    case ErrorCode::kRefused: return ApiErrorCode::kRefused;
    case ErrorCode::kInvalidParameter: return ApiErrorCode::kInvalidParameter;
    case ErrorCode::kResourceLimit: return ApiErrorCode::kResourceLimit;
    case ErrorCode::kStale: return ApiErrorCode::kStaleSequence;
    case ErrorCode::kNone:
    case ErrorCode::kInvalidBatch: return ApiErrorCode::kInternal;
  }
  return ApiErrorCode::kInternal;
}

}  // namespace reef::prod::http
