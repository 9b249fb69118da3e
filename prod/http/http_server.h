// HttpServer: the HTTP/1.1 server (Boost.Beast) in front of the HTTP API.
// It reads requests into transport-free http::HttpRequest values, hands each
// to an asynchronous HttpHandler (prod/http/http_server_handler.h) and writes the
// http::HttpResponse it gets back. What a request means is the handler's
// business; the server only deals with HTTP itself:
//  - keep-alive, one request at a time per connection, answers in order;
//  - bounds: header size (431), body size (413, from Content-Length before
//    the body is read), read and write timeouts, open connections (beyond
//    max_connections a connection is accepted and closed at once);
//  - malformed HTTP is answered 400; every refusal carries the API's JSON
//    error body and ends its connection;
//  - "Expect: 100-continue" and chunked request bodies are understood.
// See prod/http/http_server_session.h for one connection's life.
//
// Threading: the server runs on one boost::asio::io_context (the node
// loop, single-threaded), like AsioTransport. Every method must be called
// on that loop's thread; the handler and on_finished run there.
//
// Lifetime: stop() (also run by the destructor) closes the listener and
// every connection; handlers still queued in the io_context afterwards do
// nothing, and a `respond` called afterwards does nothing. Do not destroy
// the server from inside the handler or on_finished (stop() is fine there).
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "prod/http/http_server_handler.h"
#include "prod/http/http_server_options.h"
#include "prod/http/http_server_stats.h"

namespace reef::prod {

struct HttpServerShared;

class HttpServer {
 public:
  // Validates the options, binds the listening socket (errors:
  // INVALID_ARGUMENT for options or an empty handler, UNAVAILABLE when the
  // address cannot be bound) and starts accepting.
  static absl::StatusOr<std::unique_ptr<HttpServer>> create(boost::asio::io_context& loop,
                                                            HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port actually bound (useful with port 0 in listen_address).
  uint16_t listen_port() const { return listen_port_; }
  const HttpServerStats& stats() const;
  // Connections open right now (lingering ones included).
  size_t open_connections() const;

  // Closes the listener and every connection, at once: requests being read
  // are dropped and answers not yet written are never sent. Idempotent.
  void stop();
  bool stopped() const;

 private:
  HttpServer(std::shared_ptr<HttpServerShared> shared, uint16_t listen_port);

  std::shared_ptr<HttpServerShared> shared_;
  const uint16_t listen_port_;
};

}  // namespace reef::prod
