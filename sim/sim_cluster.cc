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
  make_state_machine_ = std::move(make_state_machine);
  std::vector<raft::NodeId> first;
  for (size_t i = 1; i <= options_.nodes; ++i) first.push_back(raft::NodeId(i));
  for (size_t i = 0; i < first.size(); ++i) create_node(raft::Configuration::of_voters(first));
}

// A node's clock is drawn like the first nodes': a fresh node reuses the
// drift and wall-clock start of an earlier slot, so it disagrees with the
// others as much as they disagree among themselves.
SimNode& SimCluster::create_node(raft::Configuration initial, const std::function<void(SimNodeOptions&)>& adjust) {
  const size_t i = nodes_.size();
  const raft::NodeId id(i + 1);
  SimNodeOptions node_options = options_.node;
  node_options.initial_configuration = std::move(initial);
  if (!options_.clock_drift_ppm.empty()) {
    node_options.clock_drift_ppm = options_.clock_drift_ppm[i % options_.clock_drift_ppm.size()];
  }
  if (!options_.wall_clock_start_unix_ms.empty()) {
    node_options.wall_clock_start_unix_ms =
        options_.wall_clock_start_unix_ms[i % options_.wall_clock_start_unix_ms.size()];
  }
  if (adjust) adjust(node_options);
  nodes_.push_back(std::make_unique<SimNode>(scheduler_, network_, id, std::move(node_options), make_state_machine_,
                                             derive_seed(options_.seed, "node", i + 1)));
  ids_.push_back(id);
  if (node_created_) node_created_(*nodes_.back());
  return *nodes_.back();
}

SimNode& SimCluster::add_node(const std::function<void(SimNodeOptions&)>& adjust) {
  SimNode& fresh = create_node(raft::Configuration{}, adjust);
  (void)fresh.start();  // an empty disk always boots; if not, the node stays down and is never added
  return fresh;
}

void SimCluster::set_node_created(std::function<void(SimNode&)> created) {
  node_created_ = std::move(created);
  for (auto& n : nodes_) node_created_(*n);
}

void SimCluster::retire(raft::NodeId id) {
  node(id).retire();
  std::erase(ids_, id);
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
