// Counters of prod/http/http_server.h, for metrics and tests. They only grow.
#pragma once

#include <cstdint>

namespace reef::prod {

struct HttpServerStats {
  // Connections.
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // over max_connections, closed at once
  uint64_t read_timeouts = 0;        // closed: no complete request within read_timeout (idle ones included)
  uint64_t write_timeouts = 0;       // closed: the client did not take a response within write_timeout

  // Requests read completely and handed to the handler.
  uint64_t requests = 0;
  // Requests refused by the server itself (each also ends its connection).
  uint64_t bad_requests = 0;      // malformed HTTP: 400
  uint64_t too_large = 0;         // body above max_body_bytes: 413
  uint64_t header_too_large = 0;  // request line + fields above max_header_bytes: 431
  // The handler dropped `respond` without calling it: answered 500.
  uint64_t unanswered = 0;

  // Responses started, by status class (the server's own refusals included).
  uint64_t responses_2xx = 0;
  uint64_t responses_3xx = 0;
  uint64_t responses_4xx = 0;
  uint64_t responses_5xx = 0;
};

}  // namespace reef::prod
