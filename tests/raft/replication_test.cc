// Log replication (thesis §3.5), commitment (§3.6), and the performance
// machinery around it (§10.2): fast back-tracking, probe/replicate flow
// control, bounded messages and windows, the leader's disk write in
// parallel with replication, proposal bounds, and tolerance of a network
// that duplicates and reorders.
#include <gtest/gtest.h>

#include "raft/core/assert.h"
#include "raft/core/random.h"
#include "absl/strings/str_cat.h"
#include "tests/raft/scenario_helpers.h"

namespace reef::raft::testing {
namespace {

const NodeId n1(1), n2(2), n3(3);

// Elects n1 and lets every follower learn the no-op's commit.
Cluster elected_cluster(ClusterOptions options = {}) {
  Cluster c(std::move(options));
  REEF_ASSERT(c.elect(n1) == n1, c.describe());
  run_rounds(c, 1);
  return c;
}

const Progress& progress_of(Cluster& c, NodeId leader, NodeId peer) {
  const Progress* pr = c.core(leader).progress(peer);
  REEF_ASSERT(pr != nullptr, "no progress for ", peer.value());
  return *pr;
}

std::vector<AppendEntries> appends_to(Cluster& c, NodeId to) {
  std::vector<AppendEntries> out;
  for (const Message& m : messages_where(c, both(to_node(to), of_type<AppendEntries>()))) {
    out.push_back(std::get<AppendEntries>(m.body));
  }
  return out;
}

bool deliver_first(Cluster& c, const EnvelopePredicate& pred) {
  for (size_t i = 0; i < c.in_flight().size(); ++i) {
    if (pred(c.in_flight()[i])) return c.deliver(i);
  }
  return false;
}

std::vector<Term> terms_of(const Core& core) {
  std::vector<Term> out;
  for (Index i = core.log().first_index(); i <= core.log().last_index(); i = i.next()) {
    out.push_back(core.log().at(i).term);
  }
  return out;
}

TEST(Replication, EntriesReachEveryNodeAndApplyInOrder) {
  Cluster c = elected_cluster();
  for (int i = 0; i < 20; ++i) {
    ProposalResult r = c.propose(n1, absl::StrCat("v", i));
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_EQ(r.first_index, Index(2 + i));
    EXPECT_EQ(r.term, Term(1));
    if (i % 3 == 0) c.deliver_all();
  }
  c.deliver_all();
  run_rounds(c, 1);
  for (NodeId id : c.ids()) {
    ASSERT_EQ(c.applied_payloads(id).size(), 20u) << c.describe();
    EXPECT_EQ(c.applied_payloads(id).front(), "v0");
    EXPECT_EQ(c.applied_payloads(id).back(), "v19");
    EXPECT_EQ(c.core(id).log().committed(), Index(21));
  }
  EXPECT_CLUSTER_SAFE(c);
}

// §3.5 consistency check: an append whose (prev_index, prev_term) the
// follower lacks is rejected, with a hint, and changes nothing.
TEST(Replication, FollowerRejectsAppendThatDoesNotMatchItsLog) {
  Cluster c = elected_cluster();
  ASSERT_TRUE(c.propose(n1, "a").status.ok());
  c.deliver_all();
  c.drop_all();
  const Term term = c.core(n2).term();
  const Index last = c.core(n2).log().last_index();
  ASSERT_EQ(last, Index(2));
  struct Case {
    Index prev_index;
    Term prev_term;
  };
  // Beyond our log; and at our last index but with another term.
  for (Case k : {Case{Index(5), term}, Case{Index(2), Term(0)}}) {
    c.step(n2,
           Message{n1, n2, term,
                   AppendEntries{.prev_index = k.prev_index,
                                 .prev_term = k.prev_term,
                                 .entries = {LogEntry{term, k.prev_index.next(), EntryType::kNormal, "zz"}},
                                 .commit = Index(2)}});
    std::vector<Message> replies = messages_where(c, both(from_node(n2), of_type<AppendResponse>()));
    ASSERT_EQ(replies.size(), 1u);
    const auto& ar = std::get<AppendResponse>(replies[0].body);
    EXPECT_TRUE(ar.reject);
    EXPECT_EQ(ar.index, k.prev_index);
    EXPECT_LE(ar.hint_index, last);
    EXPECT_EQ(c.core(n2).log().last_index(), last) << "a rejected append changes nothing";
    c.drop_all();
  }
  EXPECT_CLUSTER_SAFE(c);
}

// §5.3 optimisation ("fast back-tracking"): a follower holding 50
// uncommitted entries of an old term is repaired in one rejection, not 50.
TEST(Replication, DivergentFollowerIsRepairedInFewRoundTrips) {
  Cluster c = elected_cluster();  // n1 leads term 1; index 1 committed everywhere
  c.isolate(n1);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c.propose(n1, absl::StrCat("old", i)).status.ok());
  c.drop_all();
  ASSERT_EQ(c.core(n1).log().last_index(), Index(51));

