// What HttpServer shares with its connections (internal to prod/http_server*).
// Every asynchronous handler holds a shared_ptr to this, not to the server:
// a handler that runs after the server was stopped or destroyed finds
// `stopped` (or its connection closed) and touches nothing else.
//
// `sessions` owns the open connections, and each holds this back: stop()
// (run by ~HttpServer) empties the map, which breaks that cycle.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>

#include "prod/http/http_server_handler.h"
#include "prod/http/http_server_options.h"
#include "prod/http/http_server_stats.h"

namespace reef::prod {

class HttpServerSession;

struct HttpServerShared {
  HttpServerShared(boost::asio::io_context& loop, HttpServerOptions options, HttpHandler handler,
                   boost::asio::ip::tcp::acceptor acceptor)
      : loop(loop),
        options(std::move(options)),
        handler(std::move(handler)),
        acceptor(std::move(acceptor)),
        accept_retry_timer(loop) {}

  boost::asio::io_context& loop;
  const HttpServerOptions options;
  const HttpHandler handler;
  HttpServerStats stats;
  boost::asio::ip::tcp::acceptor acceptor;
  boost::asio::steady_timer accept_retry_timer;  // after an accept error such as EMFILE
  // Open connections by id (ids are never reused). A session removes itself
  // when it closes; its size is what max_connections bounds.
  std::map<uint64_t, std::shared_ptr<HttpServerSession>> sessions;
  uint64_t next_session_id = 1;
  bool stopped = false;
};

}  // namespace reef::prod
