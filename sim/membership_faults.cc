#include "sim/membership_faults.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace reef::sim {
namespace {

using raft::Configuration;
using raft::MembershipChange;
using raft::MembershipOp;
using raft::NodeId;

// A client's patience with one change (the node's deadline, plus a margin
// of simulated time for a node that died and will never answer).
constexpr uint64_t kChangeTimeoutMs = 3000;
constexpr uint64_t kClientMarginUs = 200'000;
// Voter counts the schedule keeps to: at least three, so that one crash
// never stops the cluster for good, and at most five.
constexpr size_t kMinVoters = 3;
constexpr size_t kMaxVoters = 5;

}  // namespace

MembershipFaults::MembershipFaults(SimCluster& cluster, const RunConfig& config, uint64_t seed)
    : cluster_(cluster), config_(config), rng_(seed) {}

void MembershipFaults::start() {
  active_ = true;
  schedule_next();
}

void MembershipFaults::schedule_next() {
  const FaultPlan& f = config_.faults;
  const uint64_t delay_ms = rng_.between(f.membership_interval_min_ms, f.membership_interval_max_ms);
  cluster_.scheduler().schedule_after(delay_ms * 1000, "membership fault", [this] {
    if (!active_) return;
    act();
    schedule_next();
  });
}

std::string MembershipFaults::now_text() const {
  return absl::StrFormat("%.3fs", static_cast<double>(cluster_.scheduler().now_us()) / 1e6);
}

void MembershipFaults::act() {
  retire_removed();
  SimNode* leader = cluster_.leader();
  if (leader == nullptr) return;  // nothing to read the configuration from; next round
  const raft::Core& core = leader->node()->core();
  const Configuration latest = core.configuration_at(core.log().last_index());
  for (NodeId id : latest.members()) offered_.erase(id);
  // A change drawn against a joint configuration is planned, as the core
  // plans it, from the configuration the joint phase leads to.
  std::optional<Draw> d = draw(latest.is_joint() ? raft::leave_joint(latest) : latest);
  if (d) submit(*std::move(d));
}

NodeId MembershipFaults::pick(const std::vector<NodeId>& from, std::optional<NodeId> prefer) {
  if (prefer && std::find(from.begin(), from.end(), *prefer) != from.end() && rng_.chance(1, 2)) return *prefer;
  return from[rng_.below(from.size())];
}

std::optional<NodeId> MembershipFaults::fresh_node(const Configuration& configuration, std::set<NodeId>& taken) {
  for (NodeId id : offered_) {
    if (!taken.contains(id) && !configuration.is_member(id) && !cluster_.node(id).retired()) {
      taken.insert(id);
      return id;
    }
  }
  if (cluster_.ids().size() >= config_.faults.membership_max_nodes) return std::nullopt;
  const NodeId id = cluster_.add_node().id();
  offered_.insert(id);
  taken.insert(id);
  ++counts_["membership-new-node"];
  return id;
}

std::optional<MembershipFaults::Draw> MembershipFaults::draw(const Configuration& c) {
  const std::vector<NodeId>& voters = c.voters.voters();
  const std::vector<NodeId>& learners = c.learners;
  SimNode* leader_node = cluster_.leader();
  const std::optional<NodeId> leader =
      leader_node != nullptr ? std::optional<NodeId>(leader_node->id()) : std::nullopt;
  std::set<NodeId> taken;
  auto other_voter = [&](NodeId not_this) {
    std::vector<NodeId> rest;
    for (NodeId v : voters) {
      if (v != not_this) rest.push_back(v);
    }
    return pick(rest, std::nullopt);
  };
  const MembershipMix& m = config_.faults.membership_mix;
  const uint32_t weights[] = {m.add_learner, m.add_voter,    m.promote, m.demote, m.remove_voter,
                              m.remove_learner, m.replace, m.swap,    m.grow,   m.shrink};
  uint64_t total = 0;
  for (uint32_t w : weights) total += w;
  if (total == 0) return std::nullopt;
  uint64_t roll = rng_.below(total);
  size_t kind = 0;
  while (roll >= weights[kind]) roll -= weights[kind++];
  switch (kind) {
    case 0:
      if (std::optional<NodeId> d = fresh_node(c, taken)) {
        return Draw{"add-learner", {{MembershipOp::kAddLearner, *d}}};
      }
      return std::nullopt;
    case 1:
      if (voters.size() >= kMaxVoters) return std::nullopt;
      if (std::optional<NodeId> d = fresh_node(c, taken)) return Draw{"add-voter", {{MembershipOp::kAddVoter, *d}}};
      return std::nullopt;
    case 2:
      if (learners.empty() || voters.size() >= kMaxVoters) return std::nullopt;
      return Draw{"promote", {{MembershipOp::kAddVoter, pick(learners, std::nullopt)}}};
    case 3:
      if (voters.size() <= kMinVoters) return std::nullopt;
      return Draw{"demote", {{MembershipOp::kAddLearner, pick(voters, leader)}}};
    case 4:
      if (voters.size() <= kMinVoters) return std::nullopt;
      return Draw{"remove-voter", {{MembershipOp::kRemove, pick(voters, leader)}}};
    case 5:
      if (learners.empty()) return std::nullopt;
      return Draw{"remove-learner", {{MembershipOp::kRemove, pick(learners, std::nullopt)}}};
    case 6: {  // a dead machine replaced in one step
      const NodeId a = pick(voters, leader);
      if (std::optional<NodeId> d = fresh_node(c, taken)) {
        return Draw{"replace", {{MembershipOp::kRemove, a}, {MembershipOp::kAddVoter, *d}}};
      }
      return std::nullopt;
    }
    case 7: {  // a learner takes a voter's place; the voter stays as a learner
      if (learners.empty()) return std::nullopt;
      const NodeId a = pick(voters, leader);
      return Draw{"swap", {{MembershipOp::kAddLearner, a}, {MembershipOp::kAddVoter, pick(learners, std::nullopt)}}};
    }
    case 8: {  // 3 -> 5
      if (voters.size() + 2 > kMaxVoters) return std::nullopt;
      std::optional<NodeId> d = fresh_node(c, taken);
      std::optional<NodeId> e = d ? fresh_node(c, taken) : std::nullopt;
      if (!e) return std::nullopt;
      return Draw{"grow", {{MembershipOp::kAddVoter, *d}, {MembershipOp::kAddVoter, *e}}};
    }
    default: {  // 5 -> 3
      if (voters.size() < kMinVoters + 2) return std::nullopt;
      const NodeId a = pick(voters, leader);
      return Draw{"shrink", {{MembershipOp::kRemove, a}, {MembershipOp::kRemove, other_voter(a)}}};
    }
  }
}

