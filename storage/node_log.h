// NodeLog: the raft::DurableLog port over NodeStorage.
//
// submit() only queues: the disk work happens when the owner calls
// process_queued_writes() — from a scheduled event in the simulator (which
// models disk latency and can crash the node before the work happens), from
// the storage thread in production. It returns the completions for the owner
// to deliver to Node::on_log_written on the node's loop, in order.
//
// Group commit: consecutive queued writes are carried out with one log
// append and one sync when each later one only appends right after what is
// before it (no overlap, no snapshot in between); the last hard state wins.
// A write that replaces entries is never merged with the one before it: the
// earlier write's acknowledgements (sent when it completes) may promise
// entries the later one removes, so the earlier must be durable on its own.
//
// Snapshot files are read and written synchronously, on the caller's thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "raft/ports/durable_log.h"
#include "storage/node_storage.h"

namespace reef::storage {

struct LogWriteCompletion {
  uint64_t id = 0;
  absl::Status status;
};

class NodeLog final : public raft::DurableLog {
 public:
  // `on_queued` is called after each submit() (the owner schedules
  // processing); `storage` must outlive this.
  NodeLog(NodeStorage& storage, std::function<void()> on_queued);

  void submit(raft::LogWrite write) override;
  absl::StatusOr<std::unique_ptr<raft::SnapshotSink>> begin_snapshot(const raft::SnapshotMeta& meta) override;
  absl::StatusOr<std::unique_ptr<raft::SnapshotSource>> open_snapshot(uint64_t offset) override;

  // Carries out every queued write (see the top of this file).
  std::vector<LogWriteCompletion> process_queued_writes();
  size_t queued_writes() const { return queue_.size(); }
  // Forgets queued writes that were never carried out (a crash).
  void drop_queued_writes() { queue_.clear(); }
  // Log syncs carried out so far (a merged group counts once).
  uint64_t groups_written() const { return groups_written_; }

  // True if `next` may be carried out together with `previous` (and what was
  // merged into it), the durable log ending at `durable_last`: `next` only
  // appends. Anything else must wait until `previous` is durable alone:
  // `previous` may carry acknowledgements for entries `next` replaces.
  static bool can_merge(const raft::LogWrite& previous, const raft::LogWrite& next, raft::Index durable_last);

 private:
  absl::Status execute(const raft::LogWrite& write);

  NodeStorage& storage_;
  std::function<void()> on_queued_;
  std::deque<raft::LogWrite> queue_;
  uint64_t groups_written_ = 0;
};

}  // namespace reef::storage
