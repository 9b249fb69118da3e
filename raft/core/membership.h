// Cluster membership as the core models it: voters, learners and, while a
// joint-consensus change is in flight (thesis §4.3), the outgoing voters.
//
// Quorum decisions in a joint configuration need a majority of BOTH the
// incoming and the outgoing voter sets. Learners receive the log but never
// vote and never count toward commit.
//
// Learners may include outgoing voters: a voter demoted through a joint
// change votes in the outgoing set until the joint configuration is left
// and is a learner after (etcd's LearnersNext). How a change becomes a
// sequence of configurations is in membership_change.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "raft/core/quorum.h"
#include "raft/core/types.h"

namespace reef::raft {

struct Configuration {
  MajorityConfig voters;
  MajorityConfig outgoing_voters;  // empty unless in a joint configuration
  std::vector<NodeId> learners;    // sorted, unique, disjoint from both voter sets

  static Configuration of_voters(std::vector<NodeId> voters, std::vector<NodeId> learners = {});

  bool is_joint() const { return !outgoing_voters.empty(); }
  // No members at all: a node that waits to be added to a cluster.
  bool empty() const { return voters.empty() && outgoing_voters.empty() && learners.empty(); }
  bool is_voter(NodeId id) const { return voters.contains(id) || outgoing_voters.contains(id); }
  bool is_learner(NodeId id) const;
  bool is_member(NodeId id) const { return is_voter(id) || is_learner(id); }
  // Every member (voters of both sets and learners), sorted and unique.
  std::vector<NodeId> members() const;

  // Index-style quorum over both sets: min of the two majorities.
  uint64_t committed_value(absl::FunctionRef<std::optional<uint64_t>(NodeId)> acked) const;
  // Won only if both sets won; Lost if either lost.
  VoteResult vote_result(absl::FunctionRef<std::optional<bool>(NodeId)> vote) const;

  // Rejects configurations no cluster can run with: no voters, id 0, a
  // learner that is also an incoming voter, outgoing voters without
  // incoming ones.
  absl::Status validate() const;
  std::string describe() const;

  friend bool operator==(const Configuration&, const Configuration&) = default;
};

}  // namespace reef::raft
