// Log compaction and snapshots (thesis §5.1 snapshotting memory-based
// state machines, §5.3 InstallSnapshot): the leader drops its log prefix,
// followers that need compacted entries receive the snapshot instead, a
// failed send is retried, a follower that already holds the entries only
// fast-forwards, and a restart rebuilds state from snapshot + log.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/raft/scenario_helpers.h"

namespace reef::raft::testing {
namespace {

const NodeId n1(1), n2(2), n3(3);

size_t install_snapshots_to(Cluster& c, NodeId to) {
  return count_where(c, both(to_node(to), of_type<InstallSnapshot>()));
}

// Delivers everything one message at a time, counting InstallSnapshots.
size_t deliver_all_counting_snapshots(Cluster& c) {
  size_t snapshots = 0;
  for (size_t n = 0; n < 100000 && !c.in_flight().empty(); ++n) {
    if (holds<InstallSnapshot>(c.in_flight().front().message)) ++snapshots;
    c.deliver(0);
  }
  return snapshots;
}

void propose_all(Cluster& c, NodeId leader, int count, const std::string& prefix) {
  for (int i = 0; i < count; ++i) {
    ProposalResult r = c.propose(leader, absl::StrCat(prefix, i));
    ASSERT_TRUE(r.status.ok()) << r.status;
  }
}

// n1 leads; n3 misses six proposals while isolated, and n1 compacts its log
// past them (to index 7), so n3 can only catch up through a snapshot. The
// partition is healed, nothing is delivered yet.
void leave_n3_behind_the_leaders_compaction(Cluster& c) {
  ASSERT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  c.isolate(n3);
  propose_all(c, n1, 6, "v");
  c.deliver_all();
  c.compact(n1, Index(7));
  c.heal();
}

TEST(Snapshot, LaggingFollowerCatchesUpFromTheLeadersSnapshot) {
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  c.isolate(n3);
  propose_all(c, n1, 10, "v");
  c.deliver_all();
  ASSERT_EQ(c.applied(n1).size(), 11u);
  c.compact(n1, Index(8));
  ASSERT_EQ(c.core(n1).log().first_index(), Index(9));

  c.heal();
  c.tick(n1);
  size_t snapshots = 0;
  for (size_t n = 0; n < 1000 && !c.in_flight().empty(); ++n) {
    if (holds<InstallSnapshot>(c.in_flight().front().message)) {
      ++snapshots;
      const auto& is = std::get<InstallSnapshot>(c.in_flight().front().message.body);
      EXPECT_EQ(is.meta.index, Index(8));
      EXPECT_EQ(is.meta.term, c.core(n1).term());
      EXPECT_EQ(is.meta.configuration, c.core(n1).configuration());
      if (snapshots == 1) c.duplicate(0);  // a late duplicate must be harmless
    }
    c.deliver(0);
  }
  EXPECT_EQ(snapshots, 2u) << "the original and its duplicate";
  run_rounds(c, 1);
  EXPECT_EQ(c.core(n3).log().snapshot().index, Index(8)) << "restored from the snapshot";
  EXPECT_EQ(c.applied(n3), c.applied(n1)) << "state identical: " << c.describe();
  EXPECT_EQ(c.core(n3).log().last_index(), Index(11));
  ASSERT_TRUE(c.propose(n1, "after").status.ok());
  run_rounds(c, 1);
  EXPECT_EQ(c.applied(n3), c.applied(n1));
  EXPECT_EQ(c.core(n1).progress(n3)->state(), ProgressState::kReplicate);
  EXPECT_CLUSTER_SAFE(c);
}

// A member that never saw any entry (new, or restarted with an empty disk)
// is brought up by snapshot, not by replaying a log the leader no longer has.
TEST(Snapshot, EmptyFollowerIsBootstrappedFromASnapshot) {
  Cluster c({.voters = 3});
  c.partition({{n1, n2}});
  ASSERT_EQ(c.elect(n1), n1);
  propose_all(c, n1, 5, "v");
  c.deliver_all();
  c.compact(n1, Index(6));
  ASSERT_EQ(c.core(n3).log().last_index(), Index(0));

  c.heal();
  c.tick(n1);
  EXPECT_EQ(deliver_all_counting_snapshots(c), 1u);
  run_rounds(c, 1);
  EXPECT_EQ(c.applied(n3), c.applied(n1));
  EXPECT_EQ(c.applied_payloads(n3), (std::vector<std::string>{"v0", "v1", "v2", "v3", "v4"}));
  EXPECT_EQ(c.core(n3).log().snapshot().index, Index(6));
  EXPECT_EQ(c.durable_hard_state(n3).term, c.core(n1).term());
  EXPECT_CLUSTER_SAFE(c);
}

// The driver reports a failed send (here: the message was dropped); the
// leader forgets the attempt and sends the snapshot again later.
TEST(Snapshot, FailedSnapshotSendIsRetried) {
  Cluster c({.voters = 3});
  leave_n3_behind_the_leaders_compaction(c);
  c.tick(n1);
  // Run until the first snapshot is on the wire, then lose it.
  for (size_t n = 0; n < 100 && install_snapshots_to(c, n3) == 0 && !c.in_flight().empty(); ++n) c.deliver(0);
  ASSERT_EQ(install_snapshots_to(c, n3), 1u);
  EXPECT_EQ(c.core(n1).progress(n3)->state(), ProgressState::kSnapshot);
  drop_where(c, of_type<InstallSnapshot>());
  EXPECT_EQ(c.core(n1).progress(n3)->state(), ProgressState::kProbe) << "failure reported: back to probing";
  EXPECT_EQ(c.core(n1).progress(n3)->pending_snapshot(), Index(0));
  c.deliver_all();

  size_t resent = 0;
  for (int round = 0; round < 5; ++round) {
    c.tick_all();
    resent += deliver_all_counting_snapshots(c);
  }
  EXPECT_EQ(resent, 1u);
  EXPECT_EQ(c.applied(n3), c.applied(n1)) << c.describe();
  EXPECT_CLUSTER_SAFE(c);
}

// n3 holds every entry the snapshot covers but never learned they were
// committed (its acks were lost). The snapshot only moves its commit index:
// nothing is restored, and it applies from its own log.
TEST(Snapshot, FollowerHoldingTheEntriesFastForwardsWithoutRestoring) {
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n1), n1);
  run_rounds(c, 1);
  propose_all(c, n1, 5, "v");
  deliver_where(c, both(between(n1, n3), of_type<AppendEntries>()));
  drop_where(c, from_node(n3));
  deliver_where(c, [](const Envelope& e) { return e.message.to != n3 && e.message.from != n3; });
  drop_where(c, to_node(n3));
  ASSERT_EQ(c.core(n3).log().last_index(), Index(6));
  ASSERT_EQ(c.core(n3).log().committed(), Index(1));
  ASSERT_EQ(c.core(n1).log().committed(), Index(6));
  c.compact(n1, Index(6));

