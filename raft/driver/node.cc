// Node: boot, events, flush (output handling) and the persistence pipeline.
// Client requests are in node_requests.cc, snapshots in node_snapshots.cc.
#include "raft/driver/node.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::raft {
namespace {

// Restores `state_machine` from the newest durable snapshot, which must be
// the one the core is about to start from.
absl::Status restore_from_durable_snapshot(DurableLog& log, StateMachine& state_machine,
                                           const SnapshotMeta& expected) {
  absl::StatusOr<std::unique_ptr<SnapshotSource>> source = log.open_snapshot(0);
  if (!source.ok()) return source.status();
  if ((*source)->meta().index != expected.index || (*source)->meta().term != expected.term) {
    return absl::DataLossError(absl::StrCat("newest durable snapshot is at index ", (*source)->meta().index.value(),
                                            " term ", (*source)->meta().term.value(), ", recovery expected index ",
                                            expected.index.value(), " term ", expected.term.value()));
  }
  absl::StatusOr<std::unique_ptr<StateMachineRestore>> restore = state_machine.begin_restore();
  if (!restore.ok()) return restore.status();
  while (true) {
    absl::StatusOr<std::optional<std::string>> chunk = (*source)->next_chunk();
    if (!chunk.ok()) return chunk.status();
    if (!chunk->has_value()) break;
    if (absl::Status s = (*restore)->add_chunk(**chunk); !s.ok()) return s;
  }
  absl::StatusOr<SnapshotMeta> meta = (*restore)->finish();
  if (!meta.ok()) return meta.status();
  if (meta->index != expected.index || meta->term != expected.term) {
    return absl::DataLossError(absl::StrCat("snapshot contents are at index ", meta->index.value(), " term ",
                                            meta->term.value(), ", its file says index ", expected.index.value()));
  }
  return absl::OkStatus();
}

// True when the log recovered at boot still holds the state machine's
// position: then the state machine is used as it is, and only the log after
// it is replayed. Otherwise the newest snapshot has to replace it.
bool log_reaches(const RecoveredState& recovered, const AppliedPosition& position) {
  if (position.index == recovered.snapshot.index) return position.term == recovered.snapshot.term;
  if (position.index < recovered.snapshot.index || recovered.entries.empty()) return false;
  const Index first = recovered.entries.front().index;
  if (position.index < first || position.index > recovered.entries.back().index) return false;
  return recovered.entries[position.index.value() - first.value()].term == position.term;
}

// Where the state machine starts from: as it reopened (a persistent one,
// when the log reaches its position), else the newest durable snapshot,
// else empty.
absl::Status reconcile_state_machine(DurableLog& log, StateMachine& state_machine, RecoveredState& recovered) {
  const SnapshotMeta& snapshot = recovered.snapshot;
  const AppliedPosition reopened = state_machine.applied();
  if (reopened.index > Index(0) && log_reaches(recovered, reopened)) {
    recovered.applied = reopened.index;
    // Only committed entries are ever applied; the hard state may not
    // have caught up with that before the crash.
    recovered.hard_state.commit = std::max(recovered.hard_state.commit, reopened.index);
    return absl::OkStatus();
  }
  if (snapshot.index > Index(0)) return restore_from_durable_snapshot(log, state_machine, snapshot);
  return state_machine.clear();
}

}  // namespace