  // n2 and n3 carry on without n1: a term-2 leader commits 50 entries, then
  // hands over to n3 (term 3), whose first guess for n1 is "next = 54".
  let_leader_lease_lapse(c, {n2, n3});
  c.partition({{n2, n3}});
  ASSERT_EQ(c.elect(n2), n2);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c.propose(n2, absl::StrCat("new", i)).status.ok());
  c.deliver_all();
  c.transfer(n2, n3);
  c.deliver_all();
  ASSERT_TRUE(c.core(n3).is_leader()) << c.describe();
  ASSERT_EQ(c.core(n3).log().last_index(), Index(53));
  ASSERT_EQ(c.core(n1).log().term_at(Index(51)), Term(1));

  c.heal();
  c.tick(n3);  // a heartbeat makes n1 a follower and starts the probe
  size_t rejections = 0;
  size_t delivered = 0;
  while (!c.in_flight().empty() && delivered < 1000) {
    const Message& m = c.in_flight().front().message;
    if (m.from == n1 && holds<AppendResponse>(m) && std::get<AppendResponse>(m.body).reject) ++rejections;
    c.deliver(0);
    ++delivered;
  }
  EXPECT_EQ(terms_of(c.core(n1)), terms_of(c.core(n3))) << c.describe();
  EXPECT_LE(rejections, 2u) << "one conflicting term costs one round trip, not one per entry";
  EXPECT_GE(rejections, 1u) << "the scenario must actually diverge";
  run_rounds(c, 2);
  EXPECT_EQ(c.applied_payloads(n1), c.applied_payloads(n3));
  EXPECT_EQ(c.applied_payloads(n1).size(), 50u);
  EXPECT_EQ(c.applied_payloads(n1).front(), "new0");
  EXPECT_CLUSTER_SAFE(c);
}

// The lagging (not divergent) case: a follower that missed 60 entries is
// found with one rejection, whose hint is its own last index.
TEST(Replication, LaggingFollowerIsFoundWithOneRejection) {
  Cluster c = elected_cluster();
  c.isolate(n3);
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(c.propose(n1, absl::StrCat("v", i)).status.ok());
  c.deliver_all();
  // A new leader (n2, by transfer) starts with next = its last index + 1.
  c.heal();
  c.transfer(n1, n2);
  deliver_where(c, [](const Envelope& e) { return e.message.to != n3 && e.message.from != n3; });
  ASSERT_TRUE(c.core(n2).is_leader()) << c.describe();
  c.drop_all();
  c.tick(n2);
  size_t rejections = 0;
  for (size_t n = 0; n < 1000 && !c.in_flight().empty(); ++n) {
    const Message& m = c.in_flight().front().message;
    if (m.from == n3 && holds<AppendResponse>(m) && std::get<AppendResponse>(m.body).reject) ++rejections;
    c.deliver(0);
  }
  EXPECT_EQ(rejections, 1u);
  EXPECT_EQ(c.core(n3).log().last_index(), c.core(n2).log().last_index());
  EXPECT_CLUSTER_SAFE(c);
}

