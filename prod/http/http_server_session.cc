#include "prod/http/http_server_session.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <limits>
#include <string_view>
#include <utility>

#include "absl/strings/match.h"
#include "raft/core/assert.h"

namespace reef::prod {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_http_parse_error(const error_code& error) {
  return error.category() == beast_http::make_error_code(beast_http::error::bad_method).category();
}

bool expects_continue(const beast_http::request<beast_http::string_body>& request) {
  const auto expect = request.find(beast_http::field::expect);
  if (expect == request.end()) return false;
  const beast::string_view value = expect->value();
  return absl::EqualsIgnoreCase(absl::string_view(value.data(), value.size()), "100-continue");
}

std::string to_string(beast::string_view view) { return std::string(view.data(), view.size()); }

}  // namespace

// The state behind one request's `respond`: it answers at most once, and
// if every copy of `respond` is dropped unanswered it answers 500 for the
// handler. It holds the session weakly: a closed connection is not kept
// alive for an answer nobody can receive.
class HttpServerSession::AnswerSlot {
 public:
  AnswerSlot(std::weak_ptr<HttpServerSession> session, uint64_t request_number)
      : session_(std::move(session)), request_number_(request_number) {}
  AnswerSlot(const AnswerSlot&) = delete;
  AnswerSlot& operator=(const AnswerSlot&) = delete;
  ~AnswerSlot() {
    if (answered_) return;
    if (std::shared_ptr<HttpServerSession> session = session_.lock())
      session->answer_unanswered(request_number_);
  }

  void answer(http::HttpResponse response) {
    if (answered_) return;
    answered_ = true;
    if (std::shared_ptr<HttpServerSession> session = session_.lock()) {
      session->answer(request_number_, std::move(response));
    }
  }

 private:
  std::weak_ptr<HttpServerSession> session_;
  const uint64_t request_number_;
  bool answered_ = false;
};

HttpServerSession::HttpServerSession(std::shared_ptr<HttpServerShared> shared, uint64_t id,
                                     tcp::socket socket)
    : shared_(std::move(shared)), id_(id), stream_(std::move(socket)) {}

void HttpServerSession::close() {
  if (closed_) return;
  // Leaving the map may drop the last owner; stay alive until this returns.
  std::shared_ptr<HttpServerSession> self = shared_from_this();
  closed_ = true;
  stream_.close();
  shared_->sessions.erase(id_);
}

void HttpServerSession::read_request() {
  REEF_ASSERT(!awaiting_answer_, "reading request ", requests_read_ + 1,
              " before answering the previous one");
  parser_.emplace();
  parser_->header_limit(shared_->options.max_header_bytes);
  // Beast 1.74 compares Content-Length against the body limit without
  // checking that one is set, so "no limit" must be spelled as the largest
  // value. The real limit is applied once the header is in (see below).
  parser_->body_limit(std::numeric_limits<uint64_t>::max());
  stream_.expires_after(shared_->options.read_timeout);
  beast_http::async_read_header(stream_, buffer_, *parser_,
                                [self = shared_from_this()](const error_code& error, size_t /*bytes*/) {
                                  self->on_header_read(error);
                                });
}

void HttpServerSession::on_header_read(const error_code& error) {
  if (closed_) return;
  started_ = std::chrono::steady_clock::now();
  if (error) {
    on_read_failed(error);
    return;
  }
  const boost::optional<uint64_t> content_length = parser_->content_length();
  if (content_length.has_value() && *content_length > shared_->options.max_body_bytes) {
    ++shared_->stats.too_large;
    refuse(body_too_large_response(*content_length, shared_->options.max_body_bytes));
    return;
  }
  // Before any body octet is parsed, as Beast requires; it bounds chunked
  // bodies, whose size is only known at their end.
  parser_->body_limit(shared_->options.max_body_bytes);
  if (parser_->is_done()) {
    hand_to_handler();
  } else if (expects_continue(parser_->get())) {
    continue_then_read_body();
  } else {
    read_body();
  }
}

// A client that sent "Expect: 100-continue" waits for this before sending
// the body (curl does so for bodies above 1 KiB, for a second).
void HttpServerSession::continue_then_read_body() {
  asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                    [self = shared_from_this()](const error_code& error, size_t /*bytes*/) {
                      if (self->closed_) return;
                      if (error) {
                        self->close();
                        return;
                      }
                      self->read_body();
                    });
}

void HttpServerSession::read_body() {
  beast_http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](const error_code& error, size_t /*bytes*/) { self->on_body_read(error); });
}

void HttpServerSession::on_body_read(const error_code& error) {
  if (closed_) return;
  if (error) {
    on_read_failed(error);
    return;
  }
  hand_to_handler();
}

