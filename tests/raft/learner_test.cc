// Learners, the thesis's non-voting members (§4.2.1): they receive and
// apply the log like any follower, but they are not part of any quorum —
// not for commitment, not for elections — and they never campaign.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/raft/scenario_helpers.h"

namespace reef::raft::testing {
namespace {

const NodeId n1(1), n2(2), n3(3), n4(4), n5(5);

TEST(Learner, ReplicatesAndAppliesLikeAFollower) {
  Cluster c({.voters = 3, .learners = 2});
  ASSERT_EQ(c.elect(n1), n1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.propose(n1, absl::StrCat("v", i)).status.ok());
  c.deliver_all();
  run_rounds(c, 1);
  for (NodeId learner : {n4, n5}) {
    EXPECT_TRUE(c.core(n1).configuration().is_learner(learner));
    EXPECT_EQ(c.applied(learner), c.applied(n1)) << c.describe();
    EXPECT_EQ(c.core(learner).leader(), n1);
    ASSERT_NE(c.core(n1).progress(learner), nullptr);
    EXPECT_EQ(c.core(n1).progress(learner)->state(), ProgressState::kReplicate);
  }
  EXPECT_EQ(c.applied_payloads(n5).size(), 5u);
  EXPECT_CLUSTER_SAFE(c);
}

// With one voter, commit needs only that voter's durable write, whatever the
// learners do.
TEST(Learner, SingleVoterCommitsWithoutTheLearners) {
  Cluster c({.voters = 1, .learners = 2});
  ASSERT_EQ(c.elect(n1), n1);
  c.partition({{n1}});
  ProposalResult r = c.propose(n1, "x");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(c.core(n1).log().committed(), r.last_index) << "committed with no message delivered";
  EXPECT_EQ(c.applied_payloads(n1), std::vector<std::string>{"x"});
  c.drop_all();

  // And learners' acks do not stand in for the voter's own write.
  c.heal();
  run_rounds(c, 1);
  c.set_manual_persist(n1, true);
  ProposalResult y = c.propose(n1, "y");
  c.deliver_all();
  // Node ids: n1 is the voter, n2 and n3 are the learners.
  EXPECT_EQ(c.core(n2).log().last_index(), y.last_index) << "learners have it";
  EXPECT_EQ(c.core(n1).progress(n2)->match(), y.last_index) << "and acknowledged it";
  EXPECT_EQ(c.core(n1).progress(n3)->match(), y.last_index);
  EXPECT_LT(c.core(n1).log().committed(), y.last_index) << "but only the voter's write counts";
  c.persist(n1);
  EXPECT_EQ(c.core(n1).log().committed(), y.last_index);
  c.set_manual_persist(n1, false);
  run_rounds(c, 1);
  for (NodeId id : c.ids()) EXPECT_EQ(c.applied_payloads(id), (std::vector<std::string>{"x", "y"}));
  EXPECT_CLUSTER_SAFE(c);
}

// 3 voters, 2 learners, 2 voters down: the leader and both learners are 3
// of 5 members, but only 1 of 3 voters. Nothing commits.
TEST(Learner, LearnersCannotMakeUpAMissingVoterQuorum) {
  Cluster c({.voters = 3, .learners = 2});
  ASSERT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  const Index commit = c.core(n1).log().committed();
  c.partition({{n1, n4, n5}});
  ProposalResult r = c.propose(n1, "x");
  ASSERT_TRUE(r.status.ok());
  c.deliver_all();
  EXPECT_EQ(c.core(n1).progress(n4)->match(), r.last_index);
  EXPECT_EQ(c.core(n1).progress(n5)->match(), r.last_index);
  EXPECT_EQ(c.core(n1).log().committed(), commit) << "learner acks must not commit";
  EXPECT_TRUE(c.applied_payloads(n4).empty());

  c.heal();
  run_rounds(c, 2);
  EXPECT_EQ(c.core(n1).log().committed(), r.last_index);
  for (NodeId id : c.ids()) EXPECT_EQ(c.applied_payloads(id), std::vector<std::string>{"x"});
  EXPECT_CLUSTER_SAFE(c);
}

// Learners are never asked for votes, and a grant that claims to come from
// one is not counted: a candidate with only learners reachable cannot win.
TEST(Learner, LearnersNeverCountAsVotes) {
  Cluster c({.voters = 3, .learners = 2, .configure = [](CoreConfig& cfg) { cfg.pre_vote = false; }});
  c.partition({{n1, n4, n5}});
  c.campaign(n1);
  EXPECT_EQ(count_where(c, to_node(n4)) + count_where(c, to_node(n5)), 0u) << "learners are not asked";
  const Term term = c.core(n1).term();
  for (NodeId learner : {n4, n5}) {
    c.step(n1, Message{learner, n1, term, VoteResponse{.pre_vote = false, .granted = true}});
  }
  EXPECT_EQ(c.core(n1).role(), Role::kCandidate) << "learner grants do not count";
  c.deliver_all();
  EXPECT_FALSE(c.leader().has_value());
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Learner, LearnersNeverCampaignEvenWithoutALeader) {
  Cluster c({.voters = 3, .learners = 2});
  ASSERT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  // All voters gone: the learners hear from nobody, for a long time.
  c.partition({{n4, n5}});
  for (int i = 0; i < 100; ++i) {
    c.tick(n4);
    c.tick(n5);
    EXPECT_EQ(count_where(c, from_node(n4)) + count_where(c, from_node(n5)), 0u);
  }
  for (NodeId learner : {n4, n5}) {
    EXPECT_EQ(c.core(learner).role(), Role::kFollower);
    EXPECT_EQ(c.core(learner).term(), c.core(n1).term());
  }
  EXPECT_CLUSTER_SAFE(c);
}

}  // namespace
}  // namespace reef::raft::testing
