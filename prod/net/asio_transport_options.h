// Configuration of prod/net/asio_transport.h: who this node is, where it
// listens, where its peers listen, and the bounds on everything it buffers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "raft/core/types.h"

namespace reef::prod {

struct AsioTransportOptions {
  raft::NodeId self;
  // Stamped on every message sent and required of every message received.
  uint64_t cluster_id = 0;
  // This node's incarnation (storage/node_identity.h), stamped on every
  // message and probe sent; 0: unknown. See AsioTransport::set_sender_check.
  uint64_t incarnation = 0;
  // host:port to accept peers on ("[::1]:7000" for IPv6). Port 0 picks a
  // free port; AsioTransport::listen_port() reports it.
  std::string listen_address = "127.0.0.1:0";
  // host:port of each peer. Changed later with AsioTransport::set_peer().
  std::map<raft::NodeId, std::string> peers;

  // Largest frame payload (one encoded message) sent or accepted. A larger
  // outgoing message is dropped; a larger incoming frame closes the connection.
  // The default holds a raft::CoreConfig::max_entry_bytes entry (32 MiB)
  // and its envelope.
  uint32_t max_frame_bytes = 33 << 20;
  // Per peer, messages waiting to be written (the batch being written
  // included). When either bound would be passed, the new message is dropped.
  size_t max_peer_queue_messages = 1024;
  uint64_t max_peer_queue_bytes = 64 << 20;  // at least one max-size frame
  // Frames gathered into one socket write.
  uint64_t max_write_batch_bytes = 1 << 20;

  // After a failed connection attempt or a lost connection the next attempt
  // waits initial * 2^(failures - 1), at most max, then scaled by a factor
  // drawn uniformly from [100 - jitter, 100 + jitter] percent so that nodes
  // restarted together do not reconnect in lockstep.
  std::chrono::milliseconds reconnect_backoff_initial{20};
  std::chrono::milliseconds reconnect_backoff_max{2000};
  uint32_t reconnect_jitter_percent = 20;  // 0..100
  uint64_t jitter_seed = 0;                // seeds the jitter PRNG (raft::Prng)
  // A connection attempt (name resolution included) not done by then fails.
  std::chrono::milliseconds connect_timeout{3000};

  // Each established connection to a peer is probed (one ~100-byte ping
  // frame) right away and then this often, to measure the round trip; 0
  // turns probing off. At most one ping per connection is unanswered at a time.
  std::chrono::milliseconds probe_interval{1000};

  // Inbound connections held open at once; further ones are closed at once.
  size_t max_inbound_connections = 64;
  // Bytes read from an inbound socket per read call.
  size_t read_buffer_bytes = 64 << 10;

  // Everything above in range, and every address parses.
  absl::Status validate() const;
};

}  // namespace reef::prod
