// ForwardingStateMachine: a StateMachine that hands every call to another
// one. Decorators (timing in prod/, checking in sim/, reads on worker
// threads) derive from it and override only what they add to, so a method
// added to the port is forwarded everywhere by default.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "raft/ports/state_machine.h"

namespace reef::raft {

class ForwardingStateMachine : public StateMachine {
 public:
  // `inner` must outlive this.
  explicit ForwardingStateMachine(StateMachine& inner) : inner_(inner) {}

  absl::StatusOr<std::string> apply(const LogEntry& entry) override { return inner_.apply(entry); }
  absl::Status commit_applied() override { return inner_.commit_applied(); }
  AppliedPosition applied() const override { return inner_.applied(); }
  absl::StatusOr<std::string> prepare_proposal(std::string_view payload, uint64_t leader_wall_ms) override {
    return inner_.prepare_proposal(payload, leader_wall_ms);
  }
  absl::StatusOr<std::string> query(std::string_view request) override { return inner_.query(request); }
  void start_query(std::string request, QueryDone done) override {
    inner_.start_query(std::move(request), std::move(done));
  }
  absl::StatusOr<std::unique_ptr<StateMachineSnapshot>> snapshot(const Configuration& configuration) override {
    return inner_.snapshot(configuration);
  }
  absl::StatusOr<std::unique_ptr<StateMachineRestore>> begin_restore() override { return inner_.begin_restore(); }
  absl::Status make_durable() override { return inner_.make_durable(); }
  absl::Status clear() override { return inner_.clear(); }

 protected:
  StateMachine& inner() { return inner_; }
  const StateMachine& inner() const { return inner_; }

 private:
  StateMachine& inner_;
};

}  // namespace reef::raft