absl::Status NodeConfig::validate() const {
  if (absl::Status s = core.validate(); !s.ok()) return s;
  if (snapshot.entries == 0 || snapshot.bytes == 0) {
    return absl::InvalidArgumentError("snapshot policy thresholds must be positive");
  }
  if (snapshot_chunk_bytes == 0) return absl::InvalidArgumentError("snapshot_chunk_bytes must be positive");
  if (snapshot_transfer_attempts == 0) {
    return absl::InvalidArgumentError("snapshot_transfer_attempts must be positive");
  }
  if (max_pending_requests == 0) return absl::InvalidArgumentError("max_pending_requests must be positive");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Node>> Node::boot(NodeConfig config, NodePorts ports, RecoveredState recovered) {
  REEF_ASSERT(ports.log && ports.transport && ports.state_machine && ports.clock, "node ports missing");
  if (absl::Status s = config.validate(); !s.ok()) return s;
  const SnapshotMeta snapshot = recovered.snapshot;
  if (absl::Status s = reconcile_state_machine(*ports.log, *ports.state_machine, recovered); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("boot: restoring the state machine: ", s.message()));
  }
  const AppliedPosition applied = ports.state_machine->applied();
  if (applied.index != recovered.applied.value_or(snapshot.index)) {
    return absl::FailedPreconditionError(absl::StrCat("boot: state machine is at index ", applied.index.value(),
                                                      ", the recovered snapshot at ", snapshot.index.value()));
  }
  absl::StatusOr<Core> core = Core::create(config.core, std::move(recovered));
  if (!core.ok()) return core.status();
  std::unique_ptr<Node> node(new Node(std::move(config), ports, std::move(*core)));
  node->applied_ = applied;
  node->snapshot_index_ = snapshot.index;
  // Replays the committed entries after the snapshot before any event.
  node->flush();
  return node;
}

Node::Node(NodeConfig config, NodePorts ports, Core core)
    : config_(std::move(config)),
      ports_(ports),
      core_(std::move(core)),
      // The core's per-boot seed: ids that travel differ from the last life's.
      requests_(config_.core.seed),
      sender_(config_.core.id, *ports_.log, *ports_.transport, *ports_.clock,
              SnapshotSenderOptions{config_.snapshot_resend_ms, config_.snapshot_transfer_attempts}),
      receiver_(config_.core.id, *ports_.log, *ports_.state_machine, *ports_.transport) {}

Node::~Node() = default;

void Node::set_flush_hook(absl::AnyInvocable<void()> hook) { flush_hook_ = std::move(hook); }

void Node::event_arrived() {
  if (needs_flush_) return;
  needs_flush_ = true;
  if (flush_hook_) flush_hook_();
}

void Node::on_tick() {
  event_arrived();
  if (stopped()) return;
  core_.step(Tick{});
  expire_requests();
  resend_stalled_snapshots();
}

void Node::on_message(NodeMessage message) {
  event_arrived();
  if (stopped() || message.to != id()) return;
  const NodeId from = message.from;
  std::optional<Term> term;
  std::optional<Index> announced_commit;
  std::visit(
      [&](auto&& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Message>) {
          term = body.term;
          if (const auto* append = std::get_if<AppendEntries>(&body.body)) announced_commit = append->commit;
          if (const auto* heartbeat = std::get_if<Heartbeat>(&body.body)) announced_commit = heartbeat->commit;
          // InstallSnapshot reaches the core only with its bytes, through
          // handle_snapshot_chunk.
          if (!std::holds_alternative<InstallSnapshot>(body.body)) core_.step(std::move(body));
        } else if constexpr (std::is_same_v<T, SnapshotChunk>) {
          term = body.term;
          handle_snapshot_chunk(from, std::move(body));
        } else if constexpr (std::is_same_v<T, SnapshotChunkAck>) {
          term = body.term;
          handle_snapshot_ack(from, body);
        } else if constexpr (std::is_same_v<T, ForwardedRequest>) {
          handle_forwarded_request(from, std::move(body));
        } else {
          handle_forwarded_reply(std::move(body));
        }
      },
      message.body);
  if (term) note_contact(from, *term, announced_commit);
}

// After the core stepped the message, so that its leader and term are the
// ones the message may have just established.
void Node::note_contact(NodeId from, Term term, std::optional<Index> announced_commit) {
  // Members only: that bounds what LeaderContact remembers.
  if (!core_.configuration().is_member(from)) return;
  contact_.heard(from, term, ports_.clock->now_ms());
  // Only a sender the core accepts as its leader: a malformed or stale
  // message must not raise the commit index freshness reads compare with.
  if (announced_commit && term == core_.term() && core_.leader() == from) {
    contact_.commit_announced(*announced_commit);
  }
}

