// Background: where the node driver runs work that grows with the data
// (today: writing a policy snapshot) so that it never runs on the node's
// event loop (DESIGN.md §4). Production runs it on a thread of its own
// (prod/server/background_thread.h); a driver with no Background runs it
// inline, which is what the simulator wants (one thread, a deterministic
// order).
#pragma once

#include "absl/functional/any_invocable.h"

namespace reef::raft {

class Background {
 public:
  virtual ~Background() = default;
  // Runs `work` off the loop, then `then` on the loop. `work` may only use
  // what the driver hands it and ports documented as thread-safe (the
  // DurableLog's snapshot sink, a StateMachineSnapshot). A host destroying
  // the node first lets running work finish and drops every `then` not
  // yet run.
  virtual void run(absl::AnyInvocable<void()> work, absl::AnyInvocable<void()> then) = 0;
};

}  // namespace reef::raft
