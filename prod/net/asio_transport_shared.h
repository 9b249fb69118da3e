// What AsioTransport shares with its connections (internal to
// prod/asio_transport*). Every asynchronous handler holds a shared_ptr to
// this, not to the transport: a handler that runs after the transport was
// stopped or destroyed finds `stopped` set and touches nothing else.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <utility>

#include "prod/net/asio_transport_observer.h"
#include "prod/net/asio_transport_options.h"
#include "prod/net/asio_transport_stats.h"
#include "raft/ports/node_message.h"
#include "raft/core/random.h"

namespace reef::prod {

struct AsioTransportShared {
  AsioTransportShared(boost::asio::io_context& loop, AsioTransportOptions options,
                      std::function<void(raft::NodeMessage)> on_message,
                      std::function<void(raft::NodeId)> on_peer_unreachable)
      : loop(loop),
        options(std::move(options)),
        on_message(std::move(on_message)),
        on_peer_unreachable(std::move(on_peer_unreachable)),
        jitter(this->options.jitter_seed) {}

  boost::asio::io_context& loop;
  const AsioTransportOptions options;  // peers: see AsioTransport's links instead
  AsioTransportStats stats;
  std::function<void(raft::NodeMessage)> on_message;
  std::function<void(raft::NodeId)> on_peer_unreachable;
  raft::Prng jitter;                          // reconnect backoff jitter, one stream for all peers
  AsioTransportObserver* observer = nullptr;  // optional; see AsioTransport::set_observer
  std::function<bool(raft::NodeId, uint64_t)> sender_check;  // optional; see AsioTransport::set_sender_check
  std::function<void(raft::NodeId)> on_refused_by_peer;      // optional; see AsioTransport::set_refused_handler

  // True unless the sender check refuses `from` with `incarnation`.
  bool admits(raft::NodeId from, uint64_t incarnation) const {
    return !sender_check || sender_check(from, incarnation);
  }
  bool stopped = false;
};

}  // namespace reef::prod
