// How a requested membership change becomes configurations in the log
// (thesis §4.3, joint consensus).
//
// A request is a list of steps applied together: add a voter (or promote a
// learner), add a learner (or demote a voter), remove a node. From a
// configuration C that is not joint, with V the voters it would end with:
//  - If V differs from C's voters by at most one node (only learners change,
//    or one voter comes, goes or changes role), the next configuration is
//    simply V with the new learners: one entry (thesis §4.1). Any majority
//    of C's voters and any majority of V then overlap, so no two quorums can
//    decide apart; this needs one change at a time and a leader that has
//    committed an entry of its own term first (raft-dev, 2015), which the
//    core enforces.
//  - Otherwise (replace A by D in one step, grow 3 -> 5) the next
//    configuration is joint (§4.3): incoming voters V, outgoing voters C's
//    voters, learners the new learners (a demoted voter is in both the
//    outgoing voters and the learners until the joint phase ends). Every
//    decision then needs a majority of both sets, so no quorum of the old
//    configuration decides alone. Once the joint entry commits, the leader
//    appends leave_joint(): the incoming voters and the learners.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "raft/core/membership.h"
#include "raft/core/types.h"

namespace reef::raft {

enum class MembershipOp : uint8_t {
  kAddVoter,    // add as a voter, or promote a learner
  kAddLearner,  // add as a learner, or demote a voter
  kRemove,      // remove a voter or a learner
};
const char* membership_op_name(MembershipOp op);

struct MembershipChange {
  MembershipOp op;
  NodeId node;
  friend bool operator==(const MembershipChange&, const MembershipChange&) = default;
};
// "add-voter 4, remove 2", for logs and errors.
std::string describe(std::span<const MembershipChange> changes);

// The configuration to append for `changes` made to `current`, which must
// not be joint. INVALID_ARGUMENT for a request no cluster could run with
// (no voters left, id 0, one node named twice), NOT_FOUND when removing a
// node that is not a member, ALREADY_EXISTS when nothing would change.
absl::StatusOr<Configuration> plan_membership_change(const Configuration& current,
                                                     std::span<const MembershipChange> changes);

// The configuration that ends the joint phase of `joint`: its incoming
// voters and its learners.
Configuration leave_joint(const Configuration& joint);

}  // namespace reef::raft