FreshnessState Node::freshness_state() const {
  FreshnessState state;
  if (core_.is_leader()) {
    state.leader_contact_ms = contact_.leader_contact(core_.configuration(), id(), core_.term(),
                                                      ports_.clock->now_ms());
  } else if (core_.leader()) {
    state.leader_contact_ms = contact_.follower_contact(*core_.leader(), core_.term());
  }
  state.applied = applied_.index;
  state.known_commit = contact_.known_commit(core_.log().committed());
  state.caught_up_ms = contact_.caught_up_ms();
  return state;
}

void Node::on_log_written(uint64_t write_id, absl::Status status) {
  event_arrived();
  if (stopped()) return;
  REEF_ASSERT(!writes_in_flight_.empty() && writes_in_flight_.front().id == write_id, "log write ", write_id,
              " completed out of order");
  if (!status.ok()) {
    stop(absl::Status(status.code(), absl::StrCat("log write ", write_id, " failed: ", status.message())));
    return;
  }
  InFlightWrite write = std::move(writes_in_flight_.front());
  writes_in_flight_.pop_front();
  send_after_persist(write.after_persist);
  if (write.persisted) core_.step(*write.persisted);
}

void Node::on_peer_unreachable(NodeId peer) {
  event_arrived();
  if (stopped()) return;
  core_.step(PeerUnreachable{peer});
}

void Node::campaign() {
  event_arrived();
  if (stopped()) return;
  core_.step(Campaign{});
}

void Node::transfer_leadership(NodeId target) {
  event_arrived();
  if (stopped()) return;
  core_.step(TransferLeadership{target});
}

void Node::flush() {
  // Cleared first: an event arriving during the flush (a client callback
  // that submits again) asks for another one.
  needs_flush_ = false;
  // Handling an output can step the core again (compaction after a
  // snapshot); each round hands out strictly less work, and a handful of
  // rounds is the most that can happen.
  for (int round = 0; core_.has_output() && !stopped(); ++round) {
    REEF_ASSERT(round < 8, "node ", id().value(), ": output keeps coming back");
    handle_output(core_.take_output());
  }
  receiver_.drop_unaccepted();
  if (!stopped()) contact_.note_applied(applied_.index, core_.log().committed(), ports_.clock->now_ms());
}

// The order is output.h's contract.
void Node::handle_output(Output output) {
  if (output.snapshot) install_received_snapshot(*output.snapshot);
  if (stopped()) return;
  persist(output);
  for (Message& m : output.messages) send_core_message(m);
  apply_committed(output.committed_entries);
  if (stopped()) return;
  handle_proposal_results(output.proposals);
  handle_read_results(output.reads);
  serve_waiting_reads();
  maybe_take_snapshot();
}

void Node::persist(Output& output) {
  if (config_.core.bugs.grant_vote_before_persist) send_votes_now(output.messages_after_persist);
  const bool has_write = snapshot_durable_ || output.hard_state || !output.entries.empty();
  if (!has_write) {
    if (output.messages_after_persist.empty()) return;
    if (writes_in_flight_.empty()) {
      // Nothing new to make durable, and nothing earlier still pending:
      // whatever these promise is durable already.
      send_after_persist(output.messages_after_persist);
      return;
    }
    // They may promise what an earlier write is still making durable.
    auto& after = writes_in_flight_.back().after_persist;
    for (Message& m : output.messages_after_persist) after.push_back(std::move(m));
    return;
  }
  LogWrite write;
  write.id = next_write_id_++;
  write.snapshot_durable = std::exchange(snapshot_durable_, std::nullopt);
  write.hard_state = output.hard_state;
  InFlightWrite in_flight;
  in_flight.id = write.id;
  in_flight.after_persist = std::move(output.messages_after_persist);
  if (!output.entries.empty()) {
    in_flight.persisted = Persisted{output.entries.back().index, output.entries.back().term};
  }
  write.entries = std::move(output.entries);
  writes_in_flight_.push_back(std::move(in_flight));
  ports_.log->submit(std::move(write));
}

