// Leader election (thesis §3.4), its safety rules (§3.6.1 election
// restriction, §3.8 durable votes) and the liveness extensions that keep a
// cluster stable: pre-vote (§9.6), leader stickiness (§4.2.3), check-quorum
// (§6.2). Learners (§4.2.1) never stand for election.
#include <gtest/gtest.h>

#include "tests/raft/scenario_helpers.h"

namespace reef::raft::testing {
namespace {

// [[maybe_unused]]: clang (the fuzz build) rejects unused constants.
[[maybe_unused]] const NodeId n1(1), n2(2), n3(3), n4(4), n5(5);

ClusterOptions without_pre_vote(size_t voters) {
  return ClusterOptions{.voters = voters, .configure = [](CoreConfig& c) { c.pre_vote = false; }};
}

Message vote_request(NodeId from, NodeId to, Term term, bool pre_vote, Index last_index, Term last_term) {
  return Message{
      from, to, term,
      RequestVote{.pre_vote = pre_vote, .transfer = false, .last_index = last_index, .last_term = last_term}};
}

// The VoteResponses `voter` sent to `candidate` that are now in flight.
std::vector<VoteResponse> responses(Cluster& c, NodeId voter, NodeId candidate) {
  std::vector<VoteResponse> out;
  for (const Message& m : messages_where(c, both(between(voter, candidate), of_type<VoteResponse>()))) {
    out.push_back(std::get<VoteResponse>(m.body));
  }
  return out;
}

// §3.4: a candidate that gathers a majority becomes leader; everybody
// learns it from its first AppendEntries, and its no-op commits.
TEST(Election, CampaignWinsMajorityAndEveryoneFollows) {
  Cluster c({.voters = 3});
  std::optional<NodeId> leader = c.elect(n1);
  ASSERT_EQ(leader, n1) << c.describe();
  run_rounds(c, 1);  // a heartbeat tells the last follower the commit index
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.core(id).term(), Term(1)) << "pre-vote does not spend a term: " << c.describe();
    EXPECT_EQ(c.core(id).leader(), n1);
    EXPECT_EQ(c.durable_hard_state(id).vote, n1) << "node " << id.value();
    EXPECT_EQ(c.core(id).log().committed(), Index(1)) << "the leader's no-op (§6.4) commits";
  }
  EXPECT_EQ(c.core(n2).role(), Role::kFollower);
  EXPECT_EQ(c.core(n3).role(), Role::kFollower);
  EXPECT_EQ(c.core(n1).log().at(Index(1)).type, EntryType::kNoop);
  EXPECT_CLUSTER_SAFE(c);
}

// §3.4: with timeouts only, some node eventually times out and wins.
TEST(Election, TimeoutsAloneElectALeaderForEverySeed) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Cluster c({.voters = 5, .seed = seed});
    std::optional<NodeId> leader = c.run_until_leader(100);
    ASSERT_TRUE(leader.has_value()) << "seed " << seed << ": " << c.describe();
    run_rounds(c, 3);
    for (NodeId id : c.ids())
      EXPECT_EQ(c.core(id).leader(), leader) << "seed " << seed << ": " << c.describe();
    EXPECT_CLUSTER_SAFE(c);
  }
}

// §3.4: two candidates split the vote of term 1 (2 of 4 each): nobody wins
// that term. Randomized timeouts then make one of them time out first and
// win a later term alone.
TEST(Election, SplitVoteIsResolvedByRandomizedTimeouts) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    Cluster c(ClusterOptions{
        .voters = 4, .seed = seed, .configure = [](CoreConfig& cfg) { cfg.pre_vote = false; }});
    c.campaign(n1);
    c.campaign(n2);
    deliver_where(c, between(n1, n3));  // n3 votes for n1 ...
    deliver_where(c, between(n2, n4));  // ... n4 for n2
    c.deliver_all();
    ASSERT_FALSE(c.leader().has_value())
        << "seed " << seed << ": split vote must elect nobody: " << c.describe();
    for (NodeId id : c.ids()) {
      ASSERT_EQ(c.core(id).term(), Term(1));
      ASSERT_TRUE(c.core(id).vote().has_value()) << "everyone voted in term 1";
    }
    std::optional<NodeId> leader = c.run_until_leader(60);
    ASSERT_TRUE(leader.has_value()) << "seed " << seed << ": " << c.describe();
    EXPECT_GE(c.core(*leader).term(), Term(2));
    EXPECT_CLUSTER_SAFE(c);
  }
}

