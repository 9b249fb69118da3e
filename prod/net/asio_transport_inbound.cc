#include "prod/net/asio_transport_inbound.h"

#include <algorithm>
#include <boost/asio/write.hpp>
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

namespace {

std::string remote_address(const tcp::socket& socket) {
  error_code error;
  const tcp::endpoint remote = socket.remote_endpoint(error);
  if (error) return "an unknown address";
  return absl::StrCat(remote.address().to_string(), ":", remote.port());
}

}  // namespace

InboundConnection::InboundConnection(std::shared_ptr<AsioTransportShared> shared, tcp::socket socket)
    : shared_(std::move(shared)),
      socket_(std::move(socket)),
      remote_(remote_address(socket_)),
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
    refuse(fed.message());
    return;
  }
  read_next();
}

void InboundConnection::refuse(absl::string_view why) {
  close();
  if (shared_->observer != nullptr) shared_->observer->on_inbound_refused(remote_, why);
}

bool InboundConnection::deliver_ready_frames() {
  while (std::optional<std::string> payload = reader_.pop()) {
    if (transport::is_probe(*payload)) {
      if (!answer_ping(*payload)) return false;
      continue;
    }
    ++shared_->stats.frames_received;
    absl::StatusOr<transport::ReceivedEnvelope> envelope =
        transport::decode_envelope(*payload, shared_->options.cluster_id);
    if (!envelope.ok()) {
      ++shared_->stats.messages_refused;
      refuse(envelope.status().message());
      return false;
    }
    if (!shared_->admits(envelope->message.from, envelope->sender_incarnation)) {
      ++shared_->stats.messages_from_refused_senders;
      continue;
    }
    ++shared_->stats.messages_delivered;
    if (shared_->on_message) shared_->on_message(std::move(envelope->message));
    // The callback may have stopped the transport.
    if (closed_ || shared_->stopped) return false;
  }
  return true;
}

bool InboundConnection::answer_ping(const std::string& payload) {
  absl::StatusOr<transport::Probe> ping = transport::decode_probe(payload, shared_->options.cluster_id);
  absl::Status valid = ping.status();
  if (valid.ok() && ping->reply)
    valid = absl::InvalidArgumentError("probe: a pong where only pings may come");
  if (valid.ok() && ping->to != shared_->options.self) {
    valid = absl::InvalidArgumentError(absl::StrCat("probe: a ping for node ", ping->to.value(),
                                                    " reached node ", shared_->options.self.value()));
  }
  if (!valid.ok()) {
    ++shared_->stats.messages_refused;
    refuse(valid.message());
    return false;
  }
  if (pong_writing_.empty()) {
    write_pong(*ping);
  } else {
    ping_waiting_ = *ping;  // an earlier one, if any, goes unanswered
  }
  return true;
}

void InboundConnection::write_pong(const transport::Probe& ping) {
  transport::Probe pong{shared_->options.self, ping.from, ping.sequence, /*reply=*/true,
                        shared_->options.incarnation};
  pong.refused = !shared_->admits(ping.from, ping.incarnation);
  if (pong.refused) ++shared_->stats.messages_from_refused_senders;
  pong_writing_ = transport::encode_frame(transport::encode_probe(shared_->options.cluster_id, pong));
  asio::async_write(
      socket_, asio::buffer(pong_writing_), [self = shared_from_this()](const error_code& error, size_t) {
        if (self->closed_ || self->shared_->stopped) return;
        if (error) {
          self->close();  // the peer went away; its side notices too
          return;
        }
        ++self->shared_->stats.probes_answered;
        self->pong_writing_.clear();
        if (std::optional<transport::Probe> next = std::exchange(self->ping_waiting_, std::nullopt)) {
          self->write_pong(*next);
        }
      });
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
