// LearnerPromoter: the leader's policy that turns a joining learner into a
// voter once it has caught up (docs/CLUSTER.md, "Growing").
//
// A node joins as a learner so that it takes no part in quorums while it
// is still far behind (thesis §4.2.1: a new voter with an empty log would
// stall commits). On every check (the server runs it each tick), for each
// learner whose replicated address-book row says the operator wants it a
// voter, the leader looks at its match index: once it is within
// max_lag_entries of the leader's last index for `rounds` checks in a row,
// the promoter asks for the promotion (one change at a time: nothing is
// asked while a change is in flight or a promotion is pending). Demoted
// learners have wants_voter false and stay learners.
//
// Nothing here is remembered across leaders: a new leader counts afresh
// from the replicated wish.
#pragma once

#include <cstdint>
#include <map>

#include "prod/server/membership_admin.h"
#include "prod/server/server_node.h"

namespace reef::prod {

struct LearnerPromoterOptions {
  uint64_t max_lag_entries = 100;
  uint32_t rounds = 5;
};

class LearnerPromoter {
 public:
  // `node` and `admin` must outlive this.
  LearnerPromoter(ServerNode& node, MembershipAdmin& admin, LearnerPromoterOptions options = {})
      : node_(node), admin_(admin), options_(options) {}

  // On the loop, periodically.
  void check();

 private:
  ServerNode& node_;
  MembershipAdmin& admin_;
  const LearnerPromoterOptions options_;
  std::map<raft::NodeId, uint32_t> close_rounds_;  // consecutive checks within max_lag_entries
  bool promoting_ = false;
};

}  // namespace reef::prod
