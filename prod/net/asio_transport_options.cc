#include "prod/net/asio_transport_options.h"

#include "absl/strings/str_cat.h"
#include "prod/net/host_port.h"
#include "transport/frame.h"

namespace reef::prod {

absl::Status AsioTransportOptions::validate() const {
  auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("transport options: ", what));
  };
  if (self == raft::NodeId(0)) return bad("self is node id 0, which is reserved");
  if (absl::StatusOr<HostPort> listen = parse_host_port(listen_address); !listen.ok()) {
    return bad(absl::StrCat("listen_address: ", listen.status().message()));
  }
  for (const auto& [id, address] : peers) {
    if (id == raft::NodeId(0)) return bad("peer with node id 0");
    if (absl::StatusOr<HostPort> peer = parse_host_port(address); !peer.ok()) {
      return bad(absl::StrCat("peer ", id.value(), ": ", peer.status().message()));
    }
  }
  if (max_frame_bytes == 0) return bad("max_frame_bytes is 0");
  if (max_peer_queue_messages == 0) return bad("max_peer_queue_messages is 0");
  if (max_peer_queue_bytes < max_frame_bytes + transport::kFrameHeaderBytes) {
    return bad(absl::StrCat("max_peer_queue_bytes (", max_peer_queue_bytes,
                            ") cannot hold one frame of max_frame_bytes (", max_frame_bytes, ")"));
  }
  if (max_write_batch_bytes == 0) return bad("max_write_batch_bytes is 0");
  if (reconnect_backoff_initial.count() <= 0) return bad("reconnect_backoff_initial must be positive");
  if (reconnect_backoff_max < reconnect_backoff_initial)
    return bad("reconnect_backoff_max is below the initial backoff");
  if (reconnect_jitter_percent > 100) return bad("reconnect_jitter_percent above 100");
  if (connect_timeout.count() <= 0) return bad("connect_timeout must be positive");
  if (probe_interval.count() < 0) return bad("probe_interval is negative");
  if (max_inbound_connections == 0) return bad("max_inbound_connections is 0");
  if (read_buffer_bytes == 0) return bad("read_buffer_bytes is 0");
  return absl::OkStatus();
}

}  // namespace reef::prod