// §10.2.1 flow control states: a new leader probes (one message at a time),
// switches to optimistic replication on the first ack, and falls back to
// probing on a rejection or when the peer is reported unreachable.
TEST(Replication, ProgressMovesBetweenProbeAndReplicate) {
  Cluster c({.voters = 3});
  c.campaign(n1);
  deliver_where(c, election_traffic());
  ASSERT_TRUE(c.core(n1).is_leader());
  EXPECT_EQ(progress_of(c, n1, n2).state(), ProgressState::kProbe);
  EXPECT_TRUE(progress_of(c, n1, n2).probe_sent());
  // While probing, proposals do not stream more appends to n2.
  const size_t before = appends_to(c, n2).size();
  ASSERT_TRUE(c.propose(n1, "a").status.ok());
  ASSERT_TRUE(c.propose(n1, "b").status.ok());
  EXPECT_EQ(appends_to(c, n2).size(), before) << "probe state: one append outstanding";

  c.deliver_all();
  EXPECT_EQ(progress_of(c, n1, n2).state(), ProgressState::kReplicate);
  EXPECT_EQ(progress_of(c, n1, n2).match(), Index(3));

  // Replicate streams: several appends may be outstanding.
  ASSERT_TRUE(c.propose(n1, "c").status.ok());
  ASSERT_TRUE(c.propose(n1, "d").status.ok());
  EXPECT_EQ(appends_to(c, n2).size(), 2u);
  c.deliver_all();

  // Reported unreachable: back to probing.
  c.step(n1, PeerUnreachable{n2});
  EXPECT_EQ(progress_of(c, n1, n2).state(), ProgressState::kProbe);
  ASSERT_TRUE(c.propose(n1, "e").status.ok());
  ASSERT_TRUE(c.propose(n1, "f").status.ok());
  EXPECT_EQ(appends_to(c, n2).size(), 1u);
  c.deliver_all();
  EXPECT_EQ(progress_of(c, n1, n2).state(), ProgressState::kReplicate);

  // A rejection in replicate (the follower lost unpersisted entries in a
  // crash) sends the leader back to probing from the match index.
  c.set_manual_persist(n2, true);
  ASSERT_TRUE(c.propose(n1, "g").status.ok());
  deliver_where(c, to_node(n2));
  const Index match = progress_of(c, n1, n2).match();
  c.restart(n2);  // "g" was never durable on n2
  c.set_manual_persist(n2, false);
  c.drop_all();
  ASSERT_TRUE(c.propose(n1, "h").status.ok());
  ASSERT_TRUE(deliver_first(c, both(to_node(n2), of_type<AppendEntries>())));
  ASSERT_TRUE(deliver_first(c, both(from_node(n2), of_type<AppendResponse>())));
  EXPECT_EQ(progress_of(c, n1, n2).state(), ProgressState::kProbe);
  EXPECT_EQ(progress_of(c, n1, n2).next(), match.next());
  c.deliver_all();
  EXPECT_EQ(progress_of(c, n1, n2).state(), ProgressState::kReplicate);
  EXPECT_EQ(c.core(n2).log().last_index(), c.core(n1).log().last_index());
  EXPECT_CLUSTER_SAFE(c);
}

