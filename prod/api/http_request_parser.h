// The front of the HTTP API: one HttpRequest in, a planned ApiRequest (or
// the ApiError to answer with) out. Steps, each failing with its own code:
//   route        path /db/execute, /db/query, /db/request (a trailing '/'
//                is tolerated)                                 -> 404
//   method       execute and request: POST; query: GET or POST -> 405
//   body size    before anything looks at the body             -> 413
//   options      the URL query string (http_query_options.h)   -> 400
//   statements   GET /db/query: `q`; otherwise the JSON body
//                (http_statement_parser.h)                     -> 400
//   plan         http_request_planner.h                        -> 400
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "prod/api/http_api_request.h"
#include "prod/api/http_errors.h"
#include "prod/api/http_message.h"

namespace reef::prod::http {

struct HttpApiLimits {
  // Largest request body accepted; the server should also refuse a larger
  // Content-Length before reading the body (check_body_size).
  size_t max_body_bytes = size_t{16} << 20;
};

// The endpoint a request path (without the query string) names, if any.
std::optional<Endpoint> endpoint_for_path(std::string_view path);

// kBodyTooLarge when `body_bytes` exceeds the limit.
std::optional<ApiError> check_body_size(uint64_t body_bytes, const HttpApiLimits& limits);

ApiResult<ApiRequest> parse_api_request(const HttpRequest& request, const HttpApiLimits& limits = {});

}  // namespace reef::prod::http
