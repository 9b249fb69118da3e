// Membership changes (thesis §4): configuration entries take effect when
// they are appended and are rolled back when truncated; the leader accepts
// one change at a time, only once it has committed an entry of its own
// term, leaves a joint configuration by itself once it commits, and steps
// down once a configuration without it commits.
#include <algorithm>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "raft/core/core.h"

namespace reef::raft {

const Configuration& Core::configuration_at(Index index) const {
  REEF_ASSERT(index >= log_.snapshot().index, "configuration at ", index.value(), " before snapshot ",
              log_.snapshot().index.value());
  const Configuration* in_force = &log_.snapshot().configuration;
  for (const ConfigurationEntry& e : configuration_entries_) {
    if (e.index > index) break;
    in_force = &e.configuration;
  }
  return *in_force;
}

const Configuration& Core::latest_configuration() const {
  return configuration_entries_.empty() ? log_.snapshot().configuration : configuration_entries_.back().configuration;
}

Index Core::latest_configuration_index() const {
  return configuration_entries_.empty() ? log_.snapshot().index : configuration_entries_.back().index;
}

bool Core::membership_change_in_flight() const {
  return latest_configuration_index() > log_.committed() || latest_configuration().is_joint();
}

// The log changed from `from` on: forget the configuration entries that
// were replaced (a truncated change is rolled back) and take in new ones.
void Core::reload_configurations(Index from) {
  while (!configuration_entries_.empty() && configuration_entries_.back().index >= from) {
    configuration_entries_.pop_back();
  }
  for (Index i = std::max(from, log_.first_index()); i <= log_.last_index(); i = i.next()) {
    const LogEntry& e = log_.at(i);
    if (e.type != EntryType::kConfiguration) continue;
    REEF_ASSERT(e.configuration.has_value(), "configuration entry ", i.value(), " without a configuration");
    configuration_entries_.push_back(ConfigurationEntry{i, *e.configuration});
  }
  refresh_configuration();
}

void Core::refresh_configuration() {
  // Thesis §4.1: a server uses the latest configuration in its log,
  // committed or not. The injected bug waits for the commit instead.
  const Configuration& in_force = config_.bugs.configuration_on_commit
                                      ? configuration_at(std::min(log_.committed(), log_.last_index()))
                                      : latest_configuration();
  if (in_force == configuration_) return;
  configuration_ = in_force;
  quorum_configuration_ = configuration_;
  if (config_.bugs.joint_quorum_only_incoming) quorum_configuration_.outgoing_voters = MajorityConfig();
  if (is_leader()) track_members();
}

// Leader: one Progress per member other than itself. A new member is
// probed with the last entry (the configuration that added it), so the
// probe goes out with the change; a fresh node's rejection walks it back.
void Core::track_members() {
  Leader& leader = leader_state();
  absl::erase_if(leader.progress, [&](const auto& p) { return !configuration_.is_member(p.first); });
  for (NodeId member : configuration_.members()) {
    if (member == config_.id || leader.progress.contains(member)) continue;
    leader.progress.emplace(member, Progress(std::max(log_.last_index(), log_.first_index()),
                                             config_.max_inflight_messages, config_.max_inflight_bytes));
  }
  if (leader.transferee && !configuration_.is_voter(*leader.transferee)) {
    abort_transfer(leader, absl::AbortedError(absl::StrCat("node ", leader.transferee->value(),
                                                          " is no longer a voter")));
  }
}

void Core::handle_change_membership(const ChangeMembership& c) {
  auto refuse = [&](absl::Status status) { refuse_proposal(c.id, std::move(status)); };
  if (absl::Status s = leader_takes_proposals(); !s.ok()) return refuse(std::move(s));
  if (!committed_in_current_term() && !config_.bugs.change_before_term_commit) {
    // A new leader may hold an uncommitted change of an earlier leader that
    // a later one overwrote; building on it could split the quorums.
    return refuse(absl::UnavailableError(absl::StrCat(
        "the leader has not yet committed an entry of term ", term_.value(), "; retry shortly")));
  }
  if (membership_change_in_flight() && !config_.bugs.two_changes_in_flight) {
    return refuse(absl::FailedPreconditionError(absl::StrCat(
        "membership change in progress: ", latest_configuration().describe(), " at index ",
        latest_configuration_index().value(),
        latest_configuration().is_joint() ? " is joint and not yet left" : " is not yet committed")));
  }
  const Configuration& latest = latest_configuration();
  absl::StatusOr<Configuration> next =
      plan_membership_change(latest.is_joint() ? leave_joint(latest) : latest, c.changes);
  if (!next.ok()) return refuse(next.status());
  append_configuration(*std::move(next));
  output_.proposals.push_back(
      ProposalResult{c.id, absl::OkStatus(), std::nullopt, term_, log_.last_index(), log_.last_index()});
}

void Core::append_configuration(Configuration next) {
  log_.append(LogEntry{term_, log_.last_index().next(), EntryType::kConfiguration, {}, std::move(next)});
  note_log_changed(log_.last_index());
  for (auto& [peer, pr] : leader_state().progress) maybe_send_append(peer, /*send_if_empty=*/false);
}

// Runs after every step: what a leader does once its configuration entry
// commits. Like a requested change, it waits for an entry of the leader's own term
// to commit: a new leader that learned the joint entry committed leaves it
// only once its own no-op commits, so every configuration entry of a term
// follows a commit in that term.
void Core::maybe_finish_membership_change() {
  if (!is_leader() || latest_configuration_index() > log_.committed() || !committed_in_current_term()) return;
  const Configuration& latest = latest_configuration();
  if (latest.is_joint()) {
    append_configuration(leave_joint(latest));
  } else if (!latest.is_voter(config_.id)) {
    step_down_after_removal();
  }
}

// Thesis §4.2.2: a leader not in the configuration it committed manages the
// cluster only until then. Telling an up-to-date voter to campaign at once
// spares the cluster an election timeout without a leader.
void Core::step_down_after_removal() {
  Leader& leader = leader_state();
  if (std::optional<NodeId> target = handover_target();
      target && leader.progress.at(*target).match() == log_.last_index()) {
    send(*target, TimeoutNow{});
  }
  become_follower(term_, std::nullopt);
}

}  // namespace reef::raft
