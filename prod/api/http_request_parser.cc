#include "prod/api/http_request_parser.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prod/api/http_query_options.h"
#include "prod/api/http_request_planner.h"
#include "prod/api/http_statement_parser.h"

namespace reef::prod::http {
namespace {

struct Target {
  std::string_view path;
  std::string_view query;
};

Target split_target(std::string_view target) {
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return {target, {}};
  return {target.substr(0, question), target.substr(question + 1)};
}

std::optional<ApiError> check_method(Endpoint endpoint, std::string_view method) {
  const bool get_allowed = endpoint == Endpoint::kQuery;
  if (method == "POST" || (get_allowed && method == "GET")) return std::nullopt;
  ApiError error{ApiErrorCode::kMethodNotAllowed,
                 absl::StrCat(std::string(endpoint_path(endpoint)), " takes ",
                              get_allowed ? "GET or POST" : "POST", ", not ", std::string(method)),
                 get_allowed ? "GET, POST" : "POST"};
  return error;
}

ApiResult<std::vector<statemachine::Statement>> statements_of(const HttpRequest& request,
                                                              const RequestOptions& options) {
  if (request.method != "GET") return parse_statements_json(request.body);
  if (!options.q) return ApiError{ApiErrorCode::kNoStatements, "GET /db/query needs the statement in 'q'"};
  return std::vector<statemachine::Statement>{statemachine::Statement{*options.q, {}}};
}

}  // namespace

std::optional<Endpoint> endpoint_for_path(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  for (Endpoint endpoint : {Endpoint::kExecute, Endpoint::kQuery, Endpoint::kRequest}) {
    if (path == endpoint_path(endpoint)) return endpoint;
  }
  return std::nullopt;
}

std::optional<ApiError> check_body_size(uint64_t body_bytes, const HttpApiLimits& limits) {
  if (body_bytes <= limits.max_body_bytes) return std::nullopt;
  return ApiError{
      ApiErrorCode::kBodyTooLarge,
      absl::StrCat("request body of ", body_bytes, " bytes exceeds the limit of ", limits.max_body_bytes)};
}

ApiResult<ApiRequest> parse_api_request(const HttpRequest& request, const HttpApiLimits& limits) {
  const Target target = split_target(request.target);
  const std::optional<Endpoint> endpoint = endpoint_for_path(target.path);
  if (!endpoint)
    return ApiError{ApiErrorCode::kNotFound, absl::StrCat("no endpoint at ", std::string(target.path))};
  if (auto error = check_method(*endpoint, request.method)) return *std::move(error);
  if (auto error = check_body_size(request.body.size(), limits)) return *std::move(error);
  auto options = parse_request_options(target.query);
  if (!options.ok()) return ApiError{ApiErrorCode::kBadParameter, std::string(options.status().message())};
  auto statements = statements_of(request, *options);
  if (!statements.ok()) return statements.error();
  return plan_request(*endpoint, *std::move(options), *std::move(statements));
}

}  // namespace reef::prod::http
