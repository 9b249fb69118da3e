// Log replication (thesis §3.5), commitment (§3.6), flow control (§10.2)
// and snapshot shipping (§5).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "raft/core/core.h"

namespace reef::raft {

void Core::tick_leader() {
  Leader& leader = leader_state();
  ++election_elapsed_;
  ++heartbeat_elapsed_;
  if (leader.transferee) {
    ++leader.transfer_elapsed_ticks;
    if (leader.transfer_elapsed_ticks >= config_.election_timeout_ticks) {
      abort_transfer(leader, absl::DeadlineExceededError(absl::StrCat(
                                 "leadership transfer to node ", leader.transferee->value(),
                                 " did not complete within the election timeout")));
    }
  }
  if (election_elapsed_ >= config_.election_timeout_ticks) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      // Thesis §6.2: a leader cut off from a quorum steps down so clients
      // can find the real one.
      const VoteResult active = quorum_configuration_.vote_result([&](NodeId id) -> std::optional<bool> {
        if (id == config_.id) return true;
        auto it = leader.progress.find(id);
        return it != leader.progress.end() && it->second.recent_active;
      });
      if (active != VoteResult::kWon) {
        become_follower(term_, std::nullopt);
        return;
      }
      for (auto& [peer, pr] : leader.progress) pr.recent_active = false;
    }
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_interval_ticks) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat();
  }
}

void Core::refuse_proposal(ProposalId id, absl::Status status) {
  std::optional<NodeId> hint = is_not_leader(status) ? leader_ : std::nullopt;
  output_.proposals.push_back(ProposalResult{id, std::move(status), hint, Term(0), Index(0), Index(0)});
}

absl::Status Core::leader_takes_proposals() const {
  const auto* leader = std::get_if<Leader>(&role_);
  if (leader == nullptr) return not_leader_error(leader_);
  if (leader->transferee) {
    return absl::UnavailableError(
        absl::StrCat("leadership transfer to node ", leader->transferee->value(), " in progress"));
  }
  return absl::OkStatus();
}

void Core::handle_propose(Propose p) {
  auto refuse = [&](absl::Status status) { refuse_proposal(p.id, std::move(status)); };
  if (absl::Status s = leader_takes_proposals(); !s.ok()) return refuse(std::move(s));
  Leader* leader = &leader_state();
  if (p.payloads.empty()) return refuse(absl::InvalidArgumentError("proposal has no payloads"));
  if (p.type == EntryType::kConfiguration) {
    return refuse(absl::InvalidArgumentError("configuration entries are proposed with ChangeMembership"));
  }
  if (p.type == EntryType::kNoop && (p.payloads.size() != 1 || !p.payloads.front().empty())) {
    return refuse(absl::InvalidArgumentError("a barrier is one empty payload"));
  }
  uint64_t bytes = 0;
  for (const std::string& payload : p.payloads) {
    if (payload.size() > config_.max_entry_bytes) {
      return refuse(absl::InvalidArgumentError(absl::StrCat("entry of ", payload.size(),
                                                            " bytes exceeds max_entry_bytes ",
                                                            config_.max_entry_bytes)));
    }
    bytes += payload.size();
  }
  if (leader->uncommitted_bytes + bytes > config_.max_uncommitted_bytes) {
    return refuse(absl::ResourceExhaustedError(absl::StrCat(
        "uncommitted log would exceed max_uncommitted_bytes (", config_.max_uncommitted_bytes,
        "); followers are behind")));
  }
  leader->uncommitted_bytes += bytes;
  const Index first = log_.last_index().next();
  // Straight into the log: a staging vector was one more large allocation
  // per proposal on the leader's hot path.
  for (std::string& payload : p.payloads) {
    log_.append(LogEntry{term_, log_.last_index().next(), p.type, std::move(payload)});
  }
  note_log_changed(first);
  output_.proposals.push_back(ProposalResult{p.id, absl::OkStatus(), std::nullopt, term_, first, log_.last_index()});
  for (auto& [peer, pr] : leader->progress) maybe_send_append(peer, /*send_if_empty=*/false);
}

bool Core::maybe_send_append(NodeId peer, bool send_if_empty) {
  Progress& pr = leader_state().progress.at(peer);
  if (pr.is_paused()) return false;
  const Index prev = pr.next().prev();
  const std::optional<Term> prev_term = log_.term_at(prev);
  if (!prev_term.has_value()) {
    send_snapshot(peer, pr);
    return true;
  }
  std::vector<LogEntry> entries;
  if (pr.next() <= log_.last_index()) {
    entries = log_.slice(pr.next(), config_.max_entries_per_message, config_.max_message_bytes);
  }
  if (entries.empty() && !send_if_empty) return false;
  uint64_t bytes = 0;
  for (const LogEntry& e : entries) bytes += entry_size_bytes(e);
  const Index last = prev + entries.size();
  pr.sent_entries(last, bytes);
  send(peer, AppendEntries{.prev_index = prev, .prev_term = *prev_term, .entries = std::move(entries),
                           .commit = log_.committed()});
  return true;
}

