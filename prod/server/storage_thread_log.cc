#include "prod/server/storage_thread_log.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

namespace reef::prod {
namespace {

// Snapshot files live in the NodeStorage the storage thread writes the log
// through: every call takes the storage lock.
// It also counts the bytes, for the on_snapshot_stored hook.
class LockedSnapshotSink final : public raft::SnapshotSink {
 public:
  using OnStored = std::function<void(const raft::SnapshotMeta&, uint64_t bytes)>;
  LockedSnapshotSink(std::mutex& mutex, std::unique_ptr<raft::SnapshotSink> sink, raft::SnapshotMeta meta,
                     OnStored on_stored)
      : mutex_(mutex), sink_(std::move(sink)), meta_(std::move(meta)), on_stored_(std::move(on_stored)) {}
  ~LockedSnapshotSink() override {
    std::lock_guard lock(mutex_);
    sink_.reset();  // abandoning a snapshot removes its temp file
  }
  absl::Status add_chunk(std::string_view bytes) override {
    std::lock_guard lock(mutex_);
    absl::Status added = sink_->add_chunk(bytes);
    if (added.ok()) bytes_ += bytes.size();
    return added;
  }
  absl::Status finish() override {
    absl::Status finished;
    {
      std::lock_guard lock(mutex_);
      finished = sink_->finish();
    }
    if (finished.ok() && on_stored_) on_stored_(meta_, bytes_);  // outside the lock: it may log
    return finished;
  }

 private:
  std::mutex& mutex_;
  std::unique_ptr<raft::SnapshotSink> sink_;
  const raft::SnapshotMeta meta_;
  OnStored on_stored_;
  uint64_t bytes_ = 0;
};

class LockedSnapshotSource final : public raft::SnapshotSource {
 public:
  LockedSnapshotSource(std::mutex& mutex, std::unique_ptr<raft::SnapshotSource> source)
      : mutex_(mutex), source_(std::move(source)) {}
  ~LockedSnapshotSource() override {
    std::lock_guard lock(mutex_);
    source_.reset();
  }
  const raft::SnapshotMeta& meta() const override { return source_->meta(); }  // fixed at open
  uint64_t total_bytes() const override { return source_->total_bytes(); }
  absl::StatusOr<std::optional<std::string>> next_chunk() override {
    std::lock_guard lock(mutex_);
    return source_->next_chunk();
  }

 private:
  std::mutex& mutex_;
  std::unique_ptr<raft::SnapshotSource> source_;
};

}  // namespace

StorageThreadLog::StorageThreadLog(storage::NodeStorage& storage, boost::asio::io_context& loop,
                                   OnWritten on_written, StorageThreadLogHooks hooks)
    : loop_(loop),
      on_written_(std::move(on_written)),
      hooks_(std::move(hooks)),
      log_(storage, [] {}),  // the thread drives processing, not a callback
      thread_([this] { run(); }) {}

StorageThreadLog::~StorageThreadLog() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_ready_.notify_one();
  thread_.join();
  *alive_ = false;  // on the loop's thread: the owner destroys us there
}

void StorageThreadLog::submit(raft::LogWrite write) {
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(std::move(write));
  }
  queue_ready_.notify_one();
}

void StorageThreadLog::run() {
  for (;;) {
    std::deque<raft::LogWrite> taken;
    {
      std::unique_lock lock(queue_mutex_);
      queue_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      taken.swap(queue_);
    }
    LogWriteTiming timing;
    timing.writes = taken.size();
    for (const raft::LogWrite& write : taken) timing.entries += write.entries.size();
    std::vector<storage::LogWriteCompletion> done;
    {
      std::lock_guard lock(storage_mutex_);
      const uint64_t groups_before = log_.groups_written();
      const auto started = std::chrono::steady_clock::now();
      for (raft::LogWrite& write : taken) log_.submit(std::move(write));
      done = log_.process_queued_writes();
      timing.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      timing.groups = log_.groups_written() - groups_before;
    }
    for (const storage::LogWriteCompletion& c : done) timing.ok = timing.ok && c.status.ok();
    boost::asio::post(loop_, [alive = alive_, on_written = on_written_, on_turn = hooks_.on_turn, timing,
                              done = std::move(done)] {
      if (!*alive) return;
      if (on_turn) on_turn(timing);
      for (const storage::LogWriteCompletion& c : done) on_written(c.id, c.status);
    });
  }
}

absl::StatusOr<std::unique_ptr<raft::SnapshotSink>> StorageThreadLog::begin_snapshot(const raft::SnapshotMeta& meta) {
  std::lock_guard lock(storage_mutex_);
  absl::StatusOr<std::unique_ptr<raft::SnapshotSink>> sink = log_.begin_snapshot(meta);
  if (!sink.ok()) return sink.status();
  // The sink may be finished on the node's background thread: the hook runs
  // on the loop, like every other observation.
  LockedSnapshotSink::OnStored on_stored;
  if (hooks_.on_snapshot_stored) {
    on_stored = [loop = &loop_, alive = alive_, hook = hooks_.on_snapshot_stored](const raft::SnapshotMeta& stored,
                                                                                 uint64_t bytes) {
      boost::asio::post(*loop, [alive, hook, stored, bytes] {
        if (*alive) hook(stored, bytes);
      });
    };
  }
  return std::make_unique<LockedSnapshotSink>(storage_mutex_, *std::move(sink), meta, std::move(on_stored));
}

absl::StatusOr<std::unique_ptr<raft::SnapshotSource>> StorageThreadLog::open_snapshot(uint64_t offset) {
  std::lock_guard lock(storage_mutex_);
  absl::StatusOr<std::unique_ptr<raft::SnapshotSource>> source = log_.open_snapshot(offset);
  if (!source.ok()) return source.status();
  return std::make_unique<LockedSnapshotSource>(storage_mutex_, *std::move(source));
}

uint64_t StorageThreadLog::groups_written() const {
  std::lock_guard lock(storage_mutex_);
  return log_.groups_written();
}

}  // namespace reef::prod
