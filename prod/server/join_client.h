// join_cluster(): how `reefdb serve --join` asks a running cluster to add
// this node (docs/CLUSTER.md, "Joining").
//
// POST /join (rqlite's body, plus ReefDB's api_addr) to each member in
// turn, following redirects to the leader, until one adds the node or
// refuses it; members that cannot be reached or have no leader yet are
// retried, with a pause, until `deadline`. Blocking: the server runs it on
// a thread of its own while its loop already serves Raft traffic (the
// leader starts replicating to the new learner before /join answers).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace reef::prod {

struct JoinRequest {
  uint64_t node_id = 0;
  std::string raft_address;  // host:port the members dial
  std::string http_address;  // host:port clients use
  std::vector<std::string> members;  // HTTP host:port of members to ask
  std::chrono::milliseconds deadline{60'000};
  std::chrono::milliseconds pause{500};  // between rounds over every member
};

struct JoinAnswer {
  std::string configuration;  // as the leader describes it
  // Every member's addresses as the leader knows them: id -> (raft, http).
  std::map<uint64_t, std::pair<std::string, std::string>> members;
};

// OK once the node was added (`added` says how). FAILED_PRECONDITION when a member refused for good (the id is
// already a member: the runbook says what to do; a bad request), with the
// member's words; DEADLINE_EXCEEDED when no member could add it in time;
// CANCELLED when `cancel` turned true.
absl::Status join_cluster(const JoinRequest& request, const std::atomic<bool>& cancel, JoinAnswer& added);

}  // namespace reef::prod