// InjectedBugs::grant_vote_before_persist: the promise leaves before it is
// kept; a crash before the write makes the node forget it voted.
void Node::send_votes_now(std::vector<Message>& messages) {
  auto is_vote = [](const Message& m) { return std::holds_alternative<VoteResponse>(m.body); };
  for (Message& m : messages) {
    if (is_vote(m)) ports_.transport->send(NodeMessage{m.from, m.to, m});
  }
  std::erase_if(messages, is_vote);
}

void Node::send_after_persist(std::vector<Message>& messages) {
  for (Message& m : messages) ports_.transport->send(NodeMessage{m.from, m.to, std::move(m)});
}

// Takes the message by reference and moves from it (GCC 12 at -O3 warns of
// a maybe-uninitialized variant member when it is passed by value).
void Node::send_core_message(Message& message) {
  if (std::holds_alternative<InstallSnapshot>(message.body)) {
    start_snapshot_transfer(message);
    return;
  }
  ports_.transport->send(NodeMessage{message.from, message.to, std::move(message)});
}

void Node::apply_committed(std::vector<LogEntry>& entries) {
  if (entries.empty()) return;
  std::vector<std::string> responses;
  responses.reserve(entries.size());
  for (const LogEntry& entry : entries) {
    // The core hands out each committed entry once, in order, and after a
    // snapshot only the entries that follow it.
    REEF_ASSERT(entry.index == applied_.index.next(), "node ", id().value(), ": applying ", entry.index.value(),
                " after ", applied_.index.value());
    absl::StatusOr<std::string> response = ports_.state_machine->apply(entry);
    if (!response.ok()) {
      // The replica can no longer be trusted to match the others.
      stop(absl::Status(response.status().code(), absl::StrCat("applying entry ", entry.index.value(), ": ",
                                                               response.status().message())));
      return;
    }
    applied_ = AppliedPosition{entry.index, entry.term};
    ++entries_since_snapshot_;
    bytes_since_snapshot_ += entry.payload.size();
    responses.push_back(*std::move(response));
  }
  // Answers wait for the group's commit: a client that reads what it just
  // wrote must find it.
  if (absl::Status committed = ports_.state_machine->commit_applied(); !committed.ok()) {
    stop(absl::Status(committed.code(), absl::StrCat("committing entries ", entries.front().index.value(), "..",
                                                     entries.back().index.value(), ": ", committed.message())));
    return;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const LogEntry& entry = entries[i];
    // A membership change is answered with the configuration it produced.
    resolve_proposal(entry, entry.configuration ? entry.configuration->describe() : std::move(responses[i]));
  }
}

void Node::stop(absl::Status why) {
  REEF_ASSERT(!why.ok(), "stop() with OK");
  if (stopped()) return;
  stop_reason_ = std::move(why);
  fail_all_requests(absl::UnavailableError(absl::StrCat("node ", id().value(), " stopped: ",
                                                        stop_reason_.message())));
  sender_.clear();
  receiver_.clear();
  writes_in_flight_.clear();
}

NodeStatus Node::status() const {
  NodeStatus s;
  s.id = id();
  s.role = core_.role();
  s.term = core_.term();
  s.leader = core_.leader();
  s.commit = core_.log().committed();
  s.applied = applied_.index;
  s.last_index = core_.log().last_index();
  s.snapshot_index = snapshot_index_;
  s.log_writes_in_flight = writes_in_flight_.size();
  s.pending_requests = requests_.size();
  s.stopped = stopped();
  s.freshness = freshness_state();
  return s;
}

}  // namespace reef::raft
