// Leader election (thesis §3.4), pre-vote (§9.6) and role transitions.
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "raft/core/core.h"

namespace reef::raft {

void Core::reset_election_timer() {
  election_elapsed_ = 0;
  // [T, 2T): thesis §3.4; drawn from the core's seeded PRNG so simulation
  // runs are reproducible.
  const uint32_t t = config_.election_timeout_ticks;
  randomized_election_timeout_ = t + static_cast<uint32_t>(prng_.below(t));
}

void Core::tick_election() {
  ++election_elapsed_;
  if (promotable() && election_elapsed_ >= randomized_election_timeout_) {
    campaign(/*transfer=*/false);
  }
}

void Core::campaign(bool transfer) {
  if (!promotable()) return;  // learners and removed nodes never stand
  if (is_leader()) return;
  if (config_.pre_vote && !transfer) {
    become_pre_candidate();
  } else {
    become_candidate(transfer);
  }
}

void Core::become_follower(Term term, std::optional<NodeId> leader) {
  REEF_ASSERT(term >= term_, "term regression ", term_.value(), " -> ", term.value());
  const bool leader_changed = leader != leader_ || term != term_;
  if (auto* l = std::get_if<Leader>(&role_)) {
    if (l->transferee) abort_transfer(*l, absl::AbortedError("leader stepped down"));
    // The failed reads carry leader_ as their hint: it must name the new
    // leader (or nobody), not this node, which no longer leads.
    leader_ = leader;
    fail_reads(not_leader_error(leader));
  }
  if (term > term_) {
    term_ = term;
    vote_.reset();
  }
  role_ = Follower{};
  leader_ = leader;
  if (leader_changed) fail_forwarded_reads(leader);
  reset_election_timer();
}

void Core::become_pre_candidate() {
  // A pre-candidate keeps its term and vote: it only asks (thesis §9.6).
  role_ = Candidate{.pre_vote = true, .votes = {}};
  leader_.reset();
  fail_forwarded_reads(std::nullopt);
  reset_election_timer();
  std::get<Candidate>(role_).votes[config_.id] = true;
  const Term asked = term_.next();
  for (NodeId peer : configuration_.members()) {
    if (peer == config_.id || !configuration_.is_voter(peer)) continue;
    send_with_term(peer, asked,
                   RequestVote{.pre_vote = true, .transfer = false, .last_index = log_.last_index(),
                               .last_term = log_.last_term()});
  }
  tally_votes();
}

void Core::become_candidate(bool transfer) {
  REEF_ASSERT(!is_leader(), "leader ", config_.id.value(), " cannot become candidate directly");
  term_ = term_.next();
  vote_ = config_.id;
  role_ = Candidate{.pre_vote = false, .votes = {}};
  leader_.reset();
  fail_forwarded_reads(std::nullopt);
  reset_election_timer();
  std::get<Candidate>(role_).votes[config_.id] = true;
  for (NodeId peer : configuration_.members()) {
    if (peer == config_.id || !configuration_.is_voter(peer)) continue;
    // After persist: our own vote for ourselves must be durable before it
    // can help anybody win, or a restart could vote again in this term.
    send_after_persist(peer, RequestVote{.pre_vote = false, .transfer = transfer,
                                         .last_index = log_.last_index(), .last_term = log_.last_term()});
  }
  tally_votes();
}

void Core::become_leader() {
  REEF_ASSERT(role() == Role::kCandidate, "only a candidate becomes leader");
  REEF_ASSERT(vote_ == config_.id);
  Leader leader;
  for (NodeId peer : configuration_.members()) {
    if (peer == config_.id) continue;
    leader.progress.emplace(peer, Progress(log_.last_index().next(), config_.max_inflight_messages,
                                           config_.max_inflight_bytes));
  }
  role_ = std::move(leader);
  leader_ = config_.id;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  // Thesis §6.4: a no-op of the new term lets earlier entries commit
  // indirectly and tells the leader which entries are committed.
  log_.append({LogEntry{term_, log_.last_index().next(), EntryType::kNoop, {}}});
  note_log_changed(log_.last_index());
  broadcast_append();
}

void Core::handle_request_vote(const Message& m, const RequestVote& rv) {
  // Thesis §3.6.1: grant only to candidates whose log is at least as up to
  // date as ours; at most one vote per term (persisted before the grant
  // leaves). A pre-vote for a future term commits us to nothing.
  const bool can_vote =
      vote_ == m.from || (!vote_.has_value() && !leader_.has_value()) || (rv.pre_vote && m.term > term_);
  const bool grant = can_vote && log_.is_up_to_date(rv.last_index, rv.last_term);
  if (!grant) {
    send(m.from, VoteResponse{.pre_vote = rv.pre_vote, .granted = false});
    return;
  }
  if (rv.pre_vote) {
    send_with_term(m.from, m.term, VoteResponse{.pre_vote = true, .granted = true});
    return;
  }
  REEF_ASSERT(m.term == term_);
  REEF_ASSERT(!vote_.has_value() || vote_ == m.from, "double vote in term ", term_.value());
  vote_ = m.from;
  election_elapsed_ = 0;
  send_after_persist(m.from, VoteResponse{.pre_vote = false, .granted = true});
}

void Core::handle_vote_response(const Message& m, const VoteResponse& vr) {
  auto* candidate = std::get_if<Candidate>(&role_);
  if (candidate == nullptr || candidate->pre_vote != vr.pre_vote) return;
  const Term expected = vr.pre_vote ? term_.next() : term_;
  // A rejected pre-vote carries the voter's term, which may equal ours.
  if (vr.granted && m.term != expected) return;
  if (!configuration_.is_voter(m.from)) return;
  candidate->votes.emplace(m.from, vr.granted);
  tally_votes();
}

void Core::tally_votes() {
  auto& candidate = std::get<Candidate>(role_);
  const VoteResult result = quorum_configuration_.vote_result([&](NodeId id) -> std::optional<bool> {
    auto it = candidate.votes.find(id);
    if (it == candidate.votes.end()) return std::nullopt;
    return it->second;
  });
  switch (result) {
    case VoteResult::kPending:
      return;
    case VoteResult::kLost:
      become_follower(term_, std::nullopt);
      return;
    case VoteResult::kWon:
      if (candidate.pre_vote) {
        become_candidate(/*transfer=*/false);
      } else {
        become_leader();
      }
      return;
  }
}

}  // namespace reef::raft
