// AsioTransportObserver: what prod/net/asio_transport.h tells its owner besides
// messages — round-trip measurements and connection trouble — for metrics
// and logs. Optional (AsioTransport::set_observer).
//
// Every call comes from an I/O completion on the loop, never from inside a
// method of the transport, so an observer may call back into the transport.
// The transport itself logs nothing: deciding what is worth a log line, and
// how often, is the owner's business (prod/observe/peer_log_throttle.h).
#pragma once

#include <chrono>

#include "absl/strings/string_view.h"
#include "raft/core/types.h"

namespace reef::prod {

class AsioTransportObserver {
 public:
  virtual ~AsioTransportObserver() = default;

  // A ping to `peer` was answered: from handing it to the socket to reading
  // the pong, so it includes the TCP send buffer's backlog and the peer's
  // loop delay (what a Raft message to that peer experiences too).
  virtual void on_peer_round_trip(raft::NodeId peer, std::chrono::nanoseconds round_trip) = 0;
  // A connection to `peer` was established.
  virtual void on_peer_connected(raft::NodeId peer) = 0;
  // A connection attempt to `peer` failed, or an established one broke
  // (including when the peer's reply was refused); `why` says which.
  virtual void on_peer_failed(raft::NodeId peer, absl::string_view why) = 0;
  // An inbound connection from `remote` (an address) was closed because of
  // what it sent.
  virtual void on_inbound_refused(absl::string_view remote, absl::string_view why) = 0;
};

}  // namespace reef::prod
