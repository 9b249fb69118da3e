// InjectedBugs: deliberate bugs the simulator can switch on to prove that its
// checkers catch real mistakes (reef-sim --bug NAME; see sim/bugs.h for the
// names and what each one breaks). Every flag is off by default and no
// configuration reaches them: `reefdb` itself cannot switch one on. Besides
// the simulator, only test code sets them: the core's property and checker
// tests, and the test-only server binary reefdb-commit-without-quorum
// (tests/prod/process/reefdb_commit_without_quorum_main.cc), which the process tests
// run to show that their kill-the-leader check catches a leader that commits
// without a quorum. Each flag guards one small, clearly marked branch.
#pragma once

namespace reef::raft {

struct InjectedBugs {
  // Core: commit an entry of an earlier term by counting replicas (the
  // figure 3.7 / figure 8 mistake, thesis §3.6.2).
  bool commit_earlier_term_by_counting = false;
  // Core: answer ReadIndex at once with the commit index, without the
  // heartbeat round that confirms this node still leads (thesis §6.4 step 3).
  bool read_index_without_quorum = false;
  // Core: a follower overwrites its log from prev_index on even when its
  // entry at prev_index has another term (no consistency check, §3.5).
  bool append_without_consistency_check = false;
  // Core: the lease runs twice an election timeout and ignores the clock
  // margin, longer than any voter's promise not to elect another leader.
  bool lease_beyond_clock_bound = false;
  // Driver: send vote grants before the vote is durable (§3.8).
  bool grant_vote_before_persist = false;
  // Core: the leader commits what its own disk holds without waiting for a
  // majority (§3.6), so it acknowledges writes a new leader may lack.
  bool commit_without_quorum = false;
  // Core: a configuration entry takes effect when it commits instead of
  // when it is appended (thesis §4.1), so a leader counts quorums of a
  // configuration the cluster has already left.
  bool configuration_on_commit = false;
  // Core: a second membership change is accepted while one is in flight,
  // so two configurations without overlapping quorums can both act.
  bool two_changes_in_flight = false;
  // Core: a joint configuration's quorum counts only the incoming voters,
  // so the outgoing ones can elect and commit on their own (thesis §4.3).
  bool joint_quorum_only_incoming = false;
  // Core: a new leader accepts a membership change before it has committed
  // an entry of its own term (the single-server change flaw, raft-dev 2015).
  bool change_before_term_commit = false;

  bool any() const {
    return commit_earlier_term_by_counting || read_index_without_quorum || append_without_consistency_check ||
           lease_beyond_clock_bound || grant_vote_before_persist || commit_without_quorum ||
           configuration_on_commit || two_changes_in_flight || joint_quorum_only_incoming ||
           change_before_term_commit;
  }
};

}  // namespace reef::raft
