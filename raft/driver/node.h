// raft::Node — the node driver: one event loop's worth of logic around one
// Core, talking only to ports (DurableLog, Transport, StateMachine, Clock).
// The same code runs in the simulator and in production; nothing here knows
// which.
//
// Threading: one thread. Every entry point (the on_*() events, submit(),
// campaign(), transfer_leadership(), snapshot_now()) and flush() is called
// from the node's loop, never concurrently.
//
// Flushing, and why the node does not do it itself. Entry points only step
// the core; flush() carries out what the core asked for (raft/core/output.h).
// Everything that arrives in one loop turn must be carried out together:
// that is what makes a turn one log write and one sync (group commit), and
// only the host knows when its turn ends. So the node owns the rule and the
// host owns the moment: every entry point records that a flush is needed
// (needs_flush()), and the host flushes once per loop turn if it is. A
// host that can look at the end of each turn polls needs_flush() there
// (the simulator's SimNode: one event is one turn); a host whose loop has
// no end-of-turn hook registers set_flush_hook(), called once when the
// first event of a turn arrives, and posts a flush behind the events
// already queued (the server's ServerNode on its io_context). Flushing at
// the end of every entry point instead would turn a burst of messages into
// a burst of log writes.
//
// Persistence pipeline. Each flush() with something to persist submits one
// LogWrite; writes may be in flight concurrently and complete in order. A
// write's messages_after_persist (acks, vote grants) are sent when that write
// and every earlier one completed, and only then is Persisted stepped into
// the core. A failed write stops the node: it can no longer know what is on
// its disk, so it must not promise anything again (it answers UNAVAILABLE to
// everything until restarted, which recovers from what is durable).
//
// Clients. Writes are proposed on the leader and answered after apply with
// the state machine's response, once the turn's entries are committed
// (StateMachine::commit_applied). Reads are handed to
// StateMachine::start_query, which may answer later, from off the loop; a
// strong read first puts a barrier (a no-op entry) through the log and
// starts its query once the barrier is applied.
// A follower forwards them to the leader, or answers FAILED_PRECONDITION
// "not leader" with the leader hint when forwarding is off. Reads:
//   none          serve from local state, any node;
//   weak          leader only, from its local state (may be stale after a
//                 partition it has not noticed yet);
//   linearizable  ReadIndex (thesis §6.4): serve once this node applied the
//                 confirmed read index; works on followers too;
//   strong        through the log: serve once this node applied a barrier
//                 entry proposed after the read arrived (leader only,
//                 followers forward it).
// Every read may carry a minimum applied index (read your writes): it is
// served only once the serving node has applied that far. A level-none read
// may carry a freshness bound (raft/driver/node_freshness.h): the node refuses it
// if it has been out of touch with the leader for longer than that. Every
// request has a deadline; an expired write answers DEADLINE_EXCEEDED,
// outcome unknown (retrying with the same command id is safe: sessions make
// it exactly-once).
//
// Snapshots. After applying, a snapshot is taken when the entries or bytes
// applied since the last one exceed the policy: the state machine pins its
// state at the applied index (cheap), the snapshot is written through the
// DurableLog off the loop (the Background port; inline without one) while
// the node goes on, and once it is stored the state machine is made durable
// and the log prefix compacted, on the loop; one at a time. snapshot_now()
// does the same on request (admin), all on the loop. A leader streams its newest durable snapshot to a
// follower that needs it in chunks, one in flight, resumable from the offset
// the follower acknowledges; the follower writes them to disk and into a
// state-machine restore at the same time and installs both only when the
// core accepts the snapshot.
//
// Boot (the seed's sequence): restore the state machine from the newest
// durable snapshot, build the core from the recovered state, and let the
// core hand out the committed entries after the snapshot again; they are
// applied before anything else happens.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/driver/client_request.h"
#include "raft/ports/background.h"
#include "raft/ports/clock.h"
#include "raft/core/core.h"
#include "raft/ports/durable_log.h"
#include "raft/driver/node_freshness.h"
#include "raft/ports/node_message.h"
#include "raft/driver/request_table.h"
#include "raft/driver/snapshot_receiver.h"
#include "raft/driver/snapshot_sender.h"
#include "raft/ports/state_machine.h"
#include "raft/ports/transport.h"

