// SimCluster: a simulated ReefDB cluster — the scheduler, the network and N
// SimNodes wired together, each node with its own named random streams
// derived from one seed.
//
// Membership changes make the set of nodes change during a run: add_node()
// brings a fresh node into existence (the next unused id, an empty disk, an
// empty configuration: it learns the cluster from the leader), retire()
// shuts a removed one down for good. Ids are never reused; node(id) stays
// valid for every id ever created, and ids() lists the nodes in existence.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "raft/core/types.h"
#include "sim/scheduler.h"
#include "sim/sim_network.h"
#include "sim/sim_node.h"

namespace reef::sim {

struct SimClusterOptions {
  uint64_t seed = 1;
  size_t nodes = 3;
  // Applied to every node (id, seeds and initial configuration are filled in).
  SimNodeOptions node;
  NetworkFaults network;
  // Per-node clock drift; missing entries mean no drift.
  std::vector<int64_t> clock_drift_ppm;
  // Per-node wall clock at time zero (Unix ms); missing entries keep
  // SimNodeOptions' value.
  std::vector<uint64_t> wall_clock_start_unix_ms;
};

class SimCluster {
 public:
  SimCluster(SimClusterOptions options, StateMachineFactory make_state_machine);

  // Starts every node; returns false if one could not boot.
  bool start_all();

  Scheduler& scheduler() { return scheduler_; }
  SimNetwork& network() { return network_; }
  // The nodes in existence (created and not retired), in id order.
  const std::vector<raft::NodeId>& ids() const { return ids_; }
  SimNode& node(raft::NodeId id);
  // A fresh node, started, that waits to be added to the cluster. `adjust`
  // changes its options from the cluster's (tests: a joiner's own policy).
  SimNode& add_node(const std::function<void(SimNodeOptions&)>& adjust = {});
  // Shuts `id` down for good and takes it out of ids().
  void retire(raft::NodeId id);
  // Told of every node: at once of those that exist, later of each one
  // created (to attach observers).
  void set_node_created(std::function<void(SimNode&)> created);
  std::vector<std::unique_ptr<SimNode>>& nodes() { return nodes_; }
  // The node that is running and leads the highest term, if any.
  SimNode* leader();
  // Runs until `predicate` holds or `timeout_us` of simulated time passed.
  bool run_until(const std::function<bool()>& predicate, uint64_t timeout_us);

 private:
  SimClusterOptions options_;
  Scheduler scheduler_;
  SimNetwork network_;
  std::vector<raft::NodeId> ids_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  StateMachineFactory make_state_machine_;
  std::function<void(SimNode&)> node_created_;

  SimNode& create_node(raft::Configuration initial, const std::function<void(SimNodeOptions&)>& adjust = {});
};

}  // namespace reef::sim
