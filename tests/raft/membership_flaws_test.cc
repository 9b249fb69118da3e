// What the membership rules prevent, scripted: with each rule switched off
// (raft/core/injected_bugs.h), two configurations with disjoint quorums both
// act and the cluster loses a committed entry or elects two leaders; with the
// rule in place the same script is refused at the step that would split the
// quorums. The simulator's swarms catch these bugs earlier, by the rule
// itself (sim/raft_safety_checker.h); these show the rule is what stands
// between the cluster and lost data.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/raft/scenario_helpers.h"

namespace reef::raft::testing {
namespace {

const NodeId n1(1), n2(2), n3(3), n4(4), n5(5);

MembershipChange remove(NodeId id) { return {MembershipOp::kRemove, id}; }
MembershipChange add_voter(NodeId id) { return {MembershipOp::kAddVoter, id}; }

// The checker judges only the end-to-end properties here (election safety,
// log matching, leader completeness, state machine safety): the point is
// what breaking a rule leads to, not the breach itself.
ClusterOptions with_bugs(size_t voters, InjectedBugs bugs) {
  return ClusterOptions{.voters = voters,
                        .configure = [bugs](CoreConfig& c) { c.bugs = bugs; },
                        .membership_rule_checks = false};
}

// Five voters; leader n1 cut off with n2 removes n5 (cannot commit on
// {1,2}), then, with the bug, removes n4 on top: {1,2,3} commits on {1,2}
// while {3,4,5}, still in the five-voter configuration, elect a leader.
// Returns whether the second change was accepted.
bool shrink_twice_while_cut_off(Cluster& c) {
  EXPECT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  c.partition({{n1, n2}, {n3, n4, n5}});
  EXPECT_TRUE(c.change_membership(n1, {remove(n5)}).status.ok());
  const bool accepted = c.change_membership(n1, {remove(n4)}).status.ok();
  if (!accepted) return false;
  run_rounds(c, 2);
  EXPECT_TRUE(c.propose(n1, "committed on {1,2}").status.ok());
  run_rounds(c, 2);
  let_leader_lease_lapse(c, {n3, n4, n5});
  c.partition({{n1, n2}, {n3, n4, n5}});
  c.elect(n3);
  if (c.core(n3).is_leader()) {
    EXPECT_TRUE(c.propose(n3, "committed on {3,4,5}").status.ok());
    run_rounds(c, 2);
  }
  return true;
}

TEST(MembershipFlaws, TwoChangesInFlightLetTwoQuorumsCommitApart) {
  Cluster c(with_bugs(5, InjectedBugs{.two_changes_in_flight = true}));
  ASSERT_TRUE(shrink_twice_while_cut_off(c));
  EXPECT_TRUE(c.core(n3).is_leader()) << c.describe();
  c.heal();
  run_rounds(c, 3);
  ASSERT_FALSE(c.checker().ok()) << "expected a safety violation\n" << c.describe();
  std::printf("two changes in flight: %s\n", c.checker().violation()->c_str());
}

TEST(MembershipFlaws, OneChangeAtATimeRefusesTheSecond) {
  Cluster c(with_bugs(5, InjectedBugs{}));
  EXPECT_FALSE(shrink_twice_while_cut_off(c));
  EXPECT_CLUSTER_SAFE(c);
}

// The raft-dev 2015 case on four voters {1,2,3,4}. Leader n1 adds n5; the
// entry reaches only n5 and n1 is cut off. n2 wins term 2 with {2,3,4}
// and, with the bug, removes n1 from the four before its own no-op
// commits: {2,3,4} commits on {2,3}. n1 comes back with {1,2,3,4,5} in its
// log and, with n4 and n5 (whose logs are no newer), is a majority of it.
// Returns whether n2 accepted its early change.
bool change_before_the_first_commit(Cluster& c) {
  EXPECT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  c.add_node(n5);
  c.partition({{n1, n5}, {n2, n3, n4}});
  EXPECT_TRUE(c.change_membership(n1, {add_voter(n5)}).status.ok());
  c.deliver_all();
  EXPECT_TRUE(c.core(n5).configuration().is_voter(n5));

  let_leader_lease_lapse(c, {n2, n3, n4});
  // n2's votes come from {2,3,4}: deliver the election only.
  c.heal();
  c.campaign(n2);
  deliver_where(c, both(election_traffic(), [](const Envelope& e) {
                  return e.message.from != n1 && e.message.to != n1 && e.message.from != n5 && e.message.to != n5;
                }));
  EXPECT_TRUE(c.core(n2).is_leader()) << c.describe();
  c.drop_all();
  c.partition({{n2, n3}, {n1, n4, n5}});
  if (!c.change_membership(n2, {remove(n1)}).status.ok()) return false;
  run_rounds(c, 2);
  EXPECT_TRUE(c.propose(n2, "committed on {2,3}").status.ok());
  run_rounds(c, 2);

  let_leader_lease_lapse(c, {n1, n4, n5});
  c.partition({{n2, n3}, {n1, n4, n5}});
  c.elect(n1);
  c.heal();
  run_rounds(c, 3);
  return true;
}

TEST(MembershipFlaws, AChangeBeforeTheLeadersFirstCommitSplitsTheQuorums) {
  Cluster c(with_bugs(4, InjectedBugs{.change_before_term_commit = true}));
  ASSERT_TRUE(change_before_the_first_commit(c));
  ASSERT_FALSE(c.checker().ok()) << "expected a safety violation\n" << c.describe();
  std::printf("change before the first commit: %s\n", c.checker().violation()->c_str());
}

TEST(MembershipFlaws, ANewLeaderWaitsForItsFirstCommitBeforeAChange) {
  Cluster c(with_bugs(4, InjectedBugs{}));
  EXPECT_FALSE(change_before_the_first_commit(c));
  EXPECT_CLUSTER_SAFE(c);
}

}  // namespace
}  // namespace reef::raft::testing
