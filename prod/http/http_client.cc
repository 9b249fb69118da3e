#include "prod/http/http_client.h"

#include "absl/strings/match.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "prod/net/host_port.h"

namespace reef::prod {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;

// Runs one asynchronous operation to completion on `io` and returns its
// error. `start` receives the completion handler to pass to the operation.
template <typename Start>
error_code run_operation(asio::io_context& io, Start start) {
  std::optional<error_code> result;
  start([&result](error_code error, auto&&...) { result = error; });
  io.restart();
  io.run();
  return result.value_or(asio::error::operation_aborted);
}

bool is_timeout(error_code error) { return error == beast::error::timeout; }

// The peer closed or reset a connection it had kept open: what a node does
// to an idle keep-alive connection.
bool is_stale_connection(error_code error) {
  return error == beast_http::error::end_of_stream || error == asio::error::eof ||
         error == asio::error::connection_reset || error == asio::error::broken_pipe ||
         error == asio::error::connection_aborted;
}

beast::string_view beast_view(std::string_view text) { return {text.data(), text.size()}; }

std::string seconds_text(std::chrono::milliseconds duration) {
  return absl::StrCat(static_cast<double>(duration.count()) / 1000.0, "s");
}

http::HttpResponse to_http_response(beast_http::response<beast_http::string_body> beast_response) {
  http::HttpResponse response;
  response.status = static_cast<int>(beast_response.result_int());
  response.content_type.clear();
  for (const auto& field : beast_response) {
    if (field.name() == beast_http::field::content_type) {
      response.content_type = std::string(field.value());
    } else {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
  }
  response.body = std::move(beast_response.body());
  return response;
}

}  // namespace

struct HttpClient::Connection {
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  // At least one exchange completed on this connection, so the peer may
  // have closed it in the meantime.
  bool reused = false;
};

HttpClient::HttpClient(std::string host_port, HttpClientTimeouts timeouts)
    : host_port_(std::move(host_port)), timeouts_(timeouts) {}

HttpClient::~HttpClient() = default;

void HttpClient::close() { connection_.reset(); }

absl::Status HttpClient::connect() {
  absl::StatusOr<HostPort> address = parse_host_port(host_port_);
  if (!address.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("bad address \"", host_port_, "\": ", address.status().message()));
  }
  auto connection = std::make_unique<Connection>();
  tcp::resolver resolver(connection->io);
  error_code error;
  // Blocking resolution: names are numeric or local in practice, and the
  // system resolver has its own timeout.
  const tcp::resolver::results_type endpoints =
      resolver.resolve(address->host, std::to_string(address->port), error);
  if (error) return absl::UnavailableError(absl::StrCat("cannot resolve ", host_port_, ": ", error.message()));
  connection->stream.expires_after(timeouts_.connect);
  error = run_operation(connection->io,
                        [&](auto handler) { connection->stream.async_connect(endpoints, std::move(handler)); });
  if (is_timeout(error)) {
    return absl::DeadlineExceededError(
        absl::StrCat("cannot connect to ", host_port_, ": no answer within ", seconds_text(timeouts_.connect)));
  }
  if (error) return absl::UnavailableError(absl::StrCat("cannot connect to ", host_port_, ": ", error.message()));
  connection_ = std::move(connection);
  return absl::OkStatus();
}

absl::StatusOr<http::HttpResponse> HttpClient::request(std::string_view method, std::string_view target,
                                                       std::string_view body) {
  // At most two attempts: the second only when a reused connection turned
  // out to be closed before the node sent anything back.
  for (int attempt = 0;; ++attempt) {
    if (!connection_) {
      if (absl::Status connected = connect(); !connected.ok()) return connected;
    }
    const bool reused = connection_->reused;
    bool nothing_received = false;
    absl::StatusOr<http::HttpResponse> response = exchange(method, target, body, nothing_received);
    if (response.ok() || !reused || !nothing_received || attempt > 0) return response;
    close();
  }
}

absl::StatusOr<http::HttpResponse> HttpClient::exchange(std::string_view method, std::string_view target,
                                                        std::string_view body, bool& nothing_received) {
  Connection& connection = *connection_;
  beast_http::request<beast_http::string_body> beast_request;
  const beast_http::verb verb = beast_http::string_to_verb(beast_view(method));
  if (verb == beast_http::verb::unknown) {
    beast_request.method_string(beast_view(method));
  } else {
    beast_request.method(verb);
  }
  beast_request.target(beast_view(target));
  beast_request.version(11);
  beast_request.set(beast_http::field::host, host_port_);
  beast_request.set(beast_http::field::user_agent, "reefdb-cli");
  beast_request.keep_alive(true);
  if (!body.empty()) beast_request.set(beast_http::field::content_type, beast_view(http::kJsonContentType));
  beast_request.body() = std::string(body);
  beast_request.prepare_payload();

  connection.stream.expires_after(timeouts_.read);
  error_code error = run_operation(connection.io, [&](auto handler) {
    beast_http::async_write(connection.stream, beast_request, std::move(handler));
  });
  beast_http::response_parser<beast_http::string_body> parser;
  parser.body_limit(kMaxResponseBodyBytes);
  if (!error) {
    error = run_operation(connection.io, [&](auto handler) {
      beast_http::async_read(connection.stream, connection.buffer, parser, std::move(handler));
    });
  }
  if (error) {
    nothing_received = !parser.got_some() && is_stale_connection(error);
    close();
    if (is_timeout(error)) {
      return absl::DeadlineExceededError(
          absl::StrCat("no answer from ", host_port_, " within ", seconds_text(timeouts_.read)));
    }
    if (error == beast_http::error::body_limit) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the answer from ", host_port_, " is larger than ", kMaxResponseBodyBytes, " bytes"));
    }
    if (error.category() == beast_http::make_error_code(beast_http::error::end_of_stream).category() && !is_stale_connection(error)) {
      return absl::InternalError(absl::StrCat("malformed HTTP answer from ", host_port_, ": ", error.message()));
    }
    return absl::UnavailableError(absl::StrCat("connection to ", host_port_, " failed: ", error.message()));
  }
  beast_http::response<beast_http::string_body> beast_response = parser.release();
  const bool keep_alive = beast_response.keep_alive() && !beast_response.need_eof();
  http::HttpResponse response = to_http_response(std::move(beast_response));
  if (keep_alive) {
    connection.reused = true;
  } else {
    close();
  }
  return response;
}

std::optional<std::string> header_value(const http::HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (absl::EqualsIgnoreCase(key, absl::string_view(name.data(), name.size()))) return value;
  }
  return std::nullopt;
}

std::string host_port_of_url(std::string_view url) {
  if (const size_t scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  return std::string(url.substr(0, url.find('/')));
}

}  // namespace reef::prod
