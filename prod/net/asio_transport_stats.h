// Counters of prod/net/asio_transport.h, for metrics and tests. They only grow.
#pragma once

#include <cstdint>
#include <map>

#include "raft/core/types.h"

namespace reef::prod {

struct AsioTransportStats {
  // Messages send() accepted but never wrote to a socket, by reason.
  struct Drops {
    uint64_t queue_full = 0;       // the peer's queue was at its bound (newest dropped)
    uint64_t unknown_peer = 0;     // no address for the destination
    uint64_t too_large = 0;        // encoded message above max_frame_bytes
    uint64_t connection_lost = 0;  // queued or being written when the connection failed
    uint64_t closed = 0;           // the transport was stopped or the peer removed
    uint64_t total() const { return queue_full + unknown_peer + too_large + connection_lost + closed; }
  };

  // The outbound counters below, for one destination. Keyed by the node ids
  // the core sent to (its configured members), so the map stays small.
  struct Peer {
    uint64_t frames_sent = 0;
    uint64_t bytes_sent = 0;
    uint64_t connect_attempts = 0;
    uint64_t connect_failures = 0;
    uint64_t reconnects = 0;
    uint64_t connections_lost = 0;
    Drops dropped;
    uint64_t probes_sent = 0;
    uint64_t probe_replies = 0;
  };

  // Outbound.
  uint64_t frames_sent = 0;  // message frames fully written to a socket (not: received)
  uint64_t bytes_sent = 0;   // frame headers and pings included
  uint64_t connect_attempts = 0;
  uint64_t connect_failures = 0;  // refused, unreachable, timed out
  uint64_t connections_established = 0;
  uint64_t reconnects = 0;        // established after an earlier failure or loss of that peer's link
  uint64_t connections_lost = 0;  // established, then closed by the peer, an error or a refused reply
  Drops dropped;
  // Round-trip probes (see asio_transport.h): pings written, and pongs that
  // answered them (each one a round-trip measurement).
  uint64_t probes_sent = 0;
  uint64_t probe_replies = 0;
  std::map<raft::NodeId, Peer> peers;

  // Inbound.
  uint64_t inbound_accepted = 0;
  uint64_t inbound_rejected = 0;  // over max_inbound_connections, closed at once
  uint64_t bytes_received = 0;    // pings included
  uint64_t frames_received = 0;   // verified message frames (whether their message then decoded or not)
  uint64_t messages_delivered = 0;
  uint64_t probes_answered = 0;  // pongs written back
  // Each refusal closes the connection it came from (an outbound link's too,
  // when the peer's reply is refused).
  uint64_t frames_refused = 0;    // bad magic, version, length or checksum
  // Sound messages and pings from a node the sender check refused (a wiped
  // data directory); the connection stays open so that pongs can say so.
  uint64_t messages_from_refused_senders = 0;
  uint64_t messages_refused = 0;  // sound frame, but another cluster or a malformed message or probe
};

}  // namespace reef::prod
