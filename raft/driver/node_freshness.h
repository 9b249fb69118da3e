// Read freshness: how out of touch a node is allowed to be when it serves a
// read from its local state (level none) with a staleness bound — rqlite's
// `freshness` and `freshness_strict` query parameters.
//
// rqlite's rules, and where ReefDB differs:
//  - freshness D: a follower refuses the read if it has not heard from the
//    leader within D. Same here. rqlite's leader never refuses; ReefDB's
//    leader refuses if a quorum of voters (itself included) has not sent it
//    a message of its term within D. A leader cut off from the others is
//    thus refused after D, instead of after check-quorum deposes it (an
//    election timeout later), and a new leader elected meanwhile cannot
//    make it serve data older than D without noticing.
//  - freshness_strict: also refuse if the node lags the leader. rqlite
//    compares the applied index with the leader's last announced commit
//    index and, when behind, the age of the last applied entry. ReefDB
//    refuses when the node has applied less than the highest commit index
//    it was told about and has been in that state (last caught up) longer
//    than D ago. Leaders announce their commit index in every append and
//    heartbeat; a heartbeat announces at most what the follower holds, so
//    "caught up" means caught up with what the leader has said so far.
//
// Times are the driver's Clock milliseconds (raft/ports/clock.h): in the
// simulator the node's own drifting clock, so this stays deterministic.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "raft/core/membership.h"
#include "raft/core/types.h"

namespace reef::raft {

// A read refused because the node is out of touch; is_stale_read() tells it
// from other FAILED_PRECONDITION answers ("not leader").
absl::Status stale_read_error(std::string_view why);
bool is_stale_read(const absl::Status& status);

// The bound a client asked for: refuse unless in touch within
// max_staleness_ms (and, strict, not lagging longer than that).
struct FreshnessBound {
  uint64_t max_staleness_ms = 0;
  bool strict = false;
};

// What the node knows at the moment it checks.
struct FreshnessState {
  // Last contact with the leader (a leader: with a quorum); nullopt: none
  // in the current term, or no leader known.
  std::optional<uint64_t> leader_contact_ms;
  Index applied;
  Index known_commit;                     // highest commit index announced to this node
  std::optional<uint64_t> caught_up_ms;  // last time applied >= the commit index known then
};

// OK, or stale_read_error() saying which condition failed.
absl::Status check_freshness(const FreshnessState& state, uint64_t now_ms, FreshnessBound bound);

// Records who this node last heard from, in which term, and how far it
// had caught up; answers "when was I last in touch with the leader".
class LeaderContact {
 public:
  // A message of `term` from `from` arrived at `now_ms` (an older term never
  // replaces a newer one: a delayed message proves nothing new).
  void heard(NodeId from, Term term, uint64_t now_ms);
  // A leader announced `commit` as committed.
  void commit_announced(Index commit);
  // After applying: if nothing announced is left to apply, the node is
  // caught up as of `now_ms`.
  void note_applied(Index applied, Index own_commit, uint64_t now_ms);

  // Follower or candidate: when `leader` last sent a message of `term`.
  std::optional<uint64_t> follower_contact(NodeId leader, Term term) const;
  // Leader `self`: the latest time by which a quorum of `configuration`'s
  // voters (self counts as now) had sent a message of `term`.
  std::optional<uint64_t> leader_contact(const Configuration& configuration, NodeId self, Term term,
                                         uint64_t now_ms) const;
  Index known_commit(Index own_commit) const { return std::max(announced_commit_, own_commit); }
  std::optional<uint64_t> caught_up_ms() const { return caught_up_ms_; }

 private:
  struct Heard {
    Term term;
    uint64_t ms = 0;
  };
  absl::btree_map<NodeId, Heard> heard_;
  Index announced_commit_;
  std::optional<uint64_t> caught_up_ms_;
};

}  // namespace reef::raft
