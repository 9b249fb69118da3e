// Core lifecycle, input dispatch, the term rules shared by every role, and
// the plumbing that turns state changes into Output fields.
#include "raft/core/core.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::raft {

namespace {
constexpr char kNotLeaderPayloadUrl[] = "type.reefdb/raft.NotLeader";

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

bool comes_from_leader(const MessageBody& body) {
  return std::holds_alternative<AppendEntries>(body) || std::holds_alternative<Heartbeat>(body) ||
         std::holds_alternative<InstallSnapshot>(body);
}
}  // namespace

absl::Status not_leader_error(std::optional<NodeId> leader_hint) {
  absl::Status status = absl::FailedPreconditionError(
      leader_hint ? absl::StrCat("not leader; leader is node ", leader_hint->value())
                  : std::string("not leader; no leader known"));
  status.SetPayload(kNotLeaderPayloadUrl, absl::Cord(leader_hint ? absl::StrCat(leader_hint->value()) : ""));
  return status;
}

bool is_not_leader(const absl::Status& status) {
  return status.GetPayload(kNotLeaderPayloadUrl).has_value();
}

absl::StatusOr<Core> Core::create(CoreConfig config, RecoveredState recovered) {
  if (absl::Status s = config.validate(); !s.ok()) return s;
  // An empty configuration at index 0 is a node that waits to be added to
  // a cluster: it learns its configuration from the leader's log.
  const bool awaiting_membership = recovered.snapshot.configuration.empty() && recovered.snapshot.index == Index(0);
  if (absl::Status s = recovered.snapshot.configuration.validate(); !s.ok() && !awaiting_membership) {
    return absl::InvalidArgumentError(absl::StrCat("recovered configuration: ", s.message()));
  }
  Index expected = recovered.snapshot.index.next();
  Term previous_term = recovered.snapshot.term;
  for (const LogEntry& e : recovered.entries) {
    if (e.index != expected || e.term < previous_term || e.term > recovered.hard_state.term) {
      return absl::DataLossError(absl::StrCat("recovered log is inconsistent at index ", e.index.value()));
    }
    if ((e.type == EntryType::kConfiguration) != e.configuration.has_value() ||
        (e.configuration && !e.configuration->validate().ok())) {
      return absl::DataLossError(absl::StrCat("recovered configuration entry ", e.index.value(), " is malformed"));
    }
    expected = expected.next();
    previous_term = e.term;
  }
  if (recovered.snapshot.term > recovered.hard_state.term) {
    return absl::DataLossError("recovered snapshot term is newer than the hard state term");
  }
  return Core(std::move(config), std::move(recovered));
}

Core::Core(CoreConfig config, RecoveredState recovered)
    : config_(std::move(config)),
      prng_(config_.seed),
      log_(recovered.snapshot, std::move(recovered.entries), recovered.hard_state.commit,
           recovered.applied.value_or(recovered.snapshot.index)),
      term_(recovered.hard_state.term),
      vote_(recovered.hard_state.vote),
      role_(Follower{}) {
  reload_configurations(log_.first_index());
  reset_election_timer();
  emitted_hard_state_ = hard_state();
  emitted_soft_state_ = SoftState{Role::kFollower, std::nullopt, term_};
  // A restarted node replays what it had committed before anything else
  // happens (its state machine starts from the snapshot).
  emit_committed_entries();
}

Role Core::role() const {
  if (std::holds_alternative<Leader>(role_)) return Role::kLeader;
  if (const auto* c = std::get_if<Candidate>(&role_)) return c->pre_vote ? Role::kPreCandidate : Role::kCandidate;
  return Role::kFollower;
}

const Progress* Core::progress(NodeId peer) const {
  const auto* leader = std::get_if<Leader>(&role_);
  if (leader == nullptr) return nullptr;
  auto it = leader->progress.find(peer);
  return it == leader->progress.end() ? nullptr : &it->second;
}

std::optional<NodeId> Core::transfer_target() const {
  const auto* leader = std::get_if<Leader>(&role_);
  return leader ? leader->transferee : std::nullopt;
}

Core::Leader& Core::leader_state() {
  auto* leader = std::get_if<Leader>(&role_);
  REEF_ASSERT(leader != nullptr, "node ", config_.id.value(), " is not leader");
  return *leader;
}

void Core::step(Input input) {
  std::visit(Overloaded{
                 [&](const Tick& t) { handle_tick(t); },
                 [&](Message& m) { step_message(std::move(m)); },
                 [&](Propose& p) { handle_propose(std::move(p)); },
                 [&](const ReadIndex& r) { handle_read_index(r.id, config_.id); },
                 [&](const TransferLeadership& t) { handle_transfer(t); },
                 [&](const Campaign&) { campaign(/*transfer=*/false); },
                 [&](const Persisted& p) { handle_persisted(p); },
                 [&](const SnapshotStatus& s) { handle_snapshot_status(s); },
                 [&](const PeerUnreachable& u) { handle_peer_unreachable(u); },
                 [&](const CompactTo& c) { handle_compact(c); },
                 [&](const ChangeMembership& c) { handle_change_membership(c); },
             },
             input);
  if (config_.bugs.configuration_on_commit) refresh_configuration();
  maybe_finish_membership_change();
  emit_committed_entries();
  maybe_emit_state();
}