// §10.2.1: in replicate state the number of unacknowledged appends is
// bounded; the leader stops at the bound and resumes as acks come back.
TEST(Replication, InflightWindowBoundsMessageCount) {
  Cluster c =
      elected_cluster({.voters = 3, .configure = [](CoreConfig& cfg) { cfg.max_inflight_messages = 2; }});
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(c.propose(n1, absl::StrCat("p", i)).status.ok());
  std::vector<AppendEntries> sent = appends_to(c, n2);
  ASSERT_EQ(sent.size(), 2u) << "window full after two messages";
  EXPECT_EQ(sent[0].entries.front().index, Index(2));
  EXPECT_EQ(sent[1].entries.front().index, Index(3));
  EXPECT_TRUE(progress_of(c, n1, n2).is_paused());

  // One ack frees one slot: exactly one more message, carrying the rest.
  ASSERT_TRUE(deliver_first(c, between(n1, n2)));
  ASSERT_TRUE(deliver_first(c, between(n2, n1)));
  sent = appends_to(c, n2);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].entries.front().index, Index(4));
  EXPECT_EQ(sent[1].entries.back().index, Index(7));

  c.deliver_all();
  for (NodeId id : c.ids()) EXPECT_EQ(c.core(id).log().last_index(), Index(7));
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Replication, InflightWindowBoundsBytes) {
  // 100-byte payloads count 124 bytes each: the second message fills 200.
  Cluster c =
      elected_cluster({.voters = 3, .configure = [](CoreConfig& cfg) { cfg.max_inflight_bytes = 200; }});
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(c.propose(n1, std::string(100, 'a' + i)).status.ok());
  EXPECT_EQ(appends_to(c, n2).size(), 2u);
  EXPECT_EQ(appends_to(c, n3).size(), 2u);
  EXPECT_GE(progress_of(c, n1, n2).inflights().bytes(), 200u);
  c.deliver_all();
  for (NodeId id : c.ids()) EXPECT_EQ(c.core(id).log().last_index(), Index(7));
  EXPECT_CLUSTER_SAFE(c);
}

// §10.2.1: one AppendEntries carries a bounded number of entries and bytes;
// an entry larger than the byte bound still travels, alone.
TEST(Replication, AppendMessagesRespectEntryAndByteBounds) {
  Cluster c = elected_cluster({.voters = 3, .configure = [](CoreConfig& cfg) {
                                 cfg.max_entries_per_message = 3;
                                 cfg.max_message_bytes = 300;
                               }});
  std::vector<std::string> small(10, "s");
  c.step(n1, Propose{ProposalId(1000), small});
  std::vector<std::string> medium(4, std::string(100, 'm'));  // 124 bytes each: two per message
  c.step(n1, Propose{ProposalId(1001), medium});
  ASSERT_TRUE(c.propose(n1, std::string(1000, 'L')).status.ok());

  size_t max_entries = 0;
  bool saw_large_alone = false;
  for (size_t n = 0; n < 1000 && !c.in_flight().empty(); ++n) {
    const Message& m = c.in_flight().front().message;
    if (const auto* ae = std::get_if<AppendEntries>(&m.body)) {
      max_entries = std::max(max_entries, ae->entries.size());
      uint64_t bytes = 0;
      for (const LogEntry& e : ae->entries) bytes += entry_size_bytes(e);
      if (ae->entries.size() > 1) {
        EXPECT_LE(bytes, 300u);
      }
      if (ae->entries.size() == 1 && ae->entries[0].payload.size() == 1000) saw_large_alone = true;
    }
    c.deliver(0);
  }
  EXPECT_EQ(max_entries, 3u);
  EXPECT_TRUE(saw_large_alone);
  for (NodeId id : c.ids()) EXPECT_EQ(c.applied_payloads(id).size(), 15u) << c.describe();
  EXPECT_CLUSTER_SAFE(c);
}

