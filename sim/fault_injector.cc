#include "sim/fault_injector.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace reef::sim {

FaultInjector::FaultInjector(SimCluster& cluster, const RunConfig& config, uint64_t seed,
                             std::function<void(raft::NodeId)> on_restart)
    : cluster_(cluster), config_(config), rng_(seed), on_restart_(std::move(on_restart)) {}

void FaultInjector::start() {
  active_ = true;
  schedule_next();
}

void FaultInjector::schedule_next() {
  const uint64_t delay_ms = rng_.between(config_.faults.interval_min_ms, config_.faults.interval_max_ms);
  cluster_.scheduler().schedule_after(delay_ms * 1000, "fault", [this] {
    if (!active_) return;
    inject();
    restart_stopped_nodes();
    schedule_next();
  });
}

raft::NodeId FaultInjector::random_node() { return cluster_.ids()[rng_.below(cluster_.ids().size())]; }

void FaultInjector::inject() {
  std::vector<void (FaultInjector::*)()> actions;
  if (config_.faults.crashes) actions.push_back(&FaultInjector::crash_one);
  if (config_.faults.pauses) actions.push_back(&FaultInjector::pause_one);
  if (config_.faults.partitions) actions.push_back(&FaultInjector::partition);
  if (actions.empty()) return;
  (this->*actions[rng_.below(actions.size())])();
}

void FaultInjector::crash_one() {
  // Leaders are the interesting victims; pick one half the time.
  SimNode* leader = cluster_.leader();
  SimNode& victim = leader != nullptr && rng_.chance(1, 2) ? *leader : cluster_.node(random_node());
  if (!victim.up()) return;
  const bool interrupt = config_.faults.interrupt_writes && rng_.chance(1, 2);
  victim.crash(interrupt);
  count(interrupt ? "crash-mid-write" : "crash");
  restart_later(victim.id(), rng_.between(1, config_.faults.downtime_max_ms) * 1000);
}

bool FaultInjector::on_message_sent(const raft::NodeMessage& message) {
  if (doomed_.contains(message.from)) return false;
  if (!active_ || !config_.faults.any_targeted_crashes()) return true;
  const auto* m = std::get_if<raft::Message>(&message.body);
  if (m == nullptr) return true;
  const FaultPlan& plan = config_.faults;
  const char* kind = nullptr;
  uint32_t per_mille = 0;
  if (const auto* vote = std::get_if<raft::VoteResponse>(&m->body); vote != nullptr && vote->granted && !vote->pre_vote) {
    kind = "crash-after-vote";
    per_mille = plan.crash_after_vote_per_mille;
  } else if (const auto* append = std::get_if<raft::AppendEntries>(&m->body); append != nullptr) {
    if (announces_new_commit(m->from, *append)) {
      kind = "crash-after-commit";
      per_mille = plan.crash_after_commit_per_mille;
    } else if (!append->entries.empty()) {
      kind = "crash-while-appending";
      per_mille = plan.crash_while_appending_per_mille;
    }
  }
  if (kind == nullptr || !rng_.chance(per_mille, 1000)) return true;
  // A vote grant is out (the crash must come after it); an append dies with
  // its sender, so only the followers it reached before have the entries;
  // a leader that dies as it first announces a commit leaves the followers
  // not knowing it (the leader itself has applied it).
  const bool deliver = std::string_view(kind) == "crash-after-vote";
  crash_now(m->from, kind);
  return deliver;
}

bool FaultInjector::announces_new_commit(raft::NodeId leader, const raft::AppendEntries& append) {
  raft::Index& announced = commit_announced_[leader];
  if (append.commit <= announced) return false;
  announced = append.commit;
  return true;
}

// At this instant, before the node's pending disk write completes; nothing
// it sends from now on leaves.
void FaultInjector::crash_now(raft::NodeId id, const char* kind) {
  doomed_.insert(id);
  cluster_.scheduler().schedule_after(0, absl::StrCat("targeted crash n", id.value()), [this, id, kind] {
    doomed_.erase(id);
    SimNode& node = cluster_.node(id);
    if (!active_ || !node.up()) return;
    node.crash(config_.faults.interrupt_writes && rng_.chance(1, 2));
    count(kind);
    restart_later(id, rng_.between(1, config_.faults.targeted_downtime_max_ms) * 1000);
  });
}