Output Core::take_output() {
  Output out = std::move(output_);
  output_ = Output{};
  return out;
}

void Core::handle_tick(const Tick&) {
  ++now_tick_;
  if (is_leader()) {
    tick_leader();
  } else {
    tick_election();
  }
}

void Core::step_message(Message m) {
  // Messages come from the network: anything malformed or misaddressed is
  // dropped, never asserted on.
  if (m.to != config_.id || m.from == config_.id || m.from == NodeId(0)) return;
  if (!apply_term_rules(m)) return;
  std::visit(Overloaded{
                 [&](const RequestVote& rv) { handle_request_vote(m, rv); },
                 [&](const VoteResponse& vr) { handle_vote_response(m, vr); },
                 [&](AppendEntries& ae) { handle_append(m, ae); },
                 [&](const AppendResponse& ar) { handle_append_response(m, ar); },
                 [&](const Heartbeat& hb) { handle_heartbeat(m, hb); },
                 [&](const HeartbeatResponse& hr) { handle_heartbeat_response(m, hr); },
                 [&](const InstallSnapshot& is) { handle_install_snapshot(m, is); },
                 [&](const TimeoutNow&) {
                   if (!is_leader()) campaign(/*transfer=*/true);
                 },
                 [&](const ReadIndexRequest& r) { handle_read_index(r.id, m.from); },
                 [&](const ReadIndexResponse& r) { handle_read_index_response(r); },
             },
             m.body);
}

// Thesis §3.3: a higher term makes us a follower of it; a lower term marks
// a stale sender. Returns false when the message must not be processed
// further.
bool Core::apply_term_rules(const Message& m) {
  const auto* rv = std::get_if<RequestVote>(&m.body);
  const auto* vr = std::get_if<VoteResponse>(&m.body);
  if (m.term > term_) {
    if (rv != nullptr && !rv->transfer && in_lease()) {
      // Leader stickiness (thesis §4.2.3): we heard from a live leader
      // within the minimum election timeout, so a disruptive candidate is
      // ignored and our term stays.
      return false;
    }
    if (rv != nullptr && rv->pre_vote) return true;  // a pre-vote changes nobody's term
    if (vr != nullptr && vr->pre_vote && vr->granted) return true;  // our own future term
    become_follower(m.term, comes_from_leader(m.body) ? std::optional<NodeId>(m.from) : std::nullopt);
    return true;
  }
  if (m.term < term_) {
    if (comes_from_leader(m.body)) {
      // A deposed leader still thinks it leads. Tell it our term so it
      // steps down; without this, check-quorum or pre-vote could leave it
      // and us stuck (etcd raft #5451 pattern).
      send(m.from, AppendResponse{});
    } else if (rv != nullptr && rv->pre_vote) {
      send(m.from, VoteResponse{.pre_vote = true, .granted = false});
    }
    return false;
  }
  return true;
}

void Core::handle_persisted(const Persisted& p) {
  if (!log_.persisted_to(p.index, p.term)) return;
  if (is_leader() && maybe_commit()) broadcast_append();
}

void Core::handle_compact(const CompactTo& c) {
  REEF_ASSERT(c.index <= log_.applied(), "compact to ", c.index.value(), " beyond applied ",
              log_.applied().value());
  log_.compact(c.index, configuration_at(c.index));
  std::erase_if(configuration_entries_, [&](const ConfigurationEntry& e) { return e.index <= c.index; });
}

void Core::send(NodeId to, MessageBody body) { send_with_term(to, term_, std::move(body)); }

void Core::send_with_term(NodeId to, Term term, MessageBody body) {
  output_.messages.push_back(Message{config_.id, to, term, std::move(body)});
}

void Core::send_after_persist(NodeId to, MessageBody body) {
  output_.messages_after_persist.push_back(Message{config_.id, to, term_, std::move(body)});
}

// The log changed from `from` on: the pending write must replace everything
// from there, and acknowledgements not yet sent for replaced entries would
// now be lies (they are only sent after this very write), so they go.
void Core::note_log_changed(Index from) {
  auto& entries = output_.entries;
  // The pending entries are contiguous (asserted below on every change), so
  // the replaced ones are a suffix: drop it from the back instead of scanning
  // the whole batch for every proposal of a loop turn.
  while (!entries.empty() && entries.back().index >= from) entries.pop_back();
  REEF_ASSERT(entries.empty() || entries.back().index.next() == from, "output entries not contiguous");
  log_.copy_to(from, log_.last_index(), entries);
  withdraw_acks_from(from);
  reload_configurations(from);
}

