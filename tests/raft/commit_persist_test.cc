// When the core asks for the commit index to be made durable
// (CoreConfig::commit_persist_interval_ticks). The commit index is volatile
// in Raft (thesis §3.5); persisting it only lets a restarted node replay
// committed entries before it hears from a leader. A term or vote change is
// durable before anything promises it; a commit that alone moved waits for
// the interval, so a follower's append turn costs one sync, not two.
#include <gtest/gtest.h>

#include "tests/raft/scenario_helpers.h"

namespace reef::raft::testing {
namespace {

const NodeId n1(1), n2(2), n3(3);

ClusterOptions with_interval(uint32_t ticks) {
  return ClusterOptions{.voters = 3,
                        .configure = [ticks](CoreConfig& cfg) { cfg.commit_persist_interval_ticks = ticks; }};
}

// Elects n1, commits `count` proposals, and lets the followers learn the
// commit from a heartbeat.
void elect_and_commit(Cluster& c, int count) {
  ASSERT_EQ(c.elect(n1), n1);
  for (int i = 0; i < count; ++i) ASSERT_TRUE(c.propose(n1, "x").status.ok());
  c.deliver_all();
  c.tick(n1);
  c.deliver_all();
}

TEST(CommitPersist, CommitAloneWaitsForTheInterval) {
  Cluster c(with_interval(10));
  ASSERT_NO_FATAL_FAILURE(elect_and_commit(c, 3));
  ASSERT_EQ(c.core(n2).log().committed(), Index(4)) << c.describe();
  // The election made term and vote durable at once; the commits since are
  // not written yet.
  EXPECT_EQ(c.durable_hard_state(n2).term, c.core(n2).term());
  EXPECT_EQ(c.durable_hard_state(n2).vote, n1);
  EXPECT_LT(c.durable_hard_state(n2).commit, Index(4));
  EXPECT_LT(c.durable_hard_state(n1).commit, Index(4));

  // Ten ticks after the last hard state, the next step writes the commit.
  run_rounds(c, 10);
  EXPECT_EQ(c.durable_hard_state(n1).commit, Index(4)) << c.describe();
  EXPECT_EQ(c.durable_hard_state(n2).commit, Index(4)) << c.describe();
  EXPECT_EQ(c.durable_hard_state(n3).commit, Index(4)) << c.describe();
  EXPECT_CLUSTER_SAFE(c);
}

TEST(CommitPersist, IntervalZeroWritesEveryAdvance) {
  Cluster c(with_interval(0));
  ASSERT_NO_FATAL_FAILURE(elect_and_commit(c, 3));
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.durable_hard_state(id).commit, c.core(id).log().committed()) << "node " << id.value();
    EXPECT_EQ(c.durable_hard_state(id).commit, Index(4)) << "node " << id.value();
  }
  EXPECT_CLUSTER_SAFE(c);
}

TEST(CommitPersist, AVoteCarriesTheCurrentCommit) {
  Cluster c(with_interval(1000));
  ASSERT_NO_FATAL_FAILURE(elect_and_commit(c, 3));
  ASSERT_LT(c.durable_hard_state(n2).commit, Index(4));
  // Leadership moves to n2: its new term and self-vote are written with
  // commit 4.
  c.transfer(n1, n2);
  c.deliver_all();
  ASSERT_EQ(c.leader(), n2) << c.describe();
  EXPECT_EQ(c.durable_hard_state(n2).vote, n2);
  EXPECT_EQ(c.durable_hard_state(n2).commit, Index(4));
  EXPECT_GE(c.durable_hard_state(n3).commit, Index(4)) << "n3 voted, writing what it had committed";
  EXPECT_CLUSTER_SAFE(c);
}

// Boot replays up to the commit made durable; the rest of what was
// committed comes back from the leader's next heartbeat. Nothing applied is
// lost or applied differently: the log holds it and the checker watches.
TEST(CommitPersist, RestartReplaysTheDurableCommitThenCatchesUp) {
  Cluster c(with_interval(1000));
  ASSERT_NO_FATAL_FAILURE(elect_and_commit(c, 5));
  const std::vector<LogEntry> expected = c.applied(n1);
  ASSERT_EQ(expected.size(), 6u);
  ASSERT_EQ(c.applied(n2), expected);
  const Index durable = c.durable_hard_state(n2).commit;
  ASSERT_LT(durable, Index(6));

  c.restart(n2);
  EXPECT_EQ(c.core(n2).log().last_index(), Index(6)) << "the log itself is durable";
  EXPECT_EQ(c.core(n2).log().committed(), durable);
  EXPECT_EQ(c.applied(n2).size(), durable.value()) << "boot replays up to the durable commit";
  EXPECT_TRUE(std::equal(c.applied(n2).begin(), c.applied(n2).end(), expected.begin()));

  c.tick(n1);
  c.deliver_all();
  EXPECT_EQ(c.applied(n2), expected) << c.describe();
  EXPECT_CLUSTER_SAFE(c);
}

}  // namespace
}  // namespace reef::raft::testing