  c.step(n1, PeerUnreachable{n3});  // the driver noticed: probe from match
  c.tick(n1);
  EXPECT_EQ(deliver_all_counting_snapshots(c), 1u);
  EXPECT_EQ(c.core(n3).log().snapshot().index, Index(0)) << "no restore: the log is kept";
  EXPECT_EQ(c.core(n3).log().first_index(), Index(1));
  EXPECT_EQ(c.core(n3).log().committed(), Index(6));
  EXPECT_EQ(c.applied(n3), c.applied(n1));
  EXPECT_EQ(c.core(n1).progress(n3)->match(), Index(6));
  EXPECT_CLUSTER_SAFE(c);
}

// Boot = snapshot + the log after it (DESIGN §4): a restarted node rebuilds
// the same state, applying the committed entries after the snapshot again
// (here every commit advance is durable; commit_persist_test.cc covers the
// default, where boot replays up to the last commit made durable).
TEST(Snapshot, RestartReplaysTheLogOnTopOfTheSnapshot) {
  Cluster c({.voters = 3, .configure = [](CoreConfig& cfg) { cfg.commit_persist_interval_ticks = 0; }});
  ASSERT_EQ(c.elect(n1), n1);
  propose_all(c, n1, 8, "a");
  c.deliver_all();
  run_rounds(c, 1);
  c.compact(n2, Index(5));
  c.compact(n1, Index(7));
  propose_all(c, n1, 4, "b");
  c.deliver_all();
  run_rounds(c, 1);
  const std::vector<LogEntry> expected = c.applied(n1);
  ASSERT_EQ(expected.size(), 13u);

  c.restart(n2);
  EXPECT_EQ(c.core(n2).log().snapshot().index, Index(5));
  EXPECT_EQ(c.core(n2).log().first_index(), Index(6));
  EXPECT_EQ(c.core(n2).log().last_index(), Index(13));
  // The state machine starts from the snapshot (5 entries) and the core hands
  // out the committed entries after it at once, before any input.
  EXPECT_EQ(c.applied(n2), expected) << "committed entries after the snapshot are applied again";

  // The leader too: it loses leadership but not its state.
  c.restart(n1);
  EXPECT_EQ(c.core(n1).log().snapshot().index, Index(7));
  EXPECT_EQ(c.applied(n1), expected);
  ASSERT_TRUE(c.run_until_leader().has_value());
  std::optional<NodeId> leader = c.leader();
  ASSERT_TRUE(c.propose(*leader, "c").status.ok());
  run_rounds(c, 2);
  for (NodeId id : c.ids()) EXPECT_EQ(c.applied(id), c.applied(*leader)) << c.describe();
  EXPECT_EQ(c.applied_payloads(n2).back(), "c");
  EXPECT_CLUSTER_SAFE(c);
}

// Like any acknowledgement (§3.8), the one for an installed snapshot leaves
// only once the snapshot is durable.
TEST(Snapshot, InstalledSnapshotIsAcknowledgedOnlyOnceDurable) {
  Cluster c({.voters = 3});
  leave_n3_behind_the_leaders_compaction(c);
  c.set_manual_persist(n3, true);
  c.tick(n1);
  for (size_t n = 0; n < 100 && install_snapshots_to(c, n3) == 0 && !c.in_flight().empty(); ++n) c.deliver(0);
  ASSERT_EQ(deliver_where(c, of_type<InstallSnapshot>()), 1u);
  EXPECT_EQ(count_where(c, both(from_node(n3), of_type<AppendResponse>())), 0u) << "acked only once durable";
  c.persist(n3);
  c.set_manual_persist(n3, false);
  c.deliver_all();
  run_rounds(c, 1);
  EXPECT_EQ(c.applied(n3), c.applied(n1));
  EXPECT_CLUSTER_SAFE(c);
}

}  // namespace
}  // namespace reef::raft::testing
