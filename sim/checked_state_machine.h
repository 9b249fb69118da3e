// CheckedStateMachine: the simulator's window into each replica's state
// machine. It forwards every call to the real SqlStateMachine and tells the
// run about each applied entry, so the Raft safety checker sees applies as
// they happen and replicas' state hashes can be compared at equal indexes.
// Reads go through a reader connection (sql_reader.h), inline, as the
// server's read pool runs them on its threads: the linearizability checker
// then judges what reader connections see.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "raft/ports/forwarding_state_machine.h"
#include "statemachine/sql_reader.h"
#include "statemachine/sql_state_machine.h"

namespace reef::sim {

class CheckedStateMachine final : public raft::ForwardingStateMachine {
 public:
  using OnApply = std::function<void(const raft::LogEntry& entry, statemachine::SqlStateMachine& after)>;

  // *inner is the object forwarded to; the unique_ptr moves, the object
  // stays where it is.
  CheckedStateMachine(std::unique_ptr<statemachine::SqlStateMachine> inner, OnApply on_apply)
      : ForwardingStateMachine(*inner), inner_(std::move(inner)), on_apply_(std::move(on_apply)) {}

  absl::StatusOr<std::string> apply(const raft::LogEntry& entry) override {
    absl::StatusOr<std::string> response = inner_->apply(entry);
    if (response.ok()) on_apply_(entry, *inner_);
    return response;
  }
  void start_query(std::string request, QueryDone done) override {
    if (reader_ == nullptr) {
      absl::StatusOr<std::unique_ptr<statemachine::SqlReader>> opened = inner_->open_reader();
      if (!opened.ok()) {
        done(opened.status());
        return;
      }
      reader_ = *std::move(opened);
    }
    done(reader_->query(request));
  }

  statemachine::SqlStateMachine& sql() { return *inner_; }

 private:
  std::unique_ptr<statemachine::SqlStateMachine> inner_;
  std::unique_ptr<statemachine::SqlReader> reader_;  // declared after inner_: closed before it
  OnApply on_apply_;
};

}  // namespace reef::sim
