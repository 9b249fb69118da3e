// raft::Core — a single Raft group member as a pure state machine.
//
// The core does no I/O, reads no clock, starts no thread and draws
// randomness only from the seed in its config. Its one entry point is
// step(): one Input in, effects accumulated in an Output (see output.h for
// the order in which a driver must carry them out). Everything is
// deterministic: the same config, recovered state and inputs give the same
// outputs, byte for byte.
//
// Structure (after etcd raft and ScyllaDB's fsm): the role is a
// std::variant of Follower, Candidate and Leader, each holding only the data
// that role needs. step() first applies the term rules common to every role
// (thesis §3.3), then dispatches per message type and role.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <variant>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/core/config.h"
#include "raft/core/input.h"
#include "raft/core/membership.h"
#include "raft/core/output.h"
#include "raft/core/progress.h"
#include "raft/core/random.h"
#include "raft/core/raft_log.h"
#include "raft/core/state.h"

namespace reef::raft {

// Status helpers for requests refused because this node is not the leader.
absl::Status not_leader_error(std::optional<NodeId> leader_hint);
bool is_not_leader(const absl::Status& status);

class Core {
 public:
  static absl::StatusOr<Core> create(CoreConfig config, RecoveredState recovered);

  void step(Input input);
  // Hands over everything accumulated since the last call.
  Output take_output();
  bool has_output() const { return !output_.empty(); }

  NodeId id() const { return config_.id; }
  const CoreConfig& config() const { return config_; }
  Term term() const { return term_; }
  std::optional<NodeId> vote() const { return vote_; }
  std::optional<NodeId> leader() const { return leader_; }
  Role role() const;
  bool is_leader() const { return std::holds_alternative<Leader>(role_); }
  const RaftLog& log() const { return log_; }
  // The configuration in force: the latest in the log, committed or not
  // (thesis §4.1). Empty on a node that waits to be added to a cluster.
  const Configuration& configuration() const { return configuration_; }
  // The configuration in force once the log up to `index` (>= the snapshot
  // index) is applied: what a snapshot at `index` records.
  const Configuration& configuration_at(Index index) const;
  // Index of the entry that set the latest configuration (the snapshot's
  // index when no configuration entry follows it).
  Index latest_configuration_index() const;
  // A change is in flight until its entry commits and, when joint, until
  // the joint configuration is left; the leader refuses another meanwhile.
  bool membership_change_in_flight() const;
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  // Leader only; nullptr otherwise or for unknown peers.
  const Progress* progress(NodeId peer) const;
  std::optional<NodeId> transfer_target() const;
  // Leader only: whom to hand leadership to before stopping — the voter of
  // the (incoming) configuration with the highest match index, ties to the
  // lowest id, as etcd picks. nullopt when not leader or without another
  // voter. It may be unreachable: the transfer then times out.
  std::optional<NodeId> handover_target() const;
  // Ticks left before this node's election timer fires (followers and
  // candidates); used by tests to reason about timing.
  uint32_t election_elapsed_ticks() const { return election_elapsed_; }
  uint32_t randomized_election_timeout_ticks() const { return randomized_election_timeout_; }

  // Local invariants; tests run this after every step. Cluster-wide
  // invariants (one leader per term, log matching across nodes) need every
  // node's view and live in the test harness.
  absl::Status check_invariants() const;

 private:
  struct Follower {};
  struct Candidate {
    bool pre_vote = false;
    absl::btree_map<NodeId, bool> votes;
  };
  struct PendingRead {
    ReadId id;
    NodeId requester;  // this node, or the follower that forwarded it
    Index index;
    uint64_t round = 0;
  };
  struct Leader {
    absl::btree_map<NodeId, Progress> progress;  // every member except self
    std::optional<NodeId> transferee;
    uint32_t transfer_elapsed_ticks = 0;
    bool timeout_now_sent = false;
    // Once a transfer told another node to campaign, this leader's lease is
    // void for the rest of its term: the target ignores stickiness.
    bool lease_revoked = false;
    uint64_t uncommitted_bytes = 0;
    std::deque<PendingRead> pending_reads;  // ascending round
    std::deque<PendingRead> reads_awaiting_commit;  // before first commit in term
    std::deque<std::pair<uint64_t, uint64_t>> round_sent_tick;  // (round, tick)
    uint64_t confirmed_round = 0;
    uint64_t lease_expiry_tick = 0;
  };
  using RoleState = std::variant<Follower, Candidate, Leader>;
  struct ConfigurationEntry {
    Index index;
    Configuration configuration;
  };

  Core(CoreConfig config, RecoveredState recovered);