// The randomization itself: timeouts fall in [T, 2T) and differ across
// nodes and across resets, which is what breaks ties.
TEST(Election, RandomizedTimeoutsSpreadOverOneTimeoutWidth) {
  Cluster c({.voters = 5});
  std::set<uint32_t> seen;
  for (int round = 0; round < 10; ++round) {
    for (NodeId id : c.ids()) {
      const uint32_t t = c.core(id).randomized_election_timeout_ticks();
      EXPECT_GE(t, 10u);
      EXPECT_LT(t, 20u);
      seen.insert(t);
    }
    c.partition({});
    c.tick_all(25);  // everyone times out alone (pre-vote: no term change)
    c.drop_all();
  }
  EXPECT_GE(seen.size(), 5u) << "timeouts should vary";
  EXPECT_CLUSTER_SAFE(c);
}

// §9.6: an isolated node keeps timing out, but a pre-vote nobody answers
// does not move its term; when it comes back, the leader is undisturbed.
TEST(Election, PreVoteKeepsAnIsolatedNodeFromBumpingItsTerm) {
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n1), n1);
  const Term term = c.core(n1).term();
  c.isolate(n3);
  run_rounds(c, 100);  // about five election timeouts for n3
  EXPECT_EQ(c.core(n3).term(), term) << c.describe();
  EXPECT_NE(c.core(n3).role(), Role::kLeader);
  EXPECT_EQ(c.leader(), n1);

  c.heal();
  run_rounds(c, 40);
  EXPECT_EQ(c.leader(), n1) << c.describe();
  EXPECT_EQ(c.core(n1).term(), term) << "the rejoining node did not disrupt the leader";
  EXPECT_EQ(c.core(n3).role(), Role::kFollower);
  EXPECT_EQ(c.core(n3).leader(), n1);
  ASSERT_TRUE(c.propose(n1, "after").status.ok());
  run_rounds(c, 2);
  EXPECT_EQ(c.applied_payloads(n3), std::vector<std::string>{"after"});
  EXPECT_CLUSTER_SAFE(c);
}

// Control for the test above: without pre-vote the same isolation inflates
// the term and the returning node deposes a perfectly healthy leader.
TEST(Election, WithoutPreVoteARejoiningNodeDisruptsTheLeader) {
  Cluster c(without_pre_vote(3));
  ASSERT_EQ(c.elect(n1), n1);
  const Term term = c.core(n1).term();
  c.isolate(n3);
  run_rounds(c, 100);
  EXPECT_GT(c.core(n3).term(), term);
  c.heal();
  run_rounds(c, 40);
  ASSERT_TRUE(c.leader().has_value());
  EXPECT_GT(c.core(*c.leader()).term(), term + 1) << c.describe();
  EXPECT_CLUSTER_SAFE(c);
}

