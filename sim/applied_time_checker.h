// AppliedTimeChecker: the state machine's clock, as SQL sees it, along the
// log. Each applied batch runs at a "now" (CURRENT_TIMESTAMP, datetime('now'),
// unixepoch(): statemachine/determinism.h) that the leader stamped from its
// wall clock. Hosts' wall clocks disagree by seconds and leadership moves
// between them, yet stored time must behave like time:
//
//  - Monotonic along the log: the now at index i is never before the now at
//    any lower index, on any replica.
//  - Agreement: every replica applies index i at the same now (state hashes
//    would catch a difference only if the workload stored the time).
//
// Observed after every apply; remembers the first violation.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "raft/core/types.h"

namespace reef::sim {

class AppliedTimeChecker {
 public:
  // `node` applied `index`, after which its state machine's now is `now_ms`.
  void observe(raft::NodeId node, raft::Index index, int64_t now_ms);

  bool ok() const { return !violation_.has_value(); }
  const std::optional<std::string>& violation() const { return violation_; }

 private:
  struct Seen {
    raft::NodeId node;
    int64_t now_ms;
  };
  void fail(std::string what);

  std::map<uint64_t, Seen> seen_;  // index -> first replica that applied it
  std::optional<std::string> violation_;
};

}  // namespace reef::sim
