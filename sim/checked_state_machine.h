// CheckedStateMachine: the simulator's window into each replica's state
// machine. It forwards every call to the real SqlStateMachine and tells the
// run about each applied entry, so the Raft safety checker sees applies as
// they happen and replicas' state hashes can be compared at equal indexes.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "raft/ports/state_machine.h"
#include "statemachine/sql_state_machine.h"

namespace reef::sim {

class CheckedStateMachine final : public raft::StateMachine {
 public:
  using OnApply = std::function<void(const raft::LogEntry& entry, statemachine::SqlStateMachine& after)>;

  CheckedStateMachine(std::unique_ptr<statemachine::SqlStateMachine> inner, OnApply on_apply)
      : inner_(std::move(inner)), on_apply_(std::move(on_apply)) {}

  absl::StatusOr<std::string> apply(const raft::LogEntry& entry) override {
    absl::StatusOr<std::string> response = inner_->apply(entry);
    if (response.ok()) on_apply_(entry, *inner_);
    return response;
  }
  absl::Status commit_applied() override { return inner_->commit_applied(); }
  raft::AppliedPosition applied() const override { return inner_->applied(); }
  absl::StatusOr<std::string> prepare_proposal(std::string_view payload, uint64_t leader_now_ms) override {
    return inner_->prepare_proposal(payload, leader_now_ms);
  }
  absl::StatusOr<std::string> query(std::string_view request) override { return inner_->query(request); }
  absl::StatusOr<std::unique_ptr<raft::StateMachineSnapshot>> snapshot(
      const raft::Configuration& configuration) override {
    return inner_->snapshot(configuration);
  }
  absl::StatusOr<std::unique_ptr<raft::StateMachineRestore>> begin_restore() override {
    return inner_->begin_restore();
  }
  absl::Status make_durable() override { return inner_->make_durable(); }
  absl::Status clear() override { return inner_->clear(); }

  statemachine::SqlStateMachine& sql() { return *inner_; }

 private:
  std::unique_ptr<statemachine::SqlStateMachine> inner_;
  OnApply on_apply_;
};

}  // namespace reef::sim
