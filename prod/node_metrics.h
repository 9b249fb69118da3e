// NodeMetrics: the metrics a ReefDB server exposes on /metrics, with etcd's
// names under the reefdb_ prefix so that existing dashboards and alerts
// (etcd_server_has_leader == 0, leader changes per hour, WAL fsync p99 ...)
// carry over by a rename.
//
// Two kinds of updates:
//  - update_from(NodeStatus): the gauges that describe the node's state
//    (leader, term, indexes, pending requests). The server calls it once per
//    loop turn or right before rendering; it is cheap.
//  - event functions, called where the event happens: a WAL fsync finished,
//    a snapshot was saved, a peer answered, an HTTP request completed.
//
// Note on etcd compatibility: like etcd, *_proposals_committed_total and
// *_proposals_applied_total are gauges holding the commit and applied index
// (not counts of this node's own proposals). reefdb_raft_* gauges expose the
// same indexes under plain names.
//
// Threading: as MetricsRegistry (prod/metrics.h): the node's loop thread only.
#pragma once

#include <cstdint>
#include <optional>
#include "absl/strings/string_view.h"

#include "prod/metrics.h"
#include "raft/node.h"
#include "raft/types.h"

namespace reef::prod {

namespace metric_names {
inline constexpr absl::string_view kHasLeader = "reefdb_server_has_leader";
inline constexpr absl::string_view kIsLeader = "reefdb_server_is_leader";
inline constexpr absl::string_view kLeaderChangesSeen = "reefdb_server_leader_changes_seen_total";
inline constexpr absl::string_view kProposalsCommitted = "reefdb_server_proposals_committed_total";
inline constexpr absl::string_view kProposalsApplied = "reefdb_server_proposals_applied_total";
inline constexpr absl::string_view kProposalsPending = "reefdb_server_proposals_pending";
inline constexpr absl::string_view kProposalsFailed = "reefdb_server_proposals_failed_total";
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
inline constexpr absl::string_view kPeerReceivedBytes = "reefdb_network_peer_received_bytes_total";
inline constexpr absl::string_view kPeerSentFailures = "reefdb_network_peer_sent_failures_total";
inline constexpr absl::string_view kPeerReconnects = "reefdb_network_peer_reconnects_total";
inline constexpr absl::string_view kHttpRequests = "reefdb_http_requests_total";
inline constexpr absl::string_view kHttpRequestDuration = "reefdb_http_request_duration_seconds";
}  // namespace metric_names

class NodeMetrics {
 public:
  // Registers the node-wide families in `registry`, which must outlive this.
  // Per-peer and per-HTTP-code series appear with their first event.
  explicit NodeMetrics(MetricsRegistry& registry);
  NodeMetrics(const NodeMetrics&) = delete;
  NodeMetrics& operator=(const NodeMetrics&) = delete;

  // The status-derived gauges. Counts a leader change whenever a leader is
  // known and differs from the last one seen (etcd's rule: losing the
  // leader and regaining the same one counts again).
  void update_from(const raft::NodeStatus& status);

  // A client proposal answered with an error (timeout, leadership lost,
  // refused), as opposed to applied.
  void proposal_failed();
  // One group-commit fsync of the Raft log, in seconds.
  void observe_wal_fsync(double seconds);
  // Taking and writing one snapshot, in seconds.
  void observe_snapshot_save(double seconds);
  // A snapshot received from the leader was installed.
  void snapshot_installed();
  // The state machine database's size.
  void set_db_size_bytes(uint64_t bytes);

  // Transport events, per peer.
  void observe_peer_round_trip(raft::NodeId peer, double seconds);
  void peer_bytes_sent(raft::NodeId peer, uint64_t bytes);
  void peer_bytes_received(raft::NodeId peer, uint64_t bytes);
  // A message to `peer` was dropped (send queue full, connection down).
  void peer_message_dropped(raft::NodeId peer);
  // A connection to `peer` was re-established after it broke.
  void peer_reconnected(raft::NodeId peer);

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
  std::optional<raft::NodeId> last_leader_;
};

}  // namespace reef::prod
