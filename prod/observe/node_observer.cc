#include "prod/observe/node_observer.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace reef::prod {
namespace {

double to_ms(double seconds) { return seconds * 1000; }
double to_seconds(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

}  // namespace

NodeObserver::NodeObserver() : NodeObserver(Options{}) {}

NodeObserver::NodeObserver(Options options)
    : options_(std::move(options)), peer_log_(options_.peer_log_interval) {}

void NodeObserver::log_written(const LogWriteTiming& timing) {
  if (timing.groups == 0) return;  // nothing reached the disk
  observations_.log_write_seconds.observe(timing.seconds);
  if (timing.seconds > to_seconds(options_.slow_log_write)) {
    spdlog::warn(
        "slow Raft log write: {} writes ({} entries, {} syncs) took {:.1f} ms (over {} ms); the disk is slow "
        "or "
        "busy, and commits wait for it",
        timing.writes, timing.entries, timing.groups, to_ms(timing.seconds), options_.slow_log_write.count());
  }
}

void NodeObserver::leader_clock_behind(int64_t leader_wall_ms, int64_t applied_ms) {
  const Clock::time_point at = now();
  if (clock_behind_logged_ && at - *clock_behind_logged_ < options_.clock_behind_log_interval) {
    ++clock_behind_unlogged_;
    return;
  }
  spdlog::warn(
      "this host's wall clock is {:.3f} s behind the time of the last applied entry: new writes keep that time "
      "(CURRENT_TIMESTAMP stands still) until the clock catches up; check NTP on this host{}",
      static_cast<double>(applied_ms - leader_wall_ms) / 1000.0,
      clock_behind_unlogged_ == 0 ? "" : fmt::format(" ({} more proposals since the last line)", clock_behind_unlogged_));
  clock_behind_logged_ = at;
  clock_behind_unlogged_ = 0;
}

void NodeObserver::snapshot_started(raft::Index index) { snapshot_start_ = SnapshotStart{index, now()}; }

void NodeObserver::snapshot_stored(const raft::SnapshotMeta& meta, uint64_t bytes) {
  if (!snapshot_start_ || snapshot_start_->index != meta.index) return;  // received, not taken
  const double seconds = to_seconds(now() - snapshot_start_->at);
  snapshot_start_.reset();
  observations_.snapshot_save_seconds.observe(seconds);
  spdlog::info("snapshot taken at index {} (term {}): {} bytes in {:.1f} ms", meta.index.value(),
               meta.term.value(), bytes, to_ms(seconds));
}

void NodeObserver::snapshot_restored(const raft::SnapshotMeta& meta, uint64_t bytes, double seconds) {
  if (!booted_) {
    spdlog::info("restored the snapshot at index {} (term {}) from disk: {} bytes in {:.1f} ms",
                 meta.index.value(), meta.term.value(), bytes, to_ms(seconds));
    return;
  }
  ++observations_.snapshots_installed;
  spdlog::info(
      "installed a snapshot from the leader at index {} (term {}): {} bytes, received and restored in "
      "{:.1f} ms",
      meta.index.value(), meta.term.value(), bytes, to_ms(seconds));
}

void NodeObserver::entries_applied(const AppliedBatch& batch) {
  if (batch.entries == 0) return;
  if (!booted_) {
    spdlog::info("replayed {} committed entries (index {}..{}) in {:.1f} ms", batch.entries,
                 batch.first.value(), batch.last.value(), to_ms(batch.seconds));
    return;
  }
  if (batch.seconds <= to_seconds(options_.slow_apply)) return;
  ++observations_.slow_applies;
  spdlog::warn(
      "slow apply: {} committed entries (index {}..{}) took {:.1f} ms (over {} ms; slowest: index {}, "
      "{:.1f} ms)",
      batch.entries, batch.first.value(), batch.last.value(), to_ms(batch.seconds),
      options_.slow_apply.count(), batch.slowest.value(), to_ms(batch.slowest_seconds));
}

void NodeObserver::on_peer_round_trip(raft::NodeId peer, std::chrono::nanoseconds round_trip) {
  observations_.observe_peer_round_trip(peer, to_seconds(round_trip));
}

void NodeObserver::on_peer_connected(raft::NodeId peer) {
  if (std::optional<std::string> line = peer_log_.peer_connected(peer, now())) spdlog::info("{}", *line);
}

void NodeObserver::on_peer_failed(raft::NodeId peer, absl::string_view why) {
  if (std::optional<std::string> line = peer_log_.peer_failed(peer, why, now())) spdlog::warn("{}", *line);
}

void NodeObserver::on_inbound_refused(absl::string_view remote, absl::string_view why) {
  if (std::optional<std::string> line = peer_log_.inbound_refused(remote, why, now()))
    spdlog::warn("{}", *line);
}

}  // namespace reef::prod
