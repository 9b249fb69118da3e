// One client connection of prod/http/http_server.h (internal to
// prod/http_server*): HTTP/1.1 with keep-alive, one request at a time.
//
//   read header -> check Content-Length -> [100 Continue] -> read body
//        ^                                                    |
//        |                                              hand to handler
//        |                                                    | respond()
//        +-- keep-alive <-- write response <------------------+
//
// The next request is read only after the previous one was answered, so
// answers go out in request order without a queue; a client that pipelines
// simply has its later requests wait in the socket buffer.
//
// Refusals end the connection, because after them the server no longer
// knows where the next request starts: malformed HTTP (400), a body above
// max_body_bytes (413, decided from Content-Length before the body is read;
// for a chunked body when it passes the limit), a header above
// max_header_bytes (431). After a response that ends the connection the
// server shuts its sending side and discards input for linger_timeout, so
// the client reads the response rather than a reset.
//
// Lifetime: HttpServerShared::sessions owns the session while it is open;
// pending operations hold it too. close() takes it out of the map; the
// respond function holds it only weakly, so an answer for a closed
// connection finds nothing and does nothing.
#pragma once

#include <array>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "prod/api/http_message.h"
#include "prod/http/http_server_response.h"
#include "prod/http/http_server_shared.h"

namespace reef::prod {

class HttpServerSession : public std::enable_shared_from_this<HttpServerSession> {
 public:
  HttpServerSession(std::shared_ptr<HttpServerShared> shared, uint64_t id,
                    boost::asio::ip::tcp::socket socket);

  void start() { read_request(); }
  // Closes the socket at once and leaves the server's map; pending
  // operations complete as cancelled and do nothing. Idempotent.
  void close();
  bool closed() const { return closed_; }

 private:
  class AnswerSlot;
  using error_code = boost::system::error_code;
  using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  // Reading.
  void read_request();
  void on_header_read(const error_code& error);
  void continue_then_read_body();
  void read_body();
  void on_body_read(const error_code& error);
  void on_read_failed(const error_code& error);

  // Answering.
  void hand_to_handler();
  void answer(uint64_t request_number, http::HttpResponse response);
  void answer_unanswered(uint64_t request_number);
  void refuse(http::HttpResponse response);
  void write_response(http::HttpResponse response, const ResponseFraming& framing);
  void on_response_written(const error_code& error, int status);
  void report_finished(int status);

  // Closing.
  void linger_then_close();
  void discard_until_closed();

  // The method of the request being handled, "" before its header was read.
  std::string method_or_empty() const;

  std::shared_ptr<HttpServerShared> shared_;
  const uint64_t id_;
  boost::beast::tcp_stream stream_;
  // Survives from one request to the next: it may hold the start of the
  // next (pipelined) request.
  boost::beast::flat_buffer buffer_;
  // A parser reads one message; a fresh one per request.
  std::optional<RequestParser> parser_;
  std::optional<BeastResponse> response_;  // being written (the serializer refers to it)

  // Requests on this connection so far; identifies the one awaiting its
  // answer so that a late or second respond() cannot answer another.
  uint64_t requests_read_ = 0;
  bool awaiting_answer_ = false;
  ResponseFraming framing_;                        // of the request awaiting its answer
  std::chrono::steady_clock::time_point started_;  // for on_finished
  std::array<char, 4096> discard_buffer_{};        // input thrown away while lingering
  bool closed_ = false;
};

}  // namespace reef::prod
