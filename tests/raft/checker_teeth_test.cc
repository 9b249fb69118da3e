// The checker's teeth: evidence that the safety checks would notice real
// bugs, not just pass on a correct core.
//
//  1. sim::RaftSafetyChecker alone, fed hand-made cores and applies that break each
//     property (divergent logs, two leaders in a term, a leader missing a
//     committed entry, different applies at one index, commit going back,
//     two votes in a term).
//  2. Targeted scenarios: the harness driver commits a deliberate bug
//     (ClusterOptions::bug) and a short script shows the violation; the same
//     script with the correct driver runs clean.
//  3. Search: the property suite's schedule generator, run with each bug
//     injected, finds a violation within a bounded number of cases, which
//     is then minimized; the same search with no bug finds nothing.
//  4. Reads: a stale lease read (leases on drifting clocks) is caught by
//     the read-linearizability check.
//
// raft/ itself is never modified for this: every injected bug lives in the
// test driver, which is where such bugs would really be (durability order).
// This binary links sim/throwing_assertions.cc, so a core assertion tripped by
// an injected bug is reported like any other failing case.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/detail/TestListenerAdapter.h>

#include <algorithm>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "tests/raft/support/cluster.h"
#include "sim/raft_safety_checker.h"
#include "tests/raft/support/rapidcheck_defaults.h"
#include "tests/raft/support/schedule.h"
#include "tests/raft/support/schedule_gen.h"

