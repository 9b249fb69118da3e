// NodeMetrics: the metrics a ReefDB server exposes on /metrics, with etcd's
// names under the reefdb_ prefix so that existing dashboards and alerts
// (etcd_server_has_leader == 0, leader changes per hour, WAL fsync p99 ...)
// carry over by a rename.
//
// Two kinds of updates:
//  - update_from(...), right before rendering: the gauges that describe the
//    node's state (leader, term, indexes, pending requests) from NodeStatus;
//    what the node measured itself (log write and snapshot latencies,
//    installs, slow applies, peer round trips) from NodeObservations; the
//    transport's counters (bytes, drops by reason, connect failures,
//    reconnects, refusals) from AsioTransportStats. Counters and histograms
//    mirror totals kept by their owners, so scraping often or rarely gives
//    the same numbers. All cheap.
//  - event functions, called where the event happens in the HTTP service:
//    a proposal failed, an HTTP request completed.
//
// Note on etcd compatibility: like etcd, *_proposals_committed_total and
// *_proposals_applied_total are gauges holding the commit and applied index
// (not counts of this node's own proposals). reefdb_raft_* gauges expose the
// same indexes under plain names.
//
// Threading: as MetricsRegistry (prod/observe/metrics.h): the node's loop thread only.
#pragma once

#include <cstdint>
#include <optional>
#include "absl/strings/string_view.h"

#include "prod/net/asio_transport_stats.h"
#include "prod/observe/metrics.h"
#include "prod/observe/node_observations.h"
#include "raft/driver/node.h"
#include "raft/core/types.h"

namespace reef::prod {

namespace metric_names {
inline constexpr absl::string_view kHasLeader = "reefdb_server_has_leader";
inline constexpr absl::string_view kIsLeader = "reefdb_server_is_leader";
inline constexpr absl::string_view kLeaderChangesSeen = "reefdb_server_leader_changes_seen_total";
inline constexpr absl::string_view kProposalsCommitted = "reefdb_server_proposals_committed_total";
inline constexpr absl::string_view kProposalsApplied = "reefdb_server_proposals_applied_total";
inline constexpr absl::string_view kProposalsPending = "reefdb_server_proposals_pending";
inline constexpr absl::string_view kProposalsFailed = "reefdb_server_proposals_failed_total";
inline constexpr absl::string_view kSlowApplies = "reefdb_server_slow_apply_total";
inline constexpr absl::string_view kStopped = "reefdb_server_stopped";
inline constexpr absl::string_view kTerm = "reefdb_raft_term";
inline constexpr absl::string_view kCommitIndex = "reefdb_raft_commit_index";
inline constexpr absl::string_view kAppliedIndex = "reefdb_raft_applied_index";
inline constexpr absl::string_view kLastIndex = "reefdb_raft_last_index";
inline constexpr absl::string_view kSnapshotIndex = "reefdb_raft_snapshot_index";
inline constexpr absl::string_view kLogEntries = "reefdb_raft_log_entries";
inline constexpr absl::string_view kLogWritesInFlight = "reefdb_raft_log_writes_in_flight";
inline constexpr absl::string_view kWalFsyncDuration = "reefdb_disk_wal_fsync_duration_seconds";
inline constexpr absl::string_view kSnapshotSaveDuration = "reefdb_snap_save_total_duration_seconds";
inline constexpr absl::string_view kSnapshotsInstalled = "reefdb_snap_installed_total";
inline constexpr absl::string_view kDbTotalSize = "reefdb_db_total_size_in_bytes";
inline constexpr absl::string_view kPeerRoundTrip = "reefdb_network_peer_round_trip_time_seconds";
inline constexpr absl::string_view kPeerSentBytes = "reefdb_network_peer_sent_bytes_total";
inline constexpr absl::string_view kPeerSentFailures = "reefdb_network_peer_sent_failures_total";
inline constexpr absl::string_view kPeerConnectFailures = "reefdb_network_peer_connect_failures_total";
inline constexpr absl::string_view kPeerReconnects = "reefdb_network_peer_reconnects_total";
inline constexpr absl::string_view kReceivedBytes = "reefdb_network_received_bytes_total";
inline constexpr absl::string_view kRefused = "reefdb_network_refused_total";
inline constexpr absl::string_view kHttpRequests = "reefdb_http_requests_total";
inline constexpr absl::string_view kHttpRequestDuration = "reefdb_http_request_duration_seconds";
}  // namespace metric_names

class NodeMetrics {
 public:
  // Registers the node-wide families in `registry`, which must outlive this.
  // Per-peer series appear with the peer, per-HTTP-code ones with their
  // first request.
  explicit NodeMetrics(MetricsRegistry& registry);
  NodeMetrics(const NodeMetrics&) = delete;
  NodeMetrics& operator=(const NodeMetrics&) = delete;

  // The status-derived gauges. Counts a leader change whenever a leader is
  // known and differs from the last one seen (etcd's rule: losing the
  // leader and regaining the same one counts again).
  void update_from(const raft::NodeStatus& status);
  // Latencies and counts the node measured (see NodeObservations); they
  // replace what was copied before.
  void update_from(const NodeObservations& observations);
  // The transport's counters: per peer (`To`) bytes sent, messages dropped
  // before sending by reason, failed connection attempts and reconnects;
  // bytes received and refused frames for the whole node (inbound
  // connections are not tied to a peer until a message decodes).
  void update_from(const AsioTransportStats& transport);

  // A client proposal answered with an error (timeout, leadership lost,
  // refused), as opposed to applied.
  void proposal_failed();
  // The state machine database's size.
  void set_db_size_bytes(uint64_t bytes);

  // One HTTP request answered. The method comes from the client, so only
  // the standard methods become label values (others count as "other"), and
  // codes outside 100..599 count as "other": a client cannot grow the
  // registry by inventing methods.
  void http_request_finished(absl::string_view method, int status_code, double seconds);

 private:
  MetricsRegistry& registry_;
  Gauge& has_leader_;
  Gauge& is_leader_;
  Counter& leader_changes_seen_;
  Gauge& proposals_committed_;
  Gauge& proposals_applied_;
  Gauge& proposals_pending_;
  Counter& proposals_failed_;
  Counter& slow_applies_;
  Gauge& stopped_;
  Gauge& term_;
  Gauge& commit_index_;
  Gauge& applied_index_;
  Gauge& last_index_;
  Gauge& snapshot_index_;
  Gauge& log_entries_;
  Gauge& log_writes_in_flight_;
  Histogram& wal_fsync_duration_;
  Histogram& snapshot_save_duration_;
  Counter& snapshots_installed_;
  Gauge& db_total_size_;
  Counter& received_bytes_;
  Counter& refused_frames_;
  Counter& refused_messages_;
  std::optional<raft::NodeId> last_leader_;
};

}  // namespace reef::prod
