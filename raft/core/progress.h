// The leader's view of one follower's log (thesis §3.5, §10.2): how much of
// it matches, what to send next, and how much is in flight.
//
// States:
//  - kProbe: we do not know where the follower's log diverges. Send one
//    append at a time and wait for its answer (or the next heartbeat answer).
//  - kReplicate: the follower is caught up to `next`; stream appends
//    optimistically, bounded by the in-flight window.
//  - kSnapshot: the follower needs entries we compacted; a snapshot is on
//    its way and nothing else is sent until it is acknowledged or fails.
#pragma once

#include <cstdint>
#include <deque>
#include <utility>

#include "raft/core/types.h"

namespace reef::raft {

enum class ProgressState { kProbe, kReplicate, kSnapshot };
const char* progress_state_name(ProgressState s);

// Bounded window of append messages sent but not yet acknowledged, each
// remembered by its last index and entry bytes.
class Inflights {
 public:
  Inflights(uint32_t max_messages, uint64_t max_bytes) : max_messages_(max_messages), max_bytes_(max_bytes) {}

  bool full() const { return window_.size() >= max_messages_ || bytes_ >= max_bytes_; }
  size_t count() const { return window_.size(); }
  uint64_t bytes() const { return bytes_; }
  void add(Index last, uint64_t bytes);
  // Everything up to and including `index` was acknowledged.
  void free_to(Index index);
  // Forget the oldest message in flight (presumed lost) to make room.
  void free_first_one();
  void reset();

 private:
  uint32_t max_messages_;
  uint64_t max_bytes_;
  std::deque<std::pair<Index, uint64_t>> window_;  // ascending by index
  uint64_t bytes_ = 0;
};

class Progress {
 public:
  Progress(Index next, uint32_t max_inflight_messages, uint64_t max_inflight_bytes)
      : next_(next), inflights_(max_inflight_messages, max_inflight_bytes) {}

  Index match() const { return match_; }
  Index next() const { return next_; }
  ProgressState state() const { return state_; }
  Index pending_snapshot() const { return pending_snapshot_; }
  bool probe_sent() const { return probe_sent_; }
  const Inflights& inflights() const { return inflights_; }

  // Heard from this follower since the last check-quorum round.
  bool recent_active = false;
  // Highest heartbeat round this follower has answered.
  uint64_t acked_round = 0;

  void become_probe();
  void become_replicate();
  void become_snapshot(Index snapshot_index);
  // Sending the snapshot failed: forget it, so become_probe() restarts from match.
  void abort_snapshot() { pending_snapshot_ = Index(0); }
  // The follower answered a heartbeat but not our appends: presume the
  // oldest one lost so the window cannot stay full forever.
  void free_first_inflight() { inflights_.free_first_one(); }

  // The follower acknowledged everything up to `index`. Returns true if that
  // was news (match advanced).
  bool maybe_update(Index index);
  // The follower rejected an append at `rejected` with hint `hint_next`
  // (next index to try). Returns false if the rejection is stale.
  bool maybe_decrease_to(Index rejected, Index hint_next);
  // Record an append of entries up to `last` with `bytes` entry bytes.
  void sent_entries(Index last, uint64_t bytes);
  // A probe went out without entries (or the heartbeat reply unpauses).
  void mark_probe_sent() { probe_sent_ = true; }
  void unpause() { probe_sent_ = false; }

  // Whether an append may be sent now.
  bool is_paused() const;

 private:
  Index match_;  // invariant: match_ < next_
  Index next_;
  ProgressState state_ = ProgressState::kProbe;
  bool probe_sent_ = false;  // kProbe only: one append is outstanding
  Index pending_snapshot_;   // kSnapshot only: index of the snapshot being sent
  Inflights inflights_;
};

}  // namespace reef::raft