// §3.5: the commit index a follower hears must never exceed what it is known
// to share with the leader, or it could apply an entry of a dead term.
// n3 holds a stale uncommitted entry at index 2; the new leader's commit is
// 2 as well, but its heartbeat tells n3 min(match=0, commit=2) = 0.
TEST(Replication, HeartbeatCommitIsCappedAtTheFollowersMatch) {
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n3), n3);
  run_rounds(c, 1);
  c.isolate(n3);
  ASSERT_TRUE(c.propose(n3, "stale").status.ok());
  c.drop_all();

  let_leader_lease_lapse(c, {n1, n2});
  c.partition({{n1, n2}});
  ASSERT_EQ(c.elect(n1), n1);
  ASSERT_EQ(c.core(n1).log().committed(), Index(2));
  ASSERT_EQ(c.core(n3).log().term_at(Index(2)), Term(1));

  c.heal();
  c.tick(n1);
  std::vector<Message> hbs = messages_where(c, both(from_node(n1), of_type<Heartbeat>()));
  ASSERT_EQ(hbs.size(), 2u);
  for (const Message& m : hbs) {
    const Index commit = std::get<Heartbeat>(m.body).commit;
    EXPECT_EQ(commit, m.to == n2 ? Index(2) : Index(0)) << "to node " << m.to.value();
  }
  ASSERT_EQ(deliver_where(c, both(between(n1, n3), of_type<Heartbeat>())), 1u);
  EXPECT_EQ(c.core(n3).role(), Role::kFollower);
  EXPECT_EQ(c.core(n3).log().committed(), Index(1)) << "the stale entry must not commit";
  c.deliver_all();
  run_rounds(c, 2);
  EXPECT_EQ(c.core(n3).log().term_at(Index(2)), c.core(n1).term()) << "repaired to the leader's entry";
  EXPECT_TRUE(c.applied_payloads(n3).empty());
  EXPECT_CLUSTER_SAFE(c);
}

// §10.2.1: the leader sends appends before its own write finishes and counts
// itself toward commit only once the write is durable.
TEST(Replication, LeaderWritesInParallelWithReplication) {
  Cluster c = elected_cluster();
  c.set_manual_persist(n1, true);
  ProposalResult r = c.propose(n1, "x");
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(c.has_pending_write(n1));
  EXPECT_EQ(c.core(n1).log().persisted(), Index(1));
  EXPECT_EQ(appends_to(c, n2).size(), 1u) << "replication did not wait for the leader's disk";
  EXPECT_EQ(appends_to(c, n3).size(), 1u);

  // One follower's ack + the leader's unfinished write: no majority yet.
  deliver_where(c, [](const Envelope& e) { return e.message.to == n2 || e.message.from == n2; });
  EXPECT_EQ(c.core(n1).log().committed(), Index(1)) << "the leader does not count an unpersisted entry";
  c.persist(n1);
  EXPECT_EQ(c.core(n1).log().committed(), Index(2));
  c.deliver_all();

  // Two followers' acks commit without the leader's own write.
  ASSERT_TRUE(c.propose(n1, "y").status.ok());
  c.deliver_all();
  EXPECT_TRUE(c.has_pending_write(n1));
  EXPECT_EQ(c.core(n1).log().persisted(), Index(2));
  EXPECT_EQ(c.core(n1).log().committed(), Index(3));
  EXPECT_EQ(c.core(n1).log().applied(), Index(2)) << "hands out for applying only what is durable locally";
  c.persist(n1);
  EXPECT_EQ(c.applied_payloads(n1), (std::vector<std::string>{"x", "y"}));
  EXPECT_CLUSTER_SAFE(c);
}

// §3.8: a follower acknowledges only what is durable; a crash before the
// write takes nothing back that was promised.
TEST(Replication, FollowerAcksOnlyAfterPersist) {
  Cluster c = elected_cluster();
  c.set_manual_persist(n2, true);
  c.set_manual_persist(n3, true);
  ASSERT_TRUE(c.propose(n1, "x").status.ok());
  deliver_where(c, both(from_node(n1), of_type<AppendEntries>()));
  EXPECT_EQ(count_where(c, of_type<AppendResponse>()), 0u);
  EXPECT_TRUE(c.has_pending_write(n2));
  c.persist(n2);
  std::vector<Message> acks = messages_where(c, both(from_node(n2), of_type<AppendResponse>()));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(std::get<AppendResponse>(acks[0].body).index, Index(2));
  c.deliver_all();
  EXPECT_EQ(c.core(n1).log().committed(), Index(2));

  // n3 crashes before its write: the entry is gone there, no ack ever left,
  // and the leader repairs it later (without any new proposal).
  c.restart(n3);
  EXPECT_EQ(count_where(c, from_node(n3)), 0u);
  EXPECT_EQ(c.core(n3).log().last_index(), Index(1));
  c.set_manual_persist(n2, false);
  c.set_manual_persist(n3, false);
  run_rounds(c, 3);
  EXPECT_EQ(c.applied_payloads(n3), std::vector<std::string>{"x"}) << c.describe();
  EXPECT_CLUSTER_SAFE(c);
}

