// StorageThreadLog: the production raft::DurableLog. The node's loop submits
// log writes; one storage thread carries them out through storage::NodeLog
// (group commit: everything queued since its last turn becomes one append
// and one sync) and posts each completion back to the loop, where the
// owner's callback hands it to Node::on_log_written. While the thread syncs,
// the loop keeps receiving, replicating and queueing the next writes — the
// pipelining the driver is built for (raft/driver/node.h).
//
// Snapshot files are read and written on the caller's thread (the loop, or
// the node's background thread for policy snapshots); they share
// NodeStorage with the log writes, so both take the storage lock. A
// snapshot operation may therefore wait for one log sync, and a log write
// for one snapshot chunk or the snapshot's final sync.
//
// Timing: each storage-thread turn (one NodeLog::process_queued_writes:
// append + fdatasync + hard state for everything taken, usually one merged
// group) is timed with a steady clock on the storage thread, around the disk
// work only (not the wait for the storage lock), and the result travels back
// to the loop with that turn's completions. Observing it there, rather than
// on the storage thread, keeps every metric single-threaded (prod/observe/metrics.h)
// at no cost: the completions make that trip anyway.
//
// Shutdown: the destructor lets the thread finish the writes it already
// took, then joins it. Completions posted after that are dropped (the owner
// is gone); they only acknowledge what is already durable.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "absl/status/status.h"
#include "prod/observe/log_write_timing.h"
#include "raft/ports/durable_log.h"
#include "storage/node_log.h"
#include "storage/node_storage.h"

namespace reef::prod {

// Optional observers of the disk work; all run on the loop.
struct StorageThreadLogHooks {
  // Once per turn, right before that turn's completions are delivered.
  std::function<void(const LogWriteTiming&)> on_turn;
  // A snapshot file became durable (its sink's finish() succeeded), with
  // its size: a snapshot this node took or one received from a leader.
  // Posted to the loop from whichever thread finished the sink.
  std::function<void(const raft::SnapshotMeta&, uint64_t bytes)> on_snapshot_stored;
};

class StorageThreadLog final : public raft::DurableLog {
 public:
  using OnWritten = std::function<void(uint64_t write_id, absl::Status status)>;

  // `on_written` runs on `loop`. `storage` must outlive this.
  StorageThreadLog(storage::NodeStorage& storage, boost::asio::io_context& loop, OnWritten on_written,
                   StorageThreadLogHooks hooks = {});
  ~StorageThreadLog() override;
  StorageThreadLog(const StorageThreadLog&) = delete;
  StorageThreadLog& operator=(const StorageThreadLog&) = delete;

  void submit(raft::LogWrite write) override;
  absl::StatusOr<std::unique_ptr<raft::SnapshotSink>> begin_snapshot(const raft::SnapshotMeta& meta) override;
  absl::StatusOr<std::unique_ptr<raft::SnapshotSource>> open_snapshot(uint64_t offset) override;

  // Log syncs carried out so far (a merged group counts once).
  uint64_t groups_written() const;

 private:
  void run();

  boost::asio::io_context& loop_;
  OnWritten on_written_;
  StorageThreadLogHooks hooks_;
  // Cleared by the destructor; completions check it on the loop.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<raft::LogWrite> queue_;  // guarded by queue_mutex_
  bool stopping_ = false;             // guarded by queue_mutex_

  mutable std::mutex storage_mutex_;  // NodeLog and NodeStorage are single-threaded
  storage::NodeLog log_;
  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace reef::prod
