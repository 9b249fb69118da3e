// AsioTransport: the production raft::Transport. Node messages travel as
// transport/frame.h frames carrying transport/message_codec.h envelopes over
// TCP, one outbound connection per peer and one inbound connection per peer
// that talks to us.
//
// Threading: the node runs single-threaded on one boost::asio::io_context
// (the node loop), and so does this transport. Every method must be called
// on that loop's thread, and both callbacks run there, never from inside a
// method call of this class (they are posted or come from I/O completions),
// so the node is never re-entered from its own send().
//
// Contract (raft/ports/transport.h): send() never blocks and never fails loudly;
// delivery is best effort. Concretely:
//  - Per peer, frames queue up to max_peer_queue_messages messages and
//    max_peer_queue_bytes bytes. When a message would pass either bound, it
//    is dropped (the newest is dropped: older ones are already ordered for
//    the wire), counted as dropped.queue_full, and on_peer_unreachable(peer)
//    is called soon after (reports coalesce until the callback ran). A full
//    queue means the peer is slow or gone; the Raft core then stops
//    streaming to it and probes instead of piling up more.
//  - A failed connection attempt or a broken connection drops what was
//    queued for that peer (dropped.connection_lost) and calls
//    on_peer_unreachable(peer) too; reconnection follows with exponential
//    backoff and jitter (see prod/net/asio_transport_peer_link.h).
//  - Messages to a node without an address are dropped (unknown_peer) and
//    reported unreachable; messages whose encoding exceeds max_frame_bytes
//    are dropped (too_large) and only counted.
//  - Received messages are handed to on_message. A frame that fails
//    verification or decodes to nothing valid (another cluster id, a
//    malformed message) closes the connection it came on and is counted.
//
// Round-trip probes (transport/probe.fbs): each established outbound
// connection sends a ping right away and then every probe_interval, ahead
// of the messages still queued (at most one unanswered per connection); the
// peer answers with a pong on that same connection, which is the only thing
// a peer ever writes back. The pong is verified like any frame (frame
// checksum, FlatBuffers verification, cluster, ids, the sequence of the
// ping outstanding); anything else the peer writes breaks the connection.
// Probes never reach the node; the observer gets the round trip.
//
// Lifetime: stop() (also run by the destructor) closes every socket and
// timer; handlers still queued in the io_context afterwards do nothing.
// Do not destroy the transport from inside one of its callbacks (stop() is
// fine there).
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prod/net/asio_transport_observer.h"
#include "prod/net/asio_transport_options.h"
#include "prod/net/asio_transport_stats.h"
#include "raft/ports/node_message.h"
#include "raft/ports/transport.h"

namespace reef::prod {

struct AsioTransportShared;
class Listener;
class PeerLink;

class AsioTransport final : public raft::Transport {
 public:
  using MessageHandler = std::function<void(raft::NodeMessage)>;
  using UnreachableHandler = std::function<void(raft::NodeId)>;

  // Validates the options, binds the listening socket (errors: INVALID_ARGUMENT
  // for options, UNAVAILABLE when the address cannot be bound) and starts
  // accepting. Peers are connected lazily, on the first message to each.
  static absl::StatusOr<std::unique_ptr<AsioTransport>> create(boost::asio::io_context& loop,
                                                               AsioTransportOptions options,
                                                               MessageHandler on_message,
                                                               UnreachableHandler on_peer_unreachable);
  ~AsioTransport() override;
  AsioTransport(const AsioTransport&) = delete;
  AsioTransport& operator=(const AsioTransport&) = delete;

  void send(raft::NodeMessage message) override;

  // Adds a peer or moves it to a new address (its current connection is
  // closed; queued messages go to the new address).
  absl::Status set_peer(raft::NodeId peer, absl::string_view address);
  // Forgets a peer; what was queued for it is dropped (dropped.closed).
  void remove_peer(raft::NodeId peer);
  // Opens a connection to every peer that has none and is not backing off
  // (peers are otherwise connected on the first message to them), so that
  // probes carry this node's incarnation to every peer, messages or not.
  // The owner calls it now and then: a link whose peer was down goes idle.
  void connect_idle_peers();

  // The port actually bound (useful with port 0 in listen_address).
  uint16_t listen_port() const;
  const AsioTransportStats& stats() const;
  // Why the last connection to `peer` failed ("" if none did or unknown peer).
  std::string peer_last_error(raft::NodeId peer) const;
  // Round trips and connection events go to `observer` (nullptr: nowhere),
  // which must outlive the transport or be replaced before it goes.
  void set_observer(AsioTransportObserver* observer);

  // Whom this node listens to: called on the loop for every sound envelope
  // and ping with its sender and the sender's incarnation (0: unknown);
  // false refuses the sender (a node id that came back with a wiped data
  // directory, storage/peer_incarnations.h). A refused envelope is dropped
  // before it reaches the node; a refused ping is answered with a pong that
  // says so, which is how the refused node learns it. The connection stays
  // open. Unset: everyone is admitted.
  using SenderCheck = std::function<bool(raft::NodeId from, uint64_t incarnation)>;
  void set_sender_check(SenderCheck check);
  // Called on the loop when a peer's pong says it refuses this node.
  using RefusedHandler = std::function<void(raft::NodeId peer)>;
  void set_refused_handler(RefusedHandler on_refused);

  // Closes the listener, every connection and every timer; sends after
  // this are dropped (dropped.closed). Idempotent.
  void stop();
  bool stopped() const;

 private:
  AsioTransport(std::shared_ptr<AsioTransportShared> shared, std::shared_ptr<Listener> listener);
  void report_unknown_peer(raft::NodeId peer);

  std::shared_ptr<AsioTransportShared> shared_;
  std::shared_ptr<Listener> listener_;
  std::map<raft::NodeId, std::shared_ptr<PeerLink>> links_;
};

}  // namespace reef::prod
