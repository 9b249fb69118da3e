#include "prod/http/http_server_response.h"

#include <array>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "prod/api/http_errors.h"
#include "prod/api/http_request_parser.h"
#include "prod/api/http_response_writer.h"

namespace reef::prod {
namespace {

namespace beast_http = boost::beast::http;

constexpr int kRequestHeaderFieldsTooLarge = 431;  // RFC 6585; not an ApiErrorCode status

// RFC 7230 section 3.2.6: a field name is a token.
bool is_token(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) continue;
    if (absl::string_view("!#$%&'*+-.^_`|~").find(c) == absl::string_view::npos) return false;
  }
  return true;
}

// Visible characters, spaces and tabs only: a CR or LF would end the field
// and let whatever follows become another header or the body.
bool is_field_value(absl::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return false;
  }
  return true;
}

bool is_framing_field(absl::string_view name) {
  constexpr std::array<absl::string_view, 3> kFraming = {"Content-Length", "Transfer-Encoding", "Connection"};
  for (absl::string_view framing : kFraming) {
    if (absl::EqualsIgnoreCase(name, framing)) return true;
  }
  return false;
}

bool is_final_status(int status) { return status >= 200 && status <= 599; }

// RFC 9110 sections 15.3.5 and 15.4.5: these carry neither a body nor a
// Content-Length (and Beast throws when asked to frame a body for them).
bool forbids_body(int status) { return status == 204 || status == 304; }

}  // namespace

BeastResponse to_beast_response(http::HttpResponse response, const ResponseFraming& framing,
                                const std::string& server_header) {
  if (!is_final_status(response.status)) {
    response = http::write_error(
        http::ApiError{http::ApiErrorCode::kInternal,
                       absl::StrCat("the handler answered with invalid status ", response.status)});
  }
  BeastResponse out;
  out.version(framing.version);
  out.result(static_cast<unsigned>(response.status));
  out.set(beast_http::field::server, server_header);
  if (!response.content_type.empty() && is_field_value(response.content_type)) {
    out.set(beast_http::field::content_type, response.content_type);
  }
  for (const auto& [name, value] : response.headers) {
    if (is_token(name) && is_field_value(value) && !is_framing_field(name)) out.insert(name, value);
  }
  out.keep_alive(framing.keep_alive);
  if (!forbids_body(response.status)) {
    out.body() = std::move(response.body);
    out.prepare_payload();
  }
  // A HEAD answer announces the body's length but carries no body.
  if (framing.head) out.body().clear();
  return out;
}

http::HttpResponse malformed_request_response(absl::string_view why) {
  return http::write_error(
      http::ApiError{http::ApiErrorCode::kBadRequest, absl::StrCat("malformed HTTP request: ", why)});
}

http::HttpResponse body_too_large_response(std::optional<uint64_t> content_length, size_t max_body_bytes) {
  const http::HttpApiLimits limits{max_body_bytes};
  if (content_length.has_value()) {
    if (std::optional<http::ApiError> error = http::check_body_size(*content_length, limits)) {
      return http::write_error(*error);
    }
  }
  return http::write_error(
      http::ApiError{http::ApiErrorCode::kBodyTooLarge,
                     absl::StrCat("request body exceeds the limit of ", max_body_bytes, " bytes")});
}

http::HttpResponse header_too_large_response(uint32_t max_header_bytes) {
  http::HttpResponse response = http::write_error(http::ApiError{
      http::ApiErrorCode::kBadRequest,
      absl::StrCat("request line and header fields exceed the limit of ", max_header_bytes, " bytes")});
  response.status = kRequestHeaderFieldsTooLarge;
  return response;
}

http::HttpResponse unanswered_response() {
  return http::write_error(
      http::ApiError{http::ApiErrorCode::kInternal, "the server dropped the request without answering it"});
}

}  // namespace reef::prod
