// RaftSafetyChecker: cluster-wide Raft safety properties (thesis §3.6.3, figure 3.2), checked
// against every node's view after every step:
//
//  - Election safety: at most one leader per term.
//  - Log matching: two logs with an entry of the same index and term are
//    identical up to that index.
//  - Leader completeness: an entry committed in term T is in the log of
//    every leader of a term > T.
//  - State machine safety: no two nodes apply different entries at the
//    same index.
//  - Vote safety: a node promises its vote in a term to at most one
//    candidate, across restarts (thesis §3.4, §3.8). Judged on what leaves
//    the node (grants, and its own RequestVote as a vote for itself), not on
//    its memory: an in-memory vote lost in a crash before any grant left is
//    no promise. This catches a lost vote before it has produced a second
//    leader.
//  - Membership rules (thesis §4.1, §4.3; raft-dev 2015): when a leader
//    appends a configuration entry, no other configuration entry is
//    uncommitted in its log (one change at a time), and it has committed an
//    entry of its own term (a new leader must not build a change on a
//    configuration an earlier leader's uncommitted change may contradict).
//    Their breach is what lets two quorums decide apart; these checks see
//    it at the moment it happens, before a schedule rare enough to turn it
//    into lost data comes along.
//  - Per node: commit never decreases (within one process lifetime), and
//    the core's own check_invariants().
//
// The checker remembers the first violation; later ones are usually
// consequences of it. Used by the simulator and by the core's in-memory test
// harness (tests/raft/support/cluster.h).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "raft/core/core.h"

namespace reef::sim {

using raft::Core;
using raft::Index;
using raft::LogEntry;
using raft::Message;
using raft::NodeId;
using raft::Term;

class RaftSafetyChecker {
 public:
  // `membership_rules` off leaves only the end-to-end properties: for tests
  // that show what breaking a membership rule leads to.
  explicit RaftSafetyChecker(bool membership_rules = true) : membership_rules_(membership_rules) {}

  // Call after `node` stepped. `cores` holds every live node.
  void observe(const std::map<NodeId, const Core*>& cores);
  // `node` applied `entry` while at term `node_term`.
  void observe_applied(NodeId node, const LogEntry& entry, Term node_term);
  // `node` restarted: its volatile commit may legitimately go back.
  void observe_restart(NodeId node);
  // `message` was handed to the network by its sender.
  void observe_sent(const Message& message);

  bool ok() const { return !violation_.has_value(); }
  const std::optional<std::string>& violation() const { return violation_; }
  size_t committed_entries() const { return committed_.size(); }

 private:
  struct Committed {
    Term term;
    std::string payload;
    std::optional<raft::Configuration> configuration;  // of a configuration entry
    Term commit_term;  // earliest term in which a node saw it committed
  };
  void fail(std::string what);
  void check_log_matching(const Core& a, const Core& b);
  void check_leader_completeness(const Core& leader);
  void check_membership_rules(const Core& leader);

  std::map<Term, NodeId> leaders_;
  std::map<NodeId, Index> last_commit_;
  std::map<Index, Committed> committed_;
  std::map<std::pair<NodeId, Term>, NodeId> votes_sent_;  // (voter, term) -> candidate
  std::map<NodeId, Index> latest_configuration_seen_;     // per leader, its latest configuration entry
  bool membership_rules_;
  std::optional<std::string> violation_;
};

}  // namespace reef::sim
