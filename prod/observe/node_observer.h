// NodeObserver: what the production node's adapters measured, turned into
// NodeObservations (for /metrics, prod/observe/node_metrics.h) and into the log
// lines an operator needs (spdlog): slow Raft log writes, slow applies,
// snapshots taken, restored and installed, and transport trouble.
//
// raft/ neither reads clocks nor logs; the adapters around it
// (prod/server/storage_thread_log.h, prod/server/timed_state_machine.h,
// prod/net/asio_transport.h) time their work and report it here, and this
// decides what is worth a line.
//
// Thresholds (Options), and why:
//  - slow log write, 100 ms: one storage-thread turn (append + fdatasync +
//    hard state) that long holds every commit and every vote behind it. etcd
//    warns of a slow fdatasync at 1 s, which is already most of an election
//    timeout; a healthy disk takes well under 10 ms (docs/PERFORMANCE.md).
//    Turns are sequential, so a stalled disk yields at most ten lines a second.
//  - slow apply, 100 ms: applying what one loop turn committed; the loop
//    serves nothing else meanwhile (etcd warns of applies over 100 ms too).
//  - peer trouble: see prod/observe/peer_log_throttle.h, one line per 10 s at most.
//  - leader clock behind the data, 1 s (statemachine's
//    clock_behind_report_ms): this host's wall clock reads earlier than
//    time already stored, so proposals carry the stored time instead (time
//    stands still until the clock catches up). Once per 10 s at most: a
//    clock that is an hour behind would otherwise log every write.
//
// Threading: the loop thread only, like the node.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "absl/strings/string_view.h"
#include "prod/net/asio_transport_observer.h"
#include "prod/observe/log_write_timing.h"
#include "prod/observe/node_observations.h"
#include "prod/observe/peer_log_throttle.h"
#include "raft/core/state.h"
#include "raft/core/types.h"

namespace reef::prod {

// Committed entries applied in one loop turn (or replayed at boot).
struct AppliedBatch {
  size_t entries = 0;
  raft::Index first;
  raft::Index last;
  double seconds = 0;
  raft::Index slowest;  // the entry that took longest, and how long
  double slowest_seconds = 0;
};

class NodeObserver final : public AsioTransportObserver {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::chrono::milliseconds slow_log_write{100};
    std::chrono::milliseconds slow_apply{100};
    std::chrono::seconds peer_log_interval{10};
    std::chrono::seconds clock_behind_log_interval{10};
    std::function<Clock::time_point()> now = [] { return Clock::now(); };  // tests pass their own
  };

  NodeObserver();
  explicit NodeObserver(Options options);

  const NodeObservations& observations() const { return observations_; }
  Clock::time_point now() const { return options_.now(); }

  // One storage-thread turn of log writes (StorageThreadLogHooks::on_turn).
  void log_written(const LogWriteTiming& timing);
  // The state machine is about to serialize a snapshot of its state at
  // `index` (TimedStateMachine): the start of taking a snapshot.
  void snapshot_started(raft::Index index);
  // A snapshot file became durable (StorageThreadLogHooks::on_snapshot_stored):
  // the end of taking one, when it is the one started; a received snapshot
  // is reported by snapshot_restored() right after.
  void snapshot_stored(const raft::SnapshotMeta& meta, uint64_t bytes);
  // The state machine restored a snapshot, `seconds` after the restore
  // began: from disk while booting, afterwards one the leader sent.
  void snapshot_restored(const raft::SnapshotMeta& meta, uint64_t bytes, double seconds);
  // Entries applied in one loop turn, or the replay while booting.
  void entries_applied(const AppliedBatch& batch);
  // As leader, this host's wall clock read `leader_wall_ms` (Unix ms), more
  // than a second behind the time of the last applied entry, `applied_ms`.
  void leader_clock_behind(int64_t leader_wall_ms, int64_t applied_ms);
  // Boot is over: later restores are installs from a leader, later applies live.
  void boot_finished() { booted_ = true; }

  // AsioTransportObserver.
  void on_peer_round_trip(raft::NodeId peer, std::chrono::nanoseconds round_trip) override;
  void on_peer_connected(raft::NodeId peer) override;
  void on_peer_failed(raft::NodeId peer, absl::string_view why) override;
  void on_inbound_refused(absl::string_view remote, absl::string_view why) override;

 private:
  struct SnapshotStart {
    raft::Index index;
    Clock::time_point at;
  };

  Options options_;
  NodeObservations observations_;
  PeerLogThrottle peer_log_;
  std::optional<SnapshotStart> snapshot_start_;
  std::optional<Clock::time_point> clock_behind_logged_;
  uint64_t clock_behind_unlogged_ = 0;
  bool booted_ = false;
};

}  // namespace reef::prod
