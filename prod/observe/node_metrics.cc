#include "prod/observe/node_metrics.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "raft/core/state.h"

namespace reef::prod {
namespace {

namespace names = metric_names;

Labels to_peer(raft::NodeId peer) { return {{"To", absl::StrCat(peer.value())}}; }

// AsioTransportStats::Drops, field by field, as label values.
constexpr std::array<std::pair<absl::string_view, uint64_t AsioTransportStats::Drops::*>, 5> kDropReasons = {{
    {"queue_full", &AsioTransportStats::Drops::queue_full},
    {"unknown_peer", &AsioTransportStats::Drops::unknown_peer},
    {"too_large", &AsioTransportStats::Drops::too_large},
    {"connection_lost", &AsioTransportStats::Drops::connection_lost},
    {"closed", &AsioTransportStats::Drops::closed},
}};

absl::string_view bounded_method(absl::string_view method) {
  static constexpr std::array<absl::string_view, 7> kKnown = {"GET",  "HEAD",    "POST", "PUT",
                                                             "DELETE", "OPTIONS", "PATCH"};
  for (absl::string_view known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

std::string bounded_code(int code) { return code >= 100 && code <= 599 ? absl::StrCat(code) : "other"; }

double as_gauge(uint64_t value) { return static_cast<double>(value); }

}  // namespace

NodeMetrics::NodeMetrics(MetricsRegistry& registry)
    : registry_(registry),
      has_leader_(registry.gauge(names::kHasLeader, "Whether or not a leader exists. 1 is existence, 0 is not.")),
      is_leader_(registry.gauge(names::kIsLeader, "Whether or not this member is a leader. 1 if is, 0 otherwise.")),
      leader_changes_seen_(registry.counter(names::kLeaderChangesSeen, "The number of leader changes seen.")),
      proposals_committed_(registry.gauge(names::kProposalsCommitted,
                                          "The total number of consensus proposals committed (the commit index).")),
      proposals_applied_(registry.gauge(names::kProposalsApplied,
                                        "The total number of consensus proposals applied (the applied index).")),
      proposals_pending_(
          registry.gauge(names::kProposalsPending, "The current number of client requests waiting in this node.")),
      proposals_failed_(registry.counter(names::kProposalsFailed, "The total number of failed proposals seen.")),
      slow_applies_(registry.counter(names::kSlowApplies,
                                     "The total number of loop turns whose applying of committed entries was slow.")),
      stopped_(registry.gauge(names::kStopped, "1 if the node stopped after a storage failure and needs a restart.")),
      term_(registry.gauge(names::kTerm, "The current Raft term of this node.")),
      commit_index_(registry.gauge(names::kCommitIndex, "The highest log index known to be committed.")),
      applied_index_(registry.gauge(names::kAppliedIndex, "The highest log index applied to the state machine.")),
      last_index_(registry.gauge(names::kLastIndex, "The index of the last entry in this node's log.")),
      snapshot_index_(registry.gauge(names::kSnapshotIndex, "The last index covered by the newest snapshot.")),
      log_entries_(registry.gauge(names::kLogEntries, "Log entries after the newest snapshot (uncompacted log).")),
      log_writes_in_flight_(
          registry.gauge(names::kLogWritesInFlight, "Raft log writes submitted and not yet durable.")),
      wal_fsync_duration_(registry.histogram(
          names::kWalFsyncDuration, "The latency distributions of durable Raft log writes (append and fdatasync).",
          disk_latency_buckets())),
      snapshot_save_duration_(registry.histogram(names::kSnapshotSaveDuration,
                                                 "The total latency distributions of save called by snapshot.",
                                                 disk_latency_buckets())),
      snapshots_installed_(
          registry.counter(names::kSnapshotsInstalled, "The total number of snapshots received and installed.")),
      db_total_size_(registry.gauge(names::kDbTotalSize, "Total size of the state machine database in bytes.")),
      received_bytes_(registry.counter(names::kReceivedBytes, "The total number of bytes received from peers.")),
      refused_frames_(registry.counter(names::kRefused, "Connections closed for what a peer sent, by reason.",
                                       {{"reason", "bad_frame"}})),
      refused_messages_(registry.counter(names::kRefused, "Connections closed for what a peer sent, by reason.",
                                         {{"reason", "bad_message"}})) {}

void NodeMetrics::update_from(const raft::NodeStatus& status) {
  if (status.leader && status.leader != last_leader_) leader_changes_seen_.increment();
  last_leader_ = status.leader;
  has_leader_.set(status.leader ? 1 : 0);
  is_leader_.set(status.role == raft::Role::kLeader ? 1 : 0);
  proposals_committed_.set(as_gauge(status.commit.value()));
  proposals_applied_.set(as_gauge(status.applied.value()));
  proposals_pending_.set(as_gauge(status.pending_requests));
  stopped_.set(status.stopped ? 1 : 0);
  term_.set(as_gauge(status.term.value()));
  commit_index_.set(as_gauge(status.commit.value()));
  applied_index_.set(as_gauge(status.applied.value()));
  last_index_.set(as_gauge(status.last_index.value()));
  snapshot_index_.set(as_gauge(status.snapshot_index.value()));
  // A follower that just installed a snapshot may briefly hold no entries
  // past it, with its last index still below the snapshot's.
  const bool entries_after_snapshot = status.last_index > status.snapshot_index;
  log_entries_.set(entries_after_snapshot ? as_gauge(distance(status.snapshot_index, status.last_index)) : 0);
  log_writes_in_flight_.set(as_gauge(status.log_writes_in_flight));
}

void NodeMetrics::update_from(const NodeObservations& observations) {
  wal_fsync_duration_.copy_from(observations.log_write_seconds);
  snapshot_save_duration_.copy_from(observations.snapshot_save_seconds);
  snapshots_installed_.advance_to(as_gauge(observations.snapshots_installed));
  slow_applies_.advance_to(as_gauge(observations.slow_applies));
  for (const auto& [peer, round_trips] : observations.peer_round_trip_seconds) {
    registry_
        .histogram(names::kPeerRoundTrip, "Round-Trip-Time histogram between peers.", peer_round_trip_buckets(),
                   to_peer(peer))
        .copy_from(round_trips);
  }
}

void NodeMetrics::update_from(const AsioTransportStats& transport) {
  received_bytes_.advance_to(as_gauge(transport.bytes_received));
  refused_frames_.advance_to(as_gauge(transport.frames_refused));
  refused_messages_.advance_to(as_gauge(transport.messages_refused));
  for (const auto& [peer, stats] : transport.peers) {
    registry_.counter(names::kPeerSentBytes, "The total number of bytes sent to peers.", to_peer(peer))
        .advance_to(as_gauge(stats.bytes_sent));
    registry_
        .counter(names::kPeerConnectFailures, "The total number of failed connection attempts to peers.",
                 to_peer(peer))
        .advance_to(as_gauge(stats.connect_failures));
    registry_
        .counter(names::kPeerReconnects, "The total number of connections to peers re-established.", to_peer(peer))
        .advance_to(as_gauge(stats.reconnects));
    for (const auto& [reason, field] : kDropReasons) {
      Labels labels = to_peer(peer);
      labels.emplace("reason", std::string(reason));
      registry_
          .counter(names::kPeerSentFailures,
                   "The total number of messages to peers dropped before sending, by reason.", labels)
          .advance_to(as_gauge(stats.dropped.*field));
    }
  }
}

void NodeMetrics::proposal_failed() { proposals_failed_.increment(); }
void NodeMetrics::set_db_size_bytes(uint64_t bytes) { db_total_size_.set(as_gauge(bytes)); }

void NodeMetrics::http_request_finished(absl::string_view method, int status_code, double seconds) {
  const absl::string_view bounded = bounded_method(method);
  registry_
      .counter(names::kHttpRequests, "The total number of HTTP requests answered, by status code and method.",
               {{"code", bounded_code(status_code)}, {"method", std::string(bounded)}})
      .increment();
  registry_
      .histogram(names::kHttpRequestDuration, "The latency distributions of HTTP requests, by method.",
                 default_latency_buckets(), {{"method", std::string(bounded)}})
      .observe(seconds);
}

}  // namespace reef::prod
