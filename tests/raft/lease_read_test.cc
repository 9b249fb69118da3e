// Lease-based reads (thesis §6.4.1): after a quorum acknowledged a
// heartbeat round, the leader may answer reads without another round until
// (round start + election timeout - clock margin). This relies on
// check-quorum's stickiness: followers that acknowledged will not vote for
// anybody else within an election timeout. A leadership transfer voids the
// lease, because the transfer target campaigns regardless of stickiness.
#include <gtest/gtest.h>

#include "tests/raft/scenario_helpers.h"

namespace reef::raft::testing {
namespace {

const NodeId n1(1), n2(2), n3(3);

ClusterOptions lease_options() {
  return ClusterOptions{.voters = 3, .configure = [](CoreConfig& cfg) {
                          cfg.lease_reads = true;
                          cfg.election_timeout_ticks = 10;
                          cfg.lease_clock_margin_ticks = 2;
                        }};
}

// Reads answered in the very step that asked: no round trip was needed.
bool answered_at_once(Cluster& c, NodeId leader, ReadId id) {
  const size_t heartbeats_before = count_where(c, of_type<Heartbeat>());
  c.read_index(leader, id);
  for (const ReadResult& r : c.reads(leader)) {
    if (r.id == id) {
      EXPECT_EQ(count_where(c, of_type<Heartbeat>()), heartbeats_before) << "a lease read sends nothing";
      return r.status.ok();
    }
  }
  return false;
}

std::optional<ReadResult> read_result(Cluster& c, NodeId node, ReadId id) {
  for (const ReadResult& r : c.reads(node)) {
    if (r.id == id) return r;
  }
  return std::nullopt;
}

// With leases every voter refuses votes for an election timeout after it
// boots: a restarted voter cannot remember which leader's lease it backs.
// Lets that pass with everyone cut off (pre-vote keeps the terms), then
// elects n1.
Cluster booted_lease_cluster() {
  Cluster c(lease_options());
  c.partition({});
  c.tick_all(10);
  c.drop_all();
  c.heal();
  std::optional<NodeId> leader = c.elect(n1);
  EXPECT_EQ(leader, n1) << c.describe();
  return c;
}

// Then confirms one heartbeat round, sent at n1's next tick s; the lease
// runs until tick s + 10 - 2.
Cluster cluster_with_lease() {
  Cluster c = booted_lease_cluster();
  c.tick(n1);
  c.deliver_all();
  return c;
}

TEST(LeaseRead, VotersStayQuietForAnElectionTimeoutAfterBoot) {
  Cluster c(lease_options());
  EXPECT_FALSE(c.elect(n1).has_value()) << "fresh voters grant nothing yet";
  for (NodeId id : c.ids()) EXPECT_EQ(c.core(id).term(), Term(0));
  c.drop_all();

  Cluster booted = cluster_with_lease();
  // A follower that restarts inside the lease forgot the leader it heard;
  // the quiet period keeps it from voting for a rival all the same.
  booted.restart(n2);
  booted.step(n2, Message{n3, n2, booted.core(n2).term() + 1,
                          RequestVote{.pre_vote = false,
                                      .transfer = false,
                                      .last_index = Index(100),
                                      .last_term = booted.core(n2).term() + 1}});
  EXPECT_FALSE(booted.core(n2).vote() == n3);
  EXPECT_EQ(count_where(booted, both(from_node(n2), of_type<VoteResponse>())), 0u);
  EXPECT_CLUSTER_SAFE(booted);
}

TEST(LeaseRead, NoLeaseBeforeTheFirstConfirmedRound) {
  Cluster c = booted_lease_cluster();
  ASSERT_EQ(c.core(n1).log().committed(), Index(1));
  EXPECT_FALSE(answered_at_once(c, n1, ReadId(1)));
  c.deliver_all();
  ASSERT_TRUE(read_result(c, n1, ReadId(1)).has_value());
  EXPECT_TRUE(read_result(c, n1, ReadId(1))->status.ok());
  EXPECT_CLUSTER_SAFE(c);
}

TEST(LeaseRead, ValidLeaseAnswersImmediatelyThenExpires) {
  Cluster c = cluster_with_lease();
  ASSERT_TRUE(c.propose(n1, "x").status.ok());
  c.deliver_all();
  // Ticks 2..8: no heartbeat is answered, yet the lease still holds.
  uint64_t id = 1;
  for (int tick = 2; tick <= 8; ++tick) {
    c.tick(n1);
    c.drop_all();
    EXPECT_TRUE(answered_at_once(c, n1, ReadId(id))) << "tick " << tick;
    EXPECT_EQ(read_result(c, n1, ReadId(id))->read_index, Index(2));
    ++id;
  }
  // Tick 9: expired. The read falls back to a heartbeat round.
  c.tick(n1);
  c.drop_all();
  EXPECT_FALSE(answered_at_once(c, n1, ReadId(100)));
  EXPECT_EQ(count_where(c, of_type<Heartbeat>()), 2u);
  c.deliver_all();
  std::optional<ReadResult> r = read_result(c, n1, ReadId(100));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->status.ok());
  // That round renewed the lease.
  EXPECT_TRUE(answered_at_once(c, n1, ReadId(101)));
  EXPECT_CLUSTER_SAFE(c);
}

// The safety argument, end to end: a leader cut off from everybody may serve
// lease reads for a while, but never once another leader exists.
TEST(LeaseRead, IsolatedLeaderStopsServingBeforeAnotherLeaderCanExist) {
  Cluster c = cluster_with_lease();
  c.isolate(n1);
  int served_after_isolation = 0;
  std::optional<NodeId> successor;
  for (uint64_t i = 0; i < 60; ++i) {
    c.tick_all();
    c.deliver_all();
    for (NodeId id : {n2, n3}) {
      if (c.core(id).is_leader()) successor = id;
    }
    if (c.core(n1).is_leader() && answered_at_once(c, n1, ReadId(1000 + i))) {
      ++served_after_isolation;
      ASSERT_FALSE(successor.has_value())
          << "lease read served while node " << successor->value() << " leads";
    }
  }
  EXPECT_GT(served_after_isolation, 0) << "the lease was used at all";
  EXPECT_TRUE(successor.has_value()) << "the majority elected a new leader: " << c.describe();
  EXPECT_CLUSTER_SAFE(c);
}

// §3.10 + §6.4.1: TimeoutNow makes the target campaign past everyone's
// stickiness, so the moment it is sent the lease means nothing.
TEST(LeaseRead, NoLeaseReadsOnceTimeoutNowWasSent) {
  Cluster c = cluster_with_lease();
  ASSERT_TRUE(answered_at_once(c, n1, ReadId(1)));
  c.transfer(n1, n2);
  ASSERT_EQ(count_where(c, of_type<TimeoutNow>()), 1u) << "n2 was caught up: TimeoutNow at once";
  EXPECT_FALSE(answered_at_once(c, n1, ReadId(2)));
  // The TimeoutNow is lost; heartbeats confirm the read the slow way.
  drop_where(c, of_type<TimeoutNow>());
  c.deliver_all();
  ASSERT_TRUE(read_result(c, n1, ReadId(2)).has_value());
  EXPECT_TRUE(read_result(c, n1, ReadId(2))->status.ok());
  // Even once the transfer timed out, the lease stays void for this term:
  // the lost TimeoutNow could still be delivered late.
  for (int i = 0; i < 12; ++i) {
    c.tick_all();
    c.deliver_all();
  }
  ASSERT_TRUE(c.core(n1).is_leader());
  ASSERT_FALSE(c.core(n1).transfer_target().has_value()) << "transfer aborted";
  EXPECT_FALSE(answered_at_once(c, n1, ReadId(3)));
  c.deliver_all();
  EXPECT_TRUE(read_result(c, n1, ReadId(3))->status.ok());
  EXPECT_CLUSTER_SAFE(c);
}

TEST(LeaseRead, TransferTargetWinsWhileOldLeaderServesNoLeaseRead) {
  Cluster c = cluster_with_lease();
  c.transfer(n1, n2);
  deliver_where(c, of_type<TimeoutNow>());
  ASSERT_EQ(c.core(n2).role(), Role::kCandidate);
  EXPECT_FALSE(answered_at_once(c, n1, ReadId(1))) << "n1 still leads, but n2 is campaigning";
  c.deliver_all();
  EXPECT_EQ(c.leader(), n2);
  std::optional<ReadResult> r = read_result(c, n1, ReadId(1));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(is_not_leader(r->status));
  EXPECT_CLUSTER_SAFE(c);
}

TEST(LeaseRead, ConfigRequiresCheckQuorumAndAMarginBelowTheTimeout) {
  CoreConfig cfg;
  cfg.id = n1;
  cfg.lease_reads = true;
  EXPECT_TRUE(cfg.validate().ok()) << cfg.validate();
  cfg.check_quorum = false;
  EXPECT_EQ(cfg.validate().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(Core::create(cfg, RecoveredState::bootstrap(Configuration::of_voters({n1}))).ok());
  cfg.check_quorum = true;
  cfg.lease_clock_margin_ticks = cfg.election_timeout_ticks;
  EXPECT_EQ(cfg.validate().code(), absl::StatusCode::kInvalidArgument);
  cfg.lease_reads = false;
  EXPECT_TRUE(cfg.validate().ok()) << "the margin matters only with leases";
}

TEST(LeaseRead, DisabledLeaseAlwaysUsesAHeartbeatRound) {
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n1), n1);
  c.tick(n1);
  c.deliver_all();
  EXPECT_FALSE(answered_at_once(c, n1, ReadId(1)));
  c.deliver_all();
  EXPECT_TRUE(read_result(c, n1, ReadId(1))->status.ok());
  EXPECT_CLUSTER_SAFE(c);
}

}  // namespace
}  // namespace reef::raft::testing
