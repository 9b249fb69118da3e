// Linearizable reads without log writes (thesis §6.4): ReadIndex with a
// heartbeat round, follower reads via the leader, and leases (§6.4.1).
//
// Each heartbeat broadcast is a numbered round. A read arriving at the
// leader records the commit index and the next round; once a quorum has
// answered that round (or a later one), no other leader could have existed
// when the read arrived, so the recorded index is a safe read point.
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "raft/core/core.h"

namespace reef::raft {

namespace {
// Rounds whose send time we remember for lease extension. Older unanswered
// rounds are forgotten; that only shortens the lease.
constexpr size_t kMaxRememberedRounds = 1024;
}  // namespace

bool Core::committed_in_current_term() const { return log_.term_at(log_.committed()) == term_; }

bool Core::lease_valid() const {
  const auto* leader = std::get_if<Leader>(&role_);
  return config_.lease_reads && leader != nullptr && !leader->lease_revoked && !leader->transferee &&
         now_tick_ < leader->lease_expiry_tick;
}

void Core::answer_read(NodeId requester, ReadId id, absl::Status status, Index index) {
  if (requester == config_.id) {
    std::optional<NodeId> hint = is_not_leader(status) ? leader_ : std::nullopt;
    output_.reads.push_back(ReadResult{id, std::move(status), hint, index});
  } else {
    send(requester, ReadIndexResponse{.id = id, .ok = status.ok(), .index = index});
  }
}

void Core::handle_read_index(ReadId id, NodeId requester) {
  auto* leader = std::get_if<Leader>(&role_);
  if (leader == nullptr) {
    if (requester != config_.id) {
      answer_read(requester, id, not_leader_error(leader_), Index(0));
      return;
    }
    if (!leader_.has_value()) {
      answer_read(requester, id, not_leader_error(std::nullopt), Index(0));
      return;
    }
    if (forwarded_reads_.size() >= config_.max_pending_reads || forwarded_reads_.contains(id)) {
      answer_read(requester, id, absl::ResourceExhaustedError("too many reads waiting for the leader"), Index(0));
      return;
    }
    forwarded_reads_.insert(id);
    send(*leader_, ReadIndexRequest{id});
    return;
  }
  if (leader->pending_reads.size() + leader->reads_awaiting_commit.size() >= config_.max_pending_reads) {
    answer_read(requester, id, absl::ResourceExhaustedError("too many reads waiting for confirmation"), Index(0));
    return;
  }
  if (!committed_in_current_term()) {
    // Until its no-op commits, a new leader does not know the commit index.
    leader->reads_awaiting_commit.push_back(PendingRead{id, requester, Index(0), 0});
    return;
  }
  const bool alone = quorum_configuration_.vote_result([&](NodeId n) -> std::optional<bool> {
    return n == config_.id ? std::optional<bool>(true) : std::nullopt;
  }) == VoteResult::kWon;
  if (alone || lease_valid() || config_.bugs.read_index_without_quorum) {
    // Under a lease, or alone in the cluster: no other leader can exist now.
    answer_read(requester, id, absl::OkStatus(), log_.committed());
    return;
  }
  leader->pending_reads.push_back(PendingRead{id, requester, log_.committed(), next_read_round_});
  broadcast_heartbeat();
}

void Core::broadcast_heartbeat() {
  Leader& leader = leader_state();
  const uint64_t round = next_read_round_++;
  leader.round_sent_tick.emplace_back(round, now_tick_);
  if (leader.round_sent_tick.size() > kMaxRememberedRounds) leader.round_sent_tick.pop_front();
  for (auto& [peer, pr] : leader.progress) {
    // Thesis §3.5: never let a follower commit beyond what it is known to
    // share with us.
    send(peer, Heartbeat{.commit = std::min(pr.match(), log_.committed()), .round = round});
  }
}

void Core::handle_heartbeat(const Message& m, const Heartbeat& hb) {
  if (is_leader()) return;
  if (role() != Role::kFollower) become_follower(m.term, m.from);
  heard_from_leader(m.from);
  log_.commit_to(std::min(hb.commit, log_.last_index()));
  send(m.from, HeartbeatResponse{hb.round});
}

void Core::handle_heartbeat_response(const Message& m, const HeartbeatResponse& hr) {
  Progress* answered = answered_progress(m.from);
  if (answered == nullptr) return;
  Progress& pr = *answered;
  pr.unpause();
  if (pr.match() < log_.last_index()) {
    // The follower is alive but behind. In the replicate state the appends
    // meant to catch it up may have been lost, and an idle leader would never
    // send them again (thesis §3.5: the leader retries AppendEntries
    // indefinitely). Free one window slot, so a window full of lost messages
    // cannot block the follower for good, and send even an empty append: a
    // follower missing entries rejects it, which sends us back to probing
    // from its match index (etcd raft does the same).
    if (pr.state() == ProgressState::kReplicate && pr.inflights().full()) pr.free_first_inflight();
    maybe_send_append(m.from, /*send_if_empty=*/true);
  }
  if (hr.round < next_read_round_ && hr.round > pr.acked_round) {
    pr.acked_round = hr.round;
    maybe_confirm_reads();
  }
}

void Core::maybe_confirm_reads() {
  Leader& leader = leader_state();
  const uint64_t confirmed = quorum_configuration_.committed_value([&](NodeId id) -> std::optional<uint64_t> {
    if (id == config_.id) return next_read_round_ - 1;
    auto it = leader.progress.find(id);
    if (it == leader.progress.end()) return std::nullopt;
    return it->second.acked_round;
  });
  if (confirmed <= leader.confirmed_round) return;
  leader.confirmed_round = confirmed;
  while (!leader.round_sent_tick.empty() && leader.round_sent_tick.front().first <= confirmed) {
    if (leader.round_sent_tick.front().first == confirmed) {
      // A quorum saw us as leader at the time this round was sent; none of
      // them votes for another node within an election timeout of that.
      const uint64_t sent = leader.round_sent_tick.front().second;
      leader.lease_expiry_tick = config_.bugs.lease_beyond_clock_bound
                                     ? sent + 2 * config_.election_timeout_ticks
                                     : sent + config_.election_timeout_ticks - config_.lease_clock_margin_ticks;
    }
    leader.round_sent_tick.pop_front();
  }
  while (!leader.pending_reads.empty() && leader.pending_reads.front().round <= confirmed) {
    const PendingRead r = leader.pending_reads.front();
    leader.pending_reads.pop_front();
    answer_read(r.requester, r.id, absl::OkStatus(), r.index);
  }
}

void Core::handle_read_index_response(const ReadIndexResponse& r) {
  if (forwarded_reads_.erase(r.id) == 0) return;  // unknown or already failed
  if (r.ok) {
    output_.reads.push_back(ReadResult{r.id, absl::OkStatus(), std::nullopt, r.index});
  } else {
    output_.reads.push_back(ReadResult{r.id, not_leader_error(leader_), leader_, Index(0)});
  }
}

// A forwarded read is answered only by the leader it went to; once that
// leader is no longer ours, its answer would be dropped by the term rules,
// so the caller is told now instead of waiting forever.
void Core::fail_forwarded_reads(std::optional<NodeId> new_leader) {
  for (ReadId id : forwarded_reads_) {
    output_.reads.push_back(ReadResult{id, absl::UnavailableError("leader changed before the read was confirmed"),
                                       new_leader, Index(0)});
  }
  forwarded_reads_.clear();
}

void Core::fail_reads(const absl::Status& status) {
  Leader& leader = leader_state();
  for (const PendingRead& r : leader.pending_reads) answer_read(r.requester, r.id, status, Index(0));
  for (const PendingRead& r : leader.reads_awaiting_commit) answer_read(r.requester, r.id, status, Index(0));
  leader.pending_reads.clear();
  leader.reads_awaiting_commit.clear();
}

}  // namespace reef::raft