namespace reef::raft {

struct SnapshotPolicy {
  // Take a snapshot once this many entries, or this many payload bytes,
  // were applied since the last one (whichever comes first).
  uint64_t entries = 10000;
  uint64_t bytes = 64ULL << 20;
};

struct NodeConfig {
  CoreConfig core;
  SnapshotPolicy snapshot;
  // Bytes per chunk read out of the state machine when taking a snapshot.
  // (Transfers to followers send the chunks the snapshot file was stored in.)
  uint64_t snapshot_chunk_bytes = 1ULL << 20;
  // A snapshot transfer with no acknowledgement for this long is resent from
  // the last acknowledged offset; after snapshot_transfer_attempts such
  // resends it is given up (the core retries later).
  uint64_t snapshot_resend_ms = 1000;
  uint32_t snapshot_transfer_attempts = 5;
  // Follower: forward writes and strong reads to the leader instead of
  // answering "not leader".
  bool forward_to_leader = true;
  // Deadline the leader gives a request forwarded to it.
  uint64_t forwarded_request_timeout_ms = 5000;
  // Bound on client requests waiting in this node (its own and forwarded);
  // beyond it, submit() answers RESOURCE_EXHAUSTED at once.
  uint32_t max_pending_requests = 10000;

  absl::Status validate() const;
};

struct NodePorts {
  DurableLog* log = nullptr;
  Transport* transport = nullptr;
  StateMachine* state_machine = nullptr;
  const Clock* clock = nullptr;
  // Where policy snapshots are written; null: inline, on the loop.
  Background* background = nullptr;
};

// What a node looks like from outside, for status pages, tests and checkers.
struct NodeStatus {
  NodeId id;
  Role role = Role::kFollower;
  Term term;
  std::optional<NodeId> leader;
  Index commit;
  Index applied;
  Index last_index;
  Index snapshot_index;
  uint64_t log_writes_in_flight = 0;
  uint64_t pending_requests = 0;
  bool stopped = false;
  // Contact with the leader and lag, in Clock milliseconds (node_freshness.h).
  FreshnessState freshness;
};

// What snapshot_now() did.
struct SnapshotTaken {
  Index index;
  Term term;
  // Nothing was applied since the last snapshot: that one is reported and
  // nothing was written.
  bool already_current = false;
};

class Node {
 public:
  // Restores the state machine from the newest durable snapshot (which must
  // match recovered.snapshot) and builds the core. The ports must outlive
  // the node.
  static absl::StatusOr<std::unique_ptr<Node>> boot(NodeConfig config, NodePorts ports,
                                                    RecoveredState recovered);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Events (step the core; flush() carries out the results). Every entry
  // point, these and the client and admin calls below, makes needs_flush()
  // true.
  void on_tick();
  void on_message(NodeMessage message);
  void on_log_written(uint64_t write_id, absl::Status status);
  void on_peer_unreachable(NodeId peer);
  // Client requests. `done` is called exactly once: possibly inside this
  // call, otherwise from a later event or flush().
  void submit(ClientRequest request, ResponseCallback done);
  // Admin: start an election now / hand leadership to `target`.
  void campaign();
  void transfer_leadership(NodeId target);
  // Admin: the voter best placed to take over from this leader (see
  // Core::handover_target); nullopt unless leading with another voter.
  std::optional<NodeId> handover_target() const { return core_.handover_target(); }
  // Admin: snapshot the state machine now, at its applied index, and compact
  // the log prefix it covers, as the snapshot policy does; the write that
  // drops the covered segments from disk is submitted here. UNAVAILABLE when
  // stopped; failing to take or store the snapshot stops the node, as it
  // does for the policy, and that error is returned.
  absl::StatusOr<SnapshotTaken> snapshot_now();

