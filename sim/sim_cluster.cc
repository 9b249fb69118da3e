#include "sim/sim_cluster.h"

#include "raft/core/assert.h"
#include "sim/seed.h"

namespace reef::sim {

SimCluster::SimCluster(SimClusterOptions options, StateMachineFactory make_state_machine)
    : options_(std::move(options)),
      network_(scheduler_, derive_seed(options_.seed, "network"), [this](raft::NodeMessage m) {
        const raft::NodeId to = m.to;
        node(to).deliver(std::move(m));
      }) {
  REEF_ASSERT(options_.nodes > 0, "a cluster needs a node");
  network_.set_faults(options_.network);
  for (size_t i = 1; i <= options_.nodes; ++i) ids_.push_back(raft::NodeId(i));
  for (size_t i = 0; i < ids_.size(); ++i) {
    SimNodeOptions node_options = options_.node;
    node_options.initial_configuration = raft::Configuration::of_voters(ids_);
    if (i < options_.clock_drift_ppm.size()) node_options.clock_drift_ppm = options_.clock_drift_ppm[i];
    if (i < options_.wall_clock_start_unix_ms.size()) {
      node_options.wall_clock_start_unix_ms = options_.wall_clock_start_unix_ms[i];
    }
    nodes_.push_back(std::make_unique<SimNode>(scheduler_, network_, ids_[i], std::move(node_options),
                                               make_state_machine, derive_seed(options_.seed, "node", i + 1)));
  }
}

bool SimCluster::start_all() {
  bool ok = true;
  for (auto& n : nodes_) {
    if (!n->up() && !n->start().ok()) ok = false;
  }
  return ok;
}

SimNode& SimCluster::node(raft::NodeId id) {
  REEF_ASSERT(id.value() >= 1 && id.value() <= nodes_.size(), "no node ", id.value());
  return *nodes_[id.value() - 1];
}

SimNode* SimCluster::leader() {
  SimNode* best = nullptr;
  for (auto& n : nodes_) {
    if (!n->running() || !n->node()->core().is_leader()) continue;
    if (best == nullptr || n->node()->core().term() > best->node()->core().term()) best = n.get();
  }
  return best;
}

bool SimCluster::run_until(const std::function<bool()>& predicate, uint64_t timeout_us) {
  const uint64_t end = scheduler_.now_us() + timeout_us;
  while (!predicate()) {
    if (scheduler_.pending() == 0) return false;
    if (!scheduler_.run_next()) return false;
    if (scheduler_.now_us() > end) return predicate();
  }
  return true;
}

}  // namespace reef::sim