// §4.2.3: a follower that heard from the leader within the election timeout
// ignores RequestVote and pre-vote requests of higher terms outright: no
// term change, no vote, no answer.
TEST(Election, LeaderStickinessIgnoresHigherTermVoteRequests) {
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n1), n1);
  run_rounds(c, 2);
  const Term term = c.core(n2).term();
  for (bool pre_vote : {true, false}) {
    // A candidate with a log far ahead of ours: only stickiness stops it.
    c.step(n2, vote_request(n3, n2, term + 1, pre_vote, Index(100), term + 1));
    EXPECT_EQ(c.core(n2).term(), term) << "pre_vote=" << pre_vote;
    EXPECT_EQ(c.core(n2).vote(), n1);
    EXPECT_EQ(c.core(n2).leader(), n1);
    EXPECT_TRUE(responses(c, n2, n3).empty()) << "pre_vote=" << pre_vote;
  }
  // The leader itself is sticky too: it is its own live leader.
  c.step(n1, vote_request(n3, n1, term + 1, false, Index(100), term + 1));
  EXPECT_EQ(c.core(n1).role(), Role::kLeader);
  EXPECT_EQ(c.core(n1).term(), term);

  // Once an election timeout passes without the leader, the same request
  // is granted.
  c.drop_all();
  for (uint32_t i = 0; i < c.core(n2).config().election_timeout_ticks; ++i) {
    c.tick(n2);
    c.drop_all();
  }
  c.step(n2, vote_request(n3, n2, term + 1, false, Index(100), term + 1));
  EXPECT_EQ(c.core(n2).term(), term + 1);
  EXPECT_EQ(c.core(n2).vote(), n3);
  std::vector<VoteResponse> r = responses(c, n2, n3);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].granted);
  EXPECT_CLUSTER_SAFE(c);
}

// §6.2: a leader that cannot hear from a majority for an election timeout
// steps down (keeping its term) instead of leading a minority forever.
TEST(Election, CheckQuorumStepsDownALeaderCutOffFromTheMajority) {
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n1), n1);
  const Term term = c.core(n1).term();
  run_rounds(c, 50);  // connected: stays leader over several checks
  ASSERT_EQ(c.core(n1).role(), Role::kLeader);

  c.isolate(n1);
  const uint32_t timeout = c.core(n1).config().election_timeout_ticks;
  uint32_t ticks = 0;
  while (c.core(n1).is_leader() && ticks <= 2 * timeout) {
    c.tick(n1);
    c.deliver_all();
    ++ticks;
  }
  EXPECT_EQ(c.core(n1).role(), Role::kFollower) << c.describe();
  EXPECT_GE(ticks, timeout) << "not before a full election timeout";
  EXPECT_LE(ticks, 2 * timeout) << "at most two check intervals after the partition";
  EXPECT_EQ(c.core(n1).term(), term) << "stepping down is not a new term";
  EXPECT_FALSE(c.core(n1).leader().has_value());
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Election, WithoutCheckQuorumAnIsolatedLeaderKeepsLeading) {
  Cluster c({.voters = 3, .configure = [](CoreConfig& cfg) { cfg.check_quorum = false; }});
  ASSERT_EQ(c.elect(n1), n1);
  c.isolate(n1);
  for (int i = 0; i < 100; ++i) {
    c.tick(n1);
    c.deliver_all();
  }
  EXPECT_EQ(c.core(n1).role(), Role::kLeader);
  EXPECT_CLUSTER_SAFE(c);
}

// §3.8: at most one vote per term.
TEST(Election, NodeNeverVotesTwiceInOneTerm) {
  Cluster c(without_pre_vote(3));
  c.campaign(n1);
  c.campaign(n2);
  deliver_where(c, between(n1, n3));
  deliver_where(c, between(n2, n3));
  std::vector<VoteResponse> to1 = responses(c, n3, n1);
  std::vector<VoteResponse> to2 = responses(c, n3, n2);
  ASSERT_EQ(to1.size(), 1u);
  ASSERT_EQ(to2.size(), 1u);
  EXPECT_TRUE(to1[0].granted);
  EXPECT_FALSE(to2[0].granted);
  EXPECT_EQ(c.durable_hard_state(n3).vote, n1);
  EXPECT_EQ(c.durable_hard_state(n3).term, Term(1));
  c.deliver_all();
  EXPECT_EQ(c.leader(), n1);
  EXPECT_CLUSTER_SAFE(c);
}