void FaultInjector::restart_later(raft::NodeId id, uint64_t delay_us) {
  cluster_.scheduler().schedule_after(delay_us, absl::StrCat("restart n", id.value()), [this, id] {
    SimNode& node = cluster_.node(id);
    if (node.up() || node.retired()) return;
    if (node.start().ok()) {
      on_restart_(id);
    } else if (active_) {
      restart_later(id, config_.faults.downtime_max_ms * 1000);  // try again later
    }
  });
}

void FaultInjector::pause_one() {
  // A paused leader is the case leases must survive (or be caught failing).
  SimNode* leader = cluster_.leader();
  SimNode& victim = leader != nullptr && rng_.chance(1, 2) ? *leader : cluster_.node(random_node());
  victim.pause(rng_.between(1, config_.faults.pause_max_ms) * 1000);
  count("pause");
}

void FaultInjector::partition() {
  SimNetwork& net = cluster_.network();
  const std::vector<raft::NodeId>& ids = cluster_.ids();
  net.heal();
  const bool isolate_leader = rng_.chance(config_.faults.isolate_leader_per_mille, 1000);
  std::optional<std::pair<raft::NodeId, raft::NodeId>> flapping;
  switch (isolate_leader ? 2 : rng_.below(6)) {
    case 0: {  // random halves
      std::vector<raft::NodeId> a;
      std::vector<raft::NodeId> b;
      for (raft::NodeId id : ids) (rng_.chance(1, 2) ? a : b).push_back(id);
      net.split({a, b});
      count("partition-halves");
      break;
    }
    case 1:
      net.isolate(random_node(), ids);
      count("partition-isolate");
      break;
    case 2: {
      SimNode* leader = cluster_.leader();
      net.isolate(leader != nullptr ? leader->id() : random_node(), ids);
      count("partition-isolate-leader");
      break;
    }
    case 3: {
      const raft::NodeId from = random_node();
      const raft::NodeId to = random_node();
      if (from != to) net.cut(from, to);
      count("partition-one-way");
      break;
    }
    case 4: {  // one link goes down and up again every few tens of milliseconds
      const raft::NodeId a = random_node();
      const raft::NodeId b = random_node();
      if (a != b) flapping.emplace(a, b);
      count("partition-flapping-link");
      break;
    }
    default: {  // bridge: two sides that only `bridge` connects
      const raft::NodeId bridge = random_node();
      std::vector<raft::NodeId> a;
      std::vector<raft::NodeId> b;
      for (raft::NodeId id : ids) {
        if (id != bridge) (rng_.chance(1, 2) ? a : b).push_back(id);
      }
      net.split({a, b});
      count("partition-bridge");
      break;
    }
  }
  heal_network_later(rng_.between(1, config_.faults.partition_max_ms) * 1000);
  if (flapping) flap_link(flapping->first, flapping->second, partition_generation_, true);
}

// Until the network heals (or another partition replaces this one).
void FaultInjector::flap_link(raft::NodeId a, raft::NodeId b, uint64_t generation, bool down) {
  if (generation != partition_generation_) return;
  SimNetwork& net = cluster_.network();
  if (down) {
    net.cut_both(a, b);
  } else {
    net.mend_both(a, b);
  }
  cluster_.scheduler().schedule_after(rng_.between(10, 200) * 1000, "flap link", [this, a, b, generation, down] {
    flap_link(a, b, generation, !down);
  });
}

void FaultInjector::heal_network_later(uint64_t delay_us) {
  const uint64_t generation = ++partition_generation_;
  cluster_.scheduler().schedule_after(delay_us, "heal network", [this, generation] {
    if (generation == partition_generation_) cluster_.network().heal();
  });
}

void FaultInjector::restart_stopped_nodes() {
  for (auto& node : cluster_.nodes()) {
    if (!node->up() || node->running()) continue;
    // Stopped itself on a disk error: an operator restarts it later.
    node->crash();
    count("disk-error-stop");
    restart_later(node->id(), rng_.between(1, config_.faults.downtime_max_ms) * 1000);
  }
}

bool FaultInjector::heal_all(std::string* why) {
  active_ = false;
  ++partition_generation_;
  cluster_.network().heal();
  for (auto& node : cluster_.nodes()) {
    if (node->retired()) continue;
    node->fs().set_faults(node->fs().faults().healed());
    if (node->up() && !node->running()) node->crash();
    if (node->up()) continue;
    if (absl::Status s = node->start(); !s.ok()) {
      *why = absl::StrCat("node ", node->id().value(), " cannot recover after the heal: ", s.ToString());
      return false;
    }
    on_restart_(node->id());
  }
  return true;
}

}  // namespace reef::sim
