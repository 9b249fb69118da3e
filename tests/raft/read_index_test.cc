// Linearizable reads without writing the log (thesis §6.4): the leader
// records its commit index as the read point, confirms with a heartbeat
// round that it still leads, and only then answers. A new leader first
// commits its no-op so that its commit index covers everything committed
// before it. Followers forward reads to the leader (§6.4 "followers").
#include <gtest/gtest.h>

#include "tests/raft/scenario_helpers.h"

namespace reef::raft::testing {
namespace {

const NodeId n1(1), n2(2), n3(3), n4(4), n5(5);

std::optional<ReadResult> read_result(Cluster& c, NodeId node, ReadId id) {
  for (const ReadResult& r : c.reads(node)) {
    if (r.id == id) return r;
  }
  return std::nullopt;
}

// Delivers the heartbeat exchange between the leader and `peer` only.
void heartbeat_exchange(Cluster& c, NodeId leader, NodeId peer) {
  deliver_where(c, both(between(leader, peer), of_type<Heartbeat>()));
  deliver_where(c, both(between(peer, leader), of_type<HeartbeatResponse>()));
}

bool is_append_traffic(const Envelope& e) {
  return holds<AppendEntries>(e.message) || holds<AppendResponse>(e.message);
}

TEST(ReadIndex, LeaderAnswersAfterAHeartbeatQuorumWithTheCommitAtRequestTime) {
  Cluster c({.voters = 5});
  ASSERT_EQ(c.elect(n1), n1);
  ASSERT_TRUE(c.propose(n1, "x").status.ok());
  c.deliver_all();
  ASSERT_EQ(c.core(n1).log().committed(), Index(2));

  c.read_index(n1, ReadId(1));
  EXPECT_FALSE(read_result(c, n1, ReadId(1))) << "not before leadership is confirmed";
  EXPECT_EQ(count_where(c, of_type<Heartbeat>()), 4u) << "the read starts a heartbeat round";

  // The commit index moves on while the read waits: the read point stays.
  ASSERT_TRUE(c.propose(n1, "y").status.ok());
  deliver_where(c, is_append_traffic);
  ASSERT_EQ(c.core(n1).log().committed(), Index(3));
  EXPECT_FALSE(read_result(c, n1, ReadId(1))) << "append acks do not confirm a read round";

  heartbeat_exchange(c, n1, n2);
  EXPECT_FALSE(read_result(c, n1, ReadId(1))) << "2 of 5 is no quorum";
  heartbeat_exchange(c, n1, n3);
  std::optional<ReadResult> r = read_result(c, n1, ReadId(1));
  ASSERT_TRUE(r.has_value()) << "3 of 5 confirm";
  EXPECT_TRUE(r->status.ok()) << r->status;
  EXPECT_EQ(r->read_index, Index(2));
  EXPECT_CLUSTER_SAFE(c);
}

// Answers to an earlier heartbeat round say nothing about leadership at the
// time of a later read.
TEST(ReadIndex, AcksOfAnEarlierRoundDoNotConfirmALaterRead) {
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  c.tick(n1);  // round r, held in flight
  const std::vector<Message> early = messages_where(c, of_type<Heartbeat>());
  ASSERT_EQ(early.size(), 2u);
  const uint64_t early_round = std::get<Heartbeat>(early[0].body).round;
  c.read_index(n1, ReadId(1));  // round r + 1
  deliver_where(c, [early_round](const Envelope& e) {
    if (const auto* hb = std::get_if<Heartbeat>(&e.message.body)) return hb->round == early_round;
    if (const auto* hr = std::get_if<HeartbeatResponse>(&e.message.body)) return hr->round == early_round;
    return false;
  });
  EXPECT_FALSE(read_result(c, n1, ReadId(1)));
  c.deliver_all();
  ASSERT_TRUE(read_result(c, n1, ReadId(1)));
  EXPECT_TRUE(read_result(c, n1, ReadId(1))->status.ok());
  EXPECT_CLUSTER_SAFE(c);
}

// §6.4 step 1: until its no-op commits, a new leader does not know the
// commit index, so it must not hand out read points, heartbeats or not.
TEST(ReadIndex, NewLeaderAnswersOnlyAfterItsNoopCommits) {
  Cluster c({.voters = 3});
  c.campaign(n1);
  deliver_where(c, election_traffic());
  ASSERT_TRUE(c.core(n1).is_leader());
  ASSERT_EQ(c.core(n1).log().committed(), Index(0));
  c.read_index(n1, ReadId(1));
  c.tick(n1);
  deliver_where(c, [](const Envelope& e) {
    return holds<Heartbeat>(e.message) || holds<HeartbeatResponse>(e.message);
  });
  EXPECT_FALSE(read_result(c, n1, ReadId(1))) << "a confirmed round is not enough before the no-op commits";
  c.deliver_all();
  ASSERT_EQ(c.core(n1).log().committed(), Index(1));
  std::optional<ReadResult> r = read_result(c, n1, ReadId(1));
  ASSERT_TRUE(r.has_value()) << c.describe();
  EXPECT_TRUE(r->status.ok());
  EXPECT_EQ(r->read_index, Index(1));
  EXPECT_CLUSTER_SAFE(c);
}

TEST(ReadIndex, FollowerReadIsForwardedAndAnsweredViaTheLeader) {
  Cluster c({.voters = 3});
  // No leader known: fails at once, no hint.
  c.read_index(n2, ReadId(9));
  ASSERT_TRUE(read_result(c, n2, ReadId(9)));
  EXPECT_TRUE(is_not_leader(read_result(c, n2, ReadId(9))->status));
  EXPECT_EQ(count_where(c, any_message()), 0u);

  ASSERT_EQ(c.elect(n1), n1);
  ASSERT_TRUE(c.propose(n1, "x").status.ok());
  c.deliver_all();
  c.read_index(n2, ReadId(1));
  EXPECT_EQ(count_where(c, both(between(n2, n1), of_type<ReadIndexRequest>())), 1u);
  EXPECT_FALSE(read_result(c, n2, ReadId(1)));
  c.deliver_all();
  std::optional<ReadResult> r = read_result(c, n2, ReadId(1));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->status.ok()) << r->status;
  EXPECT_EQ(r->read_index, Index(2)) << "the leader's commit index, which n2 then waits to apply";
  EXPECT_TRUE(c.reads(n1).empty()) << "the leader answers the follower, not its own caller";
  EXPECT_CLUSTER_SAFE(c);
}

// A leader deposed by a newer one fails its pending reads with not-leader,
// naming the new leader.
TEST(ReadIndex, PendingReadsFailWhenTheLeaderIsDeposed) {
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  c.read_index(n1, ReadId(1));
  c.drop_all();  // the confirming round is lost
  c.isolate(n1);
  let_leader_lease_lapse(c, {n2, n3});
  c.partition({{n2, n3}});
  ASSERT_EQ(c.elect(n2), n2);
  EXPECT_FALSE(read_result(c, n1, ReadId(1)));
  c.heal();
  c.tick(n2);
  deliver_where(c, both(between(n2, n1), of_type<Heartbeat>()));
  ASSERT_EQ(c.core(n1).role(), Role::kFollower);
  std::optional<ReadResult> r = read_result(c, n1, ReadId(1));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(is_not_leader(r->status)) << r->status;
  EXPECT_EQ(r->leader_hint, n2) << "the hint names the new leader, not the deposed one";
  EXPECT_CLUSTER_SAFE(c);
}

// A stale leader in a minority can never gather a quorum for its round:
// reads wait, then fail with not-leader when check-quorum deposes it, while
// the majority has moved on and committed new writes.
TEST(ReadIndex, PartitionedLeaderCannotConfirmReads) {
  Cluster c({.voters = 5});
  ASSERT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  c.partition({{n1, n2}, {n3, n4, n5}});
  c.read_index(n1, ReadId(1));
  std::optional<NodeId> fresh;
  for (int i = 0; i < 100 && c.core(n1).is_leader(); ++i) {
    c.tick_all();
    c.deliver_all();
    for (const ReadResult& r : c.reads(n1)) ASSERT_FALSE(r.status.ok()) << "stale read served";
    for (NodeId id : {n3, n4, n5}) {
      if (c.core(id).is_leader()) fresh = id;
    }
    if (fresh && i % 5 == 0) (void)c.propose(*fresh, "new");
  }
  ASSERT_FALSE(c.core(n1).is_leader()) << c.describe();
  ASSERT_TRUE(fresh.has_value());
  std::optional<ReadResult> r = read_result(c, n1, ReadId(1));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(is_not_leader(r->status)) << r->status;
  EXPECT_FALSE(r->leader_hint.has_value()) << "check-quorum step-down knows no new leader";
  EXPECT_CLUSTER_SAFE(c);
}

// §6.4: the read point of a new leader covers every write the old leader
// committed, even ones the new leader had not yet heard were committed.
TEST(ReadIndex, ReadAfterLeaderChangeCoversEarlierCommits) {
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  ASSERT_TRUE(c.propose(n1, "x").status.ok());
  ASSERT_TRUE(c.propose(n1, "y").status.ok());
  deliver_where(c, both(from_node(n1), of_type<AppendEntries>()));
  deliver_where(c, both(to_node(n1), of_type<AppendResponse>()));
  ASSERT_EQ(c.core(n1).log().committed(), Index(3));
  c.drop_all();  // nobody else learns that 3 is committed
  ASSERT_EQ(c.core(n2).log().committed(), Index(1));

  c.isolate(n1);
  let_leader_lease_lapse(c, {n2, n3});
  c.partition({{n2, n3}});
  c.campaign(n2);
  deliver_where(c, election_traffic());
  ASSERT_TRUE(c.core(n2).is_leader());
  ASSERT_LT(c.core(n2).log().committed(), Index(3)) << "the hazard: n2's commit index is behind";
  c.read_index(n2, ReadId(1));
  c.deliver_all();
  std::optional<ReadResult> r = read_result(c, n2, ReadId(1));
  ASSERT_TRUE(r.has_value()) << c.describe();
  EXPECT_TRUE(r->status.ok());
  EXPECT_GE(r->read_index, Index(3)) << "must include x and y, committed by n1";
  EXPECT_EQ(r->read_index, Index(4)) << "n2's own no-op";
  EXPECT_CLUSTER_SAFE(c);
}

TEST(ReadIndex, SingleVoterAnswersAtOnce) {
  Cluster c({.voters = 1});
  ASSERT_EQ(c.elect(n1), n1);
  c.read_index(n1, ReadId(1));
  std::optional<ReadResult> r = read_result(c, n1, ReadId(1));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->status.ok());
  EXPECT_EQ(r->read_index, Index(1));
  EXPECT_CLUSTER_SAFE(c);
}

TEST(ReadIndex, PendingReadsAreBounded) {
  Cluster c({.voters = 3, .configure = [](CoreConfig& cfg) { cfg.max_pending_reads = 2; }});
  ASSERT_EQ(c.elect(n1), n1);
  for (uint64_t i = 1; i <= 3; ++i) c.read_index(n1, ReadId(i));
  std::optional<ReadResult> third = read_result(c, n1, ReadId(3));
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->status.code(), absl::StatusCode::kResourceExhausted);
  c.deliver_all();
  EXPECT_TRUE(read_result(c, n1, ReadId(1))->status.ok());
  EXPECT_TRUE(read_result(c, n1, ReadId(2))->status.ok());
  EXPECT_CLUSTER_SAFE(c);
}

}  // namespace
}  // namespace reef::raft::testing
