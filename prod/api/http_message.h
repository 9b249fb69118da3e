// The HTTP request and response as the API logic sees them: no sockets, no
// Beast types. The server copies what it read into an HttpRequest and
// writes an HttpResponse back, so everything between is testable as pure
// functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reef::prod::http {

inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent (compared case-sensitively, as HTTP says)
  std::string target;  // origin-form: path plus optional "?query"
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = std::string(kJsonContentType);
  std::string body;
  // Extra headers (Location for redirects, Allow for 405).
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace reef::prod::http
