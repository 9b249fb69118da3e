// Unit tests of the leader's per-follower flow control (thesis §10.2.1):
// the in-flight window and the probe / replicate / snapshot states.
#include "raft/core/progress.h"

#include <gtest/gtest.h>

namespace reef::raft::testing {
namespace {

TEST(Inflights, FullByMessageCount) {
  Inflights w(/*max_messages=*/3, /*max_bytes=*/1000);
  w.add(Index(2), 10);
  w.add(Index(4), 10);
  EXPECT_FALSE(w.full());
  w.add(Index(5), 10);
  EXPECT_TRUE(w.full());
  EXPECT_EQ(w.count(), 3u);
  EXPECT_EQ(w.bytes(), 30u);
}

TEST(Inflights, FullByBytes) {
  Inflights w(/*max_messages=*/100, /*max_bytes=*/250);
  w.add(Index(1), 100);
  w.add(Index(2), 100);
  EXPECT_FALSE(w.full()) << "200 < 250";
  w.add(Index(3), 100);
  EXPECT_TRUE(w.full()) << "300 >= 250: one message may overshoot, then the window closes";
}

TEST(Inflights, AcknowledgementFreesThePrefix) {
  Inflights w(3, 1000);
  w.add(Index(2), 10);
  w.add(Index(4), 20);
  w.add(Index(6), 30);
  w.free_to(Index(3));  // acknowledges the message ending at 2 only
  EXPECT_EQ(w.count(), 2u);
  EXPECT_EQ(w.bytes(), 50u);
  EXPECT_FALSE(w.full());
  w.free_to(Index(6));
  EXPECT_EQ(w.count(), 0u);
  EXPECT_EQ(w.bytes(), 0u);
  w.free_to(Index(1));  // stale acknowledgement
  EXPECT_EQ(w.count(), 0u);
}

TEST(Inflights, FreeFirstOneAndReset) {
  Inflights w(2, 1000);
  w.add(Index(1), 10);
  w.add(Index(2), 20);
  ASSERT_TRUE(w.full());
  w.free_first_one();
  EXPECT_FALSE(w.full());
  EXPECT_EQ(w.bytes(), 20u);
  w.reset();
  EXPECT_EQ(w.count(), 0u);
  EXPECT_EQ(w.bytes(), 0u);
  w.free_first_one();  // harmless on an empty window
  EXPECT_EQ(w.count(), 0u);
}

TEST(InflightsDeathTest, OverflowIsABug) {
  Inflights w(1, 1000);
  w.add(Index(1), 10);
  EXPECT_DEATH(w.add(Index(2), 10), "overflow");
}

TEST(Progress, ProbeSendsOneAppendAtATime) {
  Progress pr(Index(5), 4, 1000);
  EXPECT_EQ(pr.state(), ProgressState::kProbe);
  EXPECT_FALSE(pr.is_paused());
  pr.sent_entries(Index(7), 30);
  EXPECT_TRUE(pr.is_paused()) << "one probe outstanding";
  EXPECT_EQ(pr.next(), Index(5)) << "probing does not advance next optimistically";
  pr.unpause();  // a heartbeat answer lets us try again
  EXPECT_FALSE(pr.is_paused());
}

TEST(Progress, AckInProbeMovesMatchAndUnpauses) {
  Progress pr(Index(5), 4, 1000);
  pr.sent_entries(Index(7), 30);
  EXPECT_TRUE(pr.maybe_update(Index(7)));
  EXPECT_EQ(pr.match(), Index(7));
  EXPECT_EQ(pr.next(), Index(8));
  EXPECT_FALSE(pr.is_paused());
  EXPECT_FALSE(pr.maybe_update(Index(6))) << "older acknowledgement is no news";
  EXPECT_EQ(pr.match(), Index(7));
}

TEST(Progress, ReplicateStreamsUntilTheWindowIsFull) {
  Progress pr(Index(1), /*max_inflight_messages=*/2, 1000);
  ASSERT_TRUE(pr.maybe_update(Index(3)));
  pr.become_replicate();
  EXPECT_EQ(pr.next(), Index(4));
  pr.sent_entries(Index(5), 10);
  EXPECT_EQ(pr.next(), Index(6)) << "optimistic: next moves as soon as we send";
  EXPECT_FALSE(pr.is_paused());
  pr.sent_entries(Index(8), 10);
  EXPECT_TRUE(pr.is_paused()) << "window of 2 full";
  pr.maybe_update(Index(5));
  EXPECT_FALSE(pr.is_paused()) << "the acknowledgement freed a slot";
  EXPECT_EQ(pr.inflights().count(), 1u);
  pr.free_first_inflight();
  EXPECT_EQ(pr.inflights().count(), 0u);
}

TEST(Progress, RejectionInReplicateFallsBackToMatch) {
  Progress pr(Index(1), 8, 1000);
  pr.maybe_update(Index(3));
  pr.become_replicate();
  pr.sent_entries(Index(6), 10);
  pr.sent_entries(Index(9), 10);
  EXPECT_FALSE(pr.maybe_decrease_to(Index(2), Index(1))) << "rejection below match is a stale duplicate";
  EXPECT_EQ(pr.next(), Index(10));
  EXPECT_TRUE(pr.maybe_decrease_to(Index(6), Index(4)));
  EXPECT_EQ(pr.next(), Index(4)) << "resume right after what is known to match";
}

TEST(Progress, RejectionInProbeFollowsTheHintButNotBelowMatch) {
  Progress pr(Index(20), 8, 1000);
  pr.maybe_update(Index(3));
  // (match 3, next 20): probe with prev 19.
  pr.sent_entries(Index(19), 0);
  EXPECT_FALSE(pr.maybe_decrease_to(Index(15), Index(5))) << "only the answer to the probe (prev 19) counts";
  EXPECT_TRUE(pr.maybe_decrease_to(Index(19), Index(8)));
  EXPECT_EQ(pr.next(), Index(8)) << "the conflict hint skips ahead of one-by-one decrement";
  EXPECT_FALSE(pr.is_paused()) << "the rejection answered our probe";
  pr.sent_entries(Index(7), 0);
  EXPECT_TRUE(pr.maybe_decrease_to(Index(7), Index(1)));
  EXPECT_EQ(pr.next(), Index(4)) << "never below match + 1";
}

TEST(Progress, SnapshotStatePausesUntilProbeResumesAfterIt) {
  Progress pr(Index(5), 8, 1000);
  pr.maybe_update(Index(2));
  pr.become_snapshot(Index(40));
  EXPECT_EQ(pr.state(), ProgressState::kSnapshot);
  EXPECT_EQ(pr.pending_snapshot(), Index(40));
  EXPECT_TRUE(pr.is_paused()) << "nothing else goes while the snapshot is on its way";
  pr.become_probe();
  EXPECT_EQ(pr.state(), ProgressState::kProbe);
  EXPECT_EQ(pr.next(), Index(41)) << "the follower has at least the snapshot";
  EXPECT_EQ(pr.pending_snapshot(), Index(0));
}

TEST(Progress, AbortedSnapshotProbesFromMatch) {
  Progress pr(Index(5), 8, 1000);
  pr.maybe_update(Index(2));
  pr.become_snapshot(Index(40));
  pr.abort_snapshot();
  pr.become_probe();
  EXPECT_EQ(pr.next(), Index(3)) << "the snapshot did not arrive; start over from what matches";
}

TEST(ProgressDeathTest, EntriesToAFollowerAwaitingASnapshotIsABug) {
  Progress pr(Index(5), 8, 1000);
  pr.become_snapshot(Index(9));
  EXPECT_DEATH(pr.sent_entries(Index(10), 1), "awaits a snapshot");
}

}  // namespace
}  // namespace reef::raft::testing
