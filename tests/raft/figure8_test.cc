// Thesis figure 3.7 (figure 8 of the Raft paper), §3.6.2: a leader cannot
// conclude that an entry of an earlier term is committed just because it is
// stored on a majority. Reproduced step by step with five nodes S1..S5:
//
//  (a) S1 leads and replicates an entry at index 2 to S2 only.
//  (b) S1 crashes; S5 wins the next term with S3, S4 and itself and appends
//      a different entry at index 2.
//  (c) S5 crashes; S1 restarts, wins a later term, and replicates its old
//      entry at index 2 to a majority (S1, S3, S4; S2 has it too). It must
//      NOT count it as committed: it is not of the current term.
//  (d) Were S1 to crash now, S5 could win (its last term is newer) and
//      overwrite index 2 everywhere — which is only safe because index 2
//      was never committed.
//  (e) If instead S1 gets an entry of its own term onto a majority, index 2
//      commits with it (indirectly), and S5 can never win again.
//
// Terms differ from the figure's numbers (our terms are 1, 2, 3 where the
// figure has 2, 3, 4) and every leader's first entry is its no-op (§6.4),
// which plays the role of the figure's "entry of the new term". Every stage
// asserts the exact commit index of every node.
#include <gtest/gtest.h>

#include <array>

#include "tests/raft/scenario_helpers.h"

