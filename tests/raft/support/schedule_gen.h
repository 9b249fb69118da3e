// RapidCheck generators for schedules (tests/raft/support/schedule.h),
// shared by the property suite and the checker's teeth tests. Header-only so
// that reef_raft_testing itself does not depend on RapidCheck.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "tests/raft/support/schedule.h"

namespace reef::raft::testing {

// What a generated schedule is made of.
struct ScheduleMix {
  std::array<uint32_t, kActionKinds> weights{};  // per ActionKind; 0 = never
  bool all_manual_persist = false;               // otherwise a random subset
  bool all_lease_reads = false;                  // otherwise one schedule in four
  // Schedules hold up to 5 * size actions (500 at RapidCheck's default
  // max_size), but lengths are drawn as if size were at least min_size:
  // short runs rarely get past the first election.
  int min_size = 40;

  // action_kind_weight() for every kind: mostly traffic, faults now and then.
  static ScheduleMix balanced() {
    ScheduleMix mix;
    for (uint8_t k = 0; k < kActionKinds; ++k)
      mix.weights[k] = action_kind_weight(static_cast<ActionKind>(k));
    return mix;
  }
  // Every node writes only when told to and crashes are frequent: restarts
  // lose whatever was not persisted, where durability-order bugs show.
  static ScheduleMix crash_heavy() {
    ScheduleMix mix = balanced();
    for (ActionKind k : {ActionKind::kRestart, ActionKind::kPersist, ActionKind::kCampaign}) {
      mix.weights[static_cast<uint8_t>(k)] *= 4;
    }
    // Membership changes would only dilute the crashes; balanced() has them.
    mix.weights[static_cast<uint8_t>(ActionKind::kMembership)] = 0;
    mix.all_manual_persist = true;
    return mix;
  }
  // Competing candidates, crashes and reordered votes; no client traffic.
  // Two candidates asking the same voter in one term is what a lost vote
  // needs, and proposals only dilute that.
  static ScheduleMix election_heavy() {
    ScheduleMix mix;
    auto set = [&](ActionKind k, uint32_t w) { mix.weights[static_cast<uint8_t>(k)] = w; };
    set(ActionKind::kDeliver, 30);
    set(ActionKind::kReorder, 8);
    set(ActionKind::kDrop, 3);
    set(ActionKind::kDeliverAll, 4);
    set(ActionKind::kTick, 6);
    set(ActionKind::kTickAll, 3);
    set(ActionKind::kCampaign, 15);
    set(ActionKind::kRestart, 10);
    set(ActionKind::kPersist, 6);
    set(ActionKind::kPartition, 4);
    set(ActionKind::kHeal, 2);
    return mix;
  }

  uint32_t weight(ActionKind k) const { return weights[static_cast<uint8_t>(k)]; }
};

inline rc::Gen<ActionKind> gen_action_kind(const ScheduleMix& mix) {
  // RapidCheck shrinks an element towards the first entries, so traffic
  // comes first and faults last.
  constexpr ActionKind kShrinkOrder[] = {
      ActionKind::kDeliver,   ActionKind::kDeliverAll, ActionKind::kTickAll,  ActionKind::kTick,
      ActionKind::kPropose,   ActionKind::kPersist,    ActionKind::kDrop,     ActionKind::kDuplicate,
      ActionKind::kReorder,   ActionKind::kReadIndex,  ActionKind::kCampaign, ActionKind::kRestart,
      ActionKind::kPartition, ActionKind::kHeal,       ActionKind::kCompact,  ActionKind::kTransfer,
      ActionKind::kMembership,
  };
  static_assert(std::size(kShrinkOrder) == kActionKinds);
  std::vector<std::pair<size_t, rc::Gen<ActionKind>>> choices;
  for (ActionKind k : kShrinkOrder) {
    if (mix.weight(k) > 0) choices.emplace_back(mix.weight(k), rc::gen::just(k));
  }
  // A weighted pick that shrinks towards the front of the order.
  size_t total = 0;
  for (const auto& c : choices) total += c.first;
  return rc::gen::mapcat(rc::gen::inRange<size_t>(0, total), [choices](size_t pick) {
    for (const auto& [w, gen] : choices) {
      if (pick < w) return gen;
      pick -= w;
    }
    return choices.back().second;
  });
}

inline rc::Gen<uint8_t> gen_byte() { return rc::gen::cast<uint8_t>(rc::gen::inRange<int>(0, 256)); }

inline rc::Gen<Action> gen_action(const ScheduleMix& mix) {
  return rc::gen::apply(
      [](ActionKind kind, uint8_t a, uint8_t b) {
        return Action{kind, a, b};
      },
      gen_action_kind(mix), gen_byte(), gen_byte());
}

inline rc::Gen<Schedule> gen_schedule(const ScheduleMix& mix) {
  return rc::gen::apply(
      [all_manual = mix.all_manual_persist, all_lease = mix.all_lease_reads](
          int nodes, int learners, uint8_t seed, int timeout, bool pre_vote, bool check_quorum, bool tight,
          bool lease, uint8_t mask, std::vector<Action> actions) {
        Schedule s;
        s.nodes = static_cast<uint8_t>(nodes);
        s.learners = static_cast<uint8_t>(learners);
        s.seed = seed;
        s.election_timeout_ticks = static_cast<uint8_t>(timeout);
        s.pre_vote = pre_vote;
        s.check_quorum = check_quorum;
        s.tight_flow_control = tight;
        s.lease_reads = lease || all_lease;
        if (s.lease_reads) s.check_quorum = true;
        s.manual_persist_mask =
            static_cast<uint8_t>((all_manual ? 0xff : mask) & ((1u << (nodes + learners)) - 1));
        s.actions = std::move(actions);
        return s;
      },
      rc::gen::inRange(3, 6), rc::gen::weightedElement<int>({{3, 0}, {1, 1}}), gen_byte(),
      rc::gen::inRange(3, 7), rc::gen::weightedElement<bool>({{3, true}, {1, false}}),
      rc::gen::weightedElement<bool>({{3, true}, {1, false}}),
      rc::gen::weightedElement<bool>({{1, true}, {3, false}}),
      rc::gen::weightedElement<bool>({{1, true}, {3, false}}), gen_byte(), rc::gen::withSize([mix](int size) {
        return rc::gen::resize(std::max(size, mix.min_size),
                               rc::gen::scale(5.0, rc::gen::container<std::vector<Action>>(gen_action(mix))));
      }));
}

}  // namespace reef::raft::testing
