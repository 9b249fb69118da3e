#include "prod/asio_transport_inbound.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transport/message_codec.h"

namespace reef::prod {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

// An accept error that is not the listener closing (out of descriptors,
// say) is retried after this pause rather than in a tight loop.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

InboundConnection::InboundConnection(std::shared_ptr<AsioTransportShared> shared, tcp::socket socket)
    : shared_(std::move(shared)),
      socket_(std::move(socket)),
      reader_(shared_->options.max_frame_bytes),
      buffer_(shared_->options.read_buffer_bytes) {}

void InboundConnection::close() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  socket_.close(ignored);
}

void InboundConnection::read_next() {
  socket_.async_read_some(
      asio::buffer(buffer_),
      [self = shared_from_this()](const error_code& error, size_t bytes) { self->on_read(error, bytes); });
}

void InboundConnection::on_read(const error_code& error, size_t bytes) {
  if (closed_ || shared_->stopped) return;
  if (error) {
    // EOF or reset: the peer went away, possibly mid-frame (a crash). That
    // is no refusal; it reconnects when it has something to say.
    close();
    return;
  }
  shared_->stats.bytes_received += bytes;
  const absl::Status fed = reader_.feed(absl::string_view(buffer_.data(), bytes));
  // Frames completed before a bad one are sound and still delivered.
  if (!deliver_ready_frames()) return;
  if (!fed.ok()) {
    ++shared_->stats.frames_refused;
    close();
    return;
  }
  read_next();
}

bool InboundConnection::deliver_ready_frames() {
  while (std::optional<std::string> payload = reader_.pop()) {
    ++shared_->stats.frames_received;
    absl::StatusOr<raft::NodeMessage> message =
        transport::decode_message(*payload, shared_->options.cluster_id);
    if (!message.ok()) {
      ++shared_->stats.messages_refused;
      close();
      return false;
    }
    ++shared_->stats.messages_delivered;
    if (shared_->on_message) shared_->on_message(std::move(*message));
    // The callback may have stopped the transport.
    if (closed_ || shared_->stopped) return false;
  }
  return true;
}

absl::StatusOr<std::shared_ptr<Listener>> Listener::open(std::shared_ptr<AsioTransportShared> shared,
                                                         const tcp::endpoint& endpoint) {
  tcp::acceptor acceptor(shared->loop);
  error_code error;
  auto failed = [&](absl::string_view step) {
    return absl::UnavailableError(absl::StrCat("listening on ", endpoint.address().to_string(), ":",
                                               endpoint.port(), ": ", step, ": ", error.message()));
  };
  if (acceptor.open(endpoint.protocol(), error)) return failed("open");
  if (acceptor.set_option(tcp::acceptor::reuse_address(true), error)) return failed("SO_REUSEADDR");
  if (acceptor.bind(endpoint, error)) return failed("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, error)) return failed("listen");
  return std::make_shared<Listener>(std::move(shared), std::move(acceptor));
}

Listener::Listener(std::shared_ptr<AsioTransportShared> shared, tcp::acceptor acceptor)
    : shared_(std::move(shared)), acceptor_(std::move(acceptor)), retry_timer_(shared_->loop) {
  error_code ignored;
  local_endpoint_ = acceptor_.local_endpoint(ignored);
}

void Listener::close() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
  for (const std::weak_ptr<InboundConnection>& weak : connections_) {
    if (std::shared_ptr<InboundConnection> connection = weak.lock()) connection->close();
  }
  connections_.clear();
}

void Listener::accept_next() {
  acceptor_.async_accept([self = shared_from_this()](const error_code& error, tcp::socket socket) {
    self->on_accepted(error, std::move(socket));
  });
}

size_t Listener::open_connections() {
  std::erase_if(connections_, [](const std::weak_ptr<InboundConnection>& weak) {
    std::shared_ptr<InboundConnection> connection = weak.lock();
    return connection == nullptr || connection->closed();
  });
  return connections_.size();
}

void Listener::on_accepted(const error_code& error, tcp::socket socket) {
  if (closed_ || shared_->stopped) return;
  if (error) {
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([self = shared_from_this()](const error_code& timer_error) {
      if (timer_error || self->closed_ || self->shared_->stopped) return;
      self->accept_next();
    });
    return;
  }
  if (open_connections() >= shared_->options.max_inbound_connections) {
    ++shared_->stats.inbound_rejected;
    error_code ignored;
    socket.close(ignored);
  } else {
    ++shared_->stats.inbound_accepted;
    auto connection = std::make_shared<InboundConnection>(shared_, std::move(socket));
    connections_.push_back(connection);
    connection->start();
  }
  accept_next();
}

}  // namespace reef::prod
