// Majority quorum arithmetic (thesis §3.4, §3.6) over one set of voters.
// Joint configurations (§4.3) combine two of these; see membership.h.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/functional/function_ref.h"
#include "raft/core/types.h"

namespace reef::raft {

enum class VoteResult { kPending, kLost, kWon };

// A set of voting members, kept sorted and free of duplicates.
class MajorityConfig {
 public:
  MajorityConfig() = default;
  explicit MajorityConfig(std::vector<NodeId> voters);

  const std::vector<NodeId>& voters() const { return voters_; }
  bool contains(NodeId id) const;
  bool empty() const { return voters_.empty(); }
  size_t size() const { return voters_.size(); }
  size_t quorum_size() const { return voters_.size() / 2 + 1; }

  // The largest value v such that a quorum of voters report a value >= v.
  // `acked` returns a voter's value, or nullopt when unknown (counts as 0).
  // The callbacks are FunctionRefs, not std::function: the leader evaluates
  // this on every acknowledgement, and a type-erased copy there was pure cost.
  // An empty config returns UINT64_MAX so that it never holds back a joint
  // configuration's result.
  uint64_t committed_value(absl::FunctionRef<std::optional<uint64_t>(NodeId)> acked) const;

  // Won when a quorum granted, Lost when a quorum can no longer be reached,
  // Pending otherwise. An empty config has always Won (joint-config identity).
  VoteResult vote_result(absl::FunctionRef<std::optional<bool>(NodeId)> vote) const;

  friend bool operator==(const MajorityConfig&, const MajorityConfig&) = default;

 private:
  std::vector<NodeId> voters_;  // invariant: sorted ascending, unique, no 0
};

}  // namespace reef::raft
