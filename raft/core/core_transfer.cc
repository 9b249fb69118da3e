// Leadership transfer (thesis §3.10): stop taking proposals, bring the
// target up to date, then tell it to campaign at once. Aborted if it has
// not happened within an election timeout.
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "raft/core/core.h"

namespace reef::raft {

void Core::handle_transfer(const TransferLeadership& t) {
  auto* leader = std::get_if<Leader>(&role_);
  if (leader == nullptr) {
    output_.transfers.push_back(TransferResult{t.target, not_leader_error(leader_)});
    return;
  }
  if (t.target == config_.id) {
    output_.transfers.push_back(TransferResult{t.target, absl::OkStatus()});
    return;
  }
  if (!configuration_.is_voter(t.target)) {
    output_.transfers.push_back(TransferResult{
        t.target, absl::InvalidArgumentError(absl::StrCat("node ", t.target.value(), " is not a voter"))});
    return;
  }
  if (leader->transferee == t.target) return;  // already under way
  if (leader->transferee) {
    abort_transfer(*leader, absl::AbortedError(absl::StrCat("superseded by transfer to node ", t.target.value())));
  }
  leader->transferee = t.target;
  leader->transfer_elapsed_ticks = 0;
  leader->timeout_now_sent = false;
  const Progress& pr = leader->progress.at(t.target);
  if (pr.match() == log_.last_index()) {
    send_timeout_now(*leader);
  } else {
    maybe_send_append(t.target, /*send_if_empty=*/true);
  }
}

std::optional<NodeId> Core::handover_target() const {
  const auto* leader = std::get_if<Leader>(&role_);
  if (leader == nullptr) return std::nullopt;
  std::optional<NodeId> best;
  Index best_match;
  // Ascending ids, and only a strictly higher match replaces: ties keep the lowest id.
  for (const auto& [peer, pr] : leader->progress) {
    if (!configuration_.voters.contains(peer)) continue;
    if (!best || pr.match() > best_match) {
      best = peer;
      best_match = pr.match();
    }
  }
  return best;
}

void Core::send_timeout_now(Leader& leader) {
  REEF_ASSERT(leader.transferee.has_value());
  leader.timeout_now_sent = true;
  leader.lease_revoked = true;
  send(*leader.transferee, TimeoutNow{});
  output_.transfers.push_back(TransferResult{*leader.transferee, absl::OkStatus()});
}

void Core::abort_transfer(Leader& leader, absl::Status why) {
  REEF_ASSERT(leader.transferee.has_value());
  if (!leader.timeout_now_sent) output_.transfers.push_back(TransferResult{*leader.transferee, std::move(why)});
  leader.transferee.reset();
  leader.transfer_elapsed_ticks = 0;
  leader.timeout_now_sent = false;
}

}  // namespace reef::raft
