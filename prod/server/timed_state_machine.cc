#include "prod/server/timed_state_machine.h"

#include <chrono>
#include <utility>

namespace reef::prod {
namespace {

double seconds_between(NodeObserver::Clock::time_point from, NodeObserver::Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Counts the bytes of a restore and reports it once it succeeded.
class TimedRestore final : public raft::StateMachineRestore {
 public:
  TimedRestore(std::unique_ptr<raft::StateMachineRestore> inner, NodeObserver& observer)
      : inner_(std::move(inner)), observer_(observer), started_(observer.now()) {}

  absl::Status add_chunk(std::string_view bytes) override {
    absl::Status added = inner_->add_chunk(bytes);
    if (added.ok()) bytes_ += bytes.size();
    return added;
  }
  absl::StatusOr<raft::SnapshotMeta> finish() override {
    absl::StatusOr<raft::SnapshotMeta> meta = inner_->finish();
    if (meta.ok()) observer_.snapshot_restored(*meta, bytes_, seconds_between(started_, observer_.now()));
    return meta;
  }

 private:
  std::unique_ptr<raft::StateMachineRestore> inner_;
  NodeObserver& observer_;
  const NodeObserver::Clock::time_point started_;
  uint64_t bytes_ = 0;
};

}  // namespace

absl::StatusOr<std::string> TimedStateMachine::apply(const raft::LogEntry& entry) {
  const NodeObserver::Clock::time_point started = observer_.now();
  absl::StatusOr<std::string> response = inner().apply(entry);
  const double seconds = seconds_between(started, observer_.now());
  if (batch_.entries++ == 0) batch_.first = entry.index;
  batch_.last = entry.index;
  batch_.seconds += seconds;
  if (seconds >= batch_.slowest_seconds) {
    batch_.slowest = entry.index;
    batch_.slowest_seconds = seconds;
  }
  return response;
}

// The group's commit is part of what applying the batch cost.
absl::Status TimedStateMachine::commit_applied() {
  const NodeObserver::Clock::time_point started = observer_.now();
  absl::Status committed = inner().commit_applied();
  batch_.seconds += seconds_between(started, observer_.now());
  return committed;
}

absl::StatusOr<std::unique_ptr<raft::StateMachineSnapshot>> TimedStateMachine::snapshot(
    const raft::Configuration& configuration) {
  observer_.snapshot_started(inner().applied().index);
  return inner().snapshot(configuration);
}

absl::StatusOr<std::unique_ptr<raft::StateMachineRestore>> TimedStateMachine::begin_restore() {
  absl::StatusOr<std::unique_ptr<raft::StateMachineRestore>> restore = inner().begin_restore();
  if (!restore.ok()) return restore.status();
  return std::unique_ptr<raft::StateMachineRestore>(new TimedRestore(*std::move(restore), observer_));
}

void TimedStateMachine::finish_batch() {
  observer_.entries_applied(batch_);
  batch_ = AppliedBatch{};
}

}  // namespace reef::prod