void Core::send_snapshot(NodeId peer, Progress& pr) {
  // The follower needs entries we compacted: ship the snapshot that
  // replaced them. The driver attaches the bytes.
  pr.become_snapshot(log_.snapshot().index);
  send(peer, InstallSnapshot{log_.snapshot()});
}

void Core::broadcast_append() {
  for (auto& [peer, pr] : leader_state().progress) maybe_send_append(peer, /*send_if_empty=*/true);
}

bool Core::maybe_commit() {
  Leader& leader = leader_state();
  const Index quorum_index =
      config_.bugs.commit_without_quorum
          ? log_.persisted()
          : Index(quorum_configuration_.committed_value([&](NodeId id) -> std::optional<uint64_t> {
              if (id == config_.id) return log_.persisted().value();
              auto it = leader.progress.find(id);
              if (it == leader.progress.end()) return std::nullopt;
              return it->second.match().value();
            }));
  if (quorum_index <= log_.committed()) return false;
  // Thesis §3.6.2 (figure 3.7): only entries of the current term commit by
  // counting replicas; earlier ones commit indirectly beneath them.
  if (log_.term_at(quorum_index) != term_ && !config_.bugs.commit_earlier_term_by_counting) return false;
  for (Index i = log_.committed().next(); i <= quorum_index; i = i.next()) {
    const LogEntry& e = log_.at(i);
    if (e.term == term_) leader.uncommitted_bytes -= std::min<uint64_t>(leader.uncommitted_bytes, e.payload.size());
  }
  const bool first_commit_in_term = !committed_in_current_term();
  log_.commit_to(quorum_index);
  if (first_commit_in_term) {
    // Reads that arrived before the leader knew its commit index can now
    // be given a read point (thesis §6.4 step 1).
    std::deque<PendingRead> waiting = std::move(leader.reads_awaiting_commit);
    leader.reads_awaiting_commit.clear();
    for (const PendingRead& r : waiting) handle_read_index(r.id, r.requester);
  }
  return true;
}

void Core::heard_from_leader(NodeId leader) {
  election_elapsed_ = 0;
  leader_ = leader;
}

// Entries from outside may be malformed; reject rather than assert.
static bool well_formed(const Message& m, const AppendEntries& ae) {
  Index expected = ae.prev_index.next();
  Term previous = ae.prev_term;
  for (const LogEntry& e : ae.entries) {
    if (e.index != expected || e.term < previous || e.term > m.term) return false;
    expected = expected.next();
    previous = e.term;
  }
  return true;
}

void Core::handle_append(const Message& m, AppendEntries& ae_in) {
  // Two leaders in one term is impossible (election safety); a message that
  // claims it is forged or corrupt and is dropped.
  if (is_leader()) return;
  if (!well_formed(m, ae_in)) return;
  if (role() != Role::kFollower) become_follower(m.term, m.from);
  heard_from_leader(m.from);

  AppendEntries* ae = &ae_in;
  AppendEntries trimmed;
  if (ae->prev_index < log_.committed()) {
    // Everything up to our commit index matches the leader (it is
    // committed); skip that part of a delayed or duplicated append.
    const uint64_t covered = distance(ae->prev_index, log_.committed());
    if (covered >= ae->entries.size()) {
      send_after_persist(m.from, AppendResponse{.index = log_.committed()});
      return;
    }
    trimmed.prev_index = log_.committed();
    trimmed.prev_term = ae->entries[covered - 1].term;
    trimmed.entries.assign(std::make_move_iterator(ae->entries.begin() + static_cast<ptrdiff_t>(covered)),
                           std::make_move_iterator(ae->entries.end()));
    trimmed.commit = ae->commit;
    ae = &trimmed;
  }

  const bool skip_check = config_.bugs.append_without_consistency_check && ae->prev_index <= log_.last_index() &&
                          ae->prev_index >= log_.snapshot().index;
  if (!skip_check && !log_.matches(ae->prev_index, ae->prev_term)) {
    // Thesis §5.3: tell the leader where our log could match so it can skip
    // a whole conflicting term at once.
    const Index hint = log_.find_conflict_by_term(std::min(ae->prev_index, log_.last_index()), ae->prev_term);
    send(m.from, AppendResponse{.reject = true, .index = ae->prev_index, .hint_index = hint,
                                .hint_term = log_.term_at(hint).value_or(Term(0))});
    return;
  }
  const Index last_new = ae->prev_index + ae->entries.size();
  // The message is ours: move its payloads into the log rather than copy them.
  if (std::optional<Index> changed = log_.merge(ae->prev_index, std::move(ae->entries))) {
    note_log_changed(*changed);
  }
  log_.commit_to(std::min(ae->commit, last_new));
  send_after_persist(m.from, AppendResponse{.index = last_new});
}

