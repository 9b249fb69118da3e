// FaultInjector: the fault schedule of a run. At random intervals it picks
// one of the enabled fault classes and does it to the cluster — crash (maybe
// mid-write) and later restart a node, pause one, cut the network into
// halves, isolate one node or the leader, cut a one-way link, build a bridge
// (two sides that only one node hears), flap a link — and later undoes it.
// Targeted crashes hit a node at the worst moment a message reveals: right
// after it grants a vote, while it sends entries, or as a leader first
// announces a commit index.
// Nodes that stopped themselves on a disk error are restarted after a while,
// as an operator would. heal_all() ends every fault for the final phase.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "raft/core/random.h"
#include "sim/run_config.h"
#include "sim/sim_cluster.h"

namespace reef::sim {

class FaultInjector {
 public:
  // `on_restart` is told when a node's process starts again (checkers reset
  // per-process expectations).
  FaultInjector(SimCluster& cluster, const RunConfig& config, uint64_t seed,
                std::function<void(raft::NodeId)> on_restart);

  void start();
  // Stops injecting, heals the network, clears disk faults and restarts
  // every node that is down. Returns false if a node cannot recover.
  bool heal_all(std::string* why);

  // Sees every message as a node sends it (targeted crashes). False: the
  // sender is dying and the message never leaves.
  bool on_message_sent(const raft::NodeMessage& message);

  const std::map<std::string, uint64_t>& counts() const { return counts_; }

 private:
  void schedule_next();
  void inject();
  void crash_one();
  void crash_now(raft::NodeId id, const char* kind);
  void pause_one();
  void partition();
  // True the first time `leader` tells anyone a commit index this high.
  bool announces_new_commit(raft::NodeId leader, const raft::AppendEntries& append);
  void restart_later(raft::NodeId id, uint64_t delay_us);
  void heal_network_later(uint64_t delay_us);
  void flap_link(raft::NodeId a, raft::NodeId b, uint64_t generation, bool down);
  void restart_stopped_nodes();
  raft::NodeId random_node();
  void count(const std::string& kind) { ++counts_[kind]; }

  SimCluster& cluster_;
  const RunConfig& config_;
  raft::Prng rng_;
  std::function<void(raft::NodeId)> on_restart_;
  std::map<std::string, uint64_t> counts_;
  bool active_ = false;
  std::set<raft::NodeId> doomed_;  // crash scheduled at this instant; they send nothing more
  uint64_t partition_generation_ = 0;
  std::map<raft::NodeId, raft::Index> commit_announced_;  // highest commit each node has sent
};

}  // namespace reef::sim
