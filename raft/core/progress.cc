#include "raft/core/progress.h"

#include <algorithm>

#include "raft/core/assert.h"

namespace reef::raft {

const char* progress_state_name(ProgressState s) {
  switch (s) {
    case ProgressState::kProbe: return "probe";
    case ProgressState::kReplicate: return "replicate";
    case ProgressState::kSnapshot: return "snapshot";
  }
  return "?";
}

void Inflights::add(Index last, uint64_t bytes) {
  REEF_ASSERT(!full(), "in-flight window overflow");
  REEF_ASSERT(window_.empty() || window_.back().first < last, "in-flight indexes must increase");
  window_.emplace_back(last, bytes);
  bytes_ += bytes;
}

void Inflights::free_to(Index index) {
  while (!window_.empty() && window_.front().first <= index) {
    bytes_ -= window_.front().second;
    window_.pop_front();
  }
}

void Inflights::free_first_one() {
  if (window_.empty()) return;
  bytes_ -= window_.front().second;
  window_.pop_front();
}

void Inflights::reset() {
  window_.clear();
  bytes_ = 0;
}

void Progress::become_probe() {
  // Coming back from a snapshot, the follower has at least the snapshot.
  if (state_ == ProgressState::kSnapshot) {
    next_ = std::max(match_.next(), pending_snapshot_.next());
  } else {
    next_ = match_.next();
  }
  state_ = ProgressState::kProbe;
  probe_sent_ = false;
  pending_snapshot_ = Index(0);
  inflights_.reset();
}

void Progress::become_replicate() {
  state_ = ProgressState::kReplicate;
  next_ = match_.next();
  probe_sent_ = false;
  pending_snapshot_ = Index(0);
  inflights_.reset();
}

void Progress::become_snapshot(Index snapshot_index) {
  state_ = ProgressState::kSnapshot;
  probe_sent_ = false;
  pending_snapshot_ = snapshot_index;
  inflights_.reset();
}

bool Progress::maybe_update(Index index) {
  bool updated = false;
  if (index > match_) {
    match_ = index;
    updated = true;
    probe_sent_ = false;
  }
  next_ = std::max(next_, index.next());
  inflights_.free_to(index);
  return updated;
}

bool Progress::maybe_decrease_to(Index rejected, Index hint_next) {
  if (state_ == ProgressState::kReplicate) {
    // Only the rejection of something at or above our match is news; an
    // older one is a reordered duplicate.
    if (rejected <= match_) return false;
    next_ = match_.next();
    return true;
  }
  // In probe state only the answer to the probe we sent (next - 1) counts.
  if (next_.prev() != rejected) return false;
  next_ = std::max(std::min(rejected, hint_next), match_.next());
  probe_sent_ = false;
  return true;
}

void Progress::sent_entries(Index last, uint64_t bytes) {
  switch (state_) {
    case ProgressState::kReplicate:
      if (last >= next_) {
        next_ = last.next();
        inflights_.add(last, bytes);
      }
      break;
    case ProgressState::kProbe:
      probe_sent_ = true;
      break;
    case ProgressState::kSnapshot:
      REEF_UNREACHABLE("sending entries to a follower that awaits a snapshot");
  }
}

bool Progress::is_paused() const {
  switch (state_) {
    case ProgressState::kProbe: return probe_sent_;
    case ProgressState::kReplicate: return inflights_.full();
    case ProgressState::kSnapshot: return true;
  }
  return true;
}

}  // namespace reef::raft
