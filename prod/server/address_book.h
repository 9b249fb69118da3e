// AddressBook: where each cluster member listens, as this server knows it.
//
// Two sources, in order: the static `peers` list seeds it at boot, and the
// replicated address book (statemachine/node_addresses.h) overrides and
// extends it whenever a member's addresses were recorded through the log —
// the only way a node added at run time becomes known, identically on every
// member and in every snapshot. ServerNode keeps it in step with the state
// machine after each apply and moves the transport's peers along; the HTTP
// service reads it for leader redirects, /nodes and the join checks.
//
// The Raft core never sees an address: it names nodes by id only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "raft/core/types.h"
#include "statemachine/command_batch.h"

namespace reef::prod {

struct MemberAddresses {
  std::string raft_address;  // host:port
  std::string http_address;  // host:port
  // The operator asked for this node as a voter: the leader promotes it
  // once it is a learner that caught up (prod/server/learner_promoter.h).
  bool wants_voter = false;
  // Removed from the cluster: the id is retired (docs/CLUSTER.md).
  bool removed = false;
  friend bool operator==(const MemberAddresses&, const MemberAddresses&) = default;
};

class AddressBook {
 public:
  // What `peers` says (rows of the replicated book override it).
  void seed(raft::NodeId id, MemberAddresses addresses);
  // Replaces everything the replicated book said before with `rows`.
  // Returns the ids whose addresses changed (seeds included).
  std::vector<raft::NodeId> update_from(const std::vector<statemachine::NodeAddress>& rows);

  std::optional<MemberAddresses> find(raft::NodeId id) const;
  // "http://host:port", or nullopt when unknown.
  std::optional<std::string> http_url(raft::NodeId id) const;
  const std::map<raft::NodeId, MemberAddresses>& all() const { return merged_; }
  // The replicated book has a row for `id` (not only a seed).
  bool replicated(raft::NodeId id) const { return replicated_.contains(id); }

 private:
  void merge();

  std::map<raft::NodeId, MemberAddresses> seeds_;
  std::map<raft::NodeId, MemberAddresses> replicated_;
  std::map<raft::NodeId, MemberAddresses> merged_;
};

}  // namespace reef::prod
