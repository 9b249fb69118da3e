#include "sim/bugs.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace reef::sim {
namespace {

// A cut-off leader that clients still reach, for long enough that another
// leader commits meanwhile: what stale reads need.
void isolated_leaders(RunConfig& c) {
  c.faults.isolate_leader_per_mille = 800;
  c.faults.partition_max_ms = 3000;
}

// Faults that make a leader change with work in flight: the moments every
// one of these bugs needs.
void frequent_leader_trouble(RunConfig& c) {
  c.faults.partitions = true;
  c.faults.crashes = true;
  c.faults.interval_min_ms = 100;
  c.faults.interval_max_ms = 600;
  c.faults.partition_max_ms = 1500;
  c.faults.downtime_max_ms = 1500;
}

void read_heavy(RunConfig& c) {
  c.workload.mix.read_linearizable = 40;
  c.workload.mix.write = 40;
  c.workload.keys = std::min<size_t>(c.workload.keys, 3);
  c.workload.ops_per_second = std::max<uint64_t>(c.workload.ops_per_second, 200);
}

// Membership changes one after the other while leaders come and go: what
// every membership bug needs to act on.
void hectic_membership(RunConfig& c) {
  c.faults.membership = true;
  c.faults.membership_interval_min_ms = 100;
  c.faults.membership_interval_max_ms = 500;
  frequent_leader_trouble(c);
}

struct Bug {
  BugInfo info;
  void (*apply)(RunConfig&);
};

const std::vector<Bug>& bugs() {
  static const std::vector<Bug> list = {
      {{"lying-fsync", "the disk acknowledges fsync without making data durable (storage)"},
       [](RunConfig& c) {
         c.faults.crashes = true;
         c.faults.interval_min_ms = 100;
         c.faults.interval_max_ms = 500;
         c.faults.interrupt_writes = false;
       }},
      {{"vote-before-persist", "the driver sends a vote grant before the vote is durable (driver)"},
       [](RunConfig& c) {
         c.node.core.bugs.grant_vote_before_persist = true;
         frequent_leader_trouble(c);
         // Competing candidates (no pre-vote) and crashes right after grants.
         c.node.core.pre_vote = false;
         c.faults.crash_after_vote_per_mille = 300;
         c.disk_latency_min_us = 2'000;
         c.disk_latency_max_us = 10'000;
       }},
      {{"commit-earlier-term", "the leader commits an entry of an earlier term by counting replicas (core)"},
       [](RunConfig& c) {
         c.node.core.bugs.commit_earlier_term_by_counting = true;
         // Figure 8 on three nodes: a leader dies with an entry only in its
         // own log; the next leader dies before its own entry at that index
         // leaves it; the first comes back, replicates its old entry to the
         // third node, counts a majority and dies as it announces the
         // commit; the second comes back and wins with its higher last
         // term. One entry per append and one append in flight keep the new
         // leader's own entry from travelling with the old one; long enough
         // downtimes let the second leader return in time.
         c.nodes = 3;
         c.node.core.max_entries_per_message = 1;
         c.node.core.max_inflight_messages = 1;
         c.faults.crashes = false;
         c.faults.pauses = false;
         c.faults.partitions = false;
         c.faults.crash_while_appending_per_mille = 300;
         c.faults.crash_after_commit_per_mille = 700;
         c.faults.targeted_downtime_max_ms = 1000;
       }},
      {{"read-index-without-quorum", "ReadIndex is answered without confirming leadership with a quorum (core)"},
       [](RunConfig& c) {
         c.node.core.bugs.read_index_without_quorum = true;
         // Without check-quorum a cut-off leader keeps believing it leads,
         // so only the quorum round protects its reads.
         c.node.core.lease_reads = false;
         c.node.core.check_quorum = false;
         frequent_leader_trouble(c);
         isolated_leaders(c);
         read_heavy(c);
       }},
      {{"commit-without-quorum", "the leader commits what its own disk holds, without a majority (core)"},
       [](RunConfig& c) {
         c.node.core.bugs.commit_without_quorum = true;
         frequent_leader_trouble(c);
       }},
      {{"append-without-consistency-check", "a follower accepts appends whose previous entry does not match (core)"},
       [](RunConfig& c) {
         c.node.core.bugs.append_without_consistency_check = true;
         frequent_leader_trouble(c);
       }},
      {{"time-goes-back", "the state machine takes each leader's wall clock as is, behind earlier entries' time (state machine, clocks)"},
       [](RunConfig& c) {
         c.state_machine.injected_bug_trust_leader_clock = true;
         // Leadership moves between hosts whose clocks disagree by seconds.
         frequent_leader_trouble(c);
         c.faults.wall_clock_skew_max_ms = std::max<uint64_t>(c.faults.wall_clock_skew_max_ms, 3000);
       }},
      {{"applied-index-own-transaction", "the state machine commits its applied index apart from the batch's data, so a crash can keep one without the other (state machine, storage)"},
       [](RunConfig& c) {
         c.state_machine.injected_bug_applied_index_own_transaction = true;
         // Crashes while batches apply, and WAL checkpoints (the only
         // syncs between two commits) after a handful of entries.
         c.faults.crashes = true;
         c.faults.interval_min_ms = 100;
         c.faults.interval_max_ms = 500;
         c.state_machine.checkpoint_wal_pages = 8;
       }},
      {{"lease-beyond-clock-bound", "the leader's read lease outlasts the voters' promise (core, clocks)"},
       [](RunConfig& c) {
         c.node.core.bugs.lease_beyond_clock_bound = true;
         c.node.core.lease_reads = true;
         c.node.core.pre_vote = false;
         read_heavy(c);
         // Only what the lease's clock assumption allows (no pauses, drift
         // within the margin): a correct lease survives all of it. A leader
         // is cut off for longer than an election, so a new one is elected
         // and commits writes while clients still read from the old one,
         // which steps down (check-quorum) only one to two election
         // timeouts later; its lease must have run out before then.
         c.faults.crashes = false;
         c.faults.pauses = false;
         c.faults.set_targeted_crashes(0);
         c.faults.partitions = true;
         c.faults.isolate_leader_per_mille = 900;
         c.workload.clients = 16;  // enough reads reach the cut-off leader
         c.faults.interval_min_ms = 500;
         c.faults.interval_max_ms = 1500;
         c.faults.partition_max_ms = 3000;
         c.faults.drift_max_ppm = std::min<int64_t>(c.faults.drift_max_ppm, 10'000);
       }},
      {{"configuration-on-commit", "a configuration takes effect when committed instead of when appended (core, membership)"},
       [](RunConfig& c) {
         c.node.core.bugs.configuration_on_commit = true;
         hectic_membership(c);
       }},
      {{"two-changes-in-flight", "a second membership change is accepted while one is in flight (core, membership)"},
       [](RunConfig& c) {
         c.node.core.bugs.two_changes_in_flight = true;
         // Five voters shrink to three and grow back one server at a time.
         // A leader cut off with one follower still has that follower
         // forward requests to it: its first removal cannot commit, the
         // second (accepted on top of it) needs only the two of them, while
         // the three on the other side elect a leader of the old
         // configuration.
         hectic_membership(c);
         c.nodes = 5;
         c.faults.membership_mix = MembershipMix{.add_learner = 0, .add_voter = 2, .promote = 0, .demote = 0,
                                                 .remove_voter = 3, .remove_learner = 0, .replace = 0, .swap = 0,
                                                 .grow = 0, .shrink = 0};
         c.faults.membership_interval_min_ms = 20;
         c.faults.membership_interval_max_ms = 150;
       }},
      {{"joint-quorum-only-incoming", "a joint configuration's quorum counts only the incoming voters (core, membership)"},
       [](RunConfig& c) {
         c.node.core.bugs.joint_quorum_only_incoming = true;
         hectic_membership(c);
       }},
      {{"change-before-term-commit", "a new leader accepts a membership change before committing an entry of its term (core, membership)"},
       [](RunConfig& c) {
         c.node.core.bugs.change_before_term_commit = true;
         // The raft-dev 2015 case: a leader appends one single-server change
         // that reaches few nodes and is cut off; the next leader, before its
         // first entry commits, appends another one from the older
         // configuration; the two have disjoint quorums. Single-server
         // changes only, changes asked for often, slow links so that a new
         // leader's first entry takes long to commit.
         hectic_membership(c);
         c.faults.membership_mix = MembershipMix{.add_learner = 0, .add_voter = 2, .promote = 0, .demote = 0,
                                                 .remove_voter = 2, .remove_learner = 0, .replace = 0, .swap = 0,
                                                 .grow = 0, .shrink = 0};
         c.faults.membership_interval_min_ms = 20;
         c.faults.membership_interval_max_ms = 150;
         c.network.latency_max_us = 30'000;
       }},
  };
  return list;
}

}  // namespace

const std::vector<BugInfo>& all_bugs() {
  static const std::vector<BugInfo> infos = [] {
    std::vector<BugInfo> out;
    for (const Bug& b : bugs()) out.push_back(b.info);
    return out;
  }();
  return infos;
}

absl::Status apply_bugs(RunConfig& config) {
  for (const std::string& name : config.bugs) {
    auto it = std::find_if(bugs().begin(), bugs().end(), [&](const Bug& b) { return name == b.info.name; });
    if (it == bugs().end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown bug '", name, "' (reef-sim bugs lists them)"));
    }
    it->apply(config);
  }
  if (config.bugs_switched_off) {
    config.node.core.bugs = raft::InjectedBugs{};
    config.state_machine.injected_bug_trust_leader_clock = false;
    config.state_machine.injected_bug_applied_index_own_transaction = false;
  }
  return absl::OkStatus();
}

bool lies_about_fsync(const RunConfig& config) {
  return !config.bugs_switched_off && std::find(config.bugs.begin(), config.bugs.end(), "lying-fsync") != config.bugs.end();
}

}  // namespace reef::sim
