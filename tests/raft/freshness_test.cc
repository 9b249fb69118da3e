// Read freshness (raft/driver/node_freshness.h): the rule that refuses level-none
// reads with a `freshness` bound, and the contact bookkeeping it reads.
#include <gtest/gtest.h>

#include "raft/core/core.h"
#include "raft/driver/node_freshness.h"

namespace reef::raft {
namespace {

const NodeId n1(1), n2(2), n3(3), n4(4), n5(5);
const Term t3(3), t4(4);

FreshnessState in_touch_at(uint64_t contact_ms) {
  FreshnessState state;
  state.leader_contact_ms = contact_ms;
  state.applied = Index(10);
  state.known_commit = Index(10);
  state.caught_up_ms = contact_ms;
  return state;
}

TEST(Freshness, RefusesWithoutContactOrWhenContactIsOlderThanTheBound) {
  const FreshnessBound bound{.max_staleness_ms = 200};
  FreshnessState none;
  absl::Status refused = check_freshness(none, 1000, bound);
  EXPECT_TRUE(is_stale_read(refused)) << refused;
  EXPECT_FALSE(is_not_leader(refused)) << "a stale read is not a \"not leader\" answer";

  EXPECT_TRUE(check_freshness(in_touch_at(800), 1000, bound).ok()) << "exactly at the bound";
  absl::Status old = check_freshness(in_touch_at(799), 1000, bound);
  EXPECT_TRUE(is_stale_read(old)) << old;
  EXPECT_EQ(old.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(old.message().find("201 ms ago"), std::string_view::npos) << old;
}

TEST(Freshness, StrictAlsoRefusesANodeBehindTheLeaderForLongerThanTheBound) {
  const FreshnessBound strict{.max_staleness_ms = 200, .strict = true};
  FreshnessState state = in_touch_at(990);
  state.caught_up_ms = 100;  // long ago, but nothing is missing now
  EXPECT_TRUE(check_freshness(state, 1000, strict).ok());

  state.known_commit = Index(12);  // two committed entries not applied yet
  EXPECT_TRUE(is_stale_read(check_freshness(state, 1000, strict)));
  EXPECT_TRUE(check_freshness(state, 1000, FreshnessBound{.max_staleness_ms = 200}).ok())
      << "without strict only contact counts";
  state.caught_up_ms = 850;
  EXPECT_TRUE(check_freshness(state, 1000, strict).ok()) << "behind for 150 ms only";
  state.caught_up_ms.reset();
  EXPECT_TRUE(is_stale_read(check_freshness(state, 1000, strict))) << "never caught up";
}

TEST(Freshness, FollowerContactIsTheLastMessageFromTheLeaderInTheCurrentTerm) {
  LeaderContact contact;
  EXPECT_FALSE(contact.follower_contact(n1, t3).has_value());
  contact.heard(n1, t3, 100);
  contact.heard(n1, t3, 150);
  EXPECT_EQ(contact.follower_contact(n1, t3), 150u);
  EXPECT_FALSE(contact.follower_contact(n1, t4).has_value()) << "a message of another term";
  EXPECT_FALSE(contact.follower_contact(n2, t3).has_value());
  contact.heard(n1, t4, 200);
  contact.heard(n1, t3, 250);  // delayed, from the older term
  EXPECT_EQ(contact.follower_contact(n1, t4), 200u);
}

TEST(Freshness, LeaderContactIsWhenAQuorumIncludingItselfWasLastHeardFrom) {
  const Configuration three = Configuration::of_voters({n1, n2, n3});
  LeaderContact contact;
  EXPECT_FALSE(contact.leader_contact(three, n1, t3, 1000).has_value()) << "only itself: no quorum";
  contact.heard(n2, t3, 700);
  EXPECT_EQ(contact.leader_contact(three, n1, t3, 1000), 700u);
  contact.heard(n3, t3, 900);
  EXPECT_EQ(contact.leader_contact(three, n1, t3, 1000), 900u) << "itself and the most recent follower";
  EXPECT_FALSE(contact.leader_contact(three, n1, t4, 1000).has_value()) << "nothing heard in term 4";

  const Configuration alone = Configuration::of_voters({n1});
  EXPECT_EQ(contact.leader_contact(alone, n1, t3, 1000), 1000u) << "a single voter is its own quorum";

  // Joint: both majorities must hold; {n3, n4, n5} has only n3 (at 900).
  Configuration joint = three;
  joint.outgoing_voters = MajorityConfig({n3, n4, n5});
  EXPECT_FALSE(contact.leader_contact(joint, n1, t3, 1000).has_value());
  contact.heard(n4, t3, 400);
  EXPECT_EQ(contact.leader_contact(joint, n1, t3, 1000), 400u);
}

TEST(Freshness, CaughtUpMeansAppliedEverythingAnnouncedOrCommitted) {
  LeaderContact contact;
  contact.note_applied(Index(5), Index(5), 100);
  EXPECT_EQ(contact.caught_up_ms(), 100u);
  contact.commit_announced(Index(8));
  EXPECT_EQ(contact.known_commit(Index(5)), Index(8));
  contact.note_applied(Index(6), Index(6), 200);
  EXPECT_EQ(contact.caught_up_ms(), 100u) << "still behind the announced 8";
  contact.commit_announced(Index(7));
  EXPECT_EQ(contact.known_commit(Index(6)), Index(8)) << "announcements only raise it";
  contact.note_applied(Index(8), Index(8), 300);
  EXPECT_EQ(contact.caught_up_ms(), 300u);
  EXPECT_EQ(contact.known_commit(Index(9)), Index(9)) << "its own commit index counts too";
}

}  // namespace
}  // namespace reef::raft
