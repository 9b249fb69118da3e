// Quorum arithmetic (raft/core/quorum.h, raft/core/membership.h) against brute-force
// references that follow the definitions word for word:
//
//  - committed value: the largest v such that a majority of the incoming
//    voters AND a majority of the outgoing voters acknowledged >= v (an
//    empty set is a vacuous "yes"; unknown counts as 0);
//  - vote result: try every way the missing votes could still go; Won if
//    every way wins both majorities, Lost if none does, Pending otherwise.
//
// Learners are handed generous values and grants by the callbacks; the
// references never look at them, so any influence they had would show.
#include "raft/core/quorum.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "raft/core/membership.h"
#include "tests/raft/support/rapidcheck_defaults.h"

namespace reef::raft::testing {
namespace {

const bool kRapidCheckDefaults = (set_rapidcheck_defaults(500, 20260522), true);

// Node ids 1..kUniverse; more than 7 so that MajorityConfig's inline buffer
// and its heap fallback are both exercised.
constexpr int kUniverse = 10;

std::vector<NodeId> ids_of_mask(uint32_t mask) {
  std::vector<NodeId> ids;
  for (int i = 1; i <= kUniverse; ++i) {
    if ((mask >> (i - 1)) & 1u) ids.push_back(NodeId(i));
  }
  return ids;
}

// `acks[i]` is node i's value; negative means unknown.
using Acks = std::vector<int>;
// `votes[i]` is node i's vote: 1 granted, 0 rejected, negative missing.
using Votes = std::vector<int>;

std::optional<uint64_t> ack_of(const Acks& acks, NodeId id) {
  const int v = acks.at(id.value());
  return v < 0 ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(v));
}

std::optional<bool> vote_of(const Votes& votes, NodeId id) {
  const int v = votes.at(id.value());
  return v < 0 ? std::nullopt : std::optional<bool>(v == 1);
}

bool majority_at_least(const std::vector<NodeId>& set, const Acks& acks, uint64_t v) {
  if (set.empty()) return true;
  size_t count = 0;
  for (NodeId id : set) count += ack_of(acks, id).value_or(0) >= v ? 1 : 0;
  return 2 * count > set.size();
}

uint64_t reference_committed(const std::vector<NodeId>& incoming, const std::vector<NodeId>& outgoing,
                             const Acks& acks) {
  std::vector<uint64_t> candidates = {0, UINT64_MAX};
  for (int v : acks) {
    if (v >= 0) candidates.push_back(static_cast<uint64_t>(v));
  }
  uint64_t best = 0;
  for (uint64_t v : candidates) {
    if (majority_at_least(incoming, acks, v) && majority_at_least(outgoing, acks, v))
      best = std::max(best, v);
  }
  return best;
}

bool wins(const std::vector<NodeId>& set, const Votes& votes) {
  if (set.empty()) return true;
  size_t granted = 0;
  for (NodeId id : set) granted += vote_of(votes, id) == true ? 1 : 0;
  return 2 * granted > set.size();
}

VoteResult reference_vote(const std::vector<NodeId>& incoming, const std::vector<NodeId>& outgoing,
                          const Votes& votes) {
  std::vector<NodeId> missing;
  for (int i = 1; i <= kUniverse; ++i) {
    const NodeId id(i);
    const bool voter = std::find(incoming.begin(), incoming.end(), id) != incoming.end() ||
                       std::find(outgoing.begin(), outgoing.end(), id) != outgoing.end();
    if (voter && !vote_of(votes, id).has_value()) missing.push_back(id);
  }
  size_t winning = 0;
  const size_t ways = size_t{1} << missing.size();
  for (size_t way = 0; way < ways; ++way) {
    Votes filled = votes;
    for (size_t j = 0; j < missing.size(); ++j) filled[missing[j].value()] = (way >> j) & 1u ? 1 : 0;
    winning += wins(incoming, filled) && wins(outgoing, filled) ? 1 : 0;
  }
  if (winning == ways) return VoteResult::kWon;
  if (winning == 0) return VoteResult::kLost;
  return VoteResult::kPending;
}

const char* name(VoteResult r) {
  switch (r) {
    case VoteResult::kPending: return "pending";
    case VoteResult::kLost: return "lost";
    case VoteResult::kWon: return "won";
  }
  return "?";
}

Configuration joint(std::vector<NodeId> incoming, std::vector<NodeId> outgoing,
                    std::vector<NodeId> learners) {
  Configuration c = Configuration::of_voters(std::move(incoming), std::move(learners));
  c.outgoing_voters = MajorityConfig(std::move(outgoing));
  return c;
}

uint64_t committed(const Configuration& c, const Acks& acks) {
  return c.committed_value([&](NodeId id) { return ack_of(acks, id); });
}

VoteResult vote(const Configuration& c, const Votes& votes) {
  return c.vote_result([&](NodeId id) { return vote_of(votes, id); });
}

// Values small enough for ties; -1 (unknown) about one time in five.
rc::Gen<Acks> gen_acks() {
  return rc::gen::container<Acks>(
      kUniverse + 1, rc::gen::weightedOneOf<int>({{1, rc::gen::just(-1)}, {4, rc::gen::inRange(0, 8)}}));
}

rc::Gen<Votes> gen_votes() { return rc::gen::container<Votes>(kUniverse + 1, rc::gen::element(-1, 0, 1)); }

rc::Gen<uint32_t> gen_mask() { return rc::gen::inRange<uint32_t>(0, 1u << kUniverse); }

RC_GTEST_PROP(Quorum, MajorityCommittedValueMatchesReference, ()) {
  const auto voters = ids_of_mask(*gen_mask());
  const Acks acks = *gen_acks();
  const MajorityConfig config(voters);
  RC_ASSERT(config.committed_value([&](NodeId id) { return ack_of(acks, id); }) ==
            reference_committed(voters, {}, acks));
}

RC_GTEST_PROP(Quorum, MajorityVoteResultMatchesReference, ()) {
  const auto voters = ids_of_mask(*gen_mask());
  const Votes votes = *gen_votes();
  const MajorityConfig config(voters);
  const VoteResult got = config.vote_result([&](NodeId id) { return vote_of(votes, id); });
  const VoteResult want = reference_vote(voters, {}, votes);
  RC_ASSERT(got == want);
}

RC_GTEST_PROP(Quorum, MajorityConfigIsSortedAndUnique, (std::vector<uint8_t> raw)) {
  std::vector<NodeId> ids;
  for (uint8_t r : raw) ids.push_back(NodeId(1 + r % kUniverse));
  const MajorityConfig config(ids);
  RC_ASSERT(std::is_sorted(config.voters().begin(), config.voters().end()));
  RC_ASSERT(std::adjacent_find(config.voters().begin(), config.voters().end()) == config.voters().end());
  for (NodeId id : ids) RC_ASSERT(config.contains(id));
  RC_ASSERT(config.quorum_size() == config.size() / 2 + 1);
}

// Joint configurations: incoming and outgoing voter sets drawn
// independently, so they may be empty, disjoint, overlapping or equal;
// learners are the members of a third mask that vote in neither set.
RC_GTEST_PROP(Quorum, JointCommittedValueMatchesReference, ()) {
  const uint32_t in_mask = *gen_mask();
  const uint32_t out_mask = *rc::gen::weightedOneOf<uint32_t>(
      {{1, rc::gen::just(0u)}, {1, rc::gen::just(in_mask)}, {4, gen_mask()}});
  const uint32_t learner_mask = *gen_mask() & ~(in_mask | out_mask);
  const Acks acks = *gen_acks();
  const Configuration c = joint(ids_of_mask(in_mask), ids_of_mask(out_mask), ids_of_mask(learner_mask));
  RC_ASSERT(committed(c, acks) == reference_committed(ids_of_mask(in_mask), ids_of_mask(out_mask), acks));
}

RC_GTEST_PROP(Quorum, JointVoteResultMatchesReference, ()) {
  const uint32_t in_mask = *gen_mask();
  const uint32_t out_mask = *rc::gen::weightedOneOf<uint32_t>(
      {{1, rc::gen::just(0u)}, {1, rc::gen::just(in_mask)}, {4, gen_mask()}});
  const uint32_t learner_mask = *gen_mask() & ~(in_mask | out_mask);
  const Votes votes = *gen_votes();
  const Configuration c = joint(ids_of_mask(in_mask), ids_of_mask(out_mask), ids_of_mask(learner_mask));
  const VoteResult got = vote(c, votes);
  const VoteResult want = reference_vote(ids_of_mask(in_mask), ids_of_mask(out_mask), votes);
  if (got != want) RC_FAIL(std::string("got ") + name(got) + ", want " + name(want) + " for " + c.describe());
}

// Learners never count, whatever they report.
RC_GTEST_PROP(Quorum, LearnersNeverCount, ()) {
  const uint32_t in_mask = *rc::gen::inRange<uint32_t>(1, 1u << kUniverse);
  const uint32_t learner_mask = *gen_mask() & ~in_mask;
  Acks acks = *gen_acks();
  Votes votes = *gen_votes();
  const Configuration c = joint(ids_of_mask(in_mask), {}, ids_of_mask(learner_mask));
  const uint64_t before_commit = committed(c, acks);
  const VoteResult before_vote = vote(c, votes);
  for (NodeId id : ids_of_mask(learner_mask)) {
    acks[id.value()] = 1000;
    votes[id.value()] = 1;
  }
  RC_ASSERT(committed(c, acks) == before_commit);
  RC_ASSERT(vote(c, votes) == before_vote);
}

// A few cases worked out by hand, so the references are checked too.
Acks acks_of(std::initializer_list<std::pair<int, int>> values) {
  Acks acks(kUniverse + 1, -1);
  for (auto [id, v] : values) acks[id] = v;
  return acks;
}

Votes votes_of(std::initializer_list<std::pair<int, int>> values) {
  Votes votes(kUniverse + 1, -1);
  for (auto [id, v] : values) votes[id] = v;
  return votes;
}

std::vector<NodeId> ids(std::initializer_list<int> list) {
  std::vector<NodeId> out;
  for (int i : list) out.push_back(NodeId(i));
  return out;
}

TEST(QuorumTable, CommittedValue) {
  struct Case {
    const char* what;
    std::vector<NodeId> in, out, learners;
    Acks acks;
    uint64_t want;
  };
  const std::vector<Case> cases = {
      {"3 voters: the median", ids({1, 2, 3}), {}, {}, acks_of({{1, 5}, {2, 3}, {3, 1}}), 3},
      {"4 voters need 3", ids({1, 2, 3, 4}), {}, {}, acks_of({{1, 5}, {2, 4}, {3, 3}, {4, 2}}), 3},
      {"unknown counts as 0", ids({1, 2, 3}), {}, {}, acks_of({{1, 5}}), 0},
      {"single voter", ids({4}), {}, {}, acks_of({{4, 9}}), 9},
      {"empty config never holds back", {}, {}, {}, acks_of({}), UINT64_MAX},
      {"8 voters (heap path) need 5",
       ids({1, 2, 3, 4, 5, 6, 7, 8}),
       {},
       {},
       acks_of({{1, 8}, {2, 7}, {3, 6}, {4, 5}, {5, 4}, {6, 3}, {7, 2}, {8, 1}}),
       4},
      {"joint: outgoing is the minimum",
       ids({1, 2, 3}),
       ids({3, 4, 5}),
       {},
       acks_of({{1, 10}, {2, 10}, {3, 1}, {4, 7}, {5, 7}}),
       7},
      {"joint: outgoing pair needs both",
       ids({1, 2, 3}),
       ids({4, 5}),
       {},
       acks_of({{1, 9}, {2, 9}, {3, 9}, {4, 9}}),
       0},
      {"joint: same sets", ids({1, 2, 3}), ids({1, 2, 3}), {}, acks_of({{1, 4}, {2, 6}, {3, 2}}), 4},
      {"learners ignored",
       ids({1, 2, 3}),
       {},
       ids({4, 5}),
       acks_of({{1, 1}, {2, 1}, {3, 1}, {4, 9}, {5, 9}}),
       1},
  };
  for (const Case& c : cases) {
    const Configuration config = joint(c.in, c.out, c.learners);
    EXPECT_EQ(committed(config, c.acks), c.want) << c.what;
    EXPECT_EQ(reference_committed(c.in, c.out, c.acks), c.want) << "reference: " << c.what;
  }
}

TEST(QuorumTable, VoteResult) {
  struct Case {
    const char* what;
    std::vector<NodeId> in, out, learners;
    Votes votes;
    VoteResult want;
  };
  const std::vector<Case> cases = {
      {"self only so far", ids({1, 2, 3}), {}, {}, votes_of({{1, 1}}), VoteResult::kPending},
      {"two of three", ids({1, 2, 3}), {}, {}, votes_of({{1, 1}, {2, 1}}), VoteResult::kWon},
      {"two rejections of three", ids({1, 2, 3}), {}, {}, votes_of({{1, 0}, {2, 0}}), VoteResult::kLost},
      {"split 2-2 of four",
       ids({1, 2, 3, 4}),
       {},
       {},
       votes_of({{1, 1}, {2, 1}, {3, 0}, {4, 0}}),
       VoteResult::kLost},
      {"2-1 of four, one missing",
       ids({1, 2, 3, 4}),
       {},
       {},
       votes_of({{1, 1}, {2, 1}, {3, 0}}),
       VoteResult::kPending},
      {"empty config has won", {}, {}, {}, votes_of({}), VoteResult::kWon},
      {"joint: outgoing lost",
       ids({1, 2, 3}),
       ids({4, 5, 6}),
       {},
       votes_of({{1, 1}, {2, 1}, {4, 0}, {5, 0}}),
       VoteResult::kLost},
      {"joint: outgoing pending",
       ids({1, 2, 3}),
       ids({4, 5, 6}),
       {},
       votes_of({{1, 1}, {2, 1}, {4, 1}}),
       VoteResult::kPending},
      {"joint: both won via overlap",
       ids({1, 2, 3}),
       ids({2, 3, 4}),
       {},
       votes_of({{2, 1}, {3, 1}}),
       VoteResult::kWon},
      {"learner grants do not count",
       ids({1, 2, 3}),
       {},
       ids({4, 5}),
       votes_of({{1, 1}, {4, 1}, {5, 1}}),
       VoteResult::kPending},
  };
  for (const Case& c : cases) {
    const Configuration config = joint(c.in, c.out, c.learners);
    EXPECT_EQ(vote(config, c.votes), c.want) << c.what;
    EXPECT_EQ(reference_vote(c.in, c.out, c.votes), c.want) << "reference: " << c.what;
  }
}

}  // namespace
}  // namespace reef::raft::testing
