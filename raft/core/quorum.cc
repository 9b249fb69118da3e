#include "raft/core/quorum.h"

#include <algorithm>
#include <functional>

#include "raft/core/assert.h"

namespace reef::raft {

MajorityConfig::MajorityConfig(std::vector<NodeId> voters) : voters_(std::move(voters)) {
  std::sort(voters_.begin(), voters_.end());
  voters_.erase(std::unique(voters_.begin(), voters_.end()), voters_.end());
  REEF_ASSERT(voters_.empty() || voters_.front() != NodeId(0), "node id 0 is reserved");
}

bool MajorityConfig::contains(NodeId id) const {
  return std::binary_search(voters_.begin(), voters_.end(), id);
}

uint64_t MajorityConfig::committed_value(
    absl::FunctionRef<std::optional<uint64_t>(NodeId)> acked) const {
  if (voters_.empty()) return UINT64_MAX;
  // Small clusters are the norm: a fixed stack buffer avoids allocation on
  // the commit hot path for up to 7 voters.
  constexpr size_t kInline = 7;
  uint64_t inline_values[kInline];
  std::vector<uint64_t> heap_values;
  uint64_t* values = inline_values;
  if (voters_.size() > kInline) {
    heap_values.resize(voters_.size());
    values = heap_values.data();
  }
  for (size_t i = 0; i < voters_.size(); ++i) values[i] = acked(voters_[i]).value_or(0);
  // Sort descending; the quorum_size()-th largest value is held by a quorum.
  std::sort(values, values + voters_.size(), std::greater<>());
  return values[quorum_size() - 1];
}

VoteResult MajorityConfig::vote_result(
    absl::FunctionRef<std::optional<bool>(NodeId)> vote) const {
  if (voters_.empty()) return VoteResult::kWon;
  size_t granted = 0;
  size_t missing = 0;
  for (NodeId id : voters_) {
    std::optional<bool> v = vote(id);
    if (!v.has_value()) {
      ++missing;
    } else if (*v) {
      ++granted;
    }
  }
  const size_t q = quorum_size();
  if (granted >= q) return VoteResult::kWon;
  if (granted + missing >= q) return VoteResult::kPending;
  return VoteResult::kLost;
}

}  // namespace reef::raft