namespace reef::raft::testing {
namespace {

// The searches below pass their own seed; this only keeps RapidCheck from
// announcing a random one.
const bool kRapidCheckDefaults = (set_rapidcheck_defaults(100, 20260522), true);

bool mentions(const std::optional<std::string>& violation, std::string_view what) {
  return violation.has_value() && violation->find(what) != std::string::npos;
}

// ---------------------------------------------------------------------------
// 1. sim::RaftSafetyChecker on hand-made states.

LogEntry entry(uint64_t index, uint64_t term, std::string payload = "") {
  return LogEntry{Term(term), Index(index), EntryType::kNormal, std::move(payload)};
}

// A core recovered with `entries` at `term`, in a cluster of `voters`.
Core make_core(uint64_t id, const std::vector<uint64_t>& voters, uint64_t term, std::vector<LogEntry> entries,
               uint64_t commit = 0) {
  std::vector<NodeId> ids;
  for (uint64_t v : voters) ids.push_back(NodeId(v));
  RecoveredState state = RecoveredState::bootstrap(Configuration::of_voters(ids));
  state.hard_state = HardState{Term(term), std::nullopt, Index(commit)};
  state.entries = std::move(entries);
  CoreConfig config;
  config.id = NodeId(id);
  absl::StatusOr<Core> core = Core::create(config, std::move(state));
  REEF_ASSERT(core.ok(), core.status().ToString());
  return *std::move(core);
}

// A core alone in a one-voter configuration of its own: it wins any
// election by itself, so two of them can "lead" the same term.
Core make_solo_leader(uint64_t id, uint64_t term_before, std::vector<LogEntry> entries = {}) {
  Core core = make_core(id, {id}, term_before, std::move(entries));
  core.step(Campaign{});
  REEF_ASSERT(core.is_leader());
  return core;
}

TEST(CheckerTeeth, IdenticalLogsPass) {
  const Core a = make_core(1, {1, 2}, 2, {entry(1, 1, "x"), entry(2, 2, "y")});
  const Core b = make_core(2, {1, 2}, 2, {entry(1, 1, "x"), entry(2, 2, "y")});
  sim::RaftSafetyChecker checker;
  checker.observe({{NodeId(1), &a}, {NodeId(2), &b}});
  EXPECT_TRUE(checker.ok()) << *checker.violation();
}

TEST(CheckerTeeth, OverwrittenSuffixIsAllowed) {
  // Different terms at the top and agreement below is what an uncommitted,
  // later replaced suffix looks like; log matching allows it.
  const Core a = make_core(1, {1, 2, 3}, 3, {entry(1, 1, "x"), entry(2, 2, "y")});
  const Core b = make_core(2, {1, 2, 3}, 3, {entry(1, 1, "x"), entry(2, 3, "z")});
  sim::RaftSafetyChecker checker;
  checker.observe({{NodeId(1), &a}, {NodeId(2), &b}});
  EXPECT_TRUE(checker.ok()) << *checker.violation();
}

TEST(CheckerTeeth, LogMatchingCatchesDifferentEntryBelowCommonOne) {
  const Core a = make_core(1, {1, 2}, 2, {entry(1, 1, "x"), entry(2, 2, "y")});
  const Core b = make_core(2, {1, 2}, 2, {entry(1, 1, "OTHER"), entry(2, 2, "y")});
  sim::RaftSafetyChecker checker;
  checker.observe({{NodeId(1), &a}, {NodeId(2), &b}});
  EXPECT_TRUE(mentions(checker.violation(), "log matching")) << checker.violation().value_or("(none)");
}

TEST(CheckerTeeth, LogMatchingCatchesSameIndexAndTermWithDifferentPayload) {
  const Core a = make_core(1, {1, 2}, 1, {entry(1, 1, "x")});
  const Core b = make_core(2, {1, 2}, 1, {entry(1, 1, "y")});
  sim::RaftSafetyChecker checker;
  checker.observe({{NodeId(1), &a}, {NodeId(2), &b}});
  EXPECT_TRUE(mentions(checker.violation(), "log matching")) << checker.violation().value_or("(none)");
}

TEST(CheckerTeeth, ElectionSafetyCatchesTwoLeadersInOneTerm) {
  const Core a = make_solo_leader(1, 0);
  const Core b = make_solo_leader(2, 0);
  ASSERT_EQ(a.term(), b.term());
  sim::RaftSafetyChecker checker;
  checker.observe({{NodeId(1), &a}, {NodeId(2), &b}});
  EXPECT_TRUE(mentions(checker.violation(), "election safety")) << checker.violation().value_or("(none)");
}

TEST(CheckerTeeth, ElectionSafetyRemembersEarlierLeaders) {
  // The two leaders never coexist in one observation; the checker's memory
  // of who led each term must still catch it.
  const Core a = make_solo_leader(1, 0);
  const Core b = make_solo_leader(2, 0);
  sim::RaftSafetyChecker checker;
  checker.observe({{NodeId(1), &a}});
  ASSERT_TRUE(checker.ok());
  checker.observe({{NodeId(2), &b}});
  EXPECT_TRUE(mentions(checker.violation(), "election safety")) << checker.violation().value_or("(none)");
}

TEST(CheckerTeeth, LeaderCompletenessCatchesLeaderWithoutCommittedEntry) {
  sim::RaftSafetyChecker checker;
  checker.observe_applied(NodeId(2), entry(1, 1, "x"), Term(1));
  // Leads term 2 with only its own no-op at index 1.
  const Core leader = make_solo_leader(1, 1);
  checker.observe({{NodeId(1), &leader}});
  EXPECT_TRUE(mentions(checker.violation(), "leader completeness")) << checker.violation().value_or("(none)");
}

TEST(CheckerTeeth, LeaderCompletenessAcceptsLeaderWithCommittedEntry) {
  sim::RaftSafetyChecker checker;
  checker.observe_applied(NodeId(2), entry(1, 1, "x"), Term(1));
  const Core leader = make_solo_leader(1, 1, {entry(1, 1, "x")});
  checker.observe({{NodeId(1), &leader}});
  EXPECT_TRUE(checker.ok()) << *checker.violation();
}

TEST(CheckerTeeth, StateMachineSafetyCatchesDifferentApplies) {
  sim::RaftSafetyChecker checker;
  checker.observe_applied(NodeId(1), entry(1, 1, "a"), Term(1));
  checker.observe_applied(NodeId(2), entry(1, 1, "a"), Term(1));
  ASSERT_TRUE(checker.ok());
  checker.observe_applied(NodeId(3), entry(1, 1, "b"), Term(1));
  EXPECT_TRUE(mentions(checker.violation(), "state machine safety"))
      << checker.violation().value_or("(none)");
}

TEST(CheckerTeeth, StateMachineSafetyCatchesDifferentTermAtIndex) {
  sim::RaftSafetyChecker checker;
  checker.observe_applied(NodeId(1), entry(1, 1, "a"), Term(1));
  checker.observe_applied(NodeId(2), entry(1, 2, "a"), Term(2));
  EXPECT_TRUE(mentions(checker.violation(), "state machine safety"))
      << checker.violation().value_or("(none)");
}

TEST(CheckerTeeth, CommitGoingBackIsCaughtUnlessTheNodeRestarted) {
  const Core before = make_core(1, {1, 2}, 1, {entry(1, 1, "x")}, /*commit=*/1);
  const Core after = make_core(1, {1, 2}, 1, {entry(1, 1, "x")}, /*commit=*/0);
  {
    sim::RaftSafetyChecker checker;
    checker.observe({{NodeId(1), &before}});
    checker.observe({{NodeId(1), &after}});
    EXPECT_TRUE(mentions(checker.violation(), "commit went back")) << checker.violation().value_or("(none)");
  }
  {
    sim::RaftSafetyChecker checker;
    checker.observe({{NodeId(1), &before}});
    checker.observe_restart(NodeId(1));
    checker.observe({{NodeId(1), &after}});
    EXPECT_TRUE(checker.ok()) << *checker.violation();
  }
}

Message vote_grant(uint64_t voter, uint64_t candidate, uint64_t term, bool pre_vote = false) {
  return Message{NodeId(voter), NodeId(candidate), Term(term),
                 VoteResponse{.pre_vote = pre_vote, .granted = true}};
}

Message vote_request(uint64_t candidate, uint64_t to, uint64_t term, bool pre_vote = false) {
  return Message{NodeId(candidate), NodeId(to), Term(term), RequestVote{.pre_vote = pre_vote}};
}

TEST(CheckerTeeth, VoteSafetyCatchesTwoGrantsInOneTerm) {
  sim::RaftSafetyChecker checker;
  checker.observe_sent(vote_grant(3, 1, 5));
  checker.observe_sent(vote_grant(3, 1, 5));  // a retransmission is the same promise
  checker.observe_sent(vote_grant(3, 2, 6));  // another term, another vote
  ASSERT_TRUE(checker.ok()) << *checker.violation();
  checker.observe_sent(vote_grant(3, 2, 5));
  EXPECT_TRUE(mentions(checker.violation(), "vote safety: node 3 voted for 1 and for 2 in term 5"))
      << checker.violation().value_or("(none)");
}

TEST(CheckerTeeth, VoteSafetyCountsACandidatesOwnVote) {
  sim::RaftSafetyChecker checker;
  checker.observe_sent(vote_request(1, 2, 4));  // n1 stands in term 4: it voted for itself
  checker.observe_sent(vote_grant(1, 3, 4));
  EXPECT_TRUE(mentions(checker.violation(), "vote safety")) << checker.violation().value_or("(none)");
}

TEST(CheckerTeeth, VoteSafetyIgnoresPreVotesAndRejections) {
  sim::RaftSafetyChecker checker;
  checker.observe_sent(vote_grant(3, 1, 5, /*pre_vote=*/true));
  checker.observe_sent(vote_grant(3, 2, 5, /*pre_vote=*/true));
  checker.observe_sent(vote_request(3, 1, 5, /*pre_vote=*/true));
  checker.observe_sent(
      Message{NodeId(3), NodeId(1), Term(5), VoteResponse{.pre_vote = false, .granted = false}});
  checker.observe_sent(vote_grant(3, 2, 5));
  EXPECT_TRUE(checker.ok()) << *checker.violation();
}

TEST(CheckerTeeth, FirstViolationIsKept) {
  sim::RaftSafetyChecker checker;
  checker.observe_applied(NodeId(1), entry(1, 1, "a"), Term(1));
  checker.observe_applied(NodeId(2), entry(1, 1, "b"), Term(1));
  const Core a = make_solo_leader(1, 0);
  const Core b = make_solo_leader(2, 0);
  checker.observe({{NodeId(1), &a}, {NodeId(2), &b}});
  EXPECT_TRUE(mentions(checker.violation(), "state machine safety"))
      << checker.violation().value_or("(none)");
}

// ---------------------------------------------------------------------------
// 2. Targeted scenarios with an injected driver bug.

// Delivers the first queued message from `from` to `to` with body `Body`
// (and, for votes, the given pre-vote flag). Returns false if there is none,
// which is expected when the correct driver made the script diverge.
template <typename Body>
bool deliver_first(Cluster& c, uint64_t from, uint64_t to, std::optional<bool> pre_vote = std::nullopt) {
  auto& net = c.in_flight();
  for (size_t i = 0; i < net.size(); ++i) {
    const Message& m = net[i].message;
    const Body* body = std::get_if<Body>(&m.body);
    if (body == nullptr || m.from != NodeId(from) || m.to != NodeId(to)) continue;
    if constexpr (requires { body->pre_vote; }) {
      if (pre_vote.has_value() && body->pre_vote != *pre_vote) continue;
    }
    c.deliver(i);
    return true;
  }
  return false;
}

template <typename Body>
bool drop_first(Cluster& c, uint64_t from, uint64_t to) {
  auto& net = c.in_flight();
  for (size_t i = 0; i < net.size(); ++i) {
    const Message& m = net[i].message;
    if (std::holds_alternative<Body>(m.body) && m.from == NodeId(from) && m.to == NodeId(to)) {
      c.drop(i);
      return true;
    }
  }
  return false;
}

// Delivers everything in order, stopping at the first violation: after one,
// cores may hold states the core's own assertions reject.
void deliver_until_violation(Cluster& c) {
  for (int i = 0; i < 10000 && c.checker().ok() && c.deliver(0); ++i) {
  }
}

// n1 wins term 1 with n3's vote; n3 crashes; n2 then asks n3 for a vote in
// the same term. A driver that forgets the vote lets n3 grant it again, and
// n2 leads term 1 as well. The checker reports the second grant (vote
// safety) as it leaves n3, before n2 even counts it.
struct ForgetVoteOutcome {
  std::optional<std::string> violation;
  bool two_leaders_in_term_1 = false;
};

ForgetVoteOutcome forget_vote_scenario(InjectedBug bug) {
  Cluster c({.voters = 3, .bug = bug});
  c.campaign(NodeId(1));
  deliver_first<RequestVote>(c, 1, 3, /*pre_vote=*/true);
  deliver_first<VoteResponse>(c, 3, 1, /*pre_vote=*/true);
  deliver_first<RequestVote>(c, 1, 3, /*pre_vote=*/false);
  deliver_first<VoteResponse>(c, 3, 1, /*pre_vote=*/false);
  EXPECT_TRUE(c.core(NodeId(1)).is_leader()) << c.describe();
  c.drop_all();  // n2 hears nothing of term 1; n3 misses n1's no-op
  c.restart(NodeId(3));
  c.campaign(NodeId(2));
  deliver_first<RequestVote>(c, 2, 3, /*pre_vote=*/true);
  deliver_first<VoteResponse>(c, 3, 2, /*pre_vote=*/true);
  deliver_first<RequestVote>(c, 2, 3, /*pre_vote=*/false);
  deliver_first<VoteResponse>(c, 3, 2, /*pre_vote=*/false);
  const Core& n2 = c.core(NodeId(2));
  return {c.checker().violation(), n2.is_leader() && n2.term() == Term(1)};
}

TEST(CheckerTeeth, ForgottenVoteGivesTwoLeadersInOneTerm) {
  const ForgetVoteOutcome outcome = forget_vote_scenario(InjectedBug::kForgetVoteOnRestart);
  EXPECT_TRUE(mentions(outcome.violation, "vote safety: node 3 voted for 1 and for 2 in term 1"))
      << outcome.violation.value_or("(none)");
  EXPECT_TRUE(outcome.two_leaders_in_term_1);
  const ForgetVoteOutcome control = forget_vote_scenario(InjectedBug::kNone);
  EXPECT_FALSE(control.violation.has_value()) << *control.violation;
  EXPECT_FALSE(control.two_leaders_in_term_1);
}

// n2 writes only on demand. n1 replicates x to n2 alone; n2's ack is a
// promise that x is on its disk. A driver that sends it before the write
// lets n1 commit x, then n2's crash loses x and n2 helps n3, which never
// had x, win the next term.
std::optional<std::string> ack_before_persist_scenario(InjectedBug bug) {
  Cluster c({.voters = 3, .bug = bug});
  EXPECT_EQ(c.elect(NodeId(1)), NodeId(1)) << c.describe();
  c.tick_all();
  c.deliver_all();
  c.set_manual_persist(NodeId(2), true);
  EXPECT_TRUE(c.propose(NodeId(1), "x").status.ok());
  drop_first<AppendEntries>(c, 1, 3);
  deliver_first<AppendEntries>(c, 1, 2);
  deliver_first<AppendResponse>(c, 2, 1);
  c.restart(NodeId(2));  // x was never written
  c.set_manual_persist(NodeId(2), false);
  c.isolate(NodeId(1));
  c.campaign(NodeId(3));
  deliver_until_violation(c);
  return c.checker().violation();
}

TEST(CheckerTeeth, AckBeforePersistLosesACommittedEntry) {
  for (InjectedBug bug : {InjectedBug::kAckBeforePersist, InjectedBug::kAppendAckBeforePersist}) {
    const std::optional<std::string> violation = ack_before_persist_scenario(bug);
    EXPECT_TRUE(mentions(violation, "leader completeness"))
        << injected_bug_name(bug) << ": " << violation.value_or("(none)");
  }
  const std::optional<std::string> control = ack_before_persist_scenario(InjectedBug::kNone);
  EXPECT_FALSE(control.has_value()) << *control;
}

// ---------------------------------------------------------------------------
// 3. Search: the property suite's generator against each injected bug.

struct SearchOutcome {
  bool found = false;
  int cases = 0;  // cases run, including the failing one
  Schedule schedule;
  std::string violation;
};

// RapidCheck's default listener reports every failing property at exit;
// here failing is the expected outcome, so it is kept quiet.
class QuietListener : public rc::detail::TestListenerAdapter {};

// What is broken in a run: a driver bug, or leases run on drifting clocks.
struct Fault {
  InjectedBug bug = InjectedBug::kNone;
  bool lease_clock_drift = false;