// §3.5: "the leader retries AppendEntries RPCs indefinitely". Appends lost
// while the follower was in the replicate state must be resent even if no
// new proposal arrives, including when the lost messages filled the window.
TEST(Replication, LostAppendsAreRetriedWithoutNewTraffic) {
  Cluster c =
      elected_cluster({.voters = 3, .configure = [](CoreConfig& cfg) { cfg.max_inflight_messages = 2; }});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.propose(n1, absl::StrCat("p", i)).status.ok());
  ASSERT_TRUE(progress_of(c, n1, n2).is_paused());
  ASSERT_EQ(drop_where(c, of_type<AppendEntries>()), 4u);
  run_rounds(c, 5);
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.applied_payloads(id).size(), 5u) << c.describe();
  }
  EXPECT_CLUSTER_SAFE(c);
}

TEST(Replication, ProposalOnFollowerFailsWithLeaderHint) {
  Cluster c({.voters = 3});
  ProposalResult before = c.propose(n2, "x");
  EXPECT_TRUE(is_not_leader(before.status));
  EXPECT_FALSE(before.leader_hint.has_value()) << "no leader known yet";
  ASSERT_EQ(c.elect(n1), n1);
  ProposalResult r = c.propose(n2, "x");
  EXPECT_TRUE(is_not_leader(r.status)) << r.status;
  EXPECT_EQ(r.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.leader_hint, n1);
  EXPECT_FALSE(is_not_leader(absl::FailedPreconditionError("other"))) << "recognised by payload, not code";
  c.deliver_all();
  EXPECT_EQ(c.core(n2).log().last_index(), Index(1)) << "nothing appended on the follower";
  EXPECT_CLUSTER_SAFE(c);
}

// Every queue has a bound (DESIGN §7): oversized entries are refused, and so
// are proposals once too many bytes are waiting for commit.
TEST(Replication, ProposalsAreBoundedInSizeAndUncommittedBytes) {
  Cluster c = elected_cluster({.voters = 3, .configure = [](CoreConfig& cfg) {
                                 cfg.max_entry_bytes = 100;
                                 cfg.max_uncommitted_bytes = 300;
                               }});
  ProposalResult big = c.propose(n1, std::string(101, 'x'));
  EXPECT_EQ(big.status.code(), absl::StatusCode::kInvalidArgument) << big.status;
  c.step(n1, Propose{ProposalId(999), {}});
  ASSERT_FALSE(c.proposals(n1).empty());
  EXPECT_EQ(c.proposals(n1).back().status.code(), absl::StatusCode::kInvalidArgument) << "no payloads";
  const Index last = c.core(n1).log().last_index();
  EXPECT_EQ(last, Index(1)) << "refused proposals append nothing";

  c.partition({});  // followers unreachable: nothing commits
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.propose(n1, std::string(100, 'a' + i)).status.ok());
  ProposalResult over = c.propose(n1, "d");
  EXPECT_EQ(over.status.code(), absl::StatusCode::kResourceExhausted) << over.status;
  c.drop_all();

  c.heal();
  run_rounds(c, 3);
  ASSERT_EQ(c.core(n1).log().committed(), Index(4)) << c.describe();
  EXPECT_TRUE(c.propose(n1, std::string(100, 'e')).status.ok()) << "committed bytes no longer count";
  EXPECT_CLUSTER_SAFE(c);
}

