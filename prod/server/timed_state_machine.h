// TimedStateMachine: a raft::StateMachine decorator that times what the
// node driver asks of the state machine — applying committed entries,
// taking a snapshot, restoring one — and reports it to a NodeObserver.
// raft/ may not read clocks, so the port is wrapped here in prod/ instead;
// the driver cannot tell the difference.
//
// Same contract as the wrapped machine (raft/ports/state_machine.h): every call is
// forwarded unchanged, and timing adds nothing that could change a result.
// Applies are gathered per loop turn: the owner calls finish_batch() after
// each Node::flush() (and after boot, for the replay), which reports what
// was applied since the previous call as one AppliedBatch.
//
// Threading: the loop thread only, like the driver that calls it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "prod/observe/node_observer.h"
#include "raft/ports/forwarding_state_machine.h"

namespace reef::prod {

class TimedStateMachine final : public raft::ForwardingStateMachine {
 public:
  // Both must outlive this.
  TimedStateMachine(raft::StateMachine& inner, NodeObserver& observer)
      : ForwardingStateMachine(inner), observer_(observer) {}

  absl::StatusOr<std::string> apply(const raft::LogEntry& entry) override;
  absl::Status commit_applied() override;
  absl::StatusOr<std::unique_ptr<raft::StateMachineSnapshot>> snapshot(
      const raft::Configuration& configuration) override;
  absl::StatusOr<std::unique_ptr<raft::StateMachineRestore>> begin_restore() override;

  // Reports the entries applied since the last call (if any) and starts over.
  void finish_batch();

 private:
  NodeObserver& observer_;
  AppliedBatch batch_;
};

}  // namespace reef::prod
