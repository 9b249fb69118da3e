#include "storage/node_log.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::storage {
namespace {

class StoreSnapshotSink final : public raft::SnapshotSink {
 public:
  explicit StoreSnapshotSink(std::unique_ptr<SnapshotWriter> writer) : writer_(std::move(writer)) {}
  absl::Status add_chunk(std::string_view bytes) override {
    return writer_->add_chunk(absl::string_view(bytes.data(), bytes.size()));
  }
  absl::Status finish() override { return writer_->finish().status(); }

 private:
  std::unique_ptr<SnapshotWriter> writer_;  // aborts on destruction unless finished
};

class StoreSnapshotSource final : public raft::SnapshotSource {
 public:
  explicit StoreSnapshotSource(std::unique_ptr<SnapshotReader> reader) : reader_(std::move(reader)) {}
  const raft::SnapshotMeta& meta() const override { return reader_->info().meta; }
  uint64_t total_bytes() const override { return reader_->info().data_bytes; }
  absl::StatusOr<std::optional<std::string>> next_chunk() override {
    absl::StatusOr<std::optional<SnapshotChunk>> chunk = reader_->next();
    if (!chunk.ok()) return chunk.status();
    if (!chunk->has_value()) return std::optional<std::string>();
    return std::optional<std::string>(std::move((*chunk)->data));
  }

 private:
  std::unique_ptr<SnapshotReader> reader_;
};

}  // namespace

NodeLog::NodeLog(NodeStorage& storage, std::function<void()> on_queued)
    : storage_(storage), on_queued_(std::move(on_queued)) {}

void NodeLog::submit(raft::LogWrite write) {
  REEF_ASSERT(queue_.empty() || queue_.back().id < write.id, "log write ids must increase");
  queue_.push_back(std::move(write));
  if (on_queued_) on_queued_();
}

bool NodeLog::can_merge(const raft::LogWrite& previous, const raft::LogWrite& next, raft::Index durable_last) {
  if (next.snapshot_durable) return false;
  if (next.entries.empty()) return true;
  const raft::Index end = previous.entries.empty() ? durable_last : previous.entries.back().index;
  return next.entries.front().index == end.next();
}

std::vector<LogWriteCompletion> NodeLog::process_queued_writes() {
  std::vector<LogWriteCompletion> done;
  absl::Status failed;
  while (!queue_.empty()) {
    raft::LogWrite group = std::move(queue_.front());
    queue_.pop_front();
    std::vector<uint64_t> ids{group.id};
    const raft::Index durable_last = storage_.log().last_index();
    while (!queue_.empty() && can_merge(group, queue_.front(), durable_last)) {
      raft::LogWrite& next = queue_.front();
      for (raft::LogEntry& e : next.entries) group.entries.push_back(std::move(e));
      if (next.hard_state) group.hard_state = next.hard_state;
      ids.push_back(next.id);
      queue_.pop_front();
    }
    // After a failure the disk's state is unknown: nothing later may succeed.
    absl::Status status = failed.ok() ? execute(group) : failed;
    if (!status.ok()) failed = status;
    ++groups_written_;
    for (uint64_t id : ids) done.push_back(LogWriteCompletion{id, status});
  }
  return done;
}

absl::Status NodeLog::execute(const raft::LogWrite& write) {
  if (write.snapshot_durable) {
    if (absl::Status s = storage_.on_snapshot_durable(*write.snapshot_durable); !s.ok()) return s;
  }
  return storage_.persist(write.hard_state, write.entries);
}

absl::StatusOr<std::unique_ptr<raft::SnapshotSink>> NodeLog::begin_snapshot(const raft::SnapshotMeta& meta) {
  absl::StatusOr<std::unique_ptr<SnapshotWriter>> writer = storage_.snapshots().begin(meta);
  if (!writer.ok()) return writer.status();
  return std::unique_ptr<raft::SnapshotSink>(new StoreSnapshotSink(std::move(*writer)));
}

absl::StatusOr<std::unique_ptr<raft::SnapshotSource>> NodeLog::open_snapshot(uint64_t offset) {
  absl::StatusOr<std::unique_ptr<SnapshotReader>> reader = storage_.snapshots().open_reader(offset);
  if (!reader.ok()) return reader.status();
  return std::unique_ptr<raft::SnapshotSource>(new StoreSnapshotSource(std::move(*reader)));
}

}  // namespace reef::storage