namespace reef::raft::testing {
namespace {

const NodeId S1(1), S2(2), S3(3), S4(4), S5(5);

ClusterOptions figure8_options() {
  // One entry per append so that the old entry and the new term's entry
  // can be delivered separately, as in the figure. The stages compare commit
  // indexes across S1's crash as the figure draws them, so every commit
  // advance is made durable (by default only one per interval is).
  return ClusterOptions{.voters = 5, .configure = [](CoreConfig& cfg) {
                          cfg.max_entries_per_message = 1;
                          cfg.commit_persist_interval_ticks = 0;
                        }};
}

void expect_commits(const Cluster& c, std::array<uint64_t, 5> expected, const char* stage) {
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(c.core(NodeId(i + 1)).log().committed(), Index(expected[i]))
        << "stage " << stage << ", node S" << i + 1 << ": " << c.describe();
  }
}

// Campaigns (pre-vote, then vote) delivering only election traffic, so the
// winner's first appends stay in flight for the test to route.
bool campaign_until_leader(Cluster& c, NodeId id, int attempts = 4) {
  for (int i = 0; i < attempts; ++i) {
    c.campaign(id);
    deliver_where(c, election_traffic());
    if (c.core(id).is_leader()) return true;
  }
  return false;
}

bool carries_term(const AppendEntries& ae, Term term) {
  for (const LogEntry& e : ae.entries) {
    if (e.term == term) return true;
  }
  return false;
}

// Stages (a) to (c). Leaves S1 leader of term 3 with its term-3 no-op
// (index 3) in flight, unacknowledged by anybody.
void run_stages_a_to_c(Cluster& c) {
  ASSERT_EQ(c.elect(S1), S1);
  run_rounds(c, 1);
  expect_commits(c, {1, 1, 1, 1, 1}, "start");

  // (a) S1 (term 1) replicates "a" at index 2 to S2 only.
  ASSERT_TRUE(c.propose(S1, "a").status.ok());
  deliver_where(c, [](const Envelope& e) {
    return (e.message.from == S1 && e.message.to == S2) || (e.message.from == S2 && e.message.to == S1);
  });
  c.drop_all();
  ASSERT_EQ(c.core(S2).log().term_at(Index(2)), Term(1));
  ASSERT_EQ(c.core(S3).log().last_index(), Index(1));
  expect_commits(c, {1, 1, 1, 1, 1}, "a");

  // (b) S1 crashes. After an election timeout S5 wins term 2 with S3 and S4
  // and appends its no-op at index 2, which reaches nobody.
  c.partition({});
  let_leader_lease_lapse(c, {S2, S3, S4, S5});
  c.partition({{S3, S4, S5}});
  ASSERT_TRUE(campaign_until_leader(c, S5)) << c.describe();
  ASSERT_EQ(c.core(S5).term(), Term(2));
  ASSERT_EQ(c.core(S5).log().term_at(Index(2)), Term(2));
  c.drop_all();
  ASSERT_EQ(c.core(S3).log().last_index(), Index(1));
  expect_commits(c, {1, 1, 1, 1, 1}, "b");

  // (c) S5 crashes, S1 restarts and wins term 3 (S3 and S4 vote: S1's log
  // ends in (2, term 1), newer than theirs).
  c.restart(S1);
  c.partition({{S1, S2, S3, S4}});
  ASSERT_TRUE(campaign_until_leader(c, S1)) << c.describe();
  ASSERT_EQ(c.core(S1).term(), Term(3));
  ASSERT_EQ(c.core(S1).log().term_at(Index(3)), Term(3)) << "S1's no-op of term 3";
  // S1 brings S3 and S4 up to index 2 (probe, rejection, resend), but none of
  // them receives index 3. Appends that would place a term-3 entry stay queued.
  const Term current = c.core(S1).term();
  deliver_where(c, [&c, current](const Envelope& e) {
    const NodeId peer = e.message.from == S1 ? e.message.to : e.message.from;
    if (!(e.message.from == S1 || e.message.to == S1) || (peer != S3 && peer != S4)) return false;
    const auto* ae = std::get_if<AppendEntries>(&e.message.body);
    if (ae == nullptr || !carries_term(*ae, current)) return true;
    return !c.core(e.message.to).log().matches(ae->prev_index, ae->prev_term);  // it will be rejected
  });
  for (NodeId id : {S1, S2, S3, S4}) {
    ASSERT_EQ(c.core(id).log().term_at(Index(2)), Term(1)) << "node S" << id.value();
  }
  ASSERT_EQ(c.core(S1).progress(S3)->match(), Index(2));
  ASSERT_EQ(c.core(S1).progress(S4)->match(), Index(2));
  ASSERT_EQ(c.core(S3).log().last_index(), Index(2));
  // The heart of the figure: index 2 is on S1, S3, S4 as far as S1 knows (and
  // on S2 too), a majority of five, yet it is of term 1, not 3: no commit.
  expect_commits(c, {1, 1, 1, 1, 1}, "c");
  EXPECT_TRUE(c.applied_payloads(S1).empty());
}

TEST(Figure8, OldTermEntryOnAMajorityIsNotCommittedByCounting) {
  Cluster c(figure8_options());
  ASSERT_NO_FATAL_FAILURE(run_stages_a_to_c(c));
  // A heartbeat round changes nothing: still only term-1 entries on a
  // majority.
  c.tick(S1);
  deliver_where(c, [](const Envelope& e) {
    return holds<Heartbeat>(e.message) || holds<HeartbeatResponse>(e.message);
  });
  expect_commits(c, {1, 1, 1, 1, 1}, "c + heartbeat");
  EXPECT_CLUSTER_SAFE(c);
}

// (d): S1 crashes again before its own entry is replicated. S5 (last term 2)
// beats every log ending in term 1 and overwrites index 2 on all of them.
TEST(Figure8, UncommittedOldEntryMayBeOverwrittenByALaterLeader) {
  Cluster c(figure8_options());
  ASSERT_NO_FATAL_FAILURE(run_stages_a_to_c(c));
  c.drop_all();
  c.partition({});
  c.restart(S5);
  let_leader_lease_lapse(c, {S2, S3, S4});
  c.partition({{S2, S3, S4, S5}});
  ASSERT_TRUE(campaign_until_leader(c, S5)) << c.describe();
  EXPECT_EQ(c.core(S5).term(), Term(4));
  expect_commits(c, {1, 1, 1, 1, 1}, "d: elected");
  c.deliver_all();
  run_rounds(c, 2);
  for (NodeId id : {S2, S3, S4, S5}) {
    EXPECT_EQ(c.core(id).log().term_at(Index(2)), Term(2)) << "S5's entry replaced S1's at S" << id.value();
    EXPECT_EQ(c.core(id).log().term_at(Index(3)), Term(4));
    EXPECT_TRUE(c.applied_payloads(id).empty()) << "\"a\" was never committed, so losing it is allowed";
  }
  expect_commits(c, {1, 3, 3, 3, 3}, "d: replicated");
  EXPECT_CLUSTER_SAFE(c);
}

// (e): S1 replicates its term-3 entry to a majority first. Index 3 commits
// by counting and index 2 with it, in the same step — not earlier.
TEST(Figure8, CurrentTermEntryCommitsTheOldOneIndirectly) {
  Cluster c(figure8_options());
  ASSERT_NO_FATAL_FAILURE(run_stages_a_to_c(c));
  drop_where(c, to_node(S2));
  drop_where(c, to_node(S5));

  // S3 takes index 3: S1 and S3 have it, S4 not yet — no majority for it.
  deliver_where(c, [](const Envelope& e) {
    return (e.message.from == S1 && e.message.to == S3) || (e.message.from == S3 && e.message.to == S1);
  });
  ASSERT_EQ(c.core(S1).progress(S3)->match(), Index(3));
  expect_commits(c, {1, 1, 1, 1, 1}, "e: one follower has index 3");

  // S4 takes it too: a majority holds an entry of term 3, so 3 commits and
  // index 2 (term 1) beneath it.
  ASSERT_GT(deliver_where(c, both(between(S1, S4), of_type<AppendEntries>())), 0u);
  ASSERT_EQ(deliver_where(c, both(between(S4, S1), of_type<AppendResponse>())), 1u);
  EXPECT_EQ(c.core(S1).log().committed(), Index(3));
  EXPECT_EQ(c.applied_payloads(S1), std::vector<std::string>{"a"});
  deliver_where(c, [](const Envelope& e) { return e.message.to != S2 && e.message.to != S5; });
  expect_commits(c, {3, 1, 3, 3, 1}, "e: committed");

  // S1 crashes. S5 can no longer win: S3 and S4 hold a newer log.
  c.drop_all();
  c.partition({});
  c.restart(S5);
  let_leader_lease_lapse(c, {S2, S3, S4});
  c.partition({{S2, S3, S4, S5}});
  EXPECT_FALSE(campaign_until_leader(c, S5, 6)) << c.describe();
  c.drop_all();
  std::optional<NodeId> leader;
  for (int i = 0; i < 200 && !leader; ++i) {
    c.tick_all();
    c.deliver_all();
    for (NodeId id : {S2, S3, S4, S5}) {
      if (c.core(id).is_leader()) leader = id;
    }
  }
  ASSERT_TRUE(leader == S3 || leader == S4) << c.describe();
  run_rounds(c, 3);
  for (NodeId id : {S2, S3, S4, S5}) {
    EXPECT_EQ(c.core(id).log().term_at(Index(2)), Term(1))
        << "the committed entry survives at S" << id.value();
    EXPECT_EQ(c.applied_payloads(id), std::vector<std::string>{"a"});
  }
  const uint64_t commit = c.core(*leader).log().committed().value();
  EXPECT_EQ(commit, 4u) << "the new leader's no-op at index 4";
  expect_commits(c, {3, commit, commit, commit, commit}, "e: after S1's crash");
  EXPECT_CLUSTER_SAFE(c);
}

}  // namespace
}  // namespace reef::raft::testing
