// MembershipFaults: the membership half of a run's fault schedule. At random
// intervals it draws a change from what the highest-term leader's log says
// the configuration is, and submits it as a client would
// (RequestKind::kMembershipChange) to a random node in existence, which
// forwards it to the leader:
//   add-learner D, add-voter D, promote a learner, demote a voter, remove a
//   voter (the leader half the time) or a learner, replace A by a fresh D
//   in one joint change, swap a voter and a learner (joint), grow by two
//   fresh voters (3 -> 5, joint) and shrink by two (5 -> 3, joint).
// A fresh node has a new id, an empty disk and an empty configuration
// (SimCluster::add_node); one whose addition was refused is offered again.
// Refusals (a change in flight, a leader that has not committed in its
// term, not leader, deadline) are normal: the next round draws again. A
// node removed by an acknowledged change is shut down for good once a
// leader's committed, non-joint configuration at or past the change leaves
// it out; the run retires the remaining non-members after the final heal.
// Every change, with its outcome, goes into the schedule() text the report
// prints. Crashes, partitions and disk faults carry on meanwhile
// (FaultInjector).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "raft/core/membership_change.h"
#include "raft/core/random.h"
#include "sim/run_config.h"
#include "sim/sim_cluster.h"

namespace reef::sim {

class MembershipFaults {
 public:
  MembershipFaults(SimCluster& cluster, const RunConfig& config, uint64_t seed);

  void start();
  // Submits nothing more (answers still arrive and are noted).
  void stop() { active_ = false; }

  // One line per change: when, what, to which node, and how it ended.
  const std::vector<std::string>& schedule() const { return schedule_; }
  const std::map<std::string, uint64_t>& counts() const { return counts_; }

 private:
  struct Draw {
    const char* kind;
    std::vector<raft::MembershipChange> changes;
  };
  void schedule_next();
  void act();
  std::optional<Draw> draw(const raft::Configuration& configuration);
  void submit(Draw draw);
  void on_answer(size_t line, const std::vector<raft::MembershipChange>& changes, const raft::ClientResponse& r);
  // A fresh node to add: one offered before and never added, or a new one.
  std::optional<raft::NodeId> fresh_node(const raft::Configuration& configuration, std::set<raft::NodeId>& taken);
  raft::NodeId pick(const std::vector<raft::NodeId>& from, std::optional<raft::NodeId> prefer);
  void retire_removed();
  std::string now_text() const;

  SimCluster& cluster_;
  const RunConfig& config_;
  raft::Prng rng_;
  bool active_ = false;
  std::set<raft::NodeId> offered_;                // fresh nodes not yet seen as members
  std::map<raft::NodeId, raft::Index> removed_;   // acknowledged removals, at this applied index
  std::vector<std::string> schedule_;
  std::map<std::string, uint64_t> counts_;
};

}  // namespace reef::sim
