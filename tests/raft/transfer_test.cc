// Leadership transfer (thesis §3.10): the leader stops accepting
// proposals, brings the target's log up to date, then sends TimeoutNow; the
// target campaigns at once with a flag that lets voters skip leader
// stickiness. If this does not happen within an election timeout, the
// transfer is aborted and the leader resumes normal operation.
#include <gtest/gtest.h>

#include "tests/raft/scenario_helpers.h"

namespace reef::raft::testing {
namespace {

const NodeId n1(1), n2(2), n3(3), n4(4);

Cluster elected_cluster(ClusterOptions options = {}) {
  Cluster c(std::move(options));
  EXPECT_EQ(c.elect(n1), n1);
  run_rounds(c, 2);
  return c;
}

TEST(Transfer, CaughtUpTargetWinsTheNextTermDespiteStickiness) {
  Cluster c = elected_cluster();
  const Term term = c.core(n1).term();
  // Everyone heard from n1 just now: an ordinary election would be ignored.
  ASSERT_LT(c.core(n3).election_elapsed_ticks(), c.core(n3).config().election_timeout_ticks);
  c.transfer(n1, n2);
  ASSERT_EQ(count_where(c, both(between(n1, n2), of_type<TimeoutNow>())), 1u)
      << "caught up: TimeoutNow at once";
  ASSERT_EQ(c.transfers(n1).size(), 1u);
  EXPECT_TRUE(c.transfers(n1)[0].status.ok());
  EXPECT_EQ(c.transfers(n1)[0].target, n2);
  c.deliver_all();
  EXPECT_EQ(c.leader(), n2) << c.describe();
  EXPECT_EQ(c.core(n2).term(), term + 1) << "one election, no pre-vote round";
  EXPECT_EQ(c.core(n1).role(), Role::kFollower);
  run_rounds(c, 1);
  EXPECT_EQ(c.core(n1).leader(), n2);
  EXPECT_EQ(c.core(n3).leader(), n2);
  ASSERT_TRUE(c.propose(n2, "after").status.ok());
  run_rounds(c, 1);
  for (NodeId id : c.ids()) EXPECT_EQ(c.applied_payloads(id), std::vector<std::string>{"after"});
  EXPECT_CLUSTER_SAFE(c);
}

// The target lacks entries: it is caught up first and only then told to
// campaign, so it is guaranteed to win the vote (§3.6.1).
TEST(Transfer, LaggingTargetIsCaughtUpBeforeTimeoutNow) {
  Cluster c = elected_cluster();
  for (const char* p : {"x", "y", "z"}) ASSERT_TRUE(c.propose(n1, p).status.ok());
  deliver_where(c, [](const Envelope& e) { return e.message.to != n3 && e.message.from != n3; });
  c.drop_all();
  ASSERT_EQ(c.core(n1).log().committed(), Index(4));
  ASSERT_EQ(c.core(n3).log().last_index(), Index(1));

  c.transfer(n1, n3);
  EXPECT_EQ(count_where(c, of_type<TimeoutNow>()), 0u) << "not before n3 has the whole log";
  EXPECT_TRUE(c.transfers(n1).empty()) << "the result comes with TimeoutNow";
  bool timeout_now_seen = false;
  for (size_t n = 0; n < 1000 && !c.in_flight().empty(); ++n) {
    if (!timeout_now_seen && count_where(c, of_type<TimeoutNow>()) > 0) {
      timeout_now_seen = true;
      EXPECT_EQ(c.core(n3).log().last_index(), c.core(n1).log().last_index())
          << "TimeoutNow left before the target caught up";
    }
    c.deliver(0);
  }
  EXPECT_TRUE(timeout_now_seen);
  EXPECT_EQ(c.leader(), n3) << c.describe();
  run_rounds(c, 1);
  EXPECT_EQ(c.applied_payloads(n3), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_CLUSTER_SAFE(c);
}

// §3.10: "the prior leader stops accepting new client requests".
TEST(Transfer, ProposalsAreRefusedWhileTransferring) {
  Cluster c = elected_cluster();
  c.isolate(n3);
  ASSERT_TRUE(c.propose(n1, "x").status.ok());
  c.deliver_all();
  c.transfer(n1, n3);
  ASSERT_EQ(c.core(n1).transfer_target(), n3);
  ProposalResult r = c.propose(n1, "y");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_FALSE(is_not_leader(r.status)) << "still the leader, just busy";
  EXPECT_EQ(c.core(n1).log().last_index(), Index(2)) << "nothing appended";
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Transfer, UnreachableTargetAbortsAfterAnElectionTimeout) {
  Cluster c = elected_cluster();
  c.isolate(n3);
  ASSERT_TRUE(c.propose(n1, "x").status.ok());
  c.deliver_all();
  c.transfer(n1, n3);
  const uint32_t timeout = c.core(n1).config().election_timeout_ticks;
  for (uint32_t i = 0; i + 1 < timeout; ++i) {
    c.tick(n1);
    c.deliver_all();
  }
  EXPECT_EQ(c.core(n1).transfer_target(), n3) << "still trying one tick before the deadline";
  EXPECT_TRUE(c.transfers(n1).empty());
  EXPECT_FALSE(c.propose(n1, "early").status.ok());
  c.tick(n1);
  ASSERT_EQ(c.transfers(n1).size(), 1u);
  EXPECT_EQ(c.transfers(n1)[0].status.code(), absl::StatusCode::kDeadlineExceeded)
      << c.transfers(n1)[0].status;
  EXPECT_EQ(c.transfers(n1)[0].target, n3);
  EXPECT_FALSE(c.core(n1).transfer_target().has_value());
  EXPECT_TRUE(c.core(n1).is_leader());
  ProposalResult r = c.propose(n1, "y");
  EXPECT_TRUE(r.status.ok()) << "accepting proposals again: " << r.status;
  c.deliver_all();
  EXPECT_EQ(c.core(n1).log().committed(), r.last_index);
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Transfer, NonVoterTargetsAreRefused) {
  Cluster c = elected_cluster({.voters = 3, .learners = 1});
  c.transfer(n1, n4);
  c.transfer(n1, NodeId(9));
  ASSERT_EQ(c.transfers(n1).size(), 2u);
  EXPECT_EQ(c.transfers(n1)[0].status.code(), absl::StatusCode::kInvalidArgument) << "learner";
  EXPECT_EQ(c.transfers(n1)[1].status.code(), absl::StatusCode::kInvalidArgument) << "not a member";
  EXPECT_FALSE(c.core(n1).transfer_target().has_value());
  EXPECT_EQ(count_where(c, of_type<TimeoutNow>()), 0u);
  EXPECT_TRUE(c.propose(n1, "x").status.ok()) << "no transfer is under way";
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Transfer, NonLeaderRefusesWithNotLeader) {
  Cluster c = elected_cluster();
  c.transfer(n2, n3);
  ASSERT_EQ(c.transfers(n2).size(), 1u);
  EXPECT_TRUE(is_not_leader(c.transfers(n2)[0].status)) << c.transfers(n2)[0].status;
  EXPECT_EQ(count_where(c, of_type<TimeoutNow>()), 0u);
  c.deliver_all();
  EXPECT_EQ(c.leader(), n1);
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Transfer, TransferToSelfIsANoOpSuccess) {
  Cluster c = elected_cluster();
  c.transfer(n1, n1);
  ASSERT_EQ(c.transfers(n1).size(), 1u);
  EXPECT_TRUE(c.transfers(n1)[0].status.ok());
  EXPECT_FALSE(c.core(n1).transfer_target().has_value());
  EXPECT_TRUE(c.propose(n1, "x").status.ok());
  EXPECT_CLUSTER_SAFE(c);
}

// A new transfer request replaces one still waiting for its target.
TEST(Transfer, NewerTransferSupersedesAPendingOne) {
  Cluster c = elected_cluster();
  c.isolate(n3);
  ASSERT_TRUE(c.propose(n1, "x").status.ok());
  c.deliver_all();
  c.transfer(n1, n3);
  c.heal();
  c.transfer(n1, n2);
  ASSERT_EQ(c.transfers(n1).size(), 2u);
  EXPECT_EQ(c.transfers(n1)[0].target, n3);
  EXPECT_EQ(c.transfers(n1)[0].status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(c.transfers(n1)[1].target, n2);
  EXPECT_TRUE(c.transfers(n1)[1].status.ok());
  c.deliver_all();
  EXPECT_EQ(c.leader(), n2) << c.describe();
  EXPECT_CLUSTER_SAFE(c);
}

// Before stopping, a leader hands over to the voter that needs the fewest
// entries: the highest match index, ties to the lowest id; learners never.
TEST(Transfer, HandoverTargetIsTheMostCaughtUpVoterWithTiesToTheLowestId) {
  Cluster c({.voters = 5, .learners = 1});
  ASSERT_EQ(c.elect(n1), n1);
  run_rounds(c, 2);
  const NodeId n5(5), n6(6);
  c.partition({{n1, n3, n5, n6}});  // n2 and n4 each alone
  ASSERT_TRUE(c.propose(n1, "x").status.ok());
  c.deliver_all();
  const Index last = c.core(n1).log().last_index();
  ASSERT_EQ(c.core(n1).progress(n3)->match(), last);
  ASSERT_EQ(c.core(n1).progress(n5)->match(), last);
  ASSERT_EQ(c.core(n1).progress(n6)->match(), last) << "the learner is caught up too";
  ASSERT_LT(c.core(n1).progress(n2)->match(), last);
  EXPECT_EQ(c.core(n1).handover_target(), n3) << "n3 and n5 tie; n2 and n4 lag; n6 is a learner";

  c.heal();
  run_rounds(c, 2);
  ASSERT_EQ(c.core(n1).progress(n2)->match(), c.core(n1).log().last_index());
  EXPECT_EQ(c.core(n1).handover_target(), n2) << "everyone caught up: the lowest id";
  EXPECT_FALSE(c.core(n2).handover_target().has_value()) << "only a leader hands over";
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Transfer, HandoverTargetOfALoneVoterIsNone) {
  Cluster c({.voters = 1, .learners = 1});
  ASSERT_EQ(c.elect(n1), n1);
  EXPECT_FALSE(c.core(n1).handover_target().has_value());
}

}  // namespace
}  // namespace reef::raft::testing
