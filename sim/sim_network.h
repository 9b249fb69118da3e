// SimNetwork: the simulated network between nodes. Each message is delivered
// after a latency drawn from the network's stream (so messages overtake each
// other: reordering), or lost, or delivered twice, and never crosses a cut
// link. Links are directed, so partitions can be asymmetric: A hears B while
// B does not hear A.
//
// Partition shapes the fault schedule uses: random halves, one node
// isolated, a bridge (two sides that only one node can talk to), one-way
// links; heal() removes every cut.
//
// Messages cross it as bytes: each is encoded into the frame the Asio
// transport would write when it is sent and decoded again when it is
// delivered (sim/sim_wire.h), so the wire codec runs on every simulated
// delivery. In flight, a message is its frame, its endpoints and its label.
// A message dropped at send (observer, cut, loss) never reaches the wire and
// is not encoded; a duplicate is the same bytes delivered twice.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "raft/ports/node_message.h"
#include "raft/core/random.h"
#include "raft/ports/transport.h"
#include "sim/scheduler.h"
#include "sim/sim_wire.h"

namespace reef::sim {

struct NetworkFaults {
  uint64_t latency_min_us = 500;
  uint64_t latency_max_us = 5000;
  uint32_t loss_per_million = 0;
  uint32_t duplicate_per_million = 0;
};

struct NetworkStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t lost = 0;
  uint64_t cut = 0;  // dropped by a partition
  uint64_t duplicated = 0;
  uint64_t died_with_sender = 0;  // dropped by the observer
};

class SimNetwork {
 public:
  // Called at delivery time with the decoded message; the receiver decides
  // whether it is up.
  using Deliver = std::function<void(raft::NodeMessage)>;

  SimNetwork(Scheduler& scheduler, uint64_t seed, Deliver deliver);
  ~SimNetwork();

  void set_faults(const NetworkFaults& faults) { faults_ = faults; }
  // Sees every message as its sender hands it over, before any fault, and
  // may drop it (returns false): the sender died before it left.
  void set_observer(std::function<bool(const raft::NodeMessage&)> observer) { observer_ = std::move(observer); }
  const NetworkFaults& faults() const { return faults_; }
  const NetworkStats& stats() const { return stats_; }

  // The transport endpoint a node sends through.
  raft::Transport& endpoint(raft::NodeId id);

  // Cuts. A message is dropped when it is sent AND when it would be
  // delivered across a cut link (a partition also stops messages in flight).
  void cut(raft::NodeId from, raft::NodeId to) { cut_.insert({from, to}); }
  void cut_both(raft::NodeId a, raft::NodeId b);
  // Restores both directions between a and b (other cuts stay).
  void mend_both(raft::NodeId a, raft::NodeId b) {
    cut_.erase({a, b});
    cut_.erase({b, a});
  }
  void isolate(raft::NodeId node, const std::vector<raft::NodeId>& all);
  // Nodes in different groups cannot talk; within a group they can.
  void split(const std::vector<std::vector<raft::NodeId>>& groups);
  void heal() { cut_.clear(); }
  bool is_cut(raft::NodeId from, raft::NodeId to) const { return cut_.contains({from, to}); }
  size_t cut_links() const { return cut_.size(); }

  void send(raft::NodeMessage message);

 private:
  class Endpoint;
  // Schedules one delivery of `frame` (the encoded message) after a latency.
  void schedule_delivery(raft::NodeId from, raft::NodeId to, std::string label, std::string frame);

  Scheduler& scheduler_;
  raft::Prng rng_;
  Deliver deliver_;
  SimWire wire_;
  std::function<bool(const raft::NodeMessage&)> observer_;
  NetworkFaults faults_;
  NetworkStats stats_;
  std::set<std::pair<raft::NodeId, raft::NodeId>> cut_;
  std::vector<std::pair<raft::NodeId, std::unique_ptr<Endpoint>>> endpoints_;
};

}  // namespace reef::sim
