#include "sim/raft_safety_checker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace reef::sim {

using raft::RaftLog;
using raft::RequestVote;
using raft::VoteResponse;

void RaftSafetyChecker::fail(std::string what) {
  if (!violation_) violation_ = std::move(what);
}

void RaftSafetyChecker::observe_restart(NodeId node) { last_commit_.erase(node); }

void RaftSafetyChecker::observe_sent(const Message& m) {
  std::optional<NodeId> candidate;
  if (const auto* vr = std::get_if<VoteResponse>(&m.body); vr != nullptr && vr->granted && !vr->pre_vote) {
    candidate = m.to;
  } else if (const auto* rv = std::get_if<RequestVote>(&m.body); rv != nullptr && !rv->pre_vote) {
    candidate = m.from;
  }
  if (!candidate) return;
  auto [it, inserted] = votes_sent_.try_emplace({m.from, m.term}, *candidate);
  if (!inserted && it->second != *candidate) {
    fail(absl::StrCat("vote safety: node ", m.from.value(), " voted for ", it->second.value(), " and for ",
                      candidate->value(), " in term ", m.term.value()));
  }
}

void RaftSafetyChecker::observe_applied(NodeId node, const LogEntry& entry, Term node_term) {
  auto [it, inserted] =
      committed_.try_emplace(entry.index, Committed{entry.term, entry.payload, entry.configuration, node_term});
  if (inserted) return;
  Committed& c = it->second;
  if (c.term != entry.term || c.payload != entry.payload || c.configuration != entry.configuration) {
    fail(absl::StrCat("state machine safety: node ", node.value(), " applied (index ", entry.index.value(),
                      ", term ", entry.term.value(), ") but (term ", c.term.value(),
                      ") was applied elsewhere"));
  }
  c.commit_term = std::min(c.commit_term, node_term);
}

void RaftSafetyChecker::observe(const std::map<NodeId, const Core*>& cores) {
  for (const auto& [id, core] : cores) {
    if (absl::Status s = core->check_invariants(); !s.ok()) fail(std::string(s.message()));
    const Index commit = core->log().committed();
    auto [it, inserted] = last_commit_.try_emplace(id, commit);
    if (!inserted) {
      if (commit < it->second) {
        fail(absl::StrCat("node ", id.value(), " commit went back from ", it->second.value(), " to ",
                          commit.value()));
      }
      it->second = commit;
    }
    if (core->is_leader()) {
      auto [lit, fresh] = leaders_.try_emplace(core->term(), id);
      if (!fresh && lit->second != id) {
        fail(absl::StrCat("election safety: nodes ", lit->second.value(), " and ", id.value(),
                          " both leader in term ", core->term().value()));
      }
      check_leader_completeness(*core);
      if (membership_rules_) check_membership_rules(*core);
    }
  }
  for (auto a = cores.begin(); a != cores.end(); ++a) {
    for (auto b = std::next(a); b != cores.end(); ++b) check_log_matching(*a->second, *b->second);
  }
}

void RaftSafetyChecker::check_log_matching(const Core& a, const Core& b) {
  const RaftLog& la = a.log();
  const RaftLog& lb = b.log();
  const Index low = std::max(la.first_index(), lb.first_index());
  const Index high = std::min(la.last_index(), lb.last_index());
  // Walk down from the top; once terms agree, everything below must too.
  bool agreed = false;
  for (Index i = high; i >= low && i > Index(0); i = i.prev()) {
    const LogEntry& ea = la.at(i);
    const LogEntry& eb = lb.at(i);
    if (ea.term == eb.term) agreed = true;
    if (agreed && ea != eb) {
      fail(absl::StrCat("log matching: nodes ", a.id().value(), " and ", b.id().value(), " differ at index ",
                        i.value(), " below a common (index, term)"));
      return;
    }
  }
}

void RaftSafetyChecker::check_membership_rules(const Core& leader) {
  const Index latest = leader.latest_configuration_index();
  Index& seen = latest_configuration_seen_[leader.id()];
  if (latest == seen) return;
  seen = latest;
  const RaftLog& log = leader.log();
  if (latest <= log.committed() || latest < log.first_index() || log.at(latest).term != leader.term()) return;
  // A configuration entry of this leader's term, not yet committed.
  if (log.term_at(log.committed()) != leader.term()) {
    fail(absl::StrCat("membership: leader ", leader.id().value(), " of term ", leader.term().value(),
                      " appended configuration entry ", latest.value(), " before committing an entry of its term"));
    return;
  }
  for (Index i = log.committed().next(); i < latest; i = i.next()) {
    if (log.at(i).type == raft::EntryType::kConfiguration) {
      fail(absl::StrCat("membership: leader ", leader.id().value(), " of term ", leader.term().value(),
                        " appended configuration entry ", latest.value(), " while entry ", i.value(),
                        " (another configuration) was uncommitted"));
      return;
    }
  }
}

void RaftSafetyChecker::check_leader_completeness(const Core& leader) {
  const RaftLog& log = leader.log();
  for (const auto& [index, c] : committed_) {
    if (c.commit_term >= leader.term()) continue;
    if (index <= log.snapshot().index) continue;  // covered by its snapshot
    std::optional<Term> have = log.term_at(index);
    if (!have || *have != c.term || log.at(index).payload != c.payload ||
        log.at(index).configuration != c.configuration) {
      fail(absl::StrCat("leader completeness: leader ", leader.id().value(), " of term ",
                        leader.term().value(), " lacks entry ", index.value(), " committed in term ",
                        c.commit_term.value()));
      return;
    }
  }
}

}  // namespace reef::sim