// §3.8: the vote is durable, so a restart does not free it.
TEST(Election, VoteSurvivesRestart) {
  Cluster c(without_pre_vote(3));
  c.campaign(n1);
  c.campaign(n2);
  deliver_where(c, between(n1, n3));
  ASSERT_EQ(responses(c, n3, n1).size(), 1u);
  c.restart(n3);
  EXPECT_EQ(c.core(n3).term(), Term(1));
  EXPECT_EQ(c.core(n3).vote(), n1);
  deliver_where(c, between(n2, n3));
  std::vector<VoteResponse> to2 = responses(c, n3, n2);
  ASSERT_EQ(to2.size(), 1u);
  EXPECT_FALSE(to2[0].granted) << "already voted for n1 in term 1 before the crash";
  c.deliver_all();
  EXPECT_EQ(c.leader(), n1);
  EXPECT_CLUSTER_SAFE(c);
}

// §3.8: a grant leaves only after the vote is durable. A crash before the
// write loses the vote, but then nobody ever saw the grant, so voting again
// in the same term is safe.
TEST(Election, VoteGrantLeavesOnlyAfterPersist) {
  Cluster c(without_pre_vote(3));
  c.set_manual_persist(n3, true);
  c.campaign(n1);
  c.campaign(n2);
  deliver_where(c, between(n1, n3));
  EXPECT_TRUE(responses(c, n3, n1).empty()) << "grant waits for the durable vote";
  EXPECT_TRUE(c.has_pending_write(n3));
  EXPECT_EQ(c.core(n3).vote(), n1);
  c.restart(n3);  // crash: the pending write (and the grant) are lost
  EXPECT_FALSE(c.core(n3).vote().has_value());
  deliver_where(c, between(n2, n3));
  c.persist(n3);
  std::vector<VoteResponse> to2 = responses(c, n3, n2);
  ASSERT_EQ(to2.size(), 1u);
  EXPECT_TRUE(to2[0].granted);
  EXPECT_TRUE(responses(c, n3, n1).empty()) << "the lost grant never leaves";
  c.set_manual_persist(n3, false);
  c.deliver_all();
  EXPECT_EQ(c.leader(), n2);
  EXPECT_CLUSTER_SAFE(c);
}

// §3.6.1: a node whose log lacks committed entries cannot win, and a
// voter refuses logs that are shorter in the same last term, or end in an
// older term however long they are.
TEST(Election, ElectionRestrictionKeepsAStaleLogFromWinning) {
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n1), n1);
  c.isolate(n3);
  for (const char* p : {"x", "y"}) ASSERT_TRUE(c.propose(n1, p).status.ok());
  c.deliver_all();
  ASSERT_EQ(c.core(n2).log().last_index(), Index(3));
  ASSERT_EQ(c.core(n3).log().last_index(), Index(1));

  // n1 crashes; time passes for n2 and n3, who then talk only to each other.
  let_leader_lease_lapse(c, {n2, n3});
  c.partition({{n2, n3}});
  const Term term = c.core(n2).term();
  for (int attempt = 0; attempt < 5; ++attempt) {
    c.campaign(n3);
    c.deliver_all();
    EXPECT_NE(c.core(n3).role(), Role::kLeader) << c.describe();
  }
  EXPECT_EQ(c.core(n2).term(), term) << "the refused pre-votes disturbed nobody";

  // Real votes are refused too, even for a higher term.
  const Term t2 = c.core(n2).term();
  c.step(n2, vote_request(n3, n2, t2 + 1, false, Index(2), Term(1)));  // same last term, shorter
  EXPECT_EQ(c.core(n2).term(), t2 + 1) << "the higher term itself is adopted";
  EXPECT_FALSE(c.core(n2).vote().has_value());
  c.step(n2, vote_request(n3, n2, t2 + 2, false, Index(50), Term(0)));  // longer but older last term
  EXPECT_FALSE(c.core(n2).vote().has_value());
  for (const VoteResponse& r : responses(c, n2, n3)) EXPECT_FALSE(r.granted);
  c.drop_all();

  // The up-to-date node wins and the stale one catches up.
  std::optional<NodeId> leader;
  for (int i = 0; i < 100 && !leader; ++i) {
    c.tick_all();
    c.deliver_all();
    if (c.core(n2).is_leader()) leader = n2;
    ASSERT_FALSE(c.core(n3).is_leader()) << c.describe();
  }
  ASSERT_EQ(leader, n2) << c.describe();
  run_rounds(c, 3);
  EXPECT_EQ(c.applied_payloads(n3), (std::vector<std::string>{"x", "y"}));
  EXPECT_CLUSTER_SAFE(c);
}

