// Configuration of prod/http/http_server.h: where the HTTP API listens and the
// bounds on what one client may make it hold (bytes, time, connections).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "prod/api/http_request_parser.h"

namespace reef::prod {

struct HttpServerOptions {
  // host:port to accept clients on ("[::1]:4001" for IPv6). Port 0 picks a
  // free port; HttpServer::listen_port() reports it.
  std::string listen_address = "127.0.0.1:0";

  // Largest request body. A larger Content-Length is answered with 413
  // before any of the body is read; a chunked body is cut off at the limit.
  size_t max_body_bytes = http::HttpApiLimits{}.max_body_bytes;
  // Largest request line plus header fields; beyond it: 431.
  uint32_t max_header_bytes = 16 << 10;

  // A request must be read completely within this time from when the
  // server starts waiting for it, so it also bounds how long an idle
  // keep-alive connection stays open and how long a slow client may
  // trickle bytes. The connection is closed when it passes.
  std::chrono::milliseconds read_timeout{30'000};
  // Writing one response (the client must read it); then the connection
  // is closed.
  std::chrono::milliseconds write_timeout{30'000};
  // After a response that ends the connection (an error, Connection:
  // close), the server stops sending and discards what the client still
  // sends for at most this long before closing, so the client reads the
  // response instead of a connection reset.
  std::chrono::milliseconds linger_timeout{1'000};

  // Connections held open at once; further ones are accepted and closed at
  // once (HttpServerStats::connections_refused).
  size_t max_connections = 512;

  // The Server header of every response.
  std::string server_header = "reefdb";

  // Called once per response when its write completed or failed (not when
  // the server was stopped first), with the request method ("" when the
  // request was too malformed to have one), the status and the seconds
  // from the request's header having been read (or its read having failed)
  // to the response having been written, on a monotonic clock. Runs on the
  // loop; may be empty.
  std::function<void(const std::string& method, int status, double seconds)> on_finished;

  // Everything above in range and the listen address parses.
  absl::Status validate() const;
};

}  // namespace reef::prod
