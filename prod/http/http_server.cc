#include "prod/http/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "prod/http/http_server_session.h"
#include "prod/http/http_server_shared.h"
#include "prod/net/host_port.h"

namespace reef::prod {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

// An accept error that is not the listener closing (out of descriptors,
// say) is retried after this pause rather than in a tight loop.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

// The listen address as an endpoint. Names resolve once, here, blocking:
// this runs at startup, before the loop serves anything.
absl::StatusOr<tcp::endpoint> listen_endpoint(asio::io_context& loop, absl::string_view text) {
  absl::StatusOr<HostPort> address = parse_host_port(text);
  if (!address.ok()) return address.status();
  error_code error;
  tcp::resolver resolver(loop);
  const tcp::resolver::results_type results =
      resolver.resolve(address->host, absl::StrCat(address->port), tcp::resolver::passive, error);
  if (error || results.empty()) {
    return absl::UnavailableError(
        absl::StrCat("HTTP listen address ", text, ": ", error ? error.message() : "resolves to nothing"));
  }
  return results.begin()->endpoint();
}

// Binds and listens (SO_REUSEADDR set, so a restarted node can take its
// port back while old connections linger in TIME_WAIT).
absl::StatusOr<tcp::acceptor> open_acceptor(asio::io_context& loop, const tcp::endpoint& endpoint) {
  tcp::acceptor acceptor(loop);
  error_code error;
  auto failed = [&](absl::string_view step) {
    return absl::UnavailableError(absl::StrCat("HTTP listening on ", endpoint.address().to_string(), ":",
                                               endpoint.port(), ": ", step, ": ", error.message()));
  };
  if (acceptor.open(endpoint.protocol(), error)) return failed("open");
  if (acceptor.set_option(tcp::acceptor::reuse_address(true), error)) return failed("SO_REUSEADDR");
  if (acceptor.bind(endpoint, error)) return failed("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, error)) return failed("listen");
  return acceptor;
}

void accept_next(const std::shared_ptr<HttpServerShared>& shared);

void admit(const std::shared_ptr<HttpServerShared>& shared, tcp::socket socket) {
  if (shared->sessions.size() >= shared->options.max_connections) {
    ++shared->stats.connections_refused;
    error_code ignored;
    socket.close(ignored);
    return;
  }
  ++shared->stats.connections_accepted;
  const uint64_t id = shared->next_session_id++;
  auto session = std::make_shared<HttpServerSession>(shared, id, std::move(socket));
  shared->sessions.emplace(id, session);
  session->start();
}

void on_accepted(const std::shared_ptr<HttpServerShared>& shared, const error_code& error,
                 tcp::socket socket) {
  if (shared->stopped) return;
  if (error) {
    shared->accept_retry_timer.expires_after(kAcceptRetryDelay);
    shared->accept_retry_timer.async_wait([shared](const error_code& timer_error) {
      if (timer_error || shared->stopped) return;
      accept_next(shared);
    });
    return;
  }
  admit(shared, std::move(socket));
  accept_next(shared);
}

void accept_next(const std::shared_ptr<HttpServerShared>& shared) {
  shared->acceptor.async_accept([shared](const error_code& error, tcp::socket socket) {
    on_accepted(shared, error, std::move(socket));
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::create(asio::io_context& loop,
                                                               HttpServerOptions options,
                                                               HttpHandler handler) {
  if (absl::Status valid = options.validate(); !valid.ok()) return valid;
  if (!handler) return absl::InvalidArgumentError("HTTP server: no request handler");
  absl::StatusOr<tcp::endpoint> endpoint = listen_endpoint(loop, options.listen_address);
  if (!endpoint.ok()) return endpoint.status();
  absl::StatusOr<tcp::acceptor> acceptor = open_acceptor(loop, *endpoint);
  if (!acceptor.ok()) return acceptor.status();
  error_code error;
  const uint16_t port = acceptor->local_endpoint(error).port();
  if (error) return absl::UnavailableError(absl::StrCat("HTTP listener: local address: ", error.message()));
  auto shared =
      std::make_shared<HttpServerShared>(loop, std::move(options), std::move(handler), std::move(*acceptor));
  accept_next(shared);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(shared), port));
}

HttpServer::HttpServer(std::shared_ptr<HttpServerShared> shared, uint16_t listen_port)
    : shared_(std::move(shared)), listen_port_(listen_port) {}

HttpServer::~HttpServer() { stop(); }

const HttpServerStats& HttpServer::stats() const { return shared_->stats; }

size_t HttpServer::open_connections() const { return shared_->sessions.size(); }

void HttpServer::stop() {
  if (shared_->stopped) return;
  shared_->stopped = true;
  error_code ignored;
  shared_->acceptor.close(ignored);
  shared_->accept_retry_timer.cancel();
  // Each close() leaves the map; close them from a copy that keeps them
  // alive until all are done.
  std::map<uint64_t, std::shared_ptr<HttpServerSession>> sessions = std::move(shared_->sessions);
  shared_->sessions.clear();
  for (auto& [id, session] : sessions) session->close();
}

bool HttpServer::stopped() const { return shared_->stopped; }

}  // namespace reef::prod
