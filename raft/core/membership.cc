#include "raft/core/membership.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reef::raft {

Configuration Configuration::of_voters(std::vector<NodeId> voter_ids, std::vector<NodeId> learner_ids) {
  Configuration c;
  c.voters = MajorityConfig(std::move(voter_ids));
  std::sort(learner_ids.begin(), learner_ids.end());
  learner_ids.erase(std::unique(learner_ids.begin(), learner_ids.end()), learner_ids.end());
  c.learners = std::move(learner_ids);
  return c;
}

bool Configuration::is_learner(NodeId id) const {
  return std::binary_search(learners.begin(), learners.end(), id);
}

std::vector<NodeId> Configuration::members() const {
  std::vector<NodeId> all = voters.voters();
  all.insert(all.end(), outgoing_voters.voters().begin(), outgoing_voters.voters().end());
  all.insert(all.end(), learners.begin(), learners.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

uint64_t Configuration::committed_value(
    absl::FunctionRef<std::optional<uint64_t>(NodeId)> acked) const {
  return std::min(voters.committed_value(acked), outgoing_voters.committed_value(acked));
}

VoteResult Configuration::vote_result(absl::FunctionRef<std::optional<bool>(NodeId)> vote) const {
  const VoteResult incoming = voters.vote_result(vote);
  const VoteResult outgoing = outgoing_voters.vote_result(vote);
  if (incoming == VoteResult::kWon && outgoing == VoteResult::kWon) return VoteResult::kWon;
  if (incoming == VoteResult::kLost || outgoing == VoteResult::kLost) return VoteResult::kLost;
  return VoteResult::kPending;
}

absl::Status Configuration::validate() const {
  if (voters.empty()) return absl::InvalidArgumentError("configuration has no voters");
  for (NodeId id : members()) {
    if (id == NodeId(0)) return absl::InvalidArgumentError("node id 0 is reserved");
  }
  for (NodeId id : learners) {
    if (voters.contains(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", id.value(), " is both a voter and a learner"));
    }
  }
  return absl::OkStatus();
}

std::string Configuration::describe() const {
  auto ids = [](const std::vector<NodeId>& v) {
    return absl::StrJoin(v, ",", [](std::string* out, NodeId id) { absl::StrAppend(out, id.value()); });
  };
  std::string s = absl::StrCat("voters=[", ids(voters.voters()), "]");
  if (is_joint()) absl::StrAppend(&s, " outgoing=[", ids(outgoing_voters.voters()), "]");
  if (!learners.empty()) absl::StrAppend(&s, " learners=[", ids(learners), "]");
  return s;
}

}  // namespace reef::raft