void Core::withdraw_acks_from(Index from) {
  auto& acks = output_.messages_after_persist;
  acks.erase(std::remove_if(acks.begin(), acks.end(),
                            [&](const Message& m) {
                              const auto* ar = std::get_if<AppendResponse>(&m.body);
                              return ar != nullptr && !ar->reject && ar->index >= from;
                            }),
             acks.end());
}

void Core::emit_committed_entries() {
  const Index to = log_.applicable();
  if (to <= log_.applied()) return;
  log_.copy_to(log_.applied().next(), to, output_.committed_entries);
  log_.applied_to(to);
}

void Core::maybe_emit_state() {
  HardState hs = hard_state();
  REEF_ASSERT(hs.term >= emitted_hard_state_.term, "term went backwards");
  REEF_ASSERT(hs.commit >= emitted_hard_state_.commit, "commit went backwards from ",
              emitted_hard_state_.commit.value(), " to ", hs.commit.value());
  const bool term_or_vote_changed = hs.term != emitted_hard_state_.term || hs.vote != emitted_hard_state_.vote;
  const bool commit_due = hs.commit != emitted_hard_state_.commit && now_tick_ >= commit_persist_due_tick_;
  if (term_or_vote_changed || commit_due) {
    output_.hard_state = hs;
    emitted_hard_state_ = hs;
    commit_persist_due_tick_ = now_tick_ + config_.commit_persist_interval_ticks;
  }
  SoftState ss{role(), leader_, term_};
  if (ss != emitted_soft_state_) {
    output_.soft_state = ss;
    emitted_soft_state_ = ss;
  }
}

bool Core::in_lease() const {
  if (config_.lease_reads && now_tick_ < config_.election_timeout_ticks) {
    // A restarted voter has forgotten which leader it recently heard from.
    // With leases in use it must not vote for an election timeout after
    // boot, or it could help elect a leader while the old lease holds.
    return true;
  }
  return leader_.has_value() && election_elapsed_ < config_.election_timeout_ticks;
}

bool Core::promotable() const { return configuration_.is_voter(config_.id); }

absl::Status Core::check_invariants() const {
  auto fail = [&](auto&&... parts) {
    return absl::InternalError(absl::StrCat("node ", config_.id.value(), ": ", parts...));
  };
  const Index snap = log_.snapshot().index;
  if (!(snap <= log_.applied())) return fail("applied ", log_.applied().value(), " < snapshot ", snap.value());
  if (!(log_.applied() <= log_.committed())) {
    return fail("applied ", log_.applied().value(), " > committed ", log_.committed().value());
  }
  if (!(log_.committed() <= log_.last_index())) return fail("committed beyond last index");
  if (!(log_.applied() <= log_.persisted() && log_.persisted() <= log_.last_index())) {
    return fail("persisted ", log_.persisted().value(), " outside [applied, last]");
  }
  Term previous = log_.snapshot().term;
  for (Index i = log_.first_index(); i <= log_.last_index(); i = i.next()) {
    const LogEntry& e = log_.at(i);
    if (e.index != i) return fail("entry at position ", i.value(), " has index ", e.index.value());
    if (e.term < previous) return fail("term decreases at index ", i.value());
    previous = e.term;
  }
  if (!config_.bugs.configuration_on_commit && !(configuration_ == latest_configuration())) {
    return fail("configuration in force ", configuration_.describe(), " is not the latest in the log ",
                latest_configuration().describe());
  }
  Index previous_configuration = log_.snapshot().index;
  for (const ConfigurationEntry& c : configuration_entries_) {
    if (c.index <= previous_configuration || c.index > log_.last_index() ||
        log_.at(c.index).type != EntryType::kConfiguration) {
      return fail("configuration entry list names index ", c.index.value(), ", not a configuration entry");
    }
    previous_configuration = c.index;
  }
  if (log_.last_term() > term_) return fail("log has term ", log_.last_term().value(), " > current ", term_.value());
  switch (role()) {
    case Role::kLeader:
      if (vote_ != config_.id || leader_ != config_.id) return fail("leader did not vote for itself");
      for (const auto& [peer, pr] : std::get<Leader>(role_).progress) {
        if (!(pr.match() < pr.next())) return fail("progress of ", peer.value(), " has match >= next");
        if (pr.match() > log_.last_index()) return fail("progress of ", peer.value(), " beyond last index");
      }
      break;
    case Role::kCandidate:
      if (vote_ != config_.id) return fail("candidate did not vote for itself");
      if (leader_.has_value()) return fail("candidate knows a leader");
      break;
    case Role::kPreCandidate:
    case Role::kFollower:
      if (leader_ == config_.id) return fail("non-leader names itself leader");
      break;
  }
  return absl::OkStatus();
}

}  // namespace reef::raft
