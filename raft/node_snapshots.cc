// Node: taking snapshots by policy, streaming them to followers that need
// them, and receiving and installing them. See node.h for the protocol.
#include <utility>

#include "absl/strings/str_cat.h"
#include "raft/assert.h"
#include "raft/node.h"

namespace reef::raft {

void Node::maybe_take_snapshot() {
  if (stopped() || applied_.index <= snapshot_index_) return;
  if (entries_since_snapshot_ < config_.snapshot.entries && bytes_since_snapshot_ < config_.snapshot.bytes) return;
  take_snapshot().IgnoreError();  // a failure stopped the node; stop_reason() says why
}

absl::StatusOr<SnapshotTaken> Node::snapshot_now() {
  if (stopped()) {
    return absl::UnavailableError(absl::StrCat("node ", id().value(), " stopped: ", stop_reason_.message()));
  }
  if (applied_.index <= snapshot_index_) {
    const SnapshotMeta& current = core_.log().snapshot();
    REEF_ASSERT(current.index == snapshot_index_, "core snapshot ", current.index.value(), ", node snapshot ",
                snapshot_index_.value());
    return SnapshotTaken{current.index, current.term, /*already_current=*/true};
  }
  absl::StatusOr<SnapshotMeta> meta = take_snapshot();
  if (!meta.ok()) return meta.status();
  // A policy snapshot's compaction rides on the next log write, whenever
  // that comes; an operator asked for this one now.
  Output nothing;
  persist(nothing);
  return SnapshotTaken{meta->index, meta->term, /*already_current=*/false};
}

// Snapshots the state machine at the applied index, stores it, and
// compacts the log up to it. Any failure stops the node.
absl::StatusOr<SnapshotMeta> Node::take_snapshot() {
  REEF_ASSERT(!stopped() && applied_.index > snapshot_index_, "nothing to snapshot at ", applied_.index.value());
  absl::StatusOr<std::unique_ptr<StateMachineSnapshot>> snapshot =
      ports_.state_machine->snapshot(core_.configuration());
  if (!snapshot.ok()) {
    stop(absl::Status(snapshot.status().code(),
                      absl::StrCat("taking a snapshot: ", snapshot.status().message())));
    return stop_reason_;
  }
  const SnapshotMeta meta = (*snapshot)->meta();
  REEF_ASSERT(meta.index == applied_.index && meta.term == applied_.term, "snapshot at ", meta.index.value(),
              " taken with applied ", applied_.index.value());
  if (absl::Status s = write_snapshot(**snapshot); !s.ok()) {
    // The disk failed us; what it holds now is unknown.
    stop(absl::Status(s.code(), absl::StrCat("writing snapshot ", meta.index.value(), ": ", s.message())));
    return stop_reason_;
  }
  snapshot_index_ = meta.index;
  entries_since_snapshot_ = 0;
  bytes_since_snapshot_ = 0;
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

void Node::start_snapshot_transfer(const Message& install) {
  const NodeId peer = install.to;
  const SnapshotMeta& meta = std::get<InstallSnapshot>(install.body).meta;
  auto existing = outgoing_snapshots_.find(peer);
  if (existing != outgoing_snapshots_.end() && existing->second.meta.index == meta.index &&
      existing->second.term == install.term) {
    return;  // already streaming this one
  }
  absl::StatusOr<std::unique_ptr<SnapshotSource>> source = ports_.log->open_snapshot(0);
  if (!source.ok() || (*source)->meta().index != meta.index || (*source)->meta().term != meta.term) {
    // The core asked for a snapshot the disk does not hold (a newer one was
    // installed meanwhile): report failure; the core asks again with the
    // current one.
    outgoing_snapshots_.erase(peer);
    core_.step(SnapshotStatus{peer, false});
    return;
  }
  OutgoingSnapshot transfer;
  transfer.meta = meta;
  transfer.term = install.term;
  transfer.total_bytes = (*source)->total_bytes();
  transfer.source = std::move(*source);
  OutgoingSnapshot& stored = outgoing_snapshots_.insert_or_assign(peer, std::move(transfer)).first->second;
  send_next_chunk(peer, stored);
}

absl::Status Node::rewind_transfer(OutgoingSnapshot& transfer, uint64_t offset) {
  absl::StatusOr<std::unique_ptr<SnapshotSource>> source = ports_.log->open_snapshot(offset);
  if (!source.ok()) return source.status();
  if ((*source)->meta().index != transfer.meta.index) {
    return absl::FailedPreconditionError("a newer snapshot replaced the one being sent");
  }
  transfer.source = std::move(*source);
  transfer.sent_offset = offset;
  return absl::OkStatus();
}

void Node::send_next_chunk(NodeId peer, OutgoingSnapshot& transfer) {
  absl::StatusOr<std::optional<std::string>> chunk = transfer.source->next_chunk();
  if (!chunk.ok() || !chunk->has_value()) {
    finish_transfer(peer, false);
    return;
  }
  SnapshotChunk message;
  message.term = transfer.term;
  message.meta = transfer.meta;
  message.offset = transfer.sent_offset;
  message.total_bytes = transfer.total_bytes;
  message.data = std::move(**chunk);
  transfer.sent_offset += message.data.size();
  message.last = transfer.sent_offset >= transfer.total_bytes;
  transfer.last_send_ms = ports_.clock->now_ms();
  ports_.transport->send(NodeMessage{id(), peer, std::move(message)});
}

void Node::handle_snapshot_ack(NodeId from, const SnapshotChunkAck& ack) {
  auto it = outgoing_snapshots_.find(from);
  if (it == outgoing_snapshots_.end()) return;
  OutgoingSnapshot& transfer = it->second;
  if (ack.snapshot_index != transfer.meta.index || ack.term != transfer.term) return;  // an older transfer
  if (ack.abort || ack.done) {
    finish_transfer(from, ack.done);
    return;
  }
  transfer.resends = 0;
  transfer.acked_offset = ack.next_offset;
  if (ack.next_offset != transfer.sent_offset) {
    // The follower lost a chunk or restarted the transfer: resume where it is.
    if (!rewind_transfer(transfer, ack.next_offset).ok()) {
      finish_transfer(from, false);
      return;
    }
  }
  if (transfer.sent_offset < transfer.total_bytes) send_next_chunk(from, transfer);
}

void Node::resend_stalled_snapshots() {
  const uint64_t now = ports_.clock->now_ms();
  std::vector<NodeId> give_up;
  for (auto& [peer, transfer] : outgoing_snapshots_) {
    if (transfer.term != core_.term() || !core_.is_leader()) {
      give_up.push_back(peer);
      continue;
    }
    if (now - transfer.last_send_ms < config_.snapshot_resend_ms) continue;
    // Nothing heard: send again from what the follower last confirmed.
    if (++transfer.resends > config_.snapshot_transfer_attempts ||
        !rewind_transfer(transfer, transfer.acked_offset).ok()) {
      give_up.push_back(peer);
      continue;
    }
    send_next_chunk(peer, transfer);
  }
  for (NodeId peer : give_up) finish_transfer(peer, false);
}

void Node::finish_transfer(NodeId peer, bool ok) {
  if (outgoing_snapshots_.erase(peer) == 0) return;
  if (core_.is_leader()) core_.step(SnapshotStatus{peer, ok});
}

void Node::ack_chunk(NodeId leader, Term term, Index index, uint64_t next_offset, bool done, bool abort) {
  ports_.transport->send(NodeMessage{id(), leader, SnapshotChunkAck{term, index, next_offset, done, abort}});
}

absl::Status Node::begin_incoming(NodeId from, const SnapshotChunk& chunk) {
  IncomingSnapshot incoming;
  incoming.leader = from;
  incoming.term = chunk.term;
  incoming.meta = chunk.meta;
  incoming.total_bytes = chunk.total_bytes;
  absl::StatusOr<std::unique_ptr<SnapshotSink>> sink = ports_.log->begin_snapshot(chunk.meta);
  if (!sink.ok()) return sink.status();
  absl::StatusOr<std::unique_ptr<StateMachineRestore>> restore = ports_.state_machine->begin_restore();
  if (!restore.ok()) return restore.status();
  incoming.sink = std::move(*sink);
  incoming.restore = std::move(*restore);
  incoming_snapshot_ = std::move(incoming);
  return absl::OkStatus();
}

void Node::handle_snapshot_chunk(NodeId from, SnapshotChunk chunk) {
  const Index index = chunk.meta.index;
  if (chunk.term < core_.term()) {  // from a deposed leader
    ack_chunk(from, chunk.term, index, 0, /*done=*/false, /*abort=*/true);
    return;
  }
  if (index <= applied_.index) {
    // Nothing this node needs, but the leader sent it because it does not
    // know how far this log goes: the core answers a stale snapshot with its
    // commit index (applied <= commit, so it never restores), from which the
    // leader resumes appending. An abort alone would have it send the same
    // snapshot again, forever.
    ack_chunk(from, chunk.term, index, 0, /*done=*/false, /*abort=*/true);
    core_.step(Message{from, id(), chunk.term, InstallSnapshot{chunk.meta}});
    return;
  }
  IncomingSnapshot* incoming = incoming_snapshot_ ? &*incoming_snapshot_ : nullptr;
  const bool same = incoming && incoming->leader == from && incoming->term == chunk.term &&
                    incoming->meta.index == index;
  if (!same) {
    if (chunk.offset != 0) {
      ack_chunk(from, chunk.term, index, 0, false, false);  // start over from the beginning
      return;
    }
    incoming_snapshot_.reset();
    if (absl::Status s = begin_incoming(from, chunk); !s.ok()) {
      ack_chunk(from, chunk.term, index, 0, false, /*abort=*/true);
      return;
    }
    incoming = &*incoming_snapshot_;
  }
  if (chunk.offset != incoming->received || incoming->complete) {
    ack_chunk(from, chunk.term, index, incoming->received, false, false);
    return;
  }
  absl::Status written = incoming->sink->add_chunk(chunk.data);
  if (written.ok()) written = incoming->restore->add_chunk(chunk.data);
  if (!written.ok()) {
    incoming_snapshot_.reset();
    ack_chunk(from, chunk.term, index, 0, false, /*abort=*/true);
    return;
  }
  incoming->received += chunk.data.size();
  if (!chunk.last || incoming->received != incoming->total_bytes) {
    ack_chunk(from, chunk.term, index, incoming->received, false, false);
    return;
  }
  incoming->complete = true;
  // Every byte is here: now the core decides (it may find the snapshot stale).
  core_.step(Message{from, id(), chunk.term, InstallSnapshot{chunk.meta}});
}

void Node::install_received_snapshot(const SnapshotMeta& meta) {
  REEF_ASSERT(incoming_snapshot_ && incoming_snapshot_->complete && incoming_snapshot_->meta == meta,
              "core accepted snapshot ", meta.index.value(), " that was not received");
  IncomingSnapshot incoming = std::move(*incoming_snapshot_);
  incoming_snapshot_.reset();
  if (absl::Status s = incoming.sink->finish(); !s.ok()) {
    stop(absl::Status(s.code(), absl::StrCat("storing snapshot ", meta.index.value(), ": ", s.message())));
    return;
  }
  absl::StatusOr<SnapshotMeta> restored = incoming.restore->finish();
  if (!restored.ok() || restored->index != meta.index || restored->term != meta.term) {
    // Durable on disk but not in the state machine: only a restart (which
    // restores from disk) can make them agree again.
    stop(absl::DataLossError(absl::StrCat("restoring snapshot ", meta.index.value(), ": ",
                                          restored.ok() ? "contents disagree with its meta"
                                                        : restored.status().message())));
    return;
  }
  fail_proposals_through(meta.index, absl::UnavailableError("this node installed a snapshot from the leader; "
                                                            "the outcome of the request is unknown"));
  applied_ = AppliedPosition{meta.index, meta.term};
  snapshot_index_ = meta.index;
  entries_since_snapshot_ = 0;
  bytes_since_snapshot_ = 0;
  snapshot_durable_ = meta;
  ack_chunk(incoming.leader, incoming.term, meta.index, incoming.received, /*done=*/true, false);
}

void Node::drop_unaccepted_snapshot() {
  if (!incoming_snapshot_ || !incoming_snapshot_->complete) return;
  // The core turned it down (stale); tell the leader so it stops waiting.
  const IncomingSnapshot& incoming = *incoming_snapshot_;
  ack_chunk(incoming.leader, incoming.term, incoming.meta.index, 0, false, /*abort=*/true);
  incoming_snapshot_.reset();
}

}  // namespace reef::raft
