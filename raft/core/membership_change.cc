#include "raft/core/membership_change.h"

#include <algorithm>
#include <iterator>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "raft/core/assert.h"

namespace reef::raft {

const char* membership_op_name(MembershipOp op) {
  switch (op) {
    case MembershipOp::kAddVoter: return "add-voter";
    case MembershipOp::kAddLearner: return "add-learner";
    case MembershipOp::kRemove: return "remove";
  }
  return "?";
}

std::string describe(std::span<const MembershipChange> changes) {
  return absl::StrJoin(changes, ", ", [](std::string* out, const MembershipChange& c) {
    absl::StrAppend(out, membership_op_name(c.op), " ", c.node.value());
  });
}

namespace {

absl::Status check_request(const Configuration& current, std::span<const MembershipChange> changes) {
  if (changes.empty()) return absl::InvalidArgumentError("membership change names no node");
  absl::btree_set<NodeId> named;
  for (const MembershipChange& c : changes) {
    if (c.node == NodeId(0)) return absl::InvalidArgumentError("node id 0 is reserved");
    if (!named.insert(c.node).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", c.node.value(), " is named twice in one membership change"));
    }
    if (c.op == MembershipOp::kRemove && !current.is_member(c.node)) {
      return absl::NotFoundError(absl::StrCat("node ", c.node.value(), " is not a member (",
                                              current.describe(), ")"));
    }
  }
  return absl::OkStatus();
}

// Nodes that are voters in exactly one of `a` and `b`.
size_t voter_changes(const MajorityConfig& a, const MajorityConfig& b) {
  std::vector<NodeId> differ;
  std::set_symmetric_difference(a.voters().begin(), a.voters().end(), b.voters().begin(), b.voters().end(),
                                std::back_inserter(differ));
  return differ.size();
}

}  // namespace

absl::StatusOr<Configuration> plan_membership_change(const Configuration& current,
                                                     std::span<const MembershipChange> changes) {
  REEF_ASSERT(!current.is_joint(), "planning a change from joint configuration ", current.describe());
  if (absl::Status s = check_request(current, changes); !s.ok()) return s;
  absl::btree_set<NodeId> voters(current.voters.voters().begin(), current.voters.voters().end());
  absl::btree_set<NodeId> learners(current.learners.begin(), current.learners.end());
  for (const MembershipChange& c : changes) {
    voters.erase(c.node);
    learners.erase(c.node);
    if (c.op == MembershipOp::kAddVoter) voters.insert(c.node);
    if (c.op == MembershipOp::kAddLearner) learners.insert(c.node);
  }
  if (voters.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("membership change (", describe(changes), ") would leave no voter"));
  }
  Configuration next = Configuration::of_voters({voters.begin(), voters.end()}, {learners.begin(), learners.end()});
  if (next == current) {
    return absl::AlreadyExistsError(absl::StrCat("membership is already ", current.describe()));
  }
  if (voter_changes(current.voters, next.voters) > 1) next.outgoing_voters = current.voters;
  REEF_ASSERT(next.validate().ok(), "planned configuration ", next.describe(), " is invalid");
  return next;
}

Configuration leave_joint(const Configuration& joint) {
  REEF_ASSERT(joint.is_joint(), "leaving a configuration that is not joint: ", joint.describe());
  return Configuration::of_voters(joint.voters.voters(), joint.learners);
}

}  // namespace reef::raft
