// NodeObservations: what a production node measured about its own work —
// durable log writes, snapshots, applying, round trips to its peers — as
// plain histograms and counts.
//
// ServerNode keeps one (through prod/observe/node_observer.h) on its loop thread,
// and NodeMetrics copies it into the registry at scrape time
// (NodeMetrics::update_from). Keeping the measurements with the node rather
// than in the registry means they do not depend on whether, or since when,
// an HTTP service exists to expose them.
//
// Threading: the loop thread only, like the node.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/btree_map.h"
#include "prod/observe/metrics.h"
#include "raft/core/types.h"

namespace reef::prod {

// etcd's buckets, so that latency panels compare like with like: disk
// (fsync, snapshot save) 1 ms .. 8.192 s; peer round trip 0.1 ms .. 0.8192 s.
inline std::vector<double> disk_latency_buckets() { return exponential_buckets(0.001, 2, 14); }
inline std::vector<double> peer_round_trip_buckets() { return exponential_buckets(0.0001, 2, 14); }

struct NodeObservations {
  // One storage-thread turn of durable log writes (append + fdatasync +
  // hard state), in seconds: see prod/server/storage_thread_log.h.
  Histogram log_write_seconds{disk_latency_buckets()};
  // Snapshots this node took: from serializing the state machine to the
  // snapshot file being durable, in seconds. Its count is the number taken.
  Histogram snapshot_save_seconds{disk_latency_buckets()};
  // Snapshots received from a leader and installed (not those restored at boot).
  uint64_t snapshots_installed = 0;
  // Loop turns whose applying of committed entries took longer than the
  // slow-apply threshold (prod/observe/node_observer.h).
  uint64_t slow_applies = 0;
  // Per peer, round trips of the transport's probes, in seconds.
  absl::btree_map<raft::NodeId, Histogram> peer_round_trip_seconds;

  void observe_peer_round_trip(raft::NodeId peer, double seconds) {
    auto it = peer_round_trip_seconds.find(peer);
    if (it == peer_round_trip_seconds.end()) {
      it = peer_round_trip_seconds.emplace(peer, Histogram(peer_round_trip_buckets())).first;
    }
    it->second.observe(seconds);
  }
};

}  // namespace reef::prod