void MembershipFaults::submit(Draw d) {
  const std::vector<NodeId>& ids = cluster_.ids();
  SimNode& target = cluster_.node(ids[rng_.below(ids.size())]);
  ++counts_[absl::StrCat("membership-", d.kind)];
  const size_t line = schedule_.size();
  schedule_.push_back(absl::StrCat(now_text(), " ", d.kind, " (", raft::describe(d.changes), ") via n",
                                   target.id().value(), ": "));
  raft::ClientRequest request;
  request.kind = raft::RequestKind::kMembershipChange;
  request.membership = d.changes;
  request.deadline_ms = target.clock().now_ms() + kChangeTimeoutMs;
  auto live = std::make_shared<bool>(true);
  cluster_.scheduler().schedule_after(kChangeTimeoutMs * 1000 + kClientMarginUs, "membership change timeout",
                                      [this, live, line] {
                                        if (!*live) return;
                                        *live = false;
                                        absl::StrAppend(&schedule_[line], "no answer at ", now_text());
                                      });
  target.submit(std::move(request), [this, live, line, changes = std::move(d.changes)](raft::ClientResponse r) {
    if (!*live) return;
    *live = false;
    on_answer(line, changes, r);
  });
}

void MembershipFaults::on_answer(size_t line, const std::vector<MembershipChange>& changes,
                                 const raft::ClientResponse& r) {
  if (r.status.code() == absl::StatusCode::kDeadlineExceeded) {
    // Like a write that timed out: it may still take effect.
    absl::StrAppend(&schedule_[line], "outcome unknown at ", now_text(), " (", r.status.message(), ")");
    ++counts_["membership-unknown"];
    return;
  }
  if (!r.status.ok()) {
    absl::StrAppend(&schedule_[line], "refused at ", now_text(), " (", r.status.message(), ")");
    ++counts_["membership-refused"];
    return;
  }
  absl::StrAppend(&schedule_[line], "ok at ", now_text(), " -> ", r.response);
  ++counts_["membership-change"];
  // The change is committed now: at or below the answering node's applied
  // index, or else the current leader's commit index.
  raft::Index at = r.applied;
  if (SimNode* leader = cluster_.leader()) at = std::max(at, leader->node()->core().log().committed());
  for (const MembershipChange& c : changes) {
    if (c.op == MembershipOp::kRemove) removed_.emplace(c.node, at);
  }
}

// A removed node is shut down once it can matter to no quorum again: a
// leader's committed configuration at or past its removal is not joint and
// leaves it out.
void MembershipFaults::retire_removed() {
  SimNode* leader = cluster_.leader();
  if (leader == nullptr || removed_.empty()) return;
  const raft::Core& core = leader->node()->core();
  const raft::Index commit = core.log().committed();
  const Configuration& committed = core.configuration_at(commit);
  if (committed.is_joint()) return;
  for (auto it = removed_.begin(); it != removed_.end();) {
    const auto [id, at] = *it;
    if (commit < at || committed.is_member(id)) {
      ++it;
      continue;
    }
    if (!cluster_.node(id).retired()) {
      cluster_.retire(id);
      ++counts_["membership-retire"];
      schedule_.push_back(absl::StrCat(now_text(), " n", id.value(), " shut down (removed)"));
    }
    it = removed_.erase(it);
  }
}

}  // namespace reef::sim