// §3.4: "If the AppendEntries RPC is from another server claiming to be
// leader ... [with a term] at least as large as the candidate's current
// term, then the candidate ... returns to follower state."
TEST(Election, CandidateStepsDownOnAppendEntriesOfItsTerm) {
  Cluster c(without_pre_vote(5));
  c.campaign(n1);
  c.campaign(n2);
  deliver_where(c, both(from_node(n2), of_type<RequestVote>()));
  deliver_where(c, both(to_node(n2), of_type<VoteResponse>()));
  ASSERT_EQ(c.core(n2).role(), Role::kLeader) << c.describe();
  ASSERT_EQ(c.core(n1).role(), Role::kCandidate);
  ASSERT_EQ(c.core(n1).term(), Term(1));

  ASSERT_GT(deliver_where(c, both(between(n2, n1), of_type<AppendEntries>())), 0u);
  EXPECT_EQ(c.core(n1).role(), Role::kFollower);
  EXPECT_EQ(c.core(n1).term(), Term(1)) << "same term: no new election";
  EXPECT_EQ(c.core(n1).leader(), n2);
  c.deliver_all();
  EXPECT_EQ(c.core(n1).log().last_index(), Index(1));
  EXPECT_CLUSTER_SAFE(c);
}

// A pre-candidate, likewise, returns to follower when the leader of its
// term shows up (here: a heartbeat).
TEST(Election, PreCandidateStepsDownOnHeartbeatOfItsTerm) {
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n1), n1);
  c.isolate(n3);
  c.tick(n3, 20);  // times out: pre-candidate
  ASSERT_EQ(c.core(n3).role(), Role::kPreCandidate);
  c.drop_all();
  c.heal();
  c.tick(n1);
  ASSERT_GT(deliver_where(c, both(between(n1, n3), of_type<Heartbeat>())), 0u);
  EXPECT_EQ(c.core(n3).role(), Role::kFollower);
  EXPECT_EQ(c.core(n3).leader(), n1);
  EXPECT_CLUSTER_SAFE(c);
}

// §4.2.1: learners are never asked for votes and never campaign, however
// long they go without hearing from a leader.
TEST(Election, LearnersNeverCampaignAndAreNeverAsked) {
  Cluster c({.voters = 3, .learners = 1});
  c.campaign(n2);
  EXPECT_EQ(count_where(c, to_node(n4)), 0u) << "no pre-vote request to the learner";
  c.deliver_all();
  ASSERT_EQ(c.leader(), n2);
  EXPECT_FALSE(c.core(n4).vote().has_value());

  c.isolate(n4);
  c.drop_all();
  const Term term = c.core(n4).term();
  for (int i = 0; i < 200; ++i) {
    c.tick(n4);
    EXPECT_EQ(count_where(c, from_node(n4)), 0u);
  }
  c.campaign(n4);  // even an explicit request is ignored
  EXPECT_EQ(count_where(c, from_node(n4)), 0u);
  EXPECT_EQ(c.core(n4).role(), Role::kFollower);
  EXPECT_EQ(c.core(n4).term(), term);
  EXPECT_CLUSTER_SAFE(c);
}

}  // namespace
}  // namespace reef::raft::testing
