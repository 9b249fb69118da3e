#include "prod/net/asio_transport.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "prod/net/asio_transport_inbound.h"
#include "prod/net/asio_transport_peer_link.h"
#include "prod/net/asio_transport_shared.h"
#include "prod/net/host_port.h"
#include "transport/frame.h"
#include "transport/message_codec.h"

namespace reef::prod {
namespace {

using tcp = boost::asio::ip::tcp;

// The listen address as an endpoint. Names resolve once, here, blocking:
// this runs at startup, before the loop serves anything.
absl::StatusOr<tcp::endpoint> listen_endpoint(boost::asio::io_context& loop, absl::string_view text) {
  absl::StatusOr<HostPort> address = parse_host_port(text);
  if (!address.ok()) return address.status();
  boost::system::error_code error;
  tcp::resolver resolver(loop);
  const tcp::resolver::results_type results =
      resolver.resolve(address->host, absl::StrCat(address->port), tcp::resolver::passive, error);
  if (error || results.empty()) {
    return absl::UnavailableError(
        absl::StrCat("listen address ", text, ": ", error ? error.message() : "resolves to nothing"));
  }
  return results.begin()->endpoint();
}

}  // namespace

absl::StatusOr<std::unique_ptr<AsioTransport>> AsioTransport::create(boost::asio::io_context& loop,
                                                                     AsioTransportOptions options,
                                                                     MessageHandler on_message,
                                                                     UnreachableHandler on_peer_unreachable) {
  if (absl::Status valid = options.validate(); !valid.ok()) return valid;
  absl::StatusOr<tcp::endpoint> endpoint = listen_endpoint(loop, options.listen_address);
  if (!endpoint.ok()) return endpoint.status();
  auto shared = std::make_shared<AsioTransportShared>(loop, std::move(options), std::move(on_message),
                                                      std::move(on_peer_unreachable));
  absl::StatusOr<std::shared_ptr<Listener>> listener = Listener::open(shared, *endpoint);
  if (!listener.ok()) return listener.status();
  std::unique_ptr<AsioTransport> transport(new AsioTransport(shared, std::move(*listener)));
  for (const auto& [peer, address] : shared->options.peers) {
    if (absl::Status added = transport->set_peer(peer, address); !added.ok()) return added;
  }
  transport->listener_->start();
  return transport;
}

AsioTransport::AsioTransport(std::shared_ptr<AsioTransportShared> shared, std::shared_ptr<Listener> listener)
    : shared_(std::move(shared)), listener_(std::move(listener)) {}

AsioTransport::~AsioTransport() { stop(); }

void AsioTransport::send(raft::NodeMessage message) {
  AsioTransportStats& stats = shared_->stats;
  if (shared_->stopped) {
    ++stats.dropped.closed;
    ++stats.peers[message.to].dropped.closed;
    return;
  }
  auto link = links_.find(message.to);
  if (link == links_.end()) {
    ++stats.dropped.unknown_peer;
    ++stats.peers[message.to].dropped.unknown_peer;
    report_unknown_peer(message.to);
    return;
  }
  const std::string payload =
      transport::encode_message(shared_->options.cluster_id, message, shared_->options.incarnation);
  if (payload.size() > shared_->options.max_frame_bytes) {
    ++stats.dropped.too_large;
    ++stats.peers[message.to].dropped.too_large;
    return;
  }
  link->second->enqueue(transport::encode_frame(payload));
}

void AsioTransport::connect_idle_peers() {
  if (shared_->stopped) return;
  for (auto& [peer, link] : links_) link->connect_if_idle();
}

void AsioTransport::set_sender_check(SenderCheck check) { shared_->sender_check = std::move(check); }

void AsioTransport::set_refused_handler(RefusedHandler on_refused) {
  shared_->on_refused_by_peer = std::move(on_refused);
}

void AsioTransport::report_unknown_peer(raft::NodeId peer) {
  boost::asio::post(shared_->loop, [shared = shared_, peer] {
    if (!shared->stopped && shared->on_peer_unreachable) shared->on_peer_unreachable(peer);
  });
}

absl::Status AsioTransport::set_peer(raft::NodeId peer, absl::string_view address) {
  if (peer == raft::NodeId(0)) return absl::InvalidArgumentError("peer with node id 0");
  absl::StatusOr<HostPort> parsed = parse_host_port(address);
  if (!parsed.ok()) return parsed.status();
  if (shared_->stopped) return absl::FailedPreconditionError("transport stopped");
  auto link = links_.find(peer);
  if (link == links_.end()) {
    links_.emplace(peer, std::make_shared<PeerLink>(shared_, peer, std::move(*parsed)));
  } else {
    link->second->set_address(std::move(*parsed));
  }
  return absl::OkStatus();
}

void AsioTransport::remove_peer(raft::NodeId peer) {
  auto link = links_.find(peer);
  if (link == links_.end()) return;
  link->second->close();
  links_.erase(link);
}

uint16_t AsioTransport::listen_port() const { return listener_->local_endpoint().port(); }

const AsioTransportStats& AsioTransport::stats() const { return shared_->stats; }

std::string AsioTransport::peer_last_error(raft::NodeId peer) const {
  auto link = links_.find(peer);
  return link == links_.end() ? std::string() : link->second->last_error();
}

void AsioTransport::set_observer(AsioTransportObserver* observer) { shared_->observer = observer; }

void AsioTransport::stop() {
  if (shared_->stopped) return;
  shared_->stopped = true;
  listener_->close();
  for (auto& [peer, link] : links_) link->close();
  links_.clear();
}

bool AsioTransport::stopped() const { return shared_->stopped; }

}  // namespace reef::prod
