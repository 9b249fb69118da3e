// CommitQuorumChecker: every entry a leader commits is durable on a quorum
// of the configuration in force when it commits it — the latest
// configuration in the leader's log (thesis §4.1: a server uses the latest
// configuration in its log, committed or not), a majority of both voter
// sets while it is joint (§4.3).
//
// Judged at the moment of the decision: after every loop turn of a node
// that is or just was leader in the same term, the indexes its commit
// advanced over are looked up in every member's durable log (a crashed
// member counts with what it had synced when it went down), against the
// configuration the leader held as the turn began. The
// configuration is read from the log, not from what the core uses for its
// quorums, so a core that counts the wrong configuration is caught.
// Configuration_at(index) is not the right yardstick: a leader that has
// appended a change commits older entries with the new configuration's
// quorum, which need not be one of the configuration at their index.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "raft/core/core.h"

namespace reef::sim {

class CommitQuorumChecker {
 public:
  // Whether node `node`'s durable log holds (index, term).
  using DurablyHolds = std::function<bool(raft::NodeId node, raft::Index index, raft::Term term)>;

  explicit CommitQuorumChecker(DurablyHolds holds) : holds_(std::move(holds)) {}

  // After a loop turn of `node`; `core` is null when the node is down.
  void observe_turn(raft::NodeId node, const raft::Core* core);

  bool ok() const { return !violation_.has_value(); }
  const std::optional<std::string>& violation() const { return violation_; }
  uint64_t entries_checked() const { return entries_checked_; }

 private:
  struct Seen {
    raft::Term term;
    raft::Index commit;
    bool leader = false;
    std::optional<raft::Index> configuration_index;  // of `configuration` in the log
    raft::Configuration configuration;               // latest in the log, kept while leader
  };
  static void refresh(Seen& seen, const raft::Core& core);
  void check(raft::NodeId leader, const raft::Core& core, raft::Index from, raft::Index to,
             const raft::Configuration& configuration);

  DurablyHolds holds_;
  std::map<raft::NodeId, Seen> seen_;
  std::optional<std::string> violation_;
  uint64_t entries_checked_ = 0;
};

}  // namespace reef::sim
