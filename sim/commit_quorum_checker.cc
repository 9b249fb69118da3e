#include "sim/commit_quorum_checker.h"

#include "absl/strings/str_cat.h"

namespace reef::sim {

using raft::Configuration;
using raft::Core;
using raft::Index;
using raft::NodeId;

void CommitQuorumChecker::observe_turn(NodeId node, const Core* core) {
  if (core == nullptr) {
    seen_.erase(node);  // a restarted process starts its commit over
    return;
  }
  const Index commit = core->log().committed();
  auto [it, fresh] = seen_.try_emplace(node, Seen{core->term(), commit});
  Seen& seen = it->second;
  // A leader decides its commit; a node that lost leadership to a higher
  // term in this turn learned its new commit from the next leader.
  const bool decided = !fresh && (core->is_leader() || seen.leader) && core->term() == seen.term;
  if (decided && commit > seen.commit) {
    // The configuration it held when the turn began: a leader appends a
    // configuration in a turn of its own, or after the commit it decided
    // (leaving a joint configuration, stepping down once removed).
    if (!seen.configuration_index) refresh(seen, *core);
    check(node, *core, seen.commit.next(), commit, seen.configuration);
  }
  seen.term = core->term();
  seen.commit = commit;
  seen.leader = core->is_leader();
  if (seen.leader) refresh(seen, *core);
}

void CommitQuorumChecker::refresh(Seen& seen, const Core& core) {
  if (seen.configuration_index == core.latest_configuration_index()) return;
  seen.configuration_index = core.latest_configuration_index();
  seen.configuration = core.configuration_at(core.log().last_index());
}

void CommitQuorumChecker::check(NodeId leader, const Core& core, Index from, Index to,
                                const Configuration& configuration) {
  if (violation_) return;
  const raft::RaftLog& log = core.log();
  for (Index i = std::max(from, log.first_index()); i <= to; i = i.next()) {
    const raft::Term term = log.at(i).term;
    ++entries_checked_;
    const raft::VoteResult held =
        configuration.vote_result([&](NodeId member) -> std::optional<bool> { return holds_(member, i, term); });
    if (held == raft::VoteResult::kWon) continue;
    std::string holders;
    for (NodeId member : configuration.members()) {
      if (holds_(member, i, term)) absl::StrAppend(&holders, holders.empty() ? "" : ",", member.value());
    }
    violation_ = absl::StrCat("commit quorum: leader ", leader.value(), " of term ", core.term().value(),
                              " committed entry ", i.value(), " (term ", term.value(), ") held durably only by {",
                              holders, "}, not a quorum of ", configuration.describe());
    return;
  }
}

}  // namespace reef::sim