  // core.cc: dispatch, term rules, output plumbing.
  void step_message(Message m);
  bool apply_term_rules(const Message& m);
  void handle_tick(const Tick&);
  void handle_persisted(const Persisted& p);
  void handle_compact(const CompactTo& c);
  void send(NodeId to, MessageBody body);
  void send_with_term(NodeId to, Term term, MessageBody body);
  void send_after_persist(NodeId to, MessageBody body);
  void note_log_changed(Index from);
  void withdraw_acks_from(Index from);
  void fail_forwarded_reads(std::optional<NodeId> new_leader);
  void maybe_emit_state();
  void emit_committed_entries();
  bool in_lease() const;
  bool promotable() const;

  // core_election.cc
  void tick_election();
  void campaign(bool transfer);
  void become_follower(Term term, std::optional<NodeId> leader);
  void become_pre_candidate();
  void become_candidate(bool transfer);
  void become_leader();
  void reset_election_timer();
  void handle_request_vote(const Message& m, const RequestVote& rv);
  void handle_vote_response(const Message& m, const VoteResponse& vr);
  void tally_votes();

  // core_replication.cc
  void tick_leader();
  // Not leader (with the hint), or a transfer under way: why a proposal or
  // a membership change is refused now; OK otherwise.
  absl::Status leader_takes_proposals() const;
  void refuse_proposal(ProposalId id, absl::Status status);
  void handle_propose(Propose p);
  bool maybe_send_append(NodeId peer, bool send_if_empty);
  void send_snapshot(NodeId peer, Progress& pr);
  void broadcast_append();
  bool maybe_commit();
  // Takes `ae` mutable so the entries can be moved into the log.
  void handle_append(const Message& m, AppendEntries& ae);
  // Leader: the progress of a member that just answered, marked active for
  // check-quorum; nullptr when not leading or `from` is not a member.
  Progress* answered_progress(NodeId from);
  void handle_append_response(const Message& m, const AppendResponse& ar);
  void handle_install_snapshot(const Message& m, const InstallSnapshot& is);
  void handle_snapshot_status(const SnapshotStatus& s);
  void handle_peer_unreachable(const PeerUnreachable& u);
  void heard_from_leader(NodeId leader);

  // core_reads.cc
  void handle_read_index(ReadId id, NodeId requester);
  void broadcast_heartbeat();
  void handle_heartbeat(const Message& m, const Heartbeat& hb);
  void handle_heartbeat_response(const Message& m, const HeartbeatResponse& hr);
  void maybe_confirm_reads();
  void answer_read(NodeId requester, ReadId id, absl::Status status, Index index);
  void handle_read_index_response(const ReadIndexResponse& r);
  void fail_reads(const absl::Status& status);
  bool committed_in_current_term() const;
  bool lease_valid() const;

  // core_membership.cc
  const Configuration& latest_configuration() const;
  void reload_configurations(Index from);
  void refresh_configuration();
  void track_members();
  void handle_change_membership(const ChangeMembership& c);
  void append_configuration(Configuration next);
  void maybe_finish_membership_change();
  void step_down_after_removal();

  // core_transfer.cc
  void handle_transfer(const TransferLeadership& t);
  void send_timeout_now(Leader& leader);
  void abort_transfer(Leader& leader, absl::Status why);

  Leader& leader_state();

  CoreConfig config_;
  Prng prng_;
  RaftLog log_;
  // Configuration entries of the uncompacted log, ascending index; the
  // snapshot records the configuration at its index.
  std::vector<ConfigurationEntry> configuration_entries_;
  Configuration configuration_;  // in force (see configuration())
  // What quorums are counted over: configuration_, except under the
  // injected bug joint_quorum_only_incoming.
  Configuration quorum_configuration_;
  Term term_;
  std::optional<NodeId> vote_;
  std::optional<NodeId> leader_;
  RoleState role_;

  uint32_t election_elapsed_ = 0;   // ticks since last heard from a leader / election start
  uint32_t heartbeat_elapsed_ = 0;  // leader: ticks since last heartbeat broadcast
  uint32_t randomized_election_timeout_ = 0;
  uint64_t now_tick_ = 0;           // ticks since this core was created
  uint64_t next_read_round_ = 1;

  // Reads this follower forwarded to the leader and not yet answered.
  absl::btree_set<ReadId> forwarded_reads_;

  Output output_;
  HardState emitted_hard_state_;
  // A commit-only hard state is emitted no earlier than this tick (config:
  // commit_persist_interval_ticks).
  uint64_t commit_persist_due_tick_ = 0;
  SoftState emitted_soft_state_;
};

}  // namespace reef::raft