Progress* Core::answered_progress(NodeId from) {
  auto* leader = std::get_if<Leader>(&role_);
  if (leader == nullptr) return nullptr;
  auto it = leader->progress.find(from);
  if (it == leader->progress.end()) return nullptr;
  it->second.recent_active = true;
  return &it->second;
}

void Core::handle_append_response(const Message& m, const AppendResponse& ar) {
  Progress* answered = answered_progress(m.from);
  if (answered == nullptr) return;
  Progress& pr = *answered;
  Leader* leader = &leader_state();
  if (ar.index > log_.last_index()) return;  // claims entries we never sent

  if (ar.reject) {
    Index next_probe = ar.hint_index;
    if (ar.hint_term > Term(0)) next_probe = log_.find_conflict_by_term(ar.hint_index, ar.hint_term);
    if (pr.maybe_decrease_to(ar.index, next_probe.next())) {
      if (pr.state() == ProgressState::kReplicate) pr.become_probe();
      maybe_send_append(m.from, /*send_if_empty=*/true);
    }
    return;
  }

  const bool was_paused = pr.is_paused();
  if (!pr.maybe_update(ar.index)) {
    if (was_paused && !pr.is_paused()) maybe_send_append(m.from, false);
    return;
  }
  if (pr.state() == ProgressState::kProbe) {
    pr.become_replicate();
  } else if (pr.state() == ProgressState::kSnapshot && pr.match() >= pr.pending_snapshot()) {
    pr.become_probe();
    pr.become_replicate();
  }
  if (maybe_commit()) broadcast_append();
  // Fill the in-flight window (this also resumes a follower that was paused).
  for (size_t i = 0; i < config_.max_inflight_messages && maybe_send_append(m.from, false); ++i) {
  }
  if (leader->transferee == m.from && pr.match() == log_.last_index() && !leader->timeout_now_sent) {
    send_timeout_now(*leader);
  }
}

void Core::handle_install_snapshot(const Message& m, const InstallSnapshot& is) {
  if (is_leader()) return;
  if (!is.meta.configuration.validate().ok() || is.meta.term > m.term) return;
  if (role() != Role::kFollower) become_follower(m.term, m.from);
  heard_from_leader(m.from);
  if (is.meta.index <= log_.committed()) {
    send_after_persist(m.from, AppendResponse{.index = log_.committed()});
    return;
  }
  if (log_.matches(is.meta.index, is.meta.term)) {
    // We already hold everything the snapshot covers; just fast-forward.
    log_.commit_to(is.meta.index);
    send_after_persist(m.from, AppendResponse{.index = is.meta.index});
    return;
  }
  log_.restore(is.meta);
  configuration_entries_.clear();
  refresh_configuration();
  output_.snapshot = is.meta;
  // The snapshot supersedes every pending write, apply and acknowledgement
  // in this output: none of it may reach the disk or the wire after it.
  output_.committed_entries.clear();
  output_.entries.clear();
  withdraw_acks_from(Index(0));
  send_after_persist(m.from, AppendResponse{.index = is.meta.index});
}

void Core::handle_snapshot_status(const SnapshotStatus& s) {
  auto* leader = std::get_if<Leader>(&role_);
  if (leader == nullptr) return;
  auto it = leader->progress.find(s.peer);
  if (it == leader->progress.end() || it->second.state() != ProgressState::kSnapshot) return;
  Progress& pr = it->second;
  if (!s.ok) pr.abort_snapshot();
  pr.become_probe();
  // Wait for the follower's acknowledgement (or the next heartbeat answer)
  // before probing, rather than racing the snapshot with appends.
  pr.mark_probe_sent();
}

void Core::handle_peer_unreachable(const PeerUnreachable& u) {
  auto* leader = std::get_if<Leader>(&role_);
  if (leader == nullptr) return;
  auto it = leader->progress.find(u.peer);
  if (it != leader->progress.end() && it->second.state() == ProgressState::kReplicate) it->second.become_probe();
}

}  // namespace reef::raft