  // Carries out everything the core asked for since the last flush.
  void flush();
  // An entry point was called since the last flush(): the host must flush
  // before its loop turn ends (see the top of this file).
  bool needs_flush() const { return needs_flush_; }
  // `hook` is called when needs_flush() turns true (once per turn; also for
  // an entry point called from inside flush(), which needs another one).
  // It must not call back into the node: it schedules a flush() for later.
  void set_flush_hook(absl::AnyInvocable<void()> hook);

  NodeStatus status() const;
  NodeId id() const { return config_.core.id; }
  bool stopped() const { return !stop_reason_.ok(); }
  // Why the node stopped (OK while running).
  const absl::Status& stop_reason() const { return stop_reason_; }
  const Core& core() const { return core_; }

 private:
  struct InFlightWrite {
    uint64_t id = 0;
    std::optional<Persisted> persisted;  // stepped once durable
    std::vector<Message> after_persist;
  };

  Node(NodeConfig config, NodePorts ports, Core core);

  // node.cc: events, output handling and the persistence pipeline.
  void event_arrived();
  void handle_output(Output output);
  void persist(Output& output);
  void send_after_persist(std::vector<Message>& messages);
  void send_votes_now(std::vector<Message>& messages);
  void send_core_message(Message& message);
  void apply_committed(std::vector<LogEntry>& entries);
  void stop(absl::Status why);
  void note_contact(NodeId from, Term term, std::optional<Index> announced_commit);
  FreshnessState freshness_state() const;

  // node_requests.cc: client requests, forwarding, reads, deadlines; they
  // wait in requests_.
  absl::Status check_read_freshness(const ClientRequest& request) const;
  void submit_proposal(Waiter waiter);
  void submit_read_index(Waiter waiter);
  void submit_barrier(Waiter waiter);
  void submit_membership_change(Waiter waiter);
  void forward_or_refuse(Waiter waiter);
  void wait_for_applied(Waiter waiter, Index needed);
  void serve_waiting_reads();
  void answer_query(Waiter& waiter);
  void handle_proposal_results(std::vector<ProposalResult>& results);
  void handle_read_results(std::vector<ReadResult>& results);
  void resolve_proposal(const LogEntry& entry, std::string response);
  void fail_proposals_through(Index index, const absl::Status& status);
  void handle_forwarded_request(NodeId from, ForwardedRequest request);
  void handle_forwarded_reply(ForwardedReply reply);
  void expire_requests();
  void fail_all_requests(const absl::Status& status);
  void reply(Waiter& waiter, absl::Status status, std::string response = {});

  // node_snapshots.cc: taking snapshots; transfers between sender_,
  // receiver_ and the core.
  bool membership_known_at_applied() const;
  void maybe_take_snapshot();
  absl::StatusOr<std::unique_ptr<StateMachineSnapshot>> begin_snapshot();
  absl::Status write_snapshot(StateMachineSnapshot& snapshot);
  absl::StatusOr<SnapshotMeta> finish_snapshot(const SnapshotMeta& meta, const absl::Status& written);
  void start_snapshot_transfer(const Message& install);
  void handle_snapshot_ack(NodeId from, const SnapshotChunkAck& ack);
  void resend_stalled_snapshots();
  void report_transfer(std::optional<TransferEnded> ended);
  void handle_snapshot_chunk(NodeId from, SnapshotChunk chunk);
  void install_received_snapshot(const SnapshotMeta& meta);

  NodeConfig config_;
  NodePorts ports_;
  Core core_;
  absl::Status stop_reason_;

  bool needs_flush_ = false;
  absl::AnyInvocable<void()> flush_hook_;

  uint64_t next_write_id_ = 1;
  std::deque<InFlightWrite> writes_in_flight_;
  // A snapshot accepted by the core, to be recorded in the next LogWrite.
  std::optional<SnapshotMeta> snapshot_durable_;

  AppliedPosition applied_;
  Index snapshot_index_;
  bool snapshot_in_flight_ = false;  // a policy snapshot is being written off the loop
  uint64_t entries_since_snapshot_ = 0;
  uint64_t bytes_since_snapshot_ = 0;
  LeaderContact contact_;

  RequestTable requests_;
  SnapshotSender sender_;
  SnapshotReceiver receiver_;
};

}  // namespace reef::raft