  std::string name() const {
    return lease_clock_drift ? std::string("lease-clock-drift") : injected_bug_name(bug);
  }
};

std::optional<std::string> violation_with(const Fault& fault, const Schedule& schedule) {
  RunOptions options;
  options.bug = fault.bug;
  options.lease_clock_drift = fault.lease_clock_drift;
  options.check_liveness = false;  // a broken driver may also stall; only safety is asked here
  try {
    return run_schedule(schedule, options).violation;
  } catch (const std::logic_error& e) {  // a core assertion (sim/throwing_assertions.cc)
    return absl::StrCat("core assertion: ", e.what());
  }
}

// Runs a RapidCheck search over `mix` schedules with a fixed seed, so the
// outcome is reproducible, asserting only safety. RapidCheck's shrinking is
// off (it is unbounded, and long schedules made it take tens of seconds);
// the caller minimizes the counterexample with a bounded budget instead.
SearchOutcome search(const Fault& fault, const ScheduleMix& mix, int max_cases) {
  rc::detail::TestParams params;
  params.seed = 20260522;
  params.maxSuccess = max_cases;
  params.maxSize = 100;
  params.disableShrinking = true;
  rc::detail::TestMetadata metadata;
  metadata.id = absl::StrCat("teeth/", fault.name());
  metadata.description = metadata.id;
  SearchOutcome outcome;
  const auto property = [&] {
    ++outcome.cases;
    const Schedule schedule = *gen_schedule(mix);
    if (std::optional<std::string> violation = violation_with(fault, schedule)) {
      outcome.schedule = schedule;
      outcome.violation = *violation;
      RC_FAIL(*violation);
    }
  };
  QuietListener listener;
  const rc::detail::TestResult result = rc::detail::checkTestable(property, metadata, params, listener);
  outcome.found = result.template is<rc::detail::FailureResult>();
  return outcome;
}

// The first line of a violation names the property.
std::string property_of(const std::string& violation) { return violation.substr(0, violation.find(':')); }

// The search with the fault must fail within `budget` cases with one of
// `properties`; the same search, as many cases, without it must not.
void expect_search_finds(const Fault& fault, const ScheduleMix& mix, int budget,
                         const std::vector<std::string_view>& properties) {
  const SearchOutcome found = search(fault, mix, budget);
  ASSERT_TRUE(found.found) << fault.name() << ": no violation in " << budget << " cases";
  const std::string property = property_of(found.violation);
  EXPECT_TRUE(std::find(properties.begin(), properties.end(), property) != properties.end())
      << found.violation;

  // Minimize while the same property is violated, and check the result
  // replays from its fuzzer bytes and is clean without the fault.
  const Schedule minimal = minimize_schedule(found.schedule, [&](const Schedule& s) {
    const std::optional<std::string> v = violation_with(fault, s);
    return v.has_value() && property_of(*v) == property;
  });
  const std::optional<std::string> minimal_violation = violation_with(fault, from_bytes(to_bytes(minimal)));
  ASSERT_TRUE(minimal_violation.has_value());
  EXPECT_EQ(property_of(*minimal_violation), property);
  EXPECT_FALSE(violation_with(Fault{}, minimal).has_value());

  // Printed for the test log: how quickly the search bites, and a short
  // schedule it bites with.
  std::cout << "[teeth] " << fault.name() << ": " << property << " after " << found.cases << " cases ("
            << found.schedule.actions.size() << " actions, minimized to " << minimal.actions.size() << ")\n"
            << *minimal_violation << "\n"
            << describe(minimal) << std::endl;

  const SearchOutcome control = search(Fault{}, mix, found.cases);
  EXPECT_FALSE(control.found) << "the same search without the fault failed: " << control.violation << "\n"
                              << describe(control.schedule);
}

TEST(CheckerTeeth, SearchFindsForgottenVotes) {
  expect_search_finds({.bug = InjectedBug::kForgetVoteOnRestart}, ScheduleMix::election_heavy(), 3000,
                      {"vote safety", "election safety"});
}

TEST(CheckerTeeth, SearchFindsAcksBeforePersist) {
  // Acks and vote grants both travel in messages_after_persist: the search
  // may find a lost vote (two grants or two leaders in a term) or a lost
  // entry (a committed entry missing from a later leader or applied
  // differently).
  expect_search_finds({.bug = InjectedBug::kAckBeforePersist}, ScheduleMix::crash_heavy(), 3000,
                      {"vote safety", "election safety", "leader completeness", "state machine safety"});
}

TEST(CheckerTeeth, SearchFindsAppendAcksBeforePersist) {
  // Votes are handled right here, so what the search must find is the lost
  // committed entry itself. Rarer: one schedule in a few hundred (from 4 to
  // 2400 cases over eight seeds), hence the larger budget.
  expect_search_finds({.bug = InjectedBug::kAppendAckBeforePersist}, ScheduleMix::crash_heavy(), 6000,
                      {"leader completeness", "state machine safety", "proposal result"});
}

// Leases are only as good as their clock assumption. n1 leads with a lease;
// a partition cuts it off; n2 and n3 tick on and elect a new leader, which
// commits its no-op, while n1's clock stands still (its lease still runs).
// A read at n1 is then answered from its lease below what is committed:
// the read-linearizability check must catch it. With lockstep clocks (what
// lease schedules normally do) n1's lease runs out first and all is well.
// The core is not at fault here; this proves the read check bites.
TEST(CheckerTeeth, StaleLeaseReadOnDriftingClocksIsCaught) {
  Schedule s;
  s.nodes = 3;
  s.seed = 1;
  s.election_timeout_ticks = 6;
  s.lease_reads = true;
  auto add = [&](ActionKind kind, uint8_t a = 0, uint8_t b = 0) { s.actions.push_back(Action{kind, a, b}); };
  add(ActionKind::kTickAll, 0, 2);  // past the post-boot quiet period of lease voters
  add(ActionKind::kTickAll, 0, 2);
  add(ActionKind::kCampaign, 0);
  add(ActionKind::kDeliverAll, 100);
  add(ActionKind::kTickAll);
  add(ActionKind::kDeliverAll, 100);
  add(ActionKind::kPropose, 0, 1);
  add(ActionKind::kDeliverAll, 100);
  add(ActionKind::kTickAll);  // a heartbeat round a quorum answers: n1's lease
  add(ActionKind::kDeliverAll, 100);
  add(ActionKind::kPartition, 1);  // n1 alone
  for (int i = 0; i < 16; ++i) {
    add(ActionKind::kTick, 1);
    add(ActionKind::kDeliverAll, 100);
    add(ActionKind::kTick, 2);
    add(ActionKind::kDeliverAll, 100);
  }
  add(ActionKind::kReadIndex, 0);

  RunOptions drifting;
  drifting.lease_clock_drift = true;
  const RunResult stale = run_schedule(s, drifting);
  EXPECT_TRUE(mentions(stale.violation, "read linearizability: node 1"))
      << stale.violation.value_or("(none)");

  const RunResult lockstep = run_schedule(s);
  EXPECT_TRUE(lockstep.ok()) << lockstep.violation.value_or("") << lockstep.liveness_failure.value_or("");
}

}  // namespace
}  // namespace reef::raft::testing
