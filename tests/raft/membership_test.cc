// Membership changes, keyed to thesis §4: single-server changes (§4.1),
// joint consensus for anything larger (§4.3), learners caught up before
// they vote (§4.2.1), removing the leader (§4.2.2), disruptive removed
// servers (§4.2.3), and snapshots that record the configuration at their
// own index (§5.1).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/raft/scenario_helpers.h"

namespace reef::raft::testing {
namespace {

const NodeId n1(1), n2(2), n3(3), n4(4), n5(5);

MembershipChange add_voter(NodeId id) { return {MembershipOp::kAddVoter, id}; }
MembershipChange add_learner(NodeId id) { return {MembershipOp::kAddLearner, id}; }
MembershipChange remove(NodeId id) { return {MembershipOp::kRemove, id}; }

Configuration voters_of(std::vector<NodeId> voters, std::vector<NodeId> learners = {}) {
  return Configuration::of_voters(std::move(voters), std::move(learners));
}

// A three-voter cluster with leader n1 that has committed its no-op.
Cluster led_cluster(ClusterOptions options = {}) {
  Cluster c(std::move(options));
  EXPECT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  return c;
}

TEST(MembershipPlan, OneVoterChangeIsSimpleAndMoreIsJoint) {
  const Configuration three = voters_of({n1, n2, n3});
  absl::StatusOr<Configuration> grow = plan_membership_change(three, std::vector{add_voter(n4)});
  ASSERT_TRUE(grow.ok()) << grow.status();
  EXPECT_EQ(*grow, voters_of({n1, n2, n3, n4}));

  absl::StatusOr<Configuration> replace = plan_membership_change(three, std::vector{remove(n3), add_voter(n4)});
  ASSERT_TRUE(replace.ok()) << replace.status();
  EXPECT_TRUE(replace->is_joint());
  EXPECT_EQ(replace->voters, MajorityConfig({n1, n2, n4}));
  EXPECT_EQ(replace->outgoing_voters, MajorityConfig({n1, n2, n3}));
  EXPECT_EQ(leave_joint(*replace), voters_of({n1, n2, n4}));

  // A demoted voter votes in the outgoing set until the joint phase ends.
  absl::StatusOr<Configuration> demote_two =
      plan_membership_change(three, std::vector{add_learner(n2), add_learner(n3)});
  ASSERT_TRUE(demote_two.ok()) << demote_two.status();
  EXPECT_TRUE(demote_two->is_voter(n3) && demote_two->is_learner(n3));
  EXPECT_EQ(leave_joint(*demote_two), voters_of({n1}, {n2, n3}));
}

TEST(MembershipPlan, RefusesWhatNoClusterCouldRun) {
  const Configuration three = voters_of({n1, n2, n3});
  EXPECT_EQ(plan_membership_change(three, std::vector{remove(n5)}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(plan_membership_change(three, std::vector{add_voter(n2)}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(plan_membership_change(three, std::vector{add_voter(n4), remove(n4)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plan_membership_change(voters_of({n1}), std::vector{remove(n1)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plan_membership_change(three, std::vector<MembershipChange>{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Membership, LearnerJoinsCatchesUpAndIsPromoted) {
  Cluster c = led_cluster();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.propose(n1, absl::StrCat("v", i)).status.ok());
  c.deliver_all();
  c.add_node(n4);
  EXPECT_TRUE(c.core(n4).configuration().empty());

  ProposalResult learner = c.change_membership(n1, {add_learner(n4)});
  ASSERT_TRUE(learner.status.ok()) << learner.status;
  // In force on the leader as soon as it is appended (§4.1).
  EXPECT_EQ(c.core(n1).configuration(), voters_of({n1, n2, n3}, {n4}));
  run_rounds(c, 3);
  EXPECT_EQ(c.core(n4).configuration(), voters_of({n1, n2, n3}, {n4}));
  EXPECT_EQ(c.applied_payloads(n4), c.applied_payloads(n1));
  EXPECT_EQ(c.core(n4).role(), Role::kFollower);

  ProposalResult promote = c.change_membership(n1, {add_voter(n4)});
  ASSERT_TRUE(promote.status.ok()) << promote.status;
  run_rounds(c, 2);
  for (NodeId id : c.ids()) EXPECT_EQ(c.core(id).configuration(), voters_of({n1, n2, n3, n4})) << id.value();

  // Four voters: a commit now needs three of them.
  c.partition({{n1, n2}, {n3, n4}});
  ProposalResult cut = c.propose(n1, "needs three");
  run_rounds(c, 1);
  EXPECT_LT(c.core(n1).log().committed(), cut.last_index);
  c.heal();
  run_rounds(c, 2);
  EXPECT_GE(c.core(n1).log().committed(), cut.last_index);
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, ReplacingAVoterInOneStepGoesThroughJointConsensus) {
  Cluster c = led_cluster();
  c.add_node(n4);
  ProposalResult r = c.change_membership(n1, {remove(n3), add_voter(n4)});
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(c.core(n1).configuration().is_joint());
  EXPECT_TRUE(c.core(n1).membership_change_in_flight());

  // Joint: both majorities. {n1, n4} is a majority of the new voters but
  // not of the old ones, so the joint entry does not commit with them alone.
  c.partition({{n1, n4}, {n2, n3}});
  run_rounds(c, 2);
  EXPECT_LT(c.core(n1).log().committed(), r.last_index);
  EXPECT_TRUE(c.core(n1).configuration().is_joint());

  c.heal();
  run_rounds(c, 3);
  // The leader left the joint configuration by itself once it committed.
  for (NodeId id : {n1, n2, n4}) EXPECT_EQ(c.core(id).configuration(), voters_of({n1, n2, n4})) << id.value();
  EXPECT_FALSE(c.core(n1).membership_change_in_flight());
  EXPECT_EQ(c.core(n1).progress(n3), nullptr) << "the leader stopped replicating to the removed node";
  EXPECT_EQ(c.core(n1).log().at(r.last_index.next()).type, EntryType::kConfiguration);
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, AFollowerUsesTheNewConfigurationOnAppend) {
  Cluster c = led_cluster();
  ProposalResult r = c.change_membership(n1, {add_learner(n4)});
  ASSERT_TRUE(r.status.ok());
  // The append reaches n2; nothing comes back, so nothing commits.
  deliver_where(c, both(from_node(n1), to_node(n2)));
  drop_where(c, any_message());
  EXPECT_TRUE(c.core(n2).configuration().is_learner(n4)) << "in force on append, before commit";
  EXPECT_LT(c.core(n2).log().committed(), r.last_index);
  EXPECT_FALSE(c.core(n3).configuration().is_learner(n4));
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, ATruncatedChangeIsRolledBack) {
  Cluster c = led_cluster();
  // n1 appends a change to its own log only, then loses leadership to n2,
  // which never saw it.
  c.isolate(n1);
  ProposalResult r = c.change_membership(n1, {add_learner(n4)});
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(c.core(n1).configuration().is_learner(n4));
  c.drop_all();
  let_leader_lease_lapse(c, {n2, n3});
  c.partition({{n2, n3}, {n1}});
  ASSERT_EQ(c.elect(n2), n2);
  ASSERT_TRUE(c.propose(n2, "overwrites").status.ok());
  run_rounds(c, 1);

  c.heal();
  run_rounds(c, 3);
  EXPECT_EQ(c.core(n1).log().term_at(r.last_index), c.core(n2).log().term_at(r.last_index));
  EXPECT_NE(c.core(n1).log().at(r.last_index).type, EntryType::kConfiguration);
  EXPECT_EQ(c.core(n1).configuration(), voters_of({n1, n2, n3})) << "the truncated change was rolled back";
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, ASecondChangeIsRefusedWhileOneIsInFlight) {
  Cluster c = led_cluster();
  c.isolate(n1);
  ASSERT_TRUE(c.change_membership(n1, {add_learner(n4)}).status.ok());
  ProposalResult second = c.change_membership(n1, {add_learner(n5)});
  EXPECT_EQ(second.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status.message()), ::testing::HasSubstr("membership change in progress"));

  c.heal();
  run_rounds(c, 2);
  EXPECT_TRUE(c.change_membership(n1, {add_learner(n5)}).status.ok()) << "accepted once the first committed";

  // A joint configuration is a change in flight until it is left.
  run_rounds(c, 2);
  c.isolate(n1);
  ASSERT_TRUE(c.change_membership(n1, {remove(n2), remove(n3), add_voter(n4), add_voter(n5)}).status.ok());
  EXPECT_EQ(c.change_membership(n1, {remove(n5)}).status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, ANewLeaderAcceptsNoChangeBeforeItCommitsAnEntryOfItsTerm) {
  Cluster c;
  c.campaign(n1);
  // Deliver the election but hold back the acknowledgements of the no-op.
  deliver_where(c, election_traffic());
  ASSERT_TRUE(c.core(n1).is_leader());
  drop_where(c, any_message());
  ProposalResult early = c.change_membership(n1, {add_learner(n4)});
  EXPECT_EQ(early.status.code(), absl::StatusCode::kUnavailable) << early.status;
  EXPECT_THAT(std::string(early.status.message()), ::testing::HasSubstr("not yet committed an entry of term"));
  run_rounds(c, 2);
  EXPECT_TRUE(c.change_membership(n1, {add_learner(n4)}).status.ok());
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, ARemovedLeaderReplicatesUntilTheChangeCommitsThenStepsDown) {
  Cluster c = led_cluster();
  ProposalResult r = c.change_membership(n1, {remove(n1)});
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(c.core(n1).is_leader()) << "still leads while the change is uncommitted";
  EXPECT_FALSE(c.core(n1).configuration().is_member(n1));
  // It does not count itself: n2 and n3 must both acknowledge.
  c.partition({{n1, n2}, {n3}});
  run_rounds(c, 1);
  EXPECT_LT(c.core(n1).log().committed(), r.last_index);
  EXPECT_TRUE(c.core(n1).is_leader());

  c.heal();
  run_rounds(c, 2);
  EXPECT_GE(c.core(n2).log().committed(), r.last_index);
  EXPECT_FALSE(c.core(n1).is_leader()) << "stepped down once the configuration without it committed";
  const std::optional<NodeId> next = c.run_until_leader();
  ASSERT_TRUE(next.has_value());
  EXPECT_NE(*next, n1);
  // The removed node knows it was removed and never campaigns again.
  const Term before = c.core(n1).term();
  c.isolate(n1);
  c.tick(n1, 100);
  EXPECT_EQ(c.core(n1).role(), Role::kFollower);
  EXPECT_EQ(c.core(n1).term(), before);
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, ARemovedNodeThatNeverLearnsItDoesNotDisruptTheCluster) {
  Cluster c = led_cluster();
  c.isolate(n3);
  ASSERT_TRUE(c.change_membership(n1, {remove(n3)}).status.ok());
  run_rounds(c, 2);
  ASSERT_FALSE(c.core(n1).membership_change_in_flight());
  EXPECT_TRUE(c.core(n3).configuration().is_voter(n3)) << "n3 never heard of its removal";

  // n3 times out again and again while the others keep their leader.
  c.drop_all();
  const Term term = c.core(n1).term();
  for (int i = 0; i < 10; ++i) {
    c.tick(n3, 40);
    c.heal();
    c.tick(n1);
    c.tick(n2);
    c.deliver_all();
    c.isolate(n3);
  }
  EXPECT_TRUE(c.core(n1).is_leader());
  EXPECT_EQ(c.core(n1).term(), term) << "pre-vote and stickiness kept the removed node from raising the term";
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, AVoterIsDemotedToALearner) {
  Cluster c = led_cluster();
  ASSERT_TRUE(c.change_membership(n1, {add_learner(n3)}).status.ok());
  run_rounds(c, 2);
  for (NodeId id : c.ids()) EXPECT_EQ(c.core(id).configuration(), voters_of({n1, n2}, {n3})) << id.value();
  // As a learner, n3 never campaigns.
  c.isolate(n3);
  c.tick(n3, 100);
  EXPECT_EQ(c.core(n3).role(), Role::kFollower);
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, SnapshotsRecordTheConfigurationAtTheirOwnIndex) {
  Cluster c = led_cluster();
  ASSERT_TRUE(c.propose(n1, "before").status.ok());
  run_rounds(c, 1);
  const Index before_change = c.core(n1).log().committed();
  ProposalResult r = c.change_membership(n1, {add_learner(n4)});
  ASSERT_TRUE(r.status.ok());
  c.add_node(n4);
  run_rounds(c, 2);
  ASSERT_GE(c.core(n1).log().applied(), r.last_index);

  EXPECT_EQ(c.core(n1).configuration_at(before_change), voters_of({n1, n2, n3}));
  EXPECT_EQ(c.core(n1).configuration_at(r.last_index), voters_of({n1, n2, n3}, {n4}));
  c.compact(n2, before_change);
  EXPECT_EQ(c.core(n2).log().snapshot().configuration, voters_of({n1, n2, n3}))
      << "the configuration at the snapshot's index, not the one in force";
  EXPECT_EQ(c.core(n2).configuration(), voters_of({n1, n2, n3}, {n4}));
  c.restart(n2);
  EXPECT_EQ(c.core(n2).configuration(), voters_of({n1, n2, n3}, {n4})) << "rebuilt from snapshot + log";
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, AFreshNodeCatchesUpFromASnapshotThatCarriesItsMembership) {
  Cluster c = led_cluster();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.propose(n1, absl::StrCat("v", i)).status.ok());
  c.add_node(n4);
  ProposalResult r = c.change_membership(n1, {add_learner(n4)});
  ASSERT_TRUE(r.status.ok());
  c.partition({{n1, n2, n3}});  // n4 is cut off until the leader compacted
  run_rounds(c, 2);
  c.compact(n1, c.core(n1).log().applied());
  c.heal();
  run_rounds(c, 4);
  EXPECT_EQ(c.core(n4).configuration(), voters_of({n1, n2, n3}, {n4}));
  EXPECT_EQ(c.applied_payloads(n4), c.applied_payloads(n1));
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, AReadInAJointConfigurationIsConfirmedByBothMajorities) {
  Cluster c = led_cluster();
  c.add_node(n4);
  c.partition({{n1, n4}, {n2, n3}});
  ASSERT_TRUE(c.change_membership(n1, {remove(n3), add_voter(n4)}).status.ok());
  ASSERT_TRUE(c.core(n1).configuration().is_joint());
  run_rounds(c, 3);  // n4 catches up; the joint entry cannot commit
  c.read_index(n1, ReadId(7));
  run_rounds(c, 2);
  // n4 is a majority of the incoming voters with n1, not of the outgoing.
  EXPECT_TRUE(c.reads(n1).empty()) << "confirmed by the incoming voters alone";
  c.heal();
  run_rounds(c, 2);
  ASSERT_EQ(c.reads(n1).size(), 1u);
  EXPECT_TRUE(c.reads(n1)[0].status.ok()) << c.reads(n1)[0].status;
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, LeadershipIsTransferredOnlyToAVoterOfTheConfigurationInForce) {
  Cluster c = led_cluster();
  c.add_node(n4);
  ASSERT_TRUE(c.change_membership(n1, {add_learner(n4)}).status.ok());
  run_rounds(c, 2);
  c.transfer(n1, n4);
  ASSERT_FALSE(c.transfers(n1).empty());
  EXPECT_EQ(c.transfers(n1).back().status.code(), absl::StatusCode::kInvalidArgument);
  // Promoted, it can take over.
  ASSERT_TRUE(c.change_membership(n1, {add_voter(n4)}).status.ok());
  run_rounds(c, 2);
  c.transfer(n1, n4);
  run_rounds(c, 2);
  EXPECT_TRUE(c.core(n4).is_leader()) << c.describe();
  // A change during a transfer is refused.
  c.isolate(n3);
  c.transfer(n4, n3);
  EXPECT_EQ(c.change_membership(n4, {remove(n2)}).status.code(), absl::StatusCode::kUnavailable);
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Membership, GrowOneToThreeAndShrinkBack) {
  Cluster c({.voters = 1});
  ASSERT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  for (NodeId id : {n2, n3}) {
    c.add_node(id);
    ASSERT_TRUE(c.change_membership(n1, {add_learner(id)}).status.ok());
    run_rounds(c, 2);
    ASSERT_TRUE(c.change_membership(n1, {add_voter(id)}).status.ok());
    run_rounds(c, 2);
  }
  EXPECT_EQ(c.core(n3).configuration(), voters_of({n1, n2, n3}));
  ASSERT_TRUE(c.propose(n1, "three").status.ok());
  run_rounds(c, 1);
  EXPECT_EQ(c.applied_payloads(n3), std::vector<std::string>{"three"});
  ASSERT_TRUE(c.change_membership(n1, {remove(n2), remove(n3)}).status.ok());
  run_rounds(c, 3);
  EXPECT_EQ(c.core(n1).configuration(), voters_of({n1}));
  ASSERT_TRUE(c.propose(n1, "alone again").status.ok());
  EXPECT_EQ(c.applied_payloads(n1).back(), "alone again");
  EXPECT_CLUSTER_SAFE(c);
}

}  // namespace
}  // namespace reef::raft::testing