void HttpServerSession::on_read_failed(const error_code& error) {
  HttpServerStats& stats = shared_->stats;
  if (error == beast::error::timeout) {
    // Idle keep-alive connections end here too; the stream already closed
    // the socket.
    ++stats.read_timeouts;
    close();
  } else if (error == beast_http::error::body_limit) {
    ++stats.too_large;
    refuse(body_too_large_response(std::nullopt, shared_->options.max_body_bytes));
  } else if (error == beast_http::error::header_limit) {
    ++stats.header_too_large;
    refuse(header_too_large_response(shared_->options.max_header_bytes));
  } else if (error == beast_http::error::end_of_stream || error == beast_http::error::partial_message ||
             !is_http_parse_error(error)) {
    // The client closed (between requests or in the middle of one) or the
    // connection failed: nobody is left to answer.
    close();
  } else {
    ++stats.bad_requests;
    refuse(malformed_request_response(error.message()));
  }
}

void HttpServerSession::hand_to_handler() {
  stream_.expires_never();  // the handler may take its time; no timer runs meanwhile
  beast_http::request<beast_http::string_body>& message = parser_->get();
  ++requests_read_;
  ++shared_->stats.requests;
  awaiting_answer_ = true;
  framing_ =
      ResponseFraming{message.version(), message.keep_alive(), message.method() == beast_http::verb::head};
  http::HttpRequest request{to_string(message.method_string()), to_string(message.target()),
                            std::move(message.body())};
  auto slot = std::make_shared<AnswerSlot>(weak_from_this(), requests_read_);
  auto respond = [slot = std::move(slot)](http::HttpResponse response) { slot->answer(std::move(response)); };
  // The handler may answer (or stop the server) before it returns; nothing
  // here runs after it.
  shared_->handler(std::move(request), std::move(respond));
}

void HttpServerSession::answer(uint64_t request_number, http::HttpResponse response) {
  if (closed_ || !awaiting_answer_ || request_number != requests_read_) return;
  awaiting_answer_ = false;
  write_response(std::move(response), framing_);
}

void HttpServerSession::answer_unanswered(uint64_t request_number) {
  if (closed_ || !awaiting_answer_ || request_number != requests_read_) return;
  ++shared_->stats.unanswered;
  answer(request_number, unanswered_response());
}

// A refusal answers the request the session could not read, and ends the
// connection.
void HttpServerSession::refuse(http::HttpResponse response) {
  REEF_ASSERT(!awaiting_answer_, "refusing a request while another awaits its answer");
  const bool header_read = parser_.has_value() && parser_->is_header_done();
  const unsigned version = header_read ? parser_->get().version() : 11;
  write_response(std::move(response), ResponseFraming{version, /*keep_alive=*/false, /*head=*/false});
}

void HttpServerSession::write_response(http::HttpResponse response, const ResponseFraming& framing) {
  response_.emplace(to_beast_response(std::move(response), framing, shared_->options.server_header));
  const int status = static_cast<int>(response_->result_int());
  HttpServerStats& stats = shared_->stats;
  if (status < 300) {
    ++stats.responses_2xx;
  } else if (status < 400) {
    ++stats.responses_3xx;
  } else if (status < 500) {
    ++stats.responses_4xx;
  } else {
    ++stats.responses_5xx;
  }
  stream_.expires_after(shared_->options.write_timeout);
  beast_http::async_write(stream_, *response_,
                          [self = shared_from_this(), status](const error_code& error, size_t /*bytes*/) {
                            self->on_response_written(error, status);
                          });
}

void HttpServerSession::on_response_written(const error_code& error, int status) {
  if (closed_) return;
  const bool keep_alive = response_->keep_alive();
  response_.reset();
  report_finished(status);
  if (closed_) return;  // on_finished may have stopped the server
  if (error) {
    if (error == beast::error::timeout) ++shared_->stats.write_timeouts;
    close();
  } else if (keep_alive) {
    read_request();
  } else {
    linger_then_close();
  }
}

void HttpServerSession::report_finished(int status) {
  if (!shared_->options.on_finished) return;
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
  shared_->options.on_finished(method_or_empty(), status, elapsed.count());
}

std::string HttpServerSession::method_or_empty() const {
  if (!parser_.has_value() || !parser_->is_header_done()) return "";
  return to_string(parser_->get().method_string());
}

void HttpServerSession::linger_then_close() {
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (shared_->options.linger_timeout.count() == 0) {
    close();
    return;
  }
  stream_.expires_after(shared_->options.linger_timeout);
  discard_until_closed();
}

void HttpServerSession::discard_until_closed() {
  stream_.async_read_some(asio::buffer(discard_buffer_),
                          [self = shared_from_this()](const error_code& error, size_t /*bytes*/) {
                            if (self->closed_) return;
                            if (error) {
                              // The client closed its side (or the linger time is up): done.
                              self->close();
                              return;
                            }
                            self->discard_until_closed();
                          });
}

}  // namespace reef::prod