// The network may duplicate and reorder (§3.5 tolerates it): a stale or
// repeated append must neither truncate nor corrupt a follower's log.
TEST(Replication, DuplicatedAndStaleAppendsAreHarmless) {
  Cluster c = elected_cluster();
  ASSERT_TRUE(c.propose(n1, "a").status.ok());
  // Keep a copy of the first append to n2 and deliver it again later.
  ASSERT_EQ(appends_to(c, n2).size(), 1u);
  for (size_t i = 0; i < c.in_flight().size(); ++i) {
    if (c.in_flight()[i].message.to == n2) {
      c.duplicate(i);
      break;
    }
  }
  ASSERT_TRUE(deliver_first(c, both(to_node(n2), of_type<AppendEntries>())));
  ASSERT_TRUE(c.propose(n1, "b").status.ok());
  // Deliver "b"'s append to n2 before the duplicate of "a"'s (reordering).
  std::deque<Envelope>& q = c.in_flight();
  for (size_t i = 0; i < q.size(); ++i) {
    const auto* ae = std::get_if<AppendEntries>(&q[i].message.body);
    if (q[i].message.to == n2 && ae && !ae->entries.empty() && ae->entries[0].payload == "b") {
      c.deliver(i);
      break;
    }
  }
  ASSERT_EQ(c.core(n2).log().last_index(), Index(3));
  ASSERT_TRUE(deliver_first(c, both(to_node(n2), of_type<AppendEntries>())));  // the stale duplicate
  EXPECT_EQ(c.core(n2).log().last_index(), Index(3)) << "a stale append must not truncate";
  c.deliver_all();
  // Duplicate every message of a heartbeat round; nothing changes.
  c.tick_all();
  const size_t n = c.in_flight().size();
  for (size_t i = 0; i < n; ++i) c.duplicate(i);
  c.deliver_all();
  for (NodeId id : c.ids()) EXPECT_EQ(c.applied_payloads(id), (std::vector<std::string>{"a", "b"}));
  EXPECT_CLUSTER_SAFE(c);
}

// A seeded random schedule of proposals, ticks, deliveries, duplicates,
// reorders and drops: the cluster stays safe and converges once calm.
TEST(Replication, RandomDuplicationAndReorderingConverge) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    Cluster c({.voters = 3, .seed = seed});
    Prng rng(seed * 7919);
    std::vector<std::string> accepted;
    for (int step = 0; step < 600; ++step) {
      const uint64_t action = rng.below(100);
      const size_t q = c.in_flight().size();
      if (action < 10) {
        if (auto l = c.leader()) {
          const std::string p = absl::StrCat("s", seed, "-", step);
          if (c.propose(*l, p).status.ok()) accepted.push_back(p);
        }
      } else if (action < 25) {
        c.tick(c.ids()[rng.below(c.ids().size())]);
      } else if (q == 0) {
        continue;
      } else if (action < 75) {
        c.deliver(rng.below(q));
      } else if (action < 85) {
        c.duplicate(rng.below(q));
      } else if (action < 95) {
        c.reorder(rng.below(q));
      } else {
        c.drop(rng.below(q));
      }
      ASSERT_TRUE(c.checker().ok()) << "seed " << seed << ": " << *c.checker().violation();
    }
    // Calm network: everything that committed is applied everywhere.
    run_rounds(c, 60);
    const auto& reference = c.applied(c.ids().front());
    for (NodeId id : c.ids()) {
      EXPECT_EQ(c.applied(id), reference) << "seed " << seed << ": " << c.describe();
    }
    EXPECT_GT(c.checker().committed_entries(), 0u) << "seed " << seed;
    EXPECT_CLUSTER_SAFE(c);
  }
}

}  // namespace
}  // namespace reef::raft::testing
