// An in-memory Raft cluster for tests: real cores, a hand-driven network
// and a faithful little driver per node.
//
// Each node has durable storage (hard state, log entries, snapshot), a
// state machine that is simply the list of applied entries, and a pending
// write (the output part not yet made durable). A step goes:
//
//   core.step(input) -> output
//   send output.messages now (the leader overlaps replication with its write)
//   queue the write; when it is persisted (at once unless the node is in
//   manual-persist mode): install snapshot, write hard state + entries, send
//   messages_after_persist, apply committed entries, step Persisted.
//
// The network is a list of envelopes the test delivers, drops, duplicates or
// reorders by position; partitions drop messages at delivery. restart()
// models a crash: pending writes are lost and the core is rebuilt from the
// durable state. Every step is followed by the sim::RaftSafetyChecker.
//
// ClusterOptions::bug turns this driver into a deliberately wrong one. That
// is how the checker's own tests prove it would notice a real driver bug
// (tests/raft/checker_teeth_test.cc); nothing else sets it.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "raft/core/core.h"
#include "sim/raft_safety_checker.h"

namespace reef::raft::testing {

// Driver bugs the harness can commit on purpose. Each breaks one durability
// promise of the output contract (raft/core/output.h) that Raft's safety rests on.
enum class InjectedBug {
  kNone,
  // restart() recovers the hard state without its vote: a node can vote
  // twice in one term, so two candidates can win the same term (thesis §3.8).
  kForgetVoteOnRestart,
  // messages_after_persist (append acks, vote grants) go out before the write
  // is durable; a crash before persist() then takes back what they promised,
  // so a "committed" entry can vanish from a quorum (and a granted vote can
  // be forgotten).
  kAckBeforePersist,
  // The same, for append acknowledgements only (votes are handled right):
  // the one consequence left is a committed entry lost.
  kAppendAckBeforePersist,
};
const char* injected_bug_name(InjectedBug bug);

struct ClusterOptions {
  size_t voters = 3;
  size_t learners = 0;
  uint64_t seed = 1;
  // Applied to every node's config after defaults (ids and seeds are set).
  std::function<void(CoreConfig&)> configure;
  InjectedBug bug = InjectedBug::kNone;
  // Off: the checker judges only end-to-end safety, not the membership
  // rules (tests that show what breaking a rule leads to).
  bool membership_rule_checks = true;
};

struct Envelope {
  Message message;
  // For InstallSnapshot: the state the driver ships with it (here the
  // snapshot of the test state machine is its applied-entry list).
  std::vector<LogEntry> snapshot_state;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options = {});

  const std::vector<NodeId>& ids() const { return ids_; }
  Core& core(NodeId id);
  const Core& core(NodeId id) const;

  // Inputs. Each runs the node's driver afterwards.
  void step(NodeId id, Input input);
  void tick(NodeId id, int times = 1);
  void tick_all(int times = 1);
  void campaign(NodeId id) { step(id, Campaign{}); }
  ProposalResult propose(NodeId id, std::string payload);
  void read_index(NodeId id, ReadId read) { step(id, ReadIndex{read}); }
  void transfer(NodeId leader, NodeId target) { step(leader, TransferLeadership{target}); }
  void compact(NodeId id, Index index);
  // Membership (thesis §4). add_node() creates a node that waits to be added:
  // an empty log and an empty configuration, learned from the leader.
  void add_node(NodeId id);
  ProposalResult change_membership(NodeId leader, std::vector<MembershipChange> changes);

  // Network.
  std::deque<Envelope>& in_flight() { return in_flight_; }
  // Delivers the envelope at `position` (dropped if a partition separates
  // its ends). Returns false if there is none there.
  bool deliver(size_t position = 0);
  void drop(size_t position = 0);
  void duplicate(size_t position = 0);
  // Moves the envelope at `position` to the back of the queue.
  void reorder(size_t position);
  // Delivers until the network is quiet or `max_messages` were delivered.
  size_t deliver_all(size_t max_messages = 100000);
  // Drops every message in flight.
  void drop_all();
  // Only nodes in the same group talk; nodes not named form their own group.
  void partition(const std::vector<std::set<NodeId>>& groups);
  void isolate(NodeId id);
  void heal();
  bool connected(NodeId a, NodeId b) const;

  // Durability.
  void set_manual_persist(NodeId id, bool manual);
  bool manual_persist(NodeId id) const { return nodes_.at(id).manual_persist; }
  bool has_pending_write(NodeId id) const;
  void persist(NodeId id);
  void restart(NodeId id);

  // Convenience: campaign, deliver everything, return whoever leads.
  std::optional<NodeId> elect(NodeId id);
  // The leader of the highest term, if any node leads.
  std::optional<NodeId> leader() const;
  // Tick every node and deliver until a leader exists (bounded).
  std::optional<NodeId> run_until_leader(int max_rounds = 200);

  // Observations.
  const std::vector<LogEntry>& applied(NodeId id) const { return nodes_.at(id).applied; }
  std::vector<std::string> applied_payloads(NodeId id) const;
  std::vector<ReadResult>& reads(NodeId id) { return nodes_.at(id).reads; }
  std::vector<ProposalResult>& proposals(NodeId id) { return nodes_.at(id).proposals; }
  std::vector<TransferResult>& transfers(NodeId id) { return nodes_.at(id).transfers; }
  const HardState& durable_hard_state(NodeId id) const { return nodes_.at(id).durable.hard_state; }
  const sim::RaftSafetyChecker& checker() const { return checker_; }
  // A one-line description of every node, for failure messages.
  std::string describe() const;

 private:
  // An output whose durable part is not written yet. A snapshot install
  // keeps the state that arrived with its InstallSnapshot, because another
  // snapshot may arrive before this write is persisted.
  struct PendingWrite {
    Output output;
    std::vector<LogEntry> snapshot_state;
  };
  struct Node {
    CoreConfig config;
    std::optional<Core> core;
    RecoveredState durable;            // what survives a crash
    std::vector<LogEntry> durable_snapshot_state;  // applied list up to durable.snapshot.index
    std::vector<PendingWrite> pending_writes;
    bool manual_persist = false;
    bool persisting = false;           // inside persist(): nested calls leave the queue to it
    std::vector<LogEntry> applied;     // the "state machine"
    std::vector<LogEntry> incoming_snapshot;       // state received with the last InstallSnapshot
    std::vector<ReadResult> reads;
    std::vector<ProposalResult> proposals;
    std::vector<TransferResult> transfers;
  };

  void run_driver(NodeId id);
  void write(NodeId id, PendingWrite& pending);
  void send_all(NodeId id, std::vector<Message>& messages);
  void check();

  ClusterOptions options_;
  std::vector<NodeId> ids_;
  std::map<NodeId, Node> nodes_;
  std::deque<Envelope> in_flight_;
  std::map<NodeId, int> group_;  // partition group per node; empty map = fully connected
  sim::RaftSafetyChecker checker_;
  uint64_t next_proposal_id_ = 1;  // per cluster, so runs do not depend on each other
};

}  // namespace reef::raft::testing
