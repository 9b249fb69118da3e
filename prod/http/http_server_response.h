// Between the API's transport-free HttpResponse and the Beast response the
// server writes, plus the responses the server makes itself for requests it
// refuses before the handler sees them. Those use the API's JSON error body
// (http_response_writer.h) so clients parse every error the same way.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "prod/api/http_message.h"

namespace reef::prod {

using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

// How the response is framed for the request it answers.
struct ResponseFraming {
  unsigned version = 11;    // the request's HTTP version: 10 or 11
  bool keep_alive = false;  // whether the connection stays open afterwards
  bool head = false;        // a HEAD request: headers only, with the body's Content-Length
};

// Status, body, Content-Type (left out when empty), Content-Length, the
// Server header and the extra headers. A 204 or 304 goes out without body
// or Content-Length, whatever the handler put there. A status outside 200..599 (a
// handler bug) becomes a 500 internal error rather than a broken response.
// Extra headers that could break the framing (Content-Length,
// Transfer-Encoding, Connection) or that are not valid HTTP (bad name,
// CR/LF in the value) are dropped: the framing is the server's.
BeastResponse to_beast_response(http::HttpResponse response, const ResponseFraming& framing,
                                const std::string& server_header);

// 400: the request is not well-formed HTTP/1.1.
http::HttpResponse malformed_request_response(absl::string_view why);
// 413: the body is larger than the limit; `content_length` when declared.
http::HttpResponse body_too_large_response(std::optional<uint64_t> content_length, size_t max_body_bytes);
// 431: the request line and header fields are larger than the limit.
http::HttpResponse header_too_large_response(uint32_t max_header_bytes);
// 500: the handler dropped the request without answering it.
http::HttpResponse unanswered_response();

}  // namespace reef::prod
