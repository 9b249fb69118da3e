// MembershipAdmin: the leader's side of every membership request the server
// takes (HTTP admin endpoints, rqlite's /join and /remove, the learner
// promoter), as sequences of node requests on the node loop.
//
// A change that brings a node in first records the node's addresses in the
// replicated address book (an address batch, statemachine/node_addresses.h)
// and waits for it to apply, and only then asks the core for the membership
// change: by the time the configuration entry names the node, every member
// that applies it already knows where to reach it, and the leader starts
// replicating to a known address. Role changes record the operator's wish
// (wants_voter) the same way, so the learner promoter of any later leader
// follows it, and a demoted node is not promoted back.
//
// Every call answers through `done` exactly once, on the loop: the
// configuration the change led to (raft::Configuration::describe()), or the
// node's or the core's error (not leader, change in progress, not a
// member...). Callers make sure this node leads; a follower's node would
// forward the steps, but the checks here read the local configuration,
// which only the leader's is authoritative for.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prod/server/address_book.h"
#include "prod/server/runbook.h"
#include "prod/server/server_node.h"
#include "raft/core/membership_change.h"

namespace reef::prod {

class MembershipAdmin {
 public:
  using Done = std::function<void(absl::StatusOr<std::string>)>;

  // `node` must outlive this; each step gets `timeout_ms`.
  MembershipAdmin(ServerNode& node, uint64_t timeout_ms) : node_(node), timeout_ms_(timeout_ms) {}

  // Adds a node that is not a member as a learner at `addresses`; with
  // addresses.wants_voter the learner promoter makes it a voter once it
  // caught up. A learner already added at the same raft address is a
  // no-op (answered with the configuration): `reefdb node add` followed by
  // the node's `--join`. ALREADY_EXISTS (pointing to the runbook) for any
  // other member: a voter that comes back with a fresh directory under its
  // old id could take back acknowledgements its old log gave. ALREADY_EXISTS
  // too for a removed id: ids are retired, never reused (a late message of
  // the old node must not count as the new one's).
  void add(raft::NodeId id, MemberAddresses addresses, Done done);
  // Voter now (promote) or learner now (demote); the wish is recorded first.
  void promote(raft::NodeId id, Done done);
  void demote(raft::NodeId id, Done done);
  // Retires the id in the address book first, then removes the node.
  void remove(raft::NodeId id, Done done);
  // Several steps in one change (joint consensus when needed), e.g. replace
  // a dead voter by a caught-up learner; no address is recorded.
  void change(std::vector<raft::MembershipChange> steps, Done done);
  // Records a member's row in the replicated address book and answers once
  // it is applied here.
  void record_address(raft::NodeId id, const MemberAddresses& addresses, std::function<void(absl::Status)> then);

 private:
  void set_role(raft::NodeId id, bool voter, Done done);
  void record_then_change(raft::NodeId id, MemberAddresses addresses, raft::MembershipOp op, Done done);
  void retire_then_change(std::vector<raft::NodeId> retiring, std::vector<raft::MembershipChange> steps, Done done);
  void run_change(std::vector<raft::MembershipChange> steps, Done done);
  uint64_t deadline() const;

  ServerNode& node_;
  const uint64_t timeout_ms_;
};

}  // namespace reef::prod
