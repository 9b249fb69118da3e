// Node: taking snapshots (by policy and on request), and connecting the
// transfers to followers (raft/driver/snapshot_sender.h) and from the leader
// (raft/driver/snapshot_receiver.h) with the core. See node.h for the protocol.
#include <utility>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "raft/driver/node.h"

namespace reef::raft {

// A node that joined a running cluster holds the log before its own
// configuration entry without knowing the membership in force there (the
// first members had it from their bootstrap, not from the log): it
// snapshots only once it applied a configuration, so that no snapshot
// records an empty one.
bool Node::membership_known_at_applied() const { return !core_.configuration_at(applied_.index).empty(); }

// A policy snapshot is written off the loop (ports_.background) while the
// node goes on applying and replicating; the compaction follows on the loop
// once it is stored.
void Node::maybe_take_snapshot() {
  if (stopped() || snapshot_in_flight_ || applied_.index <= snapshot_index_ || !membership_known_at_applied()) return;
  if (entries_since_snapshot_ < config_.snapshot.entries && bytes_since_snapshot_ < config_.snapshot.bytes) return;
  absl::StatusOr<std::unique_ptr<StateMachineSnapshot>> begun = begin_snapshot();
  if (!begun.ok()) return;  // stopped the node; stop_reason() says why
  std::shared_ptr<StateMachineSnapshot> snapshot = *std::move(begun);
  auto written = std::make_shared<absl::Status>();
  snapshot_in_flight_ = true;
  auto work = [this, snapshot, written] { *written = write_snapshot(*snapshot); };
  auto then = [this, snapshot, written] {
    snapshot_in_flight_ = false;
    if (finish_snapshot(snapshot->meta(), *written).ok() && core_.has_output()) event_arrived();
  };
  if (ports_.background == nullptr) {
    work();
    then();
    return;
  }
  ports_.background->run(std::move(work), std::move(then));
}

absl::StatusOr<SnapshotTaken> Node::snapshot_now() {
  event_arrived();
  if (stopped()) {
    return absl::UnavailableError(absl::StrCat("node ", id().value(), " stopped: ", stop_reason_.message()));
  }
  if (!membership_known_at_applied()) {
    return absl::FailedPreconditionError(
        "this node has not yet applied the configuration that added it to the cluster; nothing to snapshot");
  }
  if (applied_.index <= snapshot_index_) {
    const SnapshotMeta& current = core_.log().snapshot();
    REEF_ASSERT(current.index == snapshot_index_, "core snapshot ", current.index.value(), ", node snapshot ",
                snapshot_index_.value());
    return SnapshotTaken{current.index, current.term, /*already_current=*/true};
  }
  if (snapshot_in_flight_) {
    return absl::UnavailableError("a snapshot is being written in the background; retry when it is stored");
  }
  // An operator asked for this one: written on the loop, and compacted now.
  absl::StatusOr<std::unique_ptr<StateMachineSnapshot>> snapshot = begin_snapshot();
  if (!snapshot.ok()) return snapshot.status();
  absl::StatusOr<SnapshotMeta> meta = finish_snapshot((*snapshot)->meta(), write_snapshot(**snapshot));
  if (!meta.ok()) return meta.status();
  // A policy snapshot's compaction rides on the next log write, whenever
  // that comes; an operator asked for this one now.
  Output nothing;
  persist(nothing);
  return SnapshotTaken{meta->index, meta->term, /*already_current=*/false};
}

// Starts reading the state machine at the applied index (cheap: an on-disk
// state machine pins a read transaction; the bytes are read as they are
// written). Resets the policy's counters. A failure stops the node.
absl::StatusOr<std::unique_ptr<StateMachineSnapshot>> Node::begin_snapshot() {
  REEF_ASSERT(!stopped() && applied_.index > snapshot_index_, "nothing to snapshot at ", applied_.index.value());
  absl::StatusOr<std::unique_ptr<StateMachineSnapshot>> snapshot =
      // The membership at the snapshot's own index: a later configuration
      // entry is still in the log the snapshot leaves behind.
      ports_.state_machine->snapshot(core_.configuration_at(applied_.index));
  if (!snapshot.ok()) {
    stop(absl::Status(snapshot.status().code(),
                      absl::StrCat("taking a snapshot: ", snapshot.status().message())));
    return stop_reason_;
  }
  const SnapshotMeta& meta = (*snapshot)->meta();
  REEF_ASSERT(meta.index == applied_.index && meta.term == applied_.term, "snapshot at ", meta.index.value(),
              " taken with applied ", applied_.index.value());
  entries_since_snapshot_ = 0;
  bytes_since_snapshot_ = 0;
  return snapshot;
}

// On the loop, once the snapshot at `meta` was written (`written`): makes
// the state machine durable and compacts the log up to it. A failure stops
// the node; a snapshot a newer one (installed from the leader meanwhile)
// overtook changes nothing.
absl::StatusOr<SnapshotMeta> Node::finish_snapshot(const SnapshotMeta& meta, const absl::Status& written) {
  if (stopped()) return stop_reason_;
  if (meta.index <= snapshot_index_) {
    // The store refused to let it replace the newer one (or dropped it).
    return absl::AbortedError(absl::StrCat("snapshot ", meta.index.value(), " was overtaken by snapshot ",
                                           snapshot_index_.value()));
  }
  if (!written.ok()) {
    // The disk failed us; what it holds now is unknown.
    stop(absl::Status(written.code(), absl::StrCat("writing snapshot ", meta.index.value(), ": ", written.message())));
    return stop_reason_;
  }
  // Compaction drops what a persistent state machine would replay after a
  // crash; from here only its own durability can stand in for those
  // entries.
  if (absl::Status s = ports_.state_machine->make_durable(); !s.ok()) {
    stop(absl::Status(s.code(), absl::StrCat("making the state machine durable at ", meta.index.value(), ": ",
                                              s.message())));
    return stop_reason_;
  }
  snapshot_index_ = meta.index;
  // The next log write drops the covered segments; the core drops its
  // in-memory prefix now (it may then send this snapshot to laggards).
  snapshot_durable_ = meta;
  core_.step(CompactTo{meta.index});
  return meta;
}

absl::Status Node::write_snapshot(StateMachineSnapshot& snapshot) {
  absl::StatusOr<std::unique_ptr<SnapshotSink>> sink = ports_.log->begin_snapshot(snapshot.meta());
  if (!sink.ok()) return sink.status();
  while (true) {
    absl::StatusOr<std::optional<std::string>> chunk = snapshot.next_chunk(config_.snapshot_chunk_bytes);
    if (!chunk.ok()) return chunk.status();
    if (!chunk->has_value()) break;
    if (absl::Status s = (*sink)->add_chunk(**chunk); !s.ok()) return s;
  }
  return (*sink)->finish();
}

// The transfers themselves are SnapshotSender's and SnapshotReceiver's; the
// node hands them what arrives and tells the core how they end.

void Node::start_snapshot_transfer(const Message& install) {
  const SnapshotMeta& meta = std::get<InstallSnapshot>(install.body).meta;
  report_transfer(sender_.start(install.to, install.term, meta));
}

void Node::handle_snapshot_ack(NodeId from, const SnapshotChunkAck& ack) { report_transfer(sender_.on_ack(from, ack)); }

void Node::resend_stalled_snapshots() {
  const std::optional<Term> leading_term = core_.is_leader() ? std::optional<Term>(core_.term()) : std::nullopt;
  for (const TransferEnded& ended : sender_.resend_stalled(leading_term)) report_transfer(ended);
}

void Node::report_transfer(std::optional<TransferEnded> ended) {
  if (ended && core_.is_leader()) core_.step(SnapshotStatus{ended->peer, ended->ok});
}

void Node::handle_snapshot_chunk(NodeId from, SnapshotChunk chunk) {
  std::optional<Message> install = receiver_.on_chunk(from, std::move(chunk), core_.term(), applied_.index);
  if (install) core_.step(std::move(*install));
}

void Node::install_received_snapshot(const SnapshotMeta& meta) {
  absl::StatusOr<SnapshotReceiver::Installed> installed = receiver_.install(meta);
  if (!installed.ok()) {
    stop(installed.status());
    return;
  }
  fail_proposals_through(meta.index, absl::UnavailableError("this node installed a snapshot from the leader; "
                                                            "the outcome of the request is unknown"));
  applied_ = AppliedPosition{meta.index, meta.term};
  snapshot_index_ = meta.index;
  entries_since_snapshot_ = 0;
  bytes_since_snapshot_ = 0;
  snapshot_durable_ = meta;
  receiver_.acknowledge(*installed);
}

}  // namespace reef::raft
