#include "prod/server/learner_promoter.h"

#include <spdlog/spdlog.h>

namespace reef::prod {

void LearnerPromoter::check() {
  const raft::Core& core = node_.core();
  if (!core.is_leader()) {
    close_rounds_.clear();
    return;
  }
  if (promoting_ || core.membership_change_in_flight()) return;
  const raft::Index last = core.log().last_index();
  std::map<raft::NodeId, uint32_t> rounds;
  for (raft::NodeId learner : core.configuration().learners) {
    const std::optional<MemberAddresses> row = node_.addresses().find(learner);
    const raft::Progress* progress = core.progress(learner);
    if (!row || !row->wants_voter || progress == nullptr) continue;
    // Heard from and streaming: a learner still probing or taking a
    // snapshot has acknowledged nothing recent.
    if (!progress->recent_active || progress->state() != raft::ProgressState::kReplicate) continue;
    if (progress->match().value() + options_.max_lag_entries < last.value()) continue;
    const uint32_t close = close_rounds_[learner] + 1;
    rounds[learner] = close;
    if (close < options_.rounds) continue;
    spdlog::info("node {} caught up (match {} of {}): promoting it to voter", learner.value(),
                 progress->match().value(), last.value());
    promoting_ = true;
    admin_.promote(learner, [this, learner](absl::StatusOr<std::string> result) {
      promoting_ = false;
      if (result.ok()) {
        spdlog::info("node {} is a voter: {}", learner.value(), *result);
      } else {
        spdlog::warn("promoting node {}: {} (retried on a later check)", learner.value(), result.status().ToString());
      }
    });
    break;  // one change at a time
  }
  close_rounds_ = std::move(rounds);
}

}  // namespace reef::prod
